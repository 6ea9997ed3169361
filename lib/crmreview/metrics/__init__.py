"""The metrics ``crm-review metrics NAME`` knows, and comparison with another period.

``REGISTRY`` is the one list of metrics: the command line takes its metric names, its
``--by`` choices and its per-metric options from it, and ``compute`` checks a request against
it. Adding a metric is one :class:`Metric` entry here plus its module, which provides:

- the function the entry names, ``(con, period, *, settings, by=None, **options) -> dict``:
  the JSON-ready result, keys as in DESIGN.md;
- ``BREAKDOWNS``: the ``--by`` values it supports (a part of ``common.ALL_BREAKDOWNS``; ``()``
  for none);
- ``rows(result) -> DataFrame``: the body of ``--format table`` / ``csv``;
- ``summary(result) -> list[str]``: plain lines printed around the table (the first above it);
- ``INPUTS``: what it reads and which numbers each input feeds (:mod:`.inputs`): ``compute``
  adds ``data_span``, ``missing_inputs`` and ``warnings`` and nulls what rests on a missing input.

Public names: ``Option``, ``Metric``, ``REGISTRY``, ``NAMES``, ``MetricError``, ``metric``,
``load``, ``compute``, ``change``.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import duckdb

from ..config import DEFAULT_SETTINGS, Settings
from ..periods import Period
from . import inputs
from .common import (  # re-exported: the helpers every metric uses
    check_attribute,
    fmt,
    number,
    offers,
    overlap_warning,
    stacked_rows,
)

__all__ = [
    "NAMES",
    "REGISTRY",
    "Metric",
    "MetricError",
    "Option",
    "metric",
    "load",
    "compute",
    "change",
    "stacked_rows",
    "number",
    "fmt",
]


class MetricError(ValueError):
    """A metric asked for in a way it does not support (unknown name, breakdown, option)."""


@dataclass(frozen=True)
class Option:
    """A per-metric option: a keyword argument of the metric's function, offered on the
    command line as ``--<name>`` (underscores become dashes) with one of ``choices``, or with
    any value when ``choices`` is None (a name found in the data, checked by the metric; the
    command line shows ``metavar``). Metrics that share an option declare the same ``Option``
    (the command line has one flag for it)."""

    name: str
    choices: tuple[str, ...] | None
    default: str | None
    help: str
    metavar: str = "NAME"

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Metric:
    """One metric: where its code is, what it answers, which options it takes, and whether
    ``--compare`` means anything for it (``compares``)."""

    name: str
    module: str
    function: str
    help: str
    options: tuple[Option, ...] = ()
    compares: bool = True

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)

    @property
    def breakdowns(self) -> tuple[str, ...]:
        """The module's ``BREAKDOWNS``: the ``--by`` values this metric supports."""
        return tuple(self.load().BREAKDOWNS)

    def option(self, name: str) -> Option | None:
        return next((option for option in self.options if option.name == name), None)


#: name -> metric, in the order ``crm-review metrics --help`` lists them
REGISTRY: dict[str, Metric] = {
    entry.name: entry
    for entry in (
        Metric(
            "funnel",
            "crmreview.metrics.funnel",
            "funnel",
            "how far the deals created in the period got, and where they were lost",
            options=(
                Option(
                    "rule",
                    ("furthest", "strict"),
                    "furthest",
                    "funnel counting rule: furthest stage reached, or a history row for every stage",
                ),
                Option(
                    "pipeline",
                    None,
                    None,
                    "only the deals of this pipeline, with the stages its data reaches",
                ),
            ),
        ),
        Metric(
            "tiers",
            "crmreview.metrics.tiers",
            "tiers",
            "ABC tiers and scorecard tiers of the customers, concentration, tier migration",
        ),
        Metric(
            "repurchase",
            "crmreview.metrics.repurchase",
            "repurchase",
            "who bought more than once, who came back, median gap between purchase days",
        ),
        Metric(
            "retention",
            "crmreview.metrics.retention",
            "retention",
            "monthly purchase cohorts, gross and net revenue retention",
        ),
        Metric(
            "churn",
            "crmreview.metrics.churn",
            "churn",
            "lifecycle states, churn rate, churn-risk list, BG/NBD expectations",
        ),
        Metric(
            "followup",
            "crmreview.metrics.followup",
            "followup",
            "follow-up compliance per tier cadence, pool candidates, ownership conflicts, workload",
        ),
        Metric(
            "forecast",
            "crmreview.metrics.forecast",
            "forecast",
            "will the period's number be made: won so far, expected won with a range, gap to target, back-test",
            compares=False,
        ),
        Metric(
            "quality",
            "crmreview.metrics.quality",
            "quality",
            "the warehouse as loaded: completeness, rejects, duplicate ids, date spans, imports",
            compares=False,
        ),
    )
}
NAMES = tuple(REGISTRY)
_KEYS = ("stage", "group", "tier", "state", "from", "to", "lost_reason", "team", "rep_id")


def metric(name: str) -> Metric:
    """The registry entry of ``name``; ``MetricError`` for an unknown name."""
    if name not in REGISTRY:
        raise MetricError(f"unknown metric {name!r}; expected one of: {', '.join(NAMES)}")
    return REGISTRY[name]


def load(name: str) -> ModuleType:
    return metric(name).load()


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
    inv: inputs.Inventory | None = None,
    period_only: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Metric ``name`` for ``period``; with ``compare`` (prev|yoy) also ``comparison`` and ``change``.

    ``options`` are keyword arguments of the metric's function; a registered option's value
    must be one of its choices. ``MetricError`` for a breakdown, comparison or option the
    metric does not take. ``inv``: the inventory the result's ``missing_inputs`` and
    ``warnings`` are judged on (default: taken from ``con``; a caller that computes many
    results on one snapshot passes it once taken). ``period_only``: leave out ``comparison``
    and ``change`` (``compare`` still sets the comparison a metric uses within its period,
    such as the tier migration's starting point).
    """
    entry = metric(name)
    module = entry.load()
    function = getattr(module, entry.function)
    if by is not None and not offers(by, module.BREAKDOWNS):
        if not module.BREAKDOWNS:
            raise MetricError(f"metric {name!r} has no breakdowns; leave out --by")
        raise MetricError(
            f"metric {name!r} cannot be broken down by {by!r}; expected one of: {', '.join(module.BREAKDOWNS)}"
        )
    try:  # the metrics that break deals down (by pipeline) group by the deals' attributes too
        check_attribute(con, by, deals="pipeline" in module.BREAKDOWNS)
    except ValueError as exc:
        raise MetricError(str(exc)) from None
    if compare and not entry.compares:
        raise MetricError(f"metric {name!r} takes no --compare: it has no comparison period")
    parameters = inspect.signature(function).parameters
    for key, value in options.items():
        if key not in parameters or key in ("con", "period"):
            raise MetricError(f"metric {name!r} takes no option {key!r}")
        option = entry.option(key)
        if option is not None and option.choices is not None and value not in option.choices:
            raise MetricError(
                f"metric {name!r} option {key!r} is {value!r}; expected one of: {', '.join(option.choices)}"
            )
    if compare and "compare" in parameters:
        options = {**options, "compare": compare}  # e.g. tier migration from the comparison period
    inv = inv if inv is not None else inputs.inventory(con)
    overlap = overlap_warning(by)
    result = function(con, period, settings=settings, by=by, **options)
    inputs.annotate(con, module.INPUTS, result, period, settings=settings, inv=inv)
    if overlap:
        result["warnings"] = [*result.get("warnings", []), overlap]
    if compare and not period_only:
        previous = function(con, period.compare(compare), settings=settings, by=by, **options)
        inputs.annotate(con, module.INPUTS, previous, period.compare(compare), settings=settings, inv=inv)
        if overlap:
            previous["warnings"] = [*previous.get("warnings", []), overlap]
        result["comparison"] = previous
        result["change"] = change(result, previous)
    return result
