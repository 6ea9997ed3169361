"""The metrics ``crm-review metrics NAME`` knows, and comparison with another period.

Each metric lives in its own module, which provides:

- ``compute(con, period, *, settings, by=None, **options) -> dict``: the JSON-ready result,
  keys as in DESIGN.md (for the funnel the function is ``funnel``);
- ``BREAKDOWNS``: the ``--by`` values it supports;
- ``rows(result) -> DataFrame``: the body of ``--format table`` / ``csv``;
- ``summary(result) -> list[str]``: plain lines printed under the table;
- ``INPUTS``: what it reads and which numbers each input feeds (:mod:`.inputs`): ``compute``
  adds ``data_span``, ``missing_inputs`` and ``warnings`` and nulls what rests on a missing input.

Public names: ``NAMES``, ``load``, ``compute``, ``change``.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType
from typing import Any

import duckdb

from ..config import DEFAULT_SETTINGS, Settings
from ..periods import Period
from . import inputs
from .common import fmt, number, stacked_rows  # re-exported: the helpers every metric uses

__all__ = ["NAMES", "MetricError", "load", "compute", "change", "stacked_rows", "number", "fmt"]

# name -> (module, function computing it)
_MODULES: dict[str, tuple[str, str]] = {
    "funnel": ("crmreview.metrics.funnel", "funnel"),
    "tiers": ("crmreview.metrics.tiers", "tiers"),
    "repurchase": ("crmreview.metrics.repurchase", "repurchase"),
    "retention": ("crmreview.metrics.retention", "retention"),
    "churn": ("crmreview.metrics.churn", "churn"),
    "followup": ("crmreview.metrics.followup", "followup"),
}
NAMES = tuple(_MODULES)
_KEYS = ("stage", "group", "tier", "state", "from", "to", "lost_reason", "team", "rep_id")


class MetricError(ValueError):
    """A metric asked for in a way it does not support (unknown name, breakdown, option)."""


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
    inv = inputs.inventory(con)
    result = function(con, period, settings=settings, by=by, **options)
    inputs.annotate(con, module.INPUTS, result, period, settings=settings, inv=inv)
    if compare:
        previous = function(con, period.compare(compare), settings=settings, by=by, **options)
        inputs.annotate(con, module.INPUTS, previous, period.compare(compare), settings=settings, inv=inv)
        result["comparison"] = previous
        result["change"] = change(result, previous)
    return result
