"""Reporting periods: the one place where period text is parsed.

Accepted forms: ``2026Q3``, ``2026-07``, ``2026``, ``2026-07-01..2026-09-30``,
``last-quarter``, ``last-month``, ``last-week`` (Monday to Sunday of the week before) and
``month-to-date`` (the first of the month to the day itself); the last two are ranges. A period is a closed range of calendar dates; its as-of
date is its last day unless overridden. Comparison: ``prev`` (the previous period of equal
kind; for an explicit range the same number of days just before) or ``yoy`` (the same
period a year earlier).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

__all__ = [
    "Period",
    "PeriodError",
    "parse_period",
    "relative_period",
    "RELATIVE_PERIODS",
    "quarter",
    "month",
    "year",
    "ACCEPTED_FORMS",
    "COMPARE_MODES",
]

ACCEPTED_FORMS = (
    "2026Q3 (a quarter)",
    "2026-07 (a month)",
    "2026 (a year)",
    "2026-07-01..2026-09-30 (a date range, both ends included)",
    "last-quarter",
    "last-month",
    "last-week (Monday to Sunday of the week before)",
    "month-to-date (the first of this month to today)",
)
#: period words resolved against a day (``today``): the period rules of schedules
RELATIVE_PERIODS = ("last-week", "last-month", "last-quarter", "month-to-date")
COMPARE_MODES = ("prev", "yoy")


class PeriodError(ValueError):
    """Period text that is not one of the accepted forms."""


@dataclass(frozen=True)
class Period:
    """A closed range of calendar dates with the kind it was written as."""

    kind: str  # quarter | month | year | range
    start: date
    end: date
    as_of: date

    @property
    def label(self) -> str:
        if self.kind == "quarter":
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def with_as_of(self, as_of: date | None) -> Period:
        return self if as_of is None else replace(self, as_of=as_of)

    def compare(self, mode: str = "prev") -> Period:
        """The comparison period: ``prev`` or ``yoy``."""
        if mode not in COMPARE_MODES:
            raise PeriodError(f"comparison {mode!r} is not one of: {', '.join(COMPARE_MODES)}")
        if mode == "yoy":
            start, end = _shift_years(self.start, -1), _shift_years(self.end, -1)
            if self.kind in {"month", "quarter", "year"}:
                end = _month_end(end.year, end.month)
            return Period(self.kind, start, end, end)
        if self.kind == "quarter":
            return quarter(*_add_months(self.start.year, self.start.month, -3))
        if self.kind == "month":
            return month(*_add_months(self.start.year, self.start.month, -1))
        if self.kind == "year":
            return year(self.start.year - 1)
        end = self.start - timedelta(days=1)
        start = end - timedelta(days=self.days - 1)
        return Period("range", start, end, end)

    def as_dict(self) -> dict[str, str]:
        return {
            "label": self.label,
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "as_of": self.as_of.isoformat(),
        }


def _month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _add_months(y: int, m: int, delta: int) -> tuple[int, int]:
    index = y * 12 + (m - 1) + delta
    return index // 12, index % 12 + 1


def _shift_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def quarter(y: int, m: int) -> Period:
    first_month = (m - 1) // 3 * 3 + 1
    start, end = date(y, first_month, 1), _month_end(y, first_month + 2)
    return Period("quarter", start, end, end)


def month(y: int, m: int) -> Period:
    start, end = date(y, m, 1), _month_end(y, m)
    return Period("month", start, end, end)


def year(y: int) -> Period:
    return Period("year", date(y, 1, 1), date(y, 12, 31), date(y, 12, 31))


def _error(text: str, why: str = "") -> PeriodError:
    forms = "\n  ".join(ACCEPTED_FORMS)
    why = f" ({why})" if why else ""
    return PeriodError(f"invalid period {text!r}{why}; accepted forms:\n  {forms}")


_QUARTER = re.compile(r"(\d{4})[-\s]?[Qq]([1-4])")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"(\d{4})")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")


def relative_period(rule: str, today: date) -> Period:
    """The period ``rule`` (one of :data:`RELATIVE_PERIODS`) names on ``today``.

    ``last-week``: Monday to Sunday of the week before ``today``'s; ``last-month`` and
    ``last-quarter``: the calendar month / quarter before ``today``'s; ``month-to-date``: the
    first of ``today``'s month to ``today``. Weeks and months-to-date are ranges (their
    comparison is the same number of days just before)."""
    if rule == "last-quarter":
        return quarter(*_add_months(today.year, (today.month - 1) // 3 * 3 + 1, -3))
    if rule == "last-month":
        return month(*_add_months(today.year, today.month, -1))
    if rule == "last-week":
        start = today - timedelta(days=today.weekday() + 7)
        end = start + timedelta(days=6)
        return Period("range", start, end, end)
    if rule == "month-to-date":
        return Period("range", today.replace(day=1), today, today)
    raise PeriodError(f"period rule {rule!r} is not one of: {', '.join(RELATIVE_PERIODS)}")


def parse_period(text: str, *, today: date | None = None, as_of: date | None = None) -> Period:
    """Parse period text into a :class:`Period`.

    ``today`` anchors ``last-quarter``, ``last-month``, ``last-week`` and ``month-to-date``
    (default: the system date);
    ``as_of`` overrides the as-of date.
    """
    if not isinstance(text, str):
        raise _error(str(text), "expected text")
    raw = text.strip()
    if raw in RELATIVE_PERIODS:
        return relative_period(raw, today or date.today()).with_as_of(as_of)
    if match := _QUARTER.fullmatch(raw):
        return quarter(int(match[1]), (int(match[2]) - 1) * 3 + 1).with_as_of(as_of)
    if match := _MONTH.fullmatch(raw):
        if not 1 <= int(match[2]) <= 12:
            raise _error(text, f"month {match[2]} is not 1-12")
        return month(int(match[1]), int(match[2])).with_as_of(as_of)
    if match := _YEAR.fullmatch(raw):
        return year(int(match[1])).with_as_of(as_of)
    if match := _RANGE.fullmatch(raw):
        try:
            start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError as exc:
            raise _error(text, str(exc)) from None
        if end < start:
            raise _error(text, "the range ends before it starts")
        return Period("range", start, end, end).with_as_of(as_of)
    raise _error(text)
