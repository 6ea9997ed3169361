"""The sample's calendar: the window of quarters, business days and the date helpers.

Owns ``QUARTERS`` (quarters in the window), ``WARMUP_DAYS`` (how long before the window the
pipeline starts), ``DAY`` (seconds in a day), ``Calendar`` (day indices, the business weight of
each day, the quarters, sampling and advancing in business time, seconds to timestamps),
``work_time`` (a time of day in office hours) and ``days_to_seconds``.

Times inside the generator are integer seconds from ``Calendar.origin`` and days are integer
day indices from it; only the writer turns them into dates.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from .. import periods

#: number of quarters covered: the quarter of ``end`` and the 7 before it
QUARTERS = 8
#: deals of existing customers may start this long before the window; those still open when
#: it starts are in the export (as a CRM export of "deals open or created in the period" has)
WARMUP_DAYS = 180
#: seconds in a day
DAY = 86_400

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
#: days past the end over which business time stays defined (flat at the mean weight)
_TAIL_DAYS = 4000


def _day_weight(day64: np.ndarray) -> np.ndarray:
    """Business weight of each day: month and weekday, the Spring Festival and National Day
    weeks, and a slow growth over the years."""
    month = day64.astype("datetime64[M]").astype(np.int64) % 12
    weekday = (day64.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    weight = _MONTH_WEIGHT[month] * _WEEKDAY_WEIGHT[weekday]
    for text in _CNY:
        offset = (day64 - np.datetime64(text, "D")).astype(np.int64)
        weight = np.where((offset >= -6) & (offset <= 9), weight * 0.15, weight)
    md = (month + 1) * 100 + (day64 - day64.astype("datetime64[M]")).astype(np.int64) + 1
    weight = np.where((md >= 1001) & (md <= 1007), weight * 0.3, weight)  # 国庆
    return weight * (1.0 + 0.15 * np.arange(day64.shape[0]) / 365.0)  # growth


class Calendar:
    """Day indices 0..days-1 from ``origin`` (``WARMUP_DAYS`` before the window's ``start``,
    so that the pipeline is already running when the window opens); times in seconds from
    ``origin``. ``first`` is the index of ``start``.

    ``quarters`` are the window's ``periods.Period`` objects; ``q_first``/``q_last`` their
    first and last day indices; ``quarter_of_day`` maps a day index to its quarter (-1 before
    the window). ``weight``/``cum`` are each day's business weight and its running sum."""

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
        self.start_ts = self.first * DAY
        self.days = (end - self.origin).days + 1
        self.window_days = self.days - self.first
        self.end_ts = self.days * DAY - 1  # end, 23:59:59
        self.origin64 = np.datetime64(self.origin, "s")
        weight = _day_weight(np.datetime64(self.origin, "D") + np.arange(self.days))
        self.weight = weight
        self.cum = np.concatenate([[0.0], np.cumsum(weight)])
        self.mean_weight = self.cum[-1] / self.days
        # business time: progress on a deal is measured in days of average weight, so it
        # slows over weekends and the Spring Festival; past the end the calendar is flat
        self.bweight = np.concatenate([weight, np.full(_TAIL_DAYS, self.mean_weight)])
        self.bcum = np.concatenate([self.cum, self.cum[-1] + self.mean_weight * np.arange(1, _TAIL_DAYS + 1)])
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
        day = np.clip(t // DAY, 0, self.bweight.shape[0] - 1)
        b = self.bcum[day] + (t - day * DAY) / DAY * self.bweight[day] + days * self.mean_weight
        new = np.clip(np.searchsorted(self.bcum, b, side="right") - 1, 0, self.bweight.shape[0] - 1)
        frac = (b - self.bcum[new]) / self.bweight[new]
        return np.maximum(new * DAY + (frac * DAY).astype(np.int64), t + 60)

    def weight_between(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Business weight of [lo, hi] in days of average weight (0 when empty)."""
        lo = np.clip(lo, 0, self.days)
        hi = np.clip(hi, -1, self.days - 1)
        return np.where(hi >= lo, (self.cum[np.maximum(hi + 1, lo)] - self.cum[lo]), 0.0) / self.mean_weight

    def quarter_of(self, day: np.ndarray) -> np.ndarray:
        """The quarter index (0..QUARTERS-1) of each day index, -1 before the window; days
        outside the calendar count as its first or last day."""
        return self.quarter_of_day[np.clip(day, 0, self.days - 1)]

    def timestamps(self, seconds: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
        """``datetime64[s]`` of times in seconds from ``origin``; NaT where ``null``."""
        out = self.origin64 + seconds.astype("timedelta64[s]")
        if null is not None:
            out = np.where(null, np.datetime64("NaT", "s"), out)
        return out

    def dates(self, days: np.ndarray) -> np.ndarray:
        """``datetime64[s]`` at midnight of day indices."""
        return (np.datetime64(self.origin, "D") + days).astype("datetime64[s]")


def work_time(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the day, mostly office hours (08:30 to 19:30)."""
    return (8.5 * 3600 + rng.random(n) * 11 * 3600).astype(np.int64)


def days_to_seconds(x: np.ndarray) -> np.ndarray:
    """Durations in (fractional) days as whole seconds."""
    return (np.asarray(x, dtype=np.float64) * DAY).astype(np.int64)
