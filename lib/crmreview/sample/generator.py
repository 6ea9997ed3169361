"""The sample's people and events: the reps, then blocks of customers with their deals, stage
history, orders and activities, then the reps' targets, all as integer arrays.

Owns ``BLOCK_CUSTOMERS`` (customers generated together, from one random stream), ``Reps``,
``Block`` and ``targets``. Codes index the labels of ``vocabulary``; times are seconds and days
are day indices of a ``calendar.Calendar``. Nothing here writes a file.

Every step draws from its ``numpy.random.Generator`` in a fixed order: moving a draw, or
drawing one more number, changes every value after it (``tests/sample`` pins the output).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import DAY, Calendar, days_to_seconds, work_time
from .vocabulary import (
    ACTIVITY_KIND_P,
    BRANDS_EN,
    BRANDS_ZH,
    BUYING_LIFE_DAYS,
    CHANNEL_P,
    CHANNEL_SKILL,
    CITIES,
    DEALS_NEW,
    DEALS_PRE,
    ENGLISH_CUSTOMER_SHARE,
    ENGLISH_REP_SHARE,
    FIRST_EN,
    FORMS_EN,
    FORMS_EN_P,
    FORMS_ZH,
    FORMS_ZH_P,
    GIVEN_ZH,
    INDUSTRY_P,
    INDUSTRY_WORDS_EN,
    INDUSTRY_WORDS_ZH,
    LAST_EN,
    LEAD,
    LOST,
    LOST_REASON_P,
    O_LOST,
    O_OPEN,
    O_WON,
    ORDER_RATE,
    ORDER_RATE_EXP,
    PRE_SHARE,
    PROPOSAL,
    QUALIFIED,
    R_NO_RESPONSE,
    REGION_P,
    REGIONS,
    SIZE_BAND_P,
    SIZE_SKILL,
    SIZE_SLOW,
    SIZE_VALUE,
    SURNAMES_ZH,
    TEAM_REGIONS,
    VALUE_SIGMA,
    WON,
    zh_number,
)

#: customers generated (and written) together; each block has its own random stream
BLOCK_CUSTOMERS = 5_000


# ---------------------------------------------------------------- random helpers ------


def _choice(rng: np.random.Generator, p, n: int) -> np.ndarray:
    """``n`` codes drawn with probabilities ``p`` (one uniform number each)."""
    p = np.asarray(p, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(p) - 1)


def _other(rng: np.random.Generator, who: np.ndarray, n_reps: int) -> np.ndarray:
    """A rep other than ``who`` (uniformly)."""
    if n_reps < 2:
        return who
    return (who + 1 + rng.integers(0, n_reps - 1, who.shape[0])) % n_reps


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------- reps ----------------


class Reps:
    """``n`` reps in teams of about six, each team in one region.

    Per rep (arrays of length ``n``): ``team``, ``region`` (codes), ``names``, ``skill`` (a
    conversion offset, logit) and ``capacity`` (how many customers the rep takes on, relative
    to the team). ``team_names`` are per team; ``by_region`` lists the reps available for a
    customer of each region (all reps where a region has no team)."""

    def __init__(self, rng: np.random.Generator, size: float):
        n = max(8, round(24 * math.sqrt(size)))
        n_teams = max(2, round(n / 6))
        team_region, team_name, seen = [], [], {}
        for t in range(n_teams):
            region = TEAM_REGIONS[t % len(TEAM_REGIONS)]
            seen[region] = seen.get(region, 0) + 1
            team_region.append(region)
            team_name.append(f"{region}{zh_number(seen[region])}组")
        self.n = n
        self.team = np.arange(n) % n_teams
        self.region = np.array([REGIONS.index(team_region[t]) for t in self.team])
        self.team_names = tuple(team_name)
        english = np.zeros(n, dtype=bool)
        english[rng.permutation(n)[: max(1, round(n * ENGLISH_REP_SHARE))]] = True
        zh_pool = [s + g for s in SURNAMES_ZH for g in GIVEN_ZH]
        en_pool = [f"{first} {last}" for first in FIRST_EN for last in LAST_EN]
        names = np.empty(n, dtype=object)
        for mask, pool in ((~english, zh_pool), (english, en_pool)):
            k = int(mask.sum())
            pick = rng.choice(len(pool), size=k, replace=k > len(pool))
            names[mask] = [pool[i] for i in pick]
        self.names = names
        #: conversion offset (logit): some reps are clearly better than others
        self.skill = rng.normal(0.0, 0.45, n)
        #: how many customers a rep takes on, relative to the team
        self.capacity = rng.uniform(0.6, 1.5, n)
        #: reps available for each customer region (fallback: all reps)
        self.by_region = []
        for r in range(len(REGIONS)):
            members = np.flatnonzero(self.region == r)
            if members.size == 0:
                members = np.arange(n)
            self.by_region.append(members)

    def owners(self, rng: np.random.Generator, region: np.ndarray) -> np.ndarray:
        """An owner for each customer, from the reps of its region, by capacity."""
        out = np.empty(region.shape[0], dtype=np.int64)
        for r, members in enumerate(self.by_region):
            mask = region == r
            k = int(mask.sum())
            if k:
                out[mask] = members[_choice(rng, self.capacity[members], k)]
        return out


# ---------------------------------------------------------------- customers -----------


def company_names(rng: np.random.Generator, region: np.ndarray, industry: np.ndarray) -> np.ndarray:
    """A company name per customer: 城市+字号+行业+组织形式 (杭州恒信科技有限公司), or for a
    quarter of them an English one (Apex Software Co., Ltd.)."""
    n = region.shape[0]
    city_list = [c for r in REGIONS for c in CITIES[r]]
    city_off = np.cumsum([0] + [len(CITIES[r]) for r in REGIONS])
    city_n = np.diff(city_off)
    cities = np.array(city_list)
    city = cities[city_off[region] + (rng.random(n) * city_n[region]).astype(np.int64)]
    zh_words = np.array([w for ws in INDUSTRY_WORDS_ZH for w in ws])
    zh_off = np.cumsum([0] + [len(ws) for ws in INDUSTRY_WORDS_ZH])
    en_words = np.array([w for ws in INDUSTRY_WORDS_EN for w in ws])
    en_off = np.cumsum([0] + [len(ws) for ws in INDUSTRY_WORDS_EN])
    zh_word = zh_words[zh_off[industry] + (rng.random(n) * np.diff(zh_off)[industry]).astype(np.int64)]
    en_word = en_words[en_off[industry] + (rng.random(n) * np.diff(en_off)[industry]).astype(np.int64)]
    zh_brand = np.array(BRANDS_ZH)[rng.integers(0, len(BRANDS_ZH), n)]
    zh_form = np.array(FORMS_ZH)[_choice(rng, FORMS_ZH_P, n)]
    zh = np.char.add(np.char.add(np.char.add(city, zh_brand), zh_word), zh_form)
    en_brand = np.array(BRANDS_EN)[rng.integers(0, len(BRANDS_EN), n)]
    en_form = np.array(FORMS_EN)[_choice(rng, FORMS_EN_P, n)]
    en = np.char.add(np.char.add(np.char.add(en_brand, " "), np.char.add(en_word, " ")), en_form)
    english = rng.random(n) < ENGLISH_CUSTOMER_SHARE
    return np.where(english, en.astype(object), zh.astype(object))


# ---------------------------------------------------------------- deals, in phases ----
# The deal phases work on every deal the block's customers had, including those that closed
# before the window; Block._keep_exported then keeps the ones the export shows.


@dataclass(frozen=True)
class _Starts:
    """Who each deal is for and how it starts (one element per deal)."""

    cust: np.ndarray  # customer index in the block
    first_of_new: np.ndarray  # the first deal of a customer created in the window
    created: np.ndarray  # seconds
    owner: np.ndarray
    channel: np.ndarray
    pipeline: np.ndarray  # 0 new business, 1 upsell
    band: np.ndarray  # the customer's size band

    @property
    def m(self) -> int:
        return self.cust.shape[0]


@dataclass(frozen=True)
class _Paths:
    """Which stages each deal passes through, before any time is attached."""

    start_q: np.ndarray  # starts at qualified (no lead row)
    r1: np.ndarray  # reaches qualified
    r2: np.ndarray  # reaches proposal
    r3: np.ndarray  # would be won
    skip: np.ndarray  # goes from lead straight to proposal
    back: np.ndarray  # moves back from proposal to qualified
    back_return: np.ndarray  # ... and forward to proposal again
    won: np.ndarray
    fail: np.ndarray
    zombie: np.ndarray  # nobody works on it; closed as lost in a clean-up much later


@dataclass(frozen=True)
class _Times:
    """When each deal enters each stage (seconds; past ``end`` means not yet) and where it is
    at ``end``."""

    t_q: np.ndarray
    t_p: np.ndarray
    t_b1: np.ndarray  # back at qualified
    t_b2: np.ndarray  # forward at proposal again
    t_won: np.ndarray
    t_close: np.ndarray
    closed: np.ndarray  # closed by end
    outcome: np.ndarray  # O_OPEN / O_WON / O_LOST at end
    stage_now: np.ndarray  # stage at end
    close_day: np.ndarray  # day index, -1 while open


@dataclass(frozen=True)
class _Record:
    """The deal's fields besides its stages."""

    legacy: np.ndarray  # no stage history at all
    no_created: np.ndarray  # created_at left empty
    amount: np.ndarray  # cents
    no_amount: np.ndarray  # amount left empty
    reason: np.ndarray  # lost-reason code, -1 when not lost or not filled in


def _deal_starts(rng: np.random.Generator, cal: Calendar, reps: Reps, customers: Block) -> _Starts:
    """How many deals each customer has over the window (more for valuable customers, a
    first one right after a new customer is created), when they are created and by whom."""
    n, D, end_ts = customers.n, cal.days, cal.end_ts
    c_day, c_ts, pre, rel = customers.c_day, customers.c_ts, customers.pre, customers.rel
    first_day = np.maximum(c_day, 0)
    exposure = cal.weight_between(first_day, np.full(n, D - 1)) / cal.window_days
    pull = np.clip(rel, 0.05, 50) ** 0.25
    n_deals = np.where(
        pre,
        rng.poisson(DEALS_PRE * exposure * pull),
        1 + rng.poisson(DEALS_NEW * exposure * pull),
    )
    m = int(n_deals.sum())
    cust = np.repeat(np.arange(n), n_deals)
    first_of_new = np.zeros(m, dtype=bool)
    starts = np.cumsum(n_deals) - n_deals
    first_of_new[starts[~pre]] = True
    d_day = cal.sample_days(rng, first_day[cust], np.full(m, D - 1))
    created = d_day * DAY + work_time(rng, m)
    created = np.where(first_of_new, c_ts[cust] + days_to_seconds(rng.exponential(0.5, m)), created)
    created = np.clip(np.maximum(created, c_ts[cust] + 60), None, end_ts)
    owner = np.where(rng.random(m) < 0.9, customers.owner[cust], rng.integers(0, reps.n, m))
    channel = np.where(rng.random(m) < 0.85, customers.channel[cust], _choice(rng, CHANNEL_P, m))
    pipeline = np.where(first_of_new, 0, 1)
    return _Starts(cust, first_of_new, created, owner, channel, pipeline, customers.band[cust])


def _deal_paths(rng: np.random.Generator, reps: Reps, s: _Starts) -> _Paths:
    """Each stage is reached with a probability that grows with the rep's skill and the
    channel, falls with the customer's size, and is higher for upsell."""
    m = s.m
    score = (
        reps.skill[s.owner]
        + CHANNEL_SKILL[s.channel]
        + SIZE_SKILL[s.band]
        + np.where(s.pipeline == 1, 0.35, 0.0)
        + rng.normal(0.0, 0.3, m)
    )
    start_q = rng.random(m) < 0.03
    r1 = start_q | (rng.random(m) < _sigmoid(0.30 + score))
    r2 = r1 & (rng.random(m) < _sigmoid(0.10 + score))
    r3 = r2 & (rng.random(m) < _sigmoid(-0.15 + score))
    skip = r2 & ~start_q & (rng.random(m) < 0.07)
    back = r2 & ~skip & (rng.random(m) < 0.07)
    back_return = back & (rng.random(m) < 0.7)
    won = r3 & ~(back & ~back_return)
    fail = ~won
    zombie = fail & (rng.random(m) < 0.18)
    return _Paths(start_q, r1, r2, r3, skip, back, back_return, won, fail, zombie)


def _step(cal: Calendar, t: np.ndarray, days: np.ndarray) -> np.ndarray:
    """``t`` moved on by ``days`` business days; no deal sits in a stage for more than 180
    calendar days."""
    return np.minimum(cal.advance(t, days), t + 180 * DAY)


def _quarter_end_push(
    rng: np.random.Generator, cal: Calendar, won: np.ndarray, last: np.ndarray, t_won: np.ndarray
) -> np.ndarray:
    """``t_won`` with a won deal about to close just after a quarter starts sometimes pulled
    back into the last days of the quarter before."""
    D, m = cal.days, won.shape[0]
    w_day = t_won // DAY
    inside = w_day <= D - 1
    wq = cal.quarter_of(w_day)
    q0 = cal.q_first[wq]
    pulled = cal.q_first[wq] * DAY - np.maximum(days_to_seconds(rng.uniform(0.0, 6.0, m)), 7200)
    push = won & inside & (wq > 0) & (w_day - q0 < 15) & (rng.random(m) < 0.4) & (pulled > last + 3600)
    return np.where(push, pulled, t_won)


def _deal_times(rng: np.random.Generator, cal: Calendar, s: _Starts, p: _Paths) -> _Times:
    """Time in each stage (business days, longer for bigger customers), the quarter-end push,
    and the state of each deal at ``end``."""
    m, end_ts, created = s.m, cal.end_ts, s.created
    slow = SIZE_SLOW[s.band]
    d1 = rng.gamma(2.0, 5.0, m) * slow
    d2 = rng.gamma(2.0, 7.0, m) * slow
    d3 = rng.gamma(2.0, 11.0, m) * slow
    b1 = rng.gamma(2.0, 4.0, m)
    b2 = rng.gamma(2.0, 5.0, m)
    dl = rng.gamma(1.5, 8.0, m) * slow
    t_q = np.where(p.start_q, created, _step(cal, created, d1))
    t_p = _step(cal, t_q, d2)
    t_b1 = _step(cal, t_p, b1)
    t_b2 = _step(cal, t_b1, b2)
    last = np.select([p.back_return, p.back, p.r2, p.r1], [t_b2, t_b1, t_p, t_q], default=created)
    t_won = _step(cal, last, d3)
    # a deal nobody works on any more is closed as lost in a clean-up 40-200 days later
    t_lost = np.where(p.zombie, last + days_to_seconds(rng.uniform(40, 200, m)), _step(cal, last, dl))
    t_won = _quarter_end_push(rng, cal, p.won, last, t_won)
    t_close = np.where(p.won, t_won, t_lost)
    closed = t_close <= end_ts
    outcome = np.where(closed, np.where(p.won, O_WON, O_LOST), O_OPEN)
    stage_now = np.select(
        [
            closed & p.won,
            closed,
            p.back_return & (t_b2 <= end_ts),
            p.back & (t_b1 <= end_ts),
            p.r2 & (t_p <= end_ts),
            p.r1 & ~p.skip & (t_q <= end_ts),
        ],
        [WON, LOST, PROPOSAL, QUALIFIED, PROPOSAL, QUALIFIED],
        default=LEAD,
    )
    close_day = np.where(closed, t_close // DAY, -1)
    return _Times(t_q, t_p, t_b1, t_b2, t_won, t_close, closed, outcome, stage_now, close_day)


def _deal_record(
    rng: np.random.Generator, cal: Calendar, value: np.ndarray, s: _Starts, p: _Paths, t: _Times
) -> _Record:
    """What the CRM records about each deal besides its stages: gaps first (~1 % legacy deals
    without history, only where the no-history rule is unambiguous; ~0.5 % without
    created_at), then the amount and the lost reason."""
    m = s.m
    created_q = cal.quarter_of(s.created // DAY)
    same_q = t.closed & (created_q == cal.quarter_of(t.close_day))
    eligible = same_q | ~t.closed
    p_legacy = 0.01 * m / max(int(eligible.sum()), 1)
    legacy = eligible & (s.created >= cal.start_ts) & (rng.random(m) < p_legacy)
    no_created = ~legacy & (rng.random(m) < 0.005)
    # amounts (whole yuan, in cents); early leads sometimes have none
    amount = np.round(value[s.cust] * 9000.0 * rng.lognormal(0.0, 0.35, m) * np.where(s.pipeline == 1, 0.6, 1.0), -2)
    amount = (np.maximum(amount, 1000) * 100).astype(np.int64)
    furthest_true = p.r1.astype(np.int64) + p.r2 + p.r3  # before truncation, for lost reasons
    furthest_true = np.where(p.back & ~p.back_return, PROPOSAL, furthest_true)
    no_amount = (t.outcome != O_WON) & (furthest_true == LEAD) & (rng.random(m) < 0.05)
    lost = t.outcome == O_LOST
    reason = np.full(m, -1, dtype=np.int64)
    for stage in (LEAD, QUALIFIED, PROPOSAL):
        mask = lost & (np.minimum(furthest_true, PROPOSAL) == stage)
        reason[mask] = _choice(rng, LOST_REASON_P[stage], int(mask.sum()))
    reason = np.where(lost & p.zombie, R_NO_RESPONSE, reason)
    reason = np.where(lost & (rng.random(m) < 0.03), -1, reason)  # not filled in
    return _Record(legacy, no_created, amount, no_amount, reason)


# ---------------------------------------------------------------- one block -----------


class Block:
    """Everything about ``n`` customers, as arrays (the generator's internal truth).

    Built by steps that run in this order, each drawing from ``rng`` after the one before:
    customers, deals (starts, paths, times, record), the export cut and the stage
    history (no draws), orders, activities. The attributes, by table:

    - customers (one per customer): ``customer_no``, ``names``, ``region``, ``industry``,
      ``band``, ``channel``, ``owner``, ``c_day``, ``c_ts``; ``value`` (``rel``: 1 is the
      median customer) and ``pre`` (created before the window) drive the rest;
    - deals (``m``, the exported ones, by creation): ``d_cust``, ``d_owner``, ``d_channel``,
      ``pipeline``, ``created``, ``t_close``, ``closed``, ``outcome``, ``stage_now``,
      ``close_day``, ``legacy``, ``no_created``, ``amount``, ``no_amount``, ``reason``,
      ``won_deal``;
    - stage history (by deal, then time): ``h_deal`` (index into the deals), ``h_stage``, ``h_ts``;
    - orders (by day, then customer): ``o_cust``, ``o_day``, ``o_amt`` (cents);
    - activities (by time, then customer): ``a_cust``, ``a_deal`` (-1: none), ``a_rep``,
      ``a_ts``, ``a_kind``.
    """

    def __init__(self, rng: np.random.Generator, cal: Calendar, reps: Reps, first_customer: int, n: int):
        self.n = n
        self._customers(rng, cal, reps, first_customer)
        starts = _deal_starts(rng, cal, reps, self)
        paths = _deal_paths(rng, reps, starts)
        times = _deal_times(rng, cal, starts, paths)
        record = _deal_record(rng, cal, self.value, starts, paths, times)
        exported, inv = self._keep_exported(cal, starts, times, record)
        self._history(cal, starts, paths, times, exported & ~record.legacy, inv)
        self._orders(rng, cal)
        self._activities(rng, cal, reps)

    def _customers(self, rng: np.random.Generator, cal: Calendar, reps: Reps, first_customer: int) -> None:
        """Region, industry, size band, channel and owner; half of them created before the
        window; a lognormal value, bigger for bigger and for older customers; a name."""
        n, D, first = self.n, cal.days, cal.first
        self.customer_no = first_customer + np.arange(n, dtype=np.int64)
        region = _choice(rng, REGION_P, n)
        industry = _choice(rng, INDUSTRY_P, n)
        band = _choice(rng, SIZE_BAND_P, n)
        channel = _choice(rng, CHANNEL_P, n)
        owner = reps.owners(rng, region)
        pre = rng.random(n) < PRE_SHARE  # customers from before the window
        c_day = np.where(
            pre,
            first - rng.integers(1, 5 * 365, n),
            cal.sample_days(rng, np.full(n, first), np.full(n, D - 1)),
        )
        c_ts = c_day * DAY + work_time(rng, n)
        value = rng.lognormal(0.0, VALUE_SIGMA, n) * SIZE_VALUE[band] * np.where(pre, 1.3, 1.0)
        self.names = company_names(rng, region, industry)
        self.region, self.industry, self.band, self.channel = region, industry, band, channel
        self.owner, self.pre, self.c_day, self.c_ts = owner, pre, c_day, c_ts
        self.value = value
        self.rel = value / 2.0  # 1 ~ the median customer

    def _keep_exported(
        self,
        cal: Calendar,
        s: _Starts,
        t: _Times,
        r: _Record,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Keep the deals the export shows (created in the window or still open when it
        starts), ordered by creation. Returns ``(exported, inv)``: the mask over all deals and
        each deal's index among the exported ones (-1 when not exported)."""
        exported = (s.created >= cal.start_ts) | (t.t_close >= cal.start_ts)
        order = np.flatnonzero(exported)
        order = order[np.argsort(s.created[order], kind="stable")]
        inv = np.full(s.m, -1, dtype=np.int64)
        inv[order] = np.arange(order.shape[0])
        self.m = order.shape[0]
        self.d_cust, self.d_owner = s.cust[order], s.owner[order]
        self.d_channel, self.pipeline = s.channel[order], s.pipeline[order]
        self.created, self.t_close, self.closed = s.created[order], t.t_close[order], t.closed[order]
        self.outcome, self.stage_now, self.close_day = t.outcome[order], t.stage_now[order], t.close_day[order]
        self.legacy, self.no_created = r.legacy[order], r.no_created[order]
        self.amount, self.no_amount, self.reason = r.amount[order], r.no_amount[order], r.reason[order]
        self.won_deal = self.outcome == O_WON
        return exported, inv

    def _history(self, cal: Calendar, s: _Starts, p: _Paths, t: _Times, shown: np.ndarray, inv: np.ndarray) -> None:
        """The visible stage-history rows: entered by ``end``, of the ``shown`` deals
        (exported and not legacy)."""
        events = [
            (~p.start_q, LEAD, s.created),
            (p.r1 & ~p.skip, QUALIFIED, t.t_q),
            (p.r2, PROPOSAL, t.t_p),
            (p.back, QUALIFIED, t.t_b1),
            (p.back_return, PROPOSAL, t.t_b2),
            (p.won, WON, t.t_won),
            (p.fail, LOST, t.t_close),
        ]
        h_deal, h_stage, h_ts = [], [], []
        for mask, stage, ts in events:
            keep = mask & (ts <= cal.end_ts) & shown
            h_deal.append(inv[keep])
            h_stage.append(np.full(int(keep.sum()), stage, dtype=np.int64))
            h_ts.append(ts[keep])
        h_deal, h_stage, h_ts = (np.concatenate(x) for x in (h_deal, h_stage, h_ts))
        hord = np.lexsort((h_ts, h_deal))
        self.h_deal, self.h_stage, self.h_ts = h_deal[hord], h_stage[hord], h_ts[hord]

    def _orders(self, rng: np.random.Generator, cal: Calendar) -> None:
        """Orders that fulfil won deals, repeat purchases over a buying life that may end
        (churn) and start again (reactivation), returns and cancellations."""
        n, D, first, pre, rel = self.n, cal.days, cal.first, self.pre, self.rel
        # orders that fulfil won deals, sometimes in two instalments
        wd = np.flatnonzero(self.won_deal)
        k = wd.shape[0]
        cust_w = self.d_cust[wd]
        day1 = self.close_day[wd] + np.minimum(rng.geometric(0.3, k) - 1, 30)
        split = rng.random(k) < 0.25
        part = np.round(self.amount[wd] * rng.uniform(0.4, 0.7, k) / 100.0).astype(np.int64) * 100
        amt1 = np.where(split, part, self.amount[wd])
        amt2 = self.amount[wd] - amt1
        day2 = day1 + rng.integers(30, 91, k)
        o_cust = [cust_w, cust_w[split]]
        o_day = [day1, day2[split]]
        o_amt = [amt1, amt2[split]]
        # repeat purchases: a buying life that may end (churn) and start again (reactivation)
        first_won = np.full(n, D, dtype=np.int64)
        np.minimum.at(first_won, cust_w, self.close_day[wd])
        buyer_pre = pre & (rng.random(n) < 0.85)
        begin = np.where(buyer_pre, first, first_won + 1)
        buyer = begin <= D - 1
        rate = np.clip(ORDER_RATE * np.clip(rel, 0.01, None) ** ORDER_RATE_EXP, 0.5, 40.0) / 365.0  # per day
        life = rng.exponential(BUYING_LIFE_DAYS, n).astype(np.int64)
        churn = begin + life
        hi1 = np.minimum(churn, D - 1)
        n1 = np.where(buyer, rng.poisson(rate * cal.weight_between(begin, hi1)), 0)
        react_day = churn + rng.integers(190, 421, n)
        react = buyer & (churn < D - 1) & (rng.random(n) < 0.35) & (react_day <= D - 1)
        n2 = np.where(react, rng.poisson(rate * cal.weight_between(react_day + 1, np.full(n, D - 1))), 0)
        idx1 = np.repeat(np.arange(n), n1)
        idx2 = np.repeat(np.arange(n), n2)
        ridx = np.flatnonzero(react)
        for idx, lo, hi in ((idx1, begin, hi1), (idx2, react_day + 1, np.full(n, D - 1))):
            o_cust.append(idx)
            o_day.append(cal.sample_days(rng, lo[idx], hi[idx]))
        o_cust.append(ridx)
        o_day.append(react_day[ridx])
        rep_cust = np.concatenate([idx1, idx2, ridx])
        r = rep_cust.shape[0]
        o_amt.append(
            np.maximum(np.round(rel[rep_cust] * 300_000.0 * rng.lognormal(0.0, 0.55, r)), 500).astype(np.int64)
        )
        cust = np.concatenate(o_cust)
        day = np.concatenate(o_day)
        amt = np.concatenate([o_amt[0], o_amt[1], o_amt[2]])
        keep = (day >= first) & (day <= D - 1)
        cust, day, amt = cust[keep], day[keep], amt[keep]
        # returns (negative, later) and cancellations (zero)
        q = cust.shape[0]
        ret = rng.random(q) < 0.015
        ret_day = day + rng.integers(3, 46, q)
        ret = ret & (ret_day <= D - 1)
        ret_amt = -np.maximum(np.round(amt * rng.uniform(0.1, 1.0, q)), 1).astype(np.int64)
        cancel = ~ret & (rng.random(q) < 0.003)
        amt = np.where(cancel, 0, amt)
        cust = np.concatenate([cust, cust[ret]])
        day = np.concatenate([day, ret_day[ret]])
        amt = np.concatenate([amt, ret_amt[ret]])
        order = np.lexsort((cust, day))
        self.o_cust, self.o_day, self.o_amt = cust[order], day[order], amt[order]

    def _activities(self, rng: np.random.Generator, cal: Calendar, reps: Reps) -> None:
        """Follow-ups on open deals and account care (denser for valuable customers); a few
        by a rep other than the owner."""
        n, m, D, end_ts = self.n, self.m, cal.days, cal.end_ts
        # follow-ups on deals, between creation and close (or end)
        stop = np.where(self.closed, self.t_close, end_ts)
        begin = np.maximum(self.created, cal.start_ts)  # nothing from before the window
        span = np.maximum(stop - begin, 0)
        k = rng.poisson(0.8 + np.minimum(span / DAY, 120.0) / 10.0)
        di = np.repeat(np.arange(m), k)
        t = begin[di] + (rng.random(di.shape[0]) * span[di]).astype(np.int64)
        t = (t // DAY) * DAY + work_time(rng, di.shape[0])
        t = np.clip(t, begin[di], stop[di])
        a_cust = [self.d_cust[di]]
        a_deal = [di]
        a_owner = [self.d_owner[di]]
        a_ts = [t]
        # account care, denser for valuable customers
        lo = np.maximum(self.c_day, cal.first)
        is_buyer = np.zeros(n, dtype=bool)
        is_buyer[self.o_cust] = True
        rate = np.where(is_buyer, np.clip(4.0 * np.clip(self.rel, 0.01, None) ** 0.35, 0.5, 40.0), 0.8) / 365.0
        k = rng.poisson(rate * cal.weight_between(lo, np.full(n, D - 1)))
        ci = np.repeat(np.arange(n), k)
        day = cal.sample_days(rng, lo[ci], np.full(ci.shape[0], D - 1))
        t = np.maximum(day * DAY + work_time(rng, ci.shape[0]), self.c_ts[ci])
        a_cust.append(ci)
        a_deal.append(np.full(ci.shape[0], -1, dtype=np.int64))
        a_owner.append(self.owner[ci])
        a_ts.append(t)
        cust, deal, rep, ts = (np.concatenate(x) for x in (a_cust, a_deal, a_owner, a_ts))
        q = cust.shape[0]
        other = rng.random(q) < 0.06  # someone else works the account: ownership conflict
        rep = np.where(other, _other(rng, rep, reps.n), rep)
        kind = _choice(rng, ACTIVITY_KIND_P, q)
        order = np.lexsort((cust, ts))
        self.a_cust, self.a_deal, self.a_rep, self.a_ts, self.a_kind = (x[order] for x in (cust, deal, rep, ts, kind))


# ---------------------------------------------------------------- targets -------------


def targets(rng: np.random.Generator, cal: Calendar, reps: Reps, won_by_rep: np.ndarray) -> pd.DataFrame:
    """A target per rep and quarter, a little above what a rep typically wins.

    ``won_by_rep`` is the won amount in yuan per rep (rows) and quarter (columns). One row
    per rep and quarter, by rep then quarter: ``rep`` (code), ``k`` (quarter index),
    ``start``, ``stop`` (the quarter's first and last day), ``cents``."""
    typical = won_by_rep.mean(axis=1)
    typical = np.where(typical > 0, typical, max(float(typical.mean()), 100_000.0))
    season = np.array([0.85, 1.0, 1.0, 1.2])
    rows = []
    for k, q in enumerate(cal.quarters):
        factor = season[(q.start.month - 1) // 3] * rng.uniform(0.95, 1.35, reps.n) * (1 + 0.04 * k)
        yuan = np.maximum(np.round(typical * factor, -4), 50_000)
        rows.append(
            pd.DataFrame(
                {
                    "rep": np.arange(reps.n),
                    "k": k,
                    "start": np.datetime64(q.start, "s"),
                    "stop": np.datetime64(q.end, "s"),
                    "cents": (yuan * 100).astype(np.int64),
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True).sort_values(["rep", "k"], kind="stable")
    return frame.reset_index(drop=True)
