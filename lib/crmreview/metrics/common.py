"""Helpers every metric module shares: numbers for JSON, the breakdowns, the bound settings.

Public names: ``BREAKDOWNS``, ``ALL_BREAKDOWNS``, ``number``, ``count``, ``fmt``, ``stacked_rows``,
``check_by``, ``check_compare``, ``group_rows``, ``tier_params``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..config import Settings
from ..periods import COMPARE_MODES

__all__ = [
    "BREAKDOWNS",
    "ALL_BREAKDOWNS",
    "number",
    "count",
    "fmt",
    "stacked_rows",
    "check_by",
    "check_compare",
    "group_rows",
    "tier_params",
]

#: every ``--by`` a metric can offer: owner rep, team, source channel, region, customer tier.
#: The breakdowns of customers and deals alike (the customer metrics take these).
BREAKDOWNS = ("rep", "team", "channel", "region", "tier")
#: Every breakdown: a metric module's own ``BREAKDOWNS`` is this tuple or a part of it
#: (``pipeline`` is a deal's: the funnel's only).
ALL_BREAKDOWNS = (*BREAKDOWNS, "pipeline")


def number(value: Any) -> float | None:
    """A query value as a float for JSON, None for SQL null (None, NaN, pd.NA)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def fmt(value: float | None, spec: str) -> str:
    """``format(value, spec)``, or "-" for a missing value (plain-text summaries)."""
    return "-" if value is None else format(value, spec)


def stacked_rows(result: dict[str, Any], frame_of: Callable[[dict[str, Any]], pd.DataFrame]) -> pd.DataFrame:
    """The ``--format table`` / ``csv`` body of a metric: ``frame_of`` applied to the result,
    its comparison and each of their groups, stacked with a ``period`` column and, for a
    breakdown, a column named after it (``(all)`` for the whole, "" for a group without a value)."""
    frames = []
    for res in filter(None, (result, result.get("comparison"))):
        objects = [(None, res)] + [(g["group"] if g["group"] is not None else "", g) for g in res.get("groups", [])]
        for group, obj in objects:
            frame = frame_of(obj).copy()
            frame.insert(0, "period", res["period"]["label"])
            if "by" in res:
                frame.insert(1, res["by"], "(all)" if group is None else group)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def count(value: Any) -> int:
    """A query count as an int (0 for SQL null)."""
    return 0 if number(value) is None else int(value)


def tier_params(settings: Settings) -> dict[str, Any]:
    """The ABC tier settings every query with a ``tier`` breakdown binds, under their settings names."""
    return {
        "tier_a_share": settings.tier_a_share,
        "tier_b_share": settings.tier_b_share,
        "value_window_months": settings.value_window_months,
    }


def check_by(by: str | None, metric: str, allowed: tuple[str, ...] = BREAKDOWNS) -> str:
    """``by`` when ``allowed`` has it, "all" for None; ``ValueError`` otherwise."""
    if by is not None and by not in allowed:
        raise ValueError(f"{metric} breakdown {by!r} is not one of: {', '.join(allowed)}")
    return by or "all"


def check_compare(compare: str) -> str:
    if compare not in COMPARE_MODES:
        raise ValueError(f"comparison {compare!r} is not one of: {', '.join(COMPARE_MODES)}")
    return compare


def group_rows(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Query rows by ``group_key``, in key order."""
    return dict(iter(frame.groupby("group_key", sort=True)))
