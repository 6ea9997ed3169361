"""The metrics ``crm-review metrics NAME`` knows, and comparison with another period.

Each metric lives in its own module, which provides:

- ``compute(con, period, *, settings, by=None, **options) -> dict``: the JSON-ready result,
  keys as in DESIGN.md (for the funnel the function is ``funnel``);
- ``BREAKDOWNS``: the ``--by`` values it supports;
- ``rows(result) -> DataFrame``: the body of ``--format table`` / ``csv``;
- ``summary(result) -> list[str]``: plain lines printed under the table.

Public names: ``NAMES``, ``load``, ``compute``, ``change``.
"""
from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import duckdb
import pandas as pd

from .config import DEFAULT_SETTINGS, Settings
from .periods import Period

__all__ = ["NAMES", "MetricError", "load", "compute", "change", "stacked_rows", "number", "fmt"]

# name -> (module, function computing it)
_MODULES: dict[str, tuple[str, str]] = {
    "funnel": ("crmreview.funnel", "funnel"),
    "tiers": ("crmreview.tiers", "tiers"),
    "repurchase": ("crmreview.repurchase", "repurchase"),
    "retention": ("crmreview.retention", "retention"),
    "churn": ("crmreview.churn", "churn"),
    "followup": ("crmreview.followup", "followup"),
}
NAMES = tuple(_MODULES)
_KEYS = ("stage", "group", "tier", "state", "from", "to", "lost_reason", "team", "rep_id")


class MetricError(ValueError):
    """A metric asked for in a way it does not support (unknown name, breakdown, option)."""


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


def load(name: str) -> ModuleType:
    if name not in _MODULES:
        raise MetricError(f"unknown metric {name!r}; expected one of: {', '.join(NAMES)}")
    return importlib.import_module(_MODULES[name][0])


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _row_key(row: dict[str, Any]) -> tuple | None:
    keys = tuple((k, row[k]) for k in _KEYS if k in row)
    return keys or None


def change(current: Any, previous: Any) -> Any:
    """current − previous for every number present in both, keeping the structure.

    Lists of rows are matched by their identifying keys (stage, group, tier, state, …);
    a list whose rows these keys do not tell apart (a list of customers or deals) has no
    change; a value missing or null on either side gives None.
    """
    if isinstance(current, dict) and isinstance(previous, dict):
        out = {}
        for key, value in current.items():
            if key in ("period", "comparison", "change"):
                continue
            if key in previous:
                delta = change(value, previous[key])
                if delta is not None and delta != {} and delta != []:
                    out[key] = delta
        return out
    if isinstance(current, list) and isinstance(previous, list):
        if not all(isinstance(r, dict) for r in current + previous):
            return None
        keys_now, keys_before = [_row_key(r) for r in current], [_row_key(r) for r in previous]
        if len(set(keys_now)) < len(keys_now) or len(set(keys_before)) < len(keys_before):
            return None
        before = dict(zip(keys_before, previous))
        out_rows = []
        for row in current:
            key = _row_key(row)
            if key is None:
                continue
            delta = change(row, before.get(key, {}))
            out_rows.append({**dict(key), **delta})
        return out_rows
    if _is_number(current) and _is_number(previous):
        return current - previous
    return None


def compute(
    con: duckdb.DuckDBPyConnection,
    name: str,
    period: Period,
    *,
    compare: str | None = None,
    by: str | None = None,
    settings: Settings = DEFAULT_SETTINGS,
    **options: Any,
) -> dict[str, Any]:
    """Metric ``name`` for ``period``; with ``compare`` (prev|yoy) also ``comparison`` and ``change``."""
    module = load(name)
    function = getattr(module, _MODULES[name][1])
    if by is not None and by not in module.BREAKDOWNS:
        raise MetricError(
            f"metric {name!r} cannot be broken down by {by!r}; expected one of: {', '.join(module.BREAKDOWNS)}"
        )
    if compare and "compare" in inspect.signature(function).parameters:
        options = {**options, "compare": compare}  # e.g. tier migration from the comparison period
    result = function(con, period, settings=settings, by=by, **options)
    if compare:
        previous = function(con, period.compare(compare), settings=settings, by=by, **options)
        result["comparison"] = previous
        result["change"] = change(result, previous)
    return result
