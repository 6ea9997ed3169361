"""A deterministic generator of a realistic CRM export in the canonical CSV layout.

``generate(out_dir, seed=7, size=1.0, end=date(2026, 9, 30))`` writes one UTF-8 CSV per
canonical table (``customers.csv``, ``reps.csv``, ``targets.csv``, ``deals.csv``,
``deal_stage_history.csv``, ``orders.csv``, ``activities.csv``) plus ``manifest.json``, the
known totals computed from the generator's own event arrays (not by re-reading the CSVs), so
that the importer and the metric SQL can be checked against them.

Layout: the header is the canonical column list of ``queries/schema/001_canonical.sql``;
timestamps ``YYYY-MM-DD HH:MM:SS``, dates ``YYYY-MM-DD``, amounts with two decimals, an empty
field is null. Fields are quoted only when they need it (a name such as ``Co., Ltd.``).

Shape at ``size=1``: the 8 full quarters ending with the quarter of ``end``, ~2,000
customers, ~8,000 deals with ~24k stage-history rows, ~17k orders, ~50k activities, 24 reps
in 4 teams, one target per rep and quarter. ``size`` scales the customers (and with them
everything else) linearly, and the reps with its square root.

What the analytics should find in it: Pareto-like customer value; funnel conversion that
depends on the source channel (转介绍 referral best, 电话营销 cold call worst), on the rep and
on the customer's size band; seasonality (Q4 and March peaks, a Chinese New Year dip, the
National Day week); a push to close won deals before a quarter ends; churn (no purchase for
more than 180 days) and reactivation; stale open deals; deals that skip ``qualified``, start
at ``qualified``, or move back from ``proposal`` to ``qualified`` (and usually forward
again); lost reasons; returns (negative orders) and cancellations (zero orders); ~0.5 % of
deals without created_at, ~1 % without any stage history (legacy); activities by someone
other than the owner (ownership conflicts).

Determinism: the customers are generated and written in blocks of ``BLOCK_CUSTOMERS``; block
``b`` draws from ``numpy.random.SeedSequence([seed, 1, b])``, the reps from
``[seed, 0]``, the targets from ``[seed, 2]``. Nothing depends on the clock, on hash
randomization or on thread timing (DuckDB, on one thread, formats the CSV text), so
the same ``seed``, ``size`` and ``end`` give byte-identical files.

Data are all inside the window: orders and activities of customers created before it start
at its first day (so their earlier history is not in the export).

Funnel totals in the manifest follow DESIGN.md with the default (furthest-stage) rule and
as-of date = the quarter's last day (a row entered on that day counts). A deal without
history rows uses its current stage (its stage at ``end``); when that stage is ``lost`` it
counts as ``lead``. The generator keeps the one ambiguous case out of the data: a deal
without history that is closed at ``end`` was created and closed in the same quarter, so it
is never "open as of the quarter's end" with a current stage of won or lost.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from .. import periods
from ..schema import TABLE_SPECS

__all__ = ["generate", "COLUMNS", "BLOCK_CUSTOMERS", "QUARTERS"]

#: canonical column order of every table the sample writes
COLUMNS: dict[str, tuple[str, ...]] = {table: spec.names for table, spec in TABLE_SPECS.items()}

#: customers generated (and written) together; each block has its own random stream
BLOCK_CUSTOMERS = 5_000
#: number of quarters covered: the quarter of ``end`` and the 7 before it
QUARTERS = 8

_CUSTOMERS_PER_SIZE = 2_000
# shape knobs
PRE_SHARE = 0.5  # customers created before the window
VALUE_SIGMA = 0.7  # customer value: lognormal x size band
DEALS_PRE = 4.7  # deals over the window for an existing customer of median value
DEALS_NEW = 3.1  # further deals for a new customer (besides the first), prorated
ORDER_RATE = 10.0  # repeat orders per year for a median buyer
ORDER_RATE_EXP = 0.35  # ... growing with value to this power
BUYING_LIFE_DAYS = 600.0  # mean time before a buyer stops buying
#: deals of existing customers may start this long before the window; those still open when
#: it starts are in the export (as a CRM export of "deals open or created in the period" has)
WARMUP_DAYS = 180
_DAY = 86_400

# ---------------------------------------------------------------- vocabulary ----------

STAGES = ("lead", "qualified", "proposal", "won", "lost")
LEAD, QUALIFIED, PROPOSAL, WON, LOST = range(5)
OUTCOMES = ("open", "won", "lost")
O_OPEN, O_WON, O_LOST = range(3)

REGIONS = ("华东", "华南", "华北", "西南", "华中", "西北", "东北")
REGION_P = (0.34, 0.24, 0.18, 0.10, 0.08, 0.03, 0.03)
CITIES = {
    "华东": ("上海", "杭州", "苏州", "南京", "宁波", "无锡", "合肥", "济南", "青岛", "福州", "厦门"),
    "华南": ("广州", "深圳", "佛山", "东莞", "珠海", "南宁", "海口"),
    "华北": ("北京", "天津", "石家庄", "太原", "呼和浩特"),
    "西南": ("成都", "重庆", "昆明", "贵阳"),
    "华中": ("武汉", "长沙", "郑州", "南昌"),
    "西北": ("西安", "兰州", "银川", "乌鲁木齐"),
    "东北": ("沈阳", "大连", "长春", "哈尔滨"),
}
#: region of the n-th team (cycled); team names are region + 一组/二组 …
TEAM_REGIONS = ("华东", "华南", "华北", "西南", "华东", "华中", "华南", "华北", "东北", "西北")

INDUSTRIES = ("制造业", "批发零售", "物流", "信息技术", "医疗健康", "教育", "建筑工程", "餐饮酒店", "金融服务")
INDUSTRY_P = (0.22, 0.20, 0.12, 0.14, 0.08, 0.05, 0.08, 0.06, 0.05)
INDUSTRY_WORDS_ZH = (
    ("机械", "电子", "精密制造", "新材料", "汽车配件"),
    ("贸易", "商贸", "百货", "进出口"),
    ("物流", "供应链", "运输", "仓储"),
    ("科技", "信息技术", "软件", "网络科技"),
    ("医疗器械", "生物科技", "医药", "健康科技"),
    ("教育科技", "培训", "文化"),
    ("建设工程", "建材", "装饰工程"),
    ("餐饮管理", "酒店管理", "食品"),
    ("投资", "融资租赁", "保险代理"),
)
INDUSTRY_WORDS_EN = (
    ("Manufacturing", "Precision", "Electronics", "Machinery"),
    ("Trading", "Import & Export", "Retail"),
    ("Logistics", "Supply Chain", "Freight"),
    ("Technologies", "Software", "Digital"),
    ("Medical", "Biotech", "Healthcare"),
    ("Education", "Learning"),
    ("Construction", "Building Materials"),
    ("Foods", "Hospitality"),
    ("Capital", "Leasing"),
)
BRANDS_ZH = (
    "华联",
    "恒信",
    "鑫源",
    "东方",
    "新创",
    "长江",
    "金桥",
    "宏达",
    "永盛",
    "天成",
    "瑞丰",
    "博远",
    "嘉禾",
    "中科",
    "汇通",
    "德润",
    "万隆",
    "海川",
    "启明",
    "安泰",
    "众诚",
    "远航",
    "星辰",
    "兴业",
    "华泰",
    "立信",
    "正和",
    "美达",
    "锦程",
    "九州",
    "盛世",
    "同创",
    "明珠",
    "优品",
    "睿达",
    "佳禾",
    "宝丰",
    "中瑞",
    "凯越",
    "泰和",
)
FORMS_ZH = ("有限公司", "股份有限公司", "集团有限公司", "有限责任公司")
FORMS_ZH_P = (0.70, 0.15, 0.10, 0.05)
BRANDS_EN = (
    "Acme",
    "Apex",
    "Summit",
    "Blue River",
    "Golden Gate",
    "Pacific Rim",
    "Evergreen",
    "Northstar",
    "Silverline",
    "Harbor",
    "Redwood",
    "Orion",
    "Sterling",
    "Zenith",
    "Horizon",
    "Pioneer",
    "Lotus",
    "Jade",
    "Dragon Gate",
    "Phoenix",
    "Meridian",
    "Crescent",
    "Atlas",
    "Vertex",
)
FORMS_EN = ("Ltd", "Co., Ltd.", "Inc.", "Limited", "Group")
FORMS_EN_P = (0.35, 0.30, 0.15, 0.12, 0.08)
ENGLISH_CUSTOMER_SHARE = 0.25

SIZE_BANDS = ("1-49", "50-199", "200-999", "1000+")
SIZE_BAND_P = (0.45, 0.30, 0.18, 0.07)
SIZE_VALUE = np.array([1.0, 2.0, 4.0, 8.0])  # value multiplier
SIZE_SLOW = np.array([1.0, 1.2, 1.5, 1.9])  # sales-cycle multiplier
SIZE_SKILL = np.array([0.10, 0.0, -0.10, -0.25])  # bigger customers are harder to win

#: channel, share of customers, conversion offset (logit, per stage)
CHANNELS = ("转介绍", "合作伙伴", "展会", "官网", "电话营销")
CHANNEL_P = (0.14, 0.10, 0.20, 0.31, 0.25)
CHANNEL_SKILL = np.array([1.0, 0.45, 0.20, 0.0, -0.85])

PIPELINES = ("新客户开发", "老客户增购")
LOST_REASONS = ("价格", "竞品", "预算不足", "无回应", "需求不匹配", "决策延期")
R_NO_RESPONSE = 3
#: lost-reason probabilities by the furthest stage reached (lead, qualified, proposal)
LOST_REASON_P = (
    (0.10, 0.10, 0.20, 0.45, 0.15, 0.00),
    (0.20, 0.25, 0.25, 0.15, 0.15, 0.00),
    (0.40, 0.30, 0.15, 0.05, 0.00, 0.10),
)
ACTIVITY_KINDS = ("call", "wechat", "visit", "email")
ACTIVITY_KIND_P = (0.38, 0.30, 0.17, 0.15)

SURNAMES_ZH = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "林",
    "高",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "许",
    "韩",
    "冯",
    "邓",
    "曹",
)
GIVEN_ZH = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "晓东",
    "海燕",
    "志强",
    "建华",
    "婷婷",
    "宇航",
    "思远",
    "佳怡",
    "子豪",
    "雨欣",
    "浩然",
    "欣怡",
    "俊杰",
)
FIRST_EN = (
    "Emily",
    "David",
    "Kevin",
    "Grace",
    "Michael",
    "Sophia",
    "Jason",
    "Linda",
    "Eric",
    "Amy",
    "Tony",
    "Cathy",
    "Leo",
    "Nina",
    "Frank",
    "Helen",
)
LAST_EN = ("Chen", "Wang", "Li", "Zhang", "Liu", "Huang", "Zhao", "Wu", "Zhou", "Lin")
ENGLISH_REP_SHARE = 0.2

#: Chinese New Year's day; the days around it are quiet
_CNY = (
    "2018-02-16",
    "2019-02-05",
    "2020-01-25",
    "2021-02-12",
    "2022-02-01",
    "2023-01-22",
    "2024-02-10",
    "2025-01-29",
    "2026-02-17",
    "2027-02-06",
    "2028-01-26",
    "2029-02-13",
    "2030-02-03",
    "2031-01-23",
    "2032-02-11",
    "2033-01-31",
    "2034-02-19",
    "2035-02-08",
    "2036-01-28",
    "2037-02-15",
    "2038-02-04",
    "2039-01-24",
    "2040-02-12",
)
#: business activity by calendar month: March and Q4 peak, January/February dip
_MONTH_WEIGHT = np.array([0.85, 0.75, 1.30, 1.00, 0.95, 1.10, 0.90, 0.90, 1.10, 0.85, 1.15, 1.40])
_WEEKDAY_WEIGHT = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.30, 0.15])  # Monday first

# ---------------------------------------------------------------- calendar ------------


class _Calendar:
    """Day indices 0..days-1 from ``origin`` (``WARMUP_DAYS`` before the window's ``start``,
    so that the pipeline is already running when the window opens); times in seconds from
    ``origin``. ``first`` is the index of ``start``."""

    def __init__(self, end: date):
        first = periods.quarter(end.year, end.month)
        idx = first.start.year * 12 + first.start.month - 1 - 3 * (QUARTERS - 1)
        self.start = date(idx // 12, idx % 12 + 1, 1)
        self.end = end
        self.quarters = []
        y, m = self.start.year, self.start.month
        for _ in range(QUARTERS):
            self.quarters.append(periods.quarter(y, m))
            y, m = (y + 1, 1) if m == 10 else (y, m + 3)
        self.origin = self.start - timedelta(days=WARMUP_DAYS)
        self.first = WARMUP_DAYS
        self.start_ts = self.first * _DAY
        self.days = (end - self.origin).days + 1
        self.window_days = self.days - self.first
        self.end_ts = self.days * _DAY - 1  # end, 23:59:59
        day64 = np.datetime64(self.origin, "D") + np.arange(self.days)
        self.origin64 = np.datetime64(self.origin, "s")
        month = day64.astype("datetime64[M]").astype(np.int64) % 12
        weekday = (day64.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        weight = _MONTH_WEIGHT[month] * _WEEKDAY_WEIGHT[weekday]
        for text in _CNY:
            offset = (day64 - np.datetime64(text, "D")).astype(np.int64)
            weight = np.where((offset >= -6) & (offset <= 9), weight * 0.15, weight)
        md = (month + 1) * 100 + (day64 - day64.astype("datetime64[M]")).astype(np.int64) + 1
        weight = np.where((md >= 1001) & (md <= 1007), weight * 0.3, weight)  # 国庆
        weight = weight * (1.0 + 0.15 * np.arange(self.days) / 365.0)  # growth
        self.weight = weight
        self.cum = np.concatenate([[0.0], np.cumsum(weight)])
        self.mean_weight = self.cum[-1] / self.days
        # business time: progress on a deal is measured in days of average weight, so it
        # slows over weekends and the Spring Festival; past the end the calendar is flat
        tail = 4000
        self.bweight = np.concatenate([weight, np.full(tail, self.mean_weight)])
        self.bcum = np.concatenate([self.cum, self.cum[-1] + self.mean_weight * np.arange(1, tail + 1)])
        self.quarter_of_day = np.full(self.days, -1, dtype=np.int64)  # -1: before the window
        self.q_first = np.zeros(QUARTERS, dtype=np.int64)
        self.q_last = np.zeros(QUARTERS, dtype=np.int64)
        for k, q in enumerate(self.quarters):
            a, b = (q.start - self.origin).days, (q.end - self.origin).days
            self.q_first[k], self.q_last[k] = a, b
            self.quarter_of_day[a : min(b, self.days - 1) + 1] = k

    def sample_days(self, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """One day per element in [lo, hi] (inclusive), weighted by the business calendar."""
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.asarray(hi, dtype=np.int64)
        a, b = self.cum[lo], self.cum[hi + 1]
        u = a + rng.random(lo.shape[0]) * (b - a)
        day = np.searchsorted(self.cum, u, side="right") - 1
        return np.clip(day, lo, hi)

    def advance(self, t: np.ndarray, days: np.ndarray) -> np.ndarray:
        """``t`` (seconds) moved on by ``days`` business days (at least a minute later)."""
        day = np.clip(t // _DAY, 0, self.bweight.shape[0] - 1)
        b = self.bcum[day] + (t - day * _DAY) / _DAY * self.bweight[day] + days * self.mean_weight
        new = np.clip(np.searchsorted(self.bcum, b, side="right") - 1, 0, self.bweight.shape[0] - 1)
        frac = (b - self.bcum[new]) / self.bweight[new]
        return np.maximum(new * _DAY + (frac * _DAY).astype(np.int64), t + 60)

    def weight_between(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Business weight of [lo, hi] in days of average weight (0 when empty)."""
        lo = np.clip(lo, 0, self.days)
        hi = np.clip(hi, -1, self.days - 1)
        return np.where(hi >= lo, (self.cum[np.maximum(hi + 1, lo)] - self.cum[lo]), 0.0) / self.mean_weight


def _work_time(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the day, mostly office hours (08:30 to 19:30)."""
    return (8.5 * 3600 + rng.random(n) * 11 * 3600).astype(np.int64)


def _days(x: np.ndarray) -> np.ndarray:
    return (np.asarray(x, dtype=np.float64) * _DAY).astype(np.int64)


def _choice(rng: np.random.Generator, p, n: int) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").clip(0, len(p) - 1)


def _other(rng: np.random.Generator, who: np.ndarray, n_reps: int) -> np.ndarray:
    """A rep other than ``who`` (uniformly)."""
    if n_reps < 2:
        return who
    return (who + 1 + rng.integers(0, n_reps - 1, who.shape[0])) % n_reps


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _zh_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)


# ---------------------------------------------------------------- reps ----------------


class _Reps:
    def __init__(self, rng: np.random.Generator, size: float):
        n = max(8, round(24 * math.sqrt(size)))
        n_teams = max(2, round(n / 6))
        team_region, team_name, seen = [], [], {}
        for t in range(n_teams):
            region = TEAM_REGIONS[t % len(TEAM_REGIONS)]
            seen[region] = seen.get(region, 0) + 1
            team_region.append(region)
            team_name.append(f"{region}{_zh_number(seen[region])}组")
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
        out = np.empty(region.shape[0], dtype=np.int64)
        for r, members in enumerate(self.by_region):
            mask = region == r
            k = int(mask.sum())
            if k:
                out[mask] = members[_choice(rng, self.capacity[members], k)]
        return out


# ---------------------------------------------------------------- one block -----------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class _Block:
    """Everything about ``n`` customers, as arrays (the generator's internal truth)."""

    def __init__(self, rng: np.random.Generator, cal: _Calendar, reps: _Reps, first_customer: int, n: int):
        self.n = n
        D, end_ts, first = cal.days, cal.end_ts, cal.first
        # ---- customers
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
        c_ts = c_day * _DAY + _work_time(rng, n)
        value = rng.lognormal(0.0, VALUE_SIGMA, n) * SIZE_VALUE[band] * np.where(pre, 1.3, 1.0)
        rel = value / 2.0  # 1 ~ the median customer
        self.names = self._names(rng, region, industry)
        self.region, self.industry, self.band, self.channel = region, industry, band, channel
        self.owner, self.c_ts = owner, c_ts

        # ---- deals
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
        created = d_day * _DAY + _work_time(rng, m)
        created = np.where(first_of_new, c_ts[cust] + _days(rng.exponential(0.5, m)), created)
        created = np.clip(np.maximum(created, c_ts[cust] + 60), None, end_ts)
        d_owner = np.where(rng.random(m) < 0.9, owner[cust], rng.integers(0, reps.n, m))
        d_channel = np.where(rng.random(m) < 0.85, channel[cust], _choice(rng, CHANNEL_P, m))
        pipeline = np.where(first_of_new, 0, 1)
        d_band = band[cust]
        score = (
            reps.skill[d_owner]
            + CHANNEL_SKILL[d_channel]
            + SIZE_SKILL[d_band]
            + np.where(pipeline == 1, 0.35, 0.0)
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
        slow = SIZE_SLOW[d_band]
        # durations in business days (see _Calendar.advance)
        d1 = rng.gamma(2.0, 5.0, m) * slow
        d2 = rng.gamma(2.0, 7.0, m) * slow
        d3 = rng.gamma(2.0, 11.0, m) * slow
        b1 = rng.gamma(2.0, 4.0, m)
        b2 = rng.gamma(2.0, 5.0, m)
        dl = rng.gamma(1.5, 8.0, m) * slow

        def step(t, d):  # no deal sits in a stage for more than 180 calendar days
            return np.minimum(cal.advance(t, d), t + 180 * _DAY)

        t_q = np.where(start_q, created, step(created, d1))
        t_p = step(t_q, d2)
        t_b1 = step(t_p, b1)
        t_b2 = step(t_b1, b2)
        last = np.select([back_return, back, r2, r1], [t_b2, t_b1, t_p, t_q], default=created)
        t_won = step(last, d3)
        # a deal nobody works on any more is closed as lost in a clean-up 40-200 days later
        t_lost = np.where(zombie, last + _days(rng.uniform(40, 200, m)), step(last, dl))
        # quarter-end push: a deal about to close just after a quarter starts is pulled back
        w_day = t_won // _DAY
        inside = w_day <= D - 1
        wq = cal.quarter_of_day[np.clip(w_day, 0, D - 1)]
        q0 = cal.q_first[wq]
        pulled = cal.q_first[wq] * _DAY - np.maximum(_days(rng.uniform(0.0, 6.0, m)), 7200)
        push = won & inside & (wq > 0) & (w_day - q0 < 15) & (rng.random(m) < 0.4) & (pulled > last + 3600)
        t_won = np.where(push, pulled, t_won)
        t_close = np.where(won, t_won, t_lost)
        closed = t_close <= end_ts
        outcome = np.where(closed, np.where(won, O_WON, O_LOST), O_OPEN)
        stage_now = np.select(
            [
                closed & won,
                closed,
                back_return & (t_b2 <= end_ts),
                back & (t_b1 <= end_ts),
                r2 & (t_p <= end_ts),
                r1 & ~skip & (t_q <= end_ts),
            ],
            [WON, LOST, PROPOSAL, QUALIFIED, PROPOSAL, QUALIFIED],
            default=LEAD,
        )
        close_day = np.where(closed, t_close // _DAY, -1)
        # legacy deals without any history: only where the no-history rule is unambiguous
        created_q = cal.quarter_of_day[np.clip(created // _DAY, 0, D - 1)]
        same_q = closed & (created_q == cal.quarter_of_day[np.clip(close_day, 0, D - 1)])
        eligible = same_q | ~closed
        p_legacy = 0.01 * m / max(int(eligible.sum()), 1)
        legacy = eligible & (created >= cal.start_ts) & (rng.random(m) < p_legacy)
        no_created = ~legacy & (rng.random(m) < 0.005)
        # amounts (whole yuan, in cents); early leads sometimes have none
        amount = np.round(value[cust] * 9000.0 * rng.lognormal(0.0, 0.35, m) * np.where(pipeline == 1, 0.6, 1.0), -2)
        amount = (np.maximum(amount, 1000) * 100).astype(np.int64)
        furthest_true = r1.astype(np.int64) + r2 + r3  # before truncation, for lost reasons
        furthest_true = np.where(back & ~back_return, PROPOSAL, furthest_true)
        no_amount = (outcome != O_WON) & (furthest_true == LEAD) & (rng.random(m) < 0.05)
        lost = outcome == O_LOST
        reason = np.full(m, -1, dtype=np.int64)
        for s in (LEAD, QUALIFIED, PROPOSAL):
            mask = lost & (np.minimum(furthest_true, PROPOSAL) == s)
            reason[mask] = _choice(rng, LOST_REASON_P[s], int(mask.sum()))
        reason = np.where(lost & zombie, R_NO_RESPONSE, reason)
        reason = np.where(lost & (rng.random(m) < 0.03), -1, reason)  # not filled in
        # the export: deals created in the window or still open when it starts, by creation
        exported = (created >= cal.start_ts) | (t_close >= cal.start_ts)
        order = np.flatnonzero(exported)
        order = order[np.argsort(created[order], kind="stable")]
        inv = np.full(m, -1, dtype=np.int64)
        inv[order] = np.arange(order.shape[0])
        m = order.shape[0]

        def o(x):
            return x[order]

        self.m = m
        self.d_cust, self.d_owner = o(cust), o(d_owner)
        self.d_channel, self.pipeline = o(d_channel), o(pipeline)
        self.created, self.t_close, self.closed = o(created), o(t_close), o(closed)
        self.outcome, self.stage_now, self.close_day = o(outcome), o(stage_now), o(close_day)
        self.legacy, self.no_created = o(legacy), o(no_created)
        self.amount, self.no_amount, self.reason = o(amount), o(no_amount), o(reason)
        self.won_deal = self.outcome == O_WON

        # ---- stage history (visible rows only: entered by end, legacy deals have none)
        events = [
            (~start_q, LEAD, created),
            (r1 & ~skip, QUALIFIED, t_q),
            (r2, PROPOSAL, t_p),
            (back, QUALIFIED, t_b1),
            (back_return, PROPOSAL, t_b2),
            (won, WON, t_won),
            (fail, LOST, t_close),
        ]
        h_deal, h_stage, h_ts = [], [], []
        for mask, stage, ts in events:
            keep = mask & (ts <= end_ts) & ~legacy & exported
            h_deal.append(inv[keep])
            h_stage.append(np.full(int(keep.sum()), stage, dtype=np.int64))
            h_ts.append(ts[keep])
        h_deal, h_stage, h_ts = (np.concatenate(x) for x in (h_deal, h_stage, h_ts))
        hord = np.lexsort((h_ts, h_deal))
        self.h_deal, self.h_stage, self.h_ts = h_deal[hord], h_stage[hord], h_ts[hord]

        # ---- orders
        self._orders(rng, cal, pre, rel)
        # ---- activities
        self._activities(rng, cal, reps, rel, c_day)

    # -- names
    @staticmethod
    def _names(rng: np.random.Generator, region: np.ndarray, industry: np.ndarray) -> np.ndarray:
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

    # -- orders
    def _orders(self, rng: np.random.Generator, cal: _Calendar, pre: np.ndarray, rel: np.ndarray) -> None:
        n, D, first = self.n, cal.days, cal.first
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

    # -- activities
    def _activities(
        self, rng: np.random.Generator, cal: _Calendar, reps: _Reps, rel: np.ndarray, c_day: np.ndarray
    ) -> None:
        n, m, D, end_ts = self.n, self.m, cal.days, cal.end_ts
        # follow-ups on deals, between creation and close (or end)
        stop = np.where(self.closed, self.t_close, end_ts)
        begin = np.maximum(self.created, cal.start_ts)  # nothing from before the window
        span = np.maximum(stop - begin, 0)
        k = rng.poisson(0.8 + np.minimum(span / _DAY, 120.0) / 10.0)
        di = np.repeat(np.arange(m), k)
        t = begin[di] + (rng.random(di.shape[0]) * span[di]).astype(np.int64)
        t = (t // _DAY) * _DAY + _work_time(rng, di.shape[0])
        t = np.clip(t, begin[di], stop[di])
        a_cust = [self.d_cust[di]]
        a_deal = [di]
        a_owner = [self.d_owner[di]]
        a_ts = [t]
        # account care, denser for valuable customers
        lo = np.maximum(c_day, cal.first)
        is_buyer = np.zeros(n, dtype=bool)
        is_buyer[self.o_cust] = True
        rate = np.where(is_buyer, np.clip(4.0 * np.clip(rel, 0.01, None) ** 0.35, 0.5, 40.0), 0.8) / 365.0
        k = rng.poisson(rate * cal.weight_between(lo, np.full(n, D - 1)))
        ci = np.repeat(np.arange(n), k)
        day = cal.sample_days(rng, lo[ci], np.full(ci.shape[0], D - 1))
        t = np.maximum(day * _DAY + _work_time(rng, ci.shape[0]), self.c_ts[ci])
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


# ---------------------------------------------------------------- writing -------------


def _sql_list(values) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def _pick(column: str, values) -> str:
    """SQL: the label for an integer code column (negative = null)."""
    return f"case when {column} >= 0 then ({_sql_list(values)})[{column} + 1] end"


_MONEY = "(({c})::decimal(18, 0) / 100)::decimal(18, 2)"


class _Writer:
    """Appends blocks to ``<table>.csv.partial`` files; DuckDB formats the text."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.tmp = out_dir / f".sample-tmp-{os.getpid()}"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect()
        self.con.execute("set preserve_insertion_order = true")
        self.con.execute("set threads = 1")  # row order never depends on thread timing
        self.files = {}
        self.rows = dict.fromkeys(COLUMNS, 0)
        for table, columns in COLUMNS.items():
            handle = open(out_dir / f"{table}.csv.partial", "wb")  # noqa: SIM115 - closed by finish()
            handle.write((",".join(columns) + "\n").encode("utf-8"))
            self.files[table] = handle

    def append(self, table: str, frame: pd.DataFrame, select: str) -> None:
        if len(frame) == 0:
            return
        part = self.tmp / f"{table}.csv"
        self.con.register("block", frame)
        try:
            self.con.execute(f"copy (select {select} from block) to '{part.as_posix()}' (header false)")
        finally:
            self.con.unregister("block")
        with open(part, "rb") as handle:
            shutil.copyfileobj(handle, self.files[table], 1 << 20)
        self.rows[table] += len(frame)

    def finish(self) -> None:
        for table, handle in self.files.items():
            handle.close()
            os.replace(self.out_dir / f"{table}.csv.partial", self.out_dir / f"{table}.csv")
        self.files = {}

    def close(self) -> None:
        """Release everything; after a failure, no partial file is left behind."""
        for table, handle in self.files.items():
            handle.close()
            (self.out_dir / f"{table}.csv.partial").unlink(missing_ok=True)
        self.files = {}
        self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _ts(cal: _Calendar, seconds: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    out = cal.origin64 + seconds.astype("timedelta64[s]")
    if null is not None:
        out = np.where(null, np.datetime64("NaT", "s"), out)
    return out


def _write_block(
    w: _Writer, cal: _Calendar, blk: _Block, first_deal: int, first_order: int, first_activity: int
) -> None:
    cust_no = blk.customer_no
    w.append(
        "customers",
        pd.DataFrame(
            {
                "no": cust_no,
                "name": blk.names,
                "industry": blk.industry,
                "region": blk.region,
                "band": blk.band,
                "owner": blk.owner,
                "channel": blk.channel,
                "created": _ts(cal, blk.c_ts),
            }
        ),
        "printf('C%06d', no), name, "
        + _pick("industry", INDUSTRIES)
        + ", "
        + _pick("region", REGIONS)
        + ", "
        + _pick("band", SIZE_BANDS)
        + ", printf('R%02d', owner + 1), "
        + _pick("channel", CHANNELS)
        + ", created",
    )
    deal_no = first_deal + np.arange(blk.m, dtype=np.int64)
    w.append(
        "deals",
        pd.DataFrame(
            {
                "no": deal_no,
                "cust": cust_no[blk.d_cust],
                "owner": blk.d_owner,
                "pipeline": blk.pipeline,
                "stage": blk.stage_now,
                "outcome": blk.outcome,
                "amount": np.where(blk.no_amount, -1, blk.amount),
                "no_amount": blk.no_amount,
                "created": _ts(cal, blk.created, blk.no_created),
                "closed": _ts(cal, np.where(blk.closed, blk.t_close, 0), ~blk.closed),
                "reason": blk.reason,
                "channel": blk.d_channel,
            }
        ),
        "printf('D%06d', no), printf('C%06d', cust), printf('R%02d', owner + 1), "
        + _pick("pipeline", PIPELINES)
        + ", "
        + _pick("stage", STAGES)
        + ", "
        + _pick("outcome", OUTCOMES)
        + ", case when not no_amount then "
        + _MONEY.format(c="amount")
        + " end, created, closed, "
        + _pick("reason", LOST_REASONS)
        + ", "
        + _pick("channel", CHANNELS),
    )
    w.append(
        "deal_stage_history",
        pd.DataFrame({"no": deal_no[blk.h_deal], "stage": blk.h_stage, "ts": _ts(cal, blk.h_ts)}),
        "printf('D%06d', no), " + _pick("stage", STAGES) + ", ts",
    )
    w.append(
        "orders",
        pd.DataFrame(
            {
                "no": first_order + np.arange(blk.o_cust.shape[0], dtype=np.int64),
                "cust": cust_no[blk.o_cust],
                "day": (np.datetime64(cal.origin, "D") + blk.o_day).astype("datetime64[s]"),
                "amount": blk.o_amt,
            }
        ),
        "printf('O%07d', no), printf('C%06d', cust), day::date, " + _MONEY.format(c="amount"),
    )
    w.append(
        "activities",
        pd.DataFrame(
            {
                "no": first_activity + np.arange(blk.a_cust.shape[0], dtype=np.int64),
                "cust": cust_no[blk.a_cust],
                "deal": np.where(blk.a_deal >= 0, deal_no[np.maximum(blk.a_deal, 0)], -1),
                "rep": blk.a_rep,
                "kind": blk.a_kind,
                "ts": _ts(cal, blk.a_ts),
            }
        ),
        "printf('A%07d', no), printf('C%06d', cust), case when deal >= 0 then printf('D%06d', deal) end, "
        "printf('R%02d', rep + 1), " + _pick("kind", ACTIVITY_KINDS) + ", ts",
    )


# ---------------------------------------------------------------- manifest ------------


class _Totals:
    """Known totals, accumulated block by block from the event arrays."""

    def __init__(self, cal: _Calendar, reps: _Reps):
        self.cal = cal
        self.cohort = np.zeros(QUARTERS, dtype=np.int64)
        self.reached = np.zeros((QUARTERS, 4), dtype=np.int64)
        self.lost_at = np.zeros((QUARTERS, 4), dtype=np.int64)
        self.open_at = np.zeros((QUARTERS, 4), dtype=np.int64)
        self.closed_won = np.zeros(QUARTERS, dtype=np.int64)
        self.closed_lost = np.zeros(QUARTERS, dtype=np.int64)
        self.won_cents = [0] * QUARTERS
        self.won_by_rep = np.zeros((reps.n, QUARTERS), dtype=np.float64)
        self.orders_cents = 0
        self.customers = 0
        self.no_created = 0
        self.no_history = 0

    def add(self, blk: _Block) -> None:
        cal = self.cal
        self.customers += blk.n
        self.no_created += int(blk.no_created.sum())
        self.no_history += int(blk.legacy.sum())
        self.orders_cents += int(blk.o_amt.sum())
        created_day = blk.created // _DAY
        created_q = np.where(blk.no_created, -1, cal.quarter_of_day[np.clip(created_day, 0, cal.days - 1)])
        closed_q = np.where(blk.closed, cal.quarter_of_day[np.clip(blk.close_day, 0, cal.days - 1)], -1)
        h_day = blk.h_ts // _DAY
        not_lost_row = blk.h_stage != LOST
        for k in range(QUARTERS):
            as_of = cal.q_last[k]
            cohort = created_q == k
            won_by = cohort & (blk.outcome == O_WON) & (blk.close_day <= as_of) & blk.closed
            lost_by = cohort & (blk.outcome == O_LOST) & (blk.close_day <= as_of) & blk.closed
            open_at = cohort & ~won_by & ~lost_by
            furthest = np.full(blk.m, -1, dtype=np.int64)
            rows = cohort[blk.h_deal] & (h_day <= as_of) & not_lost_row
            np.maximum.at(furthest, blk.h_deal[rows], blk.h_stage[rows])
            # no history rows: the current stage; a lost one counts as lead
            legacy = cohort & blk.legacy
            current = np.where(blk.stage_now == LOST, LEAD, blk.stage_now)
            furthest = np.where(legacy, np.where(won_by, WON, np.where(lost_by, LEAD, current)), furthest)
            if np.any(cohort & (furthest < 0)) or np.any(open_at & (furthest == WON)):
                raise AssertionError("sample generator: inconsistent deal history")  # pragma: no cover
            f = furthest[cohort]
            self.cohort[k] += int(cohort.sum())
            for s in range(4):
                self.reached[k, s] += int((f >= s).sum())
                self.lost_at[k, s] += int((furthest[lost_by] == s).sum())
                self.open_at[k, s] += int((furthest[open_at] == s).sum())
            won_q = (closed_q == k) & (blk.outcome == O_WON)
            self.closed_won[k] += int(won_q.sum())
            self.closed_lost[k] += int(((closed_q == k) & (blk.outcome == O_LOST)).sum())
            self.won_cents[k] += int(blk.amount[won_q].sum())
            np.add.at(self.won_by_rep[:, k], blk.d_owner[won_q], blk.amount[won_q] / 100.0)

    def quarters(self) -> dict:
        out = {}
        names = STAGES[:4]
        for k, q in enumerate(self.cal.quarters):
            out[q.label] = {
                "cohort_deals": int(self.cohort[k]),
                "reached": {s: int(self.reached[k, i]) for i, s in enumerate(names)},
                "lost_at": {s: int(self.lost_at[k, i]) for i, s in enumerate(names)},
                "open_at": {s: int(self.open_at[k, i]) for i, s in enumerate(names)},
                "closed_won": int(self.closed_won[k]),
                "closed_lost": int(self.closed_lost[k]),
                "won_amount": _money(self.won_cents[k]),
            }
        return out


def _targets(rng: np.random.Generator, cal: _Calendar, reps: _Reps, totals: _Totals) -> pd.DataFrame:
    """A target per rep and quarter, a little above what a rep typically wins."""
    typical = totals.won_by_rep.mean(axis=1)
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


# ---------------------------------------------------------------- entry point ---------


def generate(out_dir: str | Path, *, seed: int = 7, size: float = 1.0, end: date = date(2026, 9, 30)) -> dict:
    """Write the sample export into out_dir and return the manifest (also written to out_dir/manifest.json).

    ``seed`` (an integer >= 0) picks the data; ``size`` scales the number of customers
    (1.0 = 2,000); ``end`` is the last day of the export, so the window is the 8 quarters
    ending with the quarter that contains it. Prints nothing.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not math.isfinite(size) or size <= 0:
        raise ValueError(f"size must be a positive number, not {size!r}")
    if isinstance(end, datetime):
        end = end.date()
    if not isinstance(end, date):
        raise ValueError(f"end must be a date, not {end!r}")
    seed, size = int(seed), float(size)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cal = _Calendar(end)
    reps = _Reps(np.random.default_rng(np.random.SeedSequence([seed, 0])), size)
    n_customers = max(1, round(_CUSTOMERS_PER_SIZE * size))
    totals = _Totals(cal, reps)
    writer = _Writer(out)
    try:
        w_reps = pd.DataFrame(
            {
                "rep": np.arange(reps.n),
                "name": reps.names,
                "team": np.array(reps.team_names, dtype=object)[reps.team],
                "region": reps.region,
            }
        )
        writer.append("reps", w_reps, "printf('R%02d', rep + 1), name, team, " + _pick("region", REGIONS))
        next_deal = next_order = next_activity = 1
        for b, first in enumerate(range(0, n_customers, BLOCK_CUSTOMERS)):
            rng = np.random.default_rng(np.random.SeedSequence([seed, 1, b]))
            blk = _Block(rng, cal, reps, first + 1, min(BLOCK_CUSTOMERS, n_customers - first))
            _write_block(writer, cal, blk, next_deal, next_order, next_activity)
            totals.add(blk)
            next_deal += blk.m
            next_order += blk.o_cust.shape[0]
            next_activity += blk.a_cust.shape[0]
        targets = _targets(np.random.default_rng(np.random.SeedSequence([seed, 2])), cal, reps, totals)
        writer.append(
            "targets",
            targets,
            "printf('R%02d', rep + 1), start::date, stop::date, " + _MONEY.format(c="cents"),
        )
        writer.finish()
    finally:
        writer.close()
    manifest = {
        "seed": seed,
        "size": size,
        "start": cal.start.isoformat(),
        "end": end.isoformat(),
        "rule": "furthest",
        "rows": dict(writer.rows),
        "customers": totals.customers,
        "orders_amount_total": _money(totals.orders_cents),
        "deals_without_created_at": totals.no_created,
        "deals_without_history": totals.no_history,
        "quarters": totals.quarters(),
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    partial = out / "manifest.json.partial"
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, out / "manifest.json")
    return manifest
