"""What a metric's numbers rest on: the data span, the inputs that are missing, and warnings.

Real warehouses are partial (DESIGN "Partial exports"): deals without orders, orders without
deals, no activities, no created dates, no lost deals, no amounts. Every metric result gets
three keys from :func:`annotate`:

- ``data_span``: ``{"first_date", "last_date", "tables": {table: {"first_date", "last_date"}}}``
  over the canonical tables the metric reads (their date and timestamp columns);
- ``missing_inputs``: the tables the metric needs that hold no rows, and the columns it needs
  that hold only nulls (``["activities"]``, ``["deals.created_at"]``), in declaration order;
- ``warnings``: ``[{"code", "message", "params"}]`` for data that makes a number unreliable
  (``params``: the values the message names, for saying it in another language).

A number that rests on a missing input is set to null (never left at 0): each metric module
declares an :class:`Inputs` whose ``needs`` maps an input to the result keys it feeds
(``"stages[].reached"`` reaches into each row of a list; groups of a breakdown are treated
like the whole).

Public names: ``Inputs``, ``Inventory``, ``inventory``, ``lacking``, ``annotate``, ``warning``, ``data_span``,
``WARNING_CODES``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb

from .. import queries
from ..config import DEFAULT_SETTINGS, Settings
from ..i18n import t
from ..periods import Period
from ..schema import DATA_TABLES, TABLE_SPECS

__all__ = ["Inputs", "Inventory", "inventory", "lacking", "annotate", "warning", "data_span", "WARNING_CODES"]

#: every warning code a metric can give, with what it means
WARNING_CODES = {
    "no_lost_deals": "no deal is lost in the data, so a win rate counts won deals only",
    "no_amounts": "deal amounts are missing, so values and velocities cannot be computed",
    "history_inferred": "stage history was inferred from created and closed dates, not recorded",
    "period_outside_data": "the period lies outside the dates the data covers",
    "small_sample": "too few deals or customers to read the numbers with confidence",
    "model_degenerate": "the purchase model did not fit the data; its numbers are not shown",
    "stage_unused": "a configured funnel stage is used by no deal, so the funnel does not show it",
    "forecast_no_history": "no deal closed in the forecast's history window, so open deals have no probability",
    "forecast_thin_history": "few deals closed in the forecast's history window; its probabilities rest on them",
    "forecast_no_comparable": "open deals older in their stage than any deal that closed from it count as 0",
    "forecast_amounts_imputed": "open deals without an amount count at their pipeline's mean won amount",
    "deals_missing": "open deals a later full export no longer had count neither as open nor as closed",
    "groups_overlap": "a breakdown by tags counts a record under each of its tags: the groups add up to more",
}


@dataclass(frozen=True)
class Inventory:
    """What the warehouse holds: rows per table, non-null values per column, date spans."""

    rows: dict[str, int]
    non_null: dict[str, int]  # "table.column" -> values present
    spans: dict[str, tuple[date | None, date | None]]  # table -> first and last date
    lost_deals: int
    inferred_history_deals: int
    #: open deals a later full export no longer had (``deals.missing_since``): (date, count)
    missing_deals: tuple[tuple[date, int], ...] = ()

    def missing_deals_by(self, day: date) -> tuple[int, date | None]:
        """How many open deals were missing from a full export taken on or before ``day``, and
        the latest such export's date (None when none was)."""
        seen = [(d, n) for d, n in self.missing_deals if d <= day]
        return sum(n for _, n in seen), max((d for d, _ in seen), default=None)

    def missing(self, name: str) -> bool:
        """True when ``name`` (a table, or ``table.column``) holds no rows or only nulls."""
        table, _, column = name.partition(".")
        if self.rows.get(table, 0) == 0:
            return True
        return bool(column) and self.non_null.get(name, 0) == 0


def _q(name: str) -> str:
    """A canonical identifier, quoted; only names from :mod:`crmreview.schema` get here."""
    known = set(DATA_TABLES) | {c.name for spec in TABLE_SPECS.values() for c in spec.columns}
    if name not in known:
        raise ValueError(f"{name!r} is not a canonical table or column")
    return '"' + name + '"'


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def inventory(con: duckdb.DuckDBPyConnection) -> Inventory:
    """Count rows and non-null values of every canonical column and find each table's date span.

    One aggregate query per table; table and column names come only from the canonical model.
    """
    rows: dict[str, int] = {}
    non_null: dict[str, int] = {}
    spans: dict[str, tuple[date | None, date | None]] = {}
    for table, spec in TABLE_SPECS.items():
        dated = [c.name for c in spec.columns if c.kind in ("date", "timestamp")]
        parts = ["count(*)"] + [f"count({_q(c.name)})" for c in spec.columns]
        parts += [f"min({_q(c)})" for c in dated] + [f"max({_q(c)})" for c in dated]
        values = con.execute(f"select {', '.join(parts)} from {_q(table)}").fetchall()[0]
        rows[table] = int(values[0])
        for column, count in zip(spec.columns, values[1 : 1 + len(spec.columns)]):
            non_null[f"{table}.{column.name}"] = int(count)
        firsts = [_as_date(v) for v in values[1 + len(spec.columns) : 1 + len(spec.columns) + len(dated)]]
        lasts = [_as_date(v) for v in values[1 + len(spec.columns) + len(dated) :]]
        firsts, lasts = [d for d in firsts if d is not None], [d for d in lasts if d is not None]
        spans[table] = (min(firsts) if firsts else None, max(lasts) if lasts else None)
    lost = con.execute("select count(*) from deals where outcome = 'lost'").fetchall()[0][0]
    inferred = con.execute("select count(*) from deal_history_origin where origin = 'inferred'").fetchall()[0][0]
    missing = con.execute(queries.sql_text("metrics/quality/missing_deals")).fetchall()
    return Inventory(rows, non_null, spans, int(lost), int(inferred), tuple((d, int(n)) for d, n in missing))


#: a warning rule: (inventory, result, period, settings) -> the message's values, or None when
#: the warning does not apply; the text is ``warning.<code>`` of ``messages/inputs.yml``
WarningRule = Callable[[Inventory, Mapping[str, Any], Period, Settings], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Inputs:
    """The inputs of one metric.

    ``reads``: the canonical tables whose dates make its data span. ``needs``: input (a table
    or ``table.column``) -> the result keys that are null without it; an input that is one of
    several alternatives is written ``"orders|deals.amount"`` (missing only when all are).
    ``warnings``: code -> rule giving the message when it applies.
    """

    reads: tuple[str, ...]
    needs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    warnings: Mapping[str, WarningRule] = field(default_factory=dict)


def lacking(inv: Inventory, needs: Iterable[str]) -> list[str]:
    """The needs (a table, ``table.column``, or alternatives ``"orders|deals.amount"``) the
    warehouse lacks, all alternatives included; a column is not named again when its whole table
    is lacking (it is lacking too, being empty)."""
    found = [need for need in needs if all(inv.missing(n) for n in need.split("|"))]
    return [m for m in found if "." not in m or "|" in m or m.partition(".")[0] not in found]


def _null(obj: Any, path: str) -> None:
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        for row in obj.get(head[:-2]) or []:
            if isinstance(row, dict) and rest:
                _null(row, rest)
    elif rest:
        inner = obj.get(head)
        if isinstance(inner, dict):
            _null(inner, rest)
    elif head in obj:
        obj[head] = None


def data_span(inv: Inventory, tables: tuple[str, ...] = DATA_TABLES) -> tuple[date | None, date | None]:
    """The first and last date over ``tables`` (default: every canonical table)."""
    firsts = [inv.spans[t][0] for t in tables if inv.spans[t][0] is not None]
    lasts = [inv.spans[t][1] for t in tables if inv.spans[t][1] is not None]
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def _span(inv: Inventory, tables: tuple[str, ...]) -> dict[str, Any]:
    per_table = {
        t: {"first_date": _iso(inv.spans[t][0]), "last_date": _iso(inv.spans[t][1])}
        for t in tables
        if inv.rows.get(t, 0) and inv.spans[t][0] is not None
    }
    first, last = data_span(inv, tuple(per_table))
    return {"first_date": _iso(first), "last_date": _iso(last), "tables": per_table}


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def warning(code: str, **params: Any) -> dict[str, Any]:
    """A warning object: its code, its English message and the values the message names (so a
    report can say it in its own language: ``t("warning." + code, lang, **params)``)."""
    if code not in WARNING_CODES:
        raise ValueError(f"unknown warning code {code!r}; expected one of: {', '.join(WARNING_CODES)}")
    return {"code": code, "message": t(f"warning.{code}", "en", **params), "params": params}


def annotate(
    con: duckdb.DuckDBPyConnection,
    inputs: Inputs,
    result: dict[str, Any],
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    inv: Inventory | None = None,
) -> dict[str, Any]:
    """Add ``data_span``, ``missing_inputs`` and ``warnings`` to ``result`` (in place, returned),
    and null the numbers that rest on a missing input, in the result and each of its groups."""
    inv = inv or inventory(con)
    missing = [" or ".join(need.split("|")) for need in lacking(inv, inputs.needs)]
    # every number fed by a lacking input is null (a column of an empty table is lacking too)
    for need, paths in inputs.needs.items():
        if all(inv.missing(n) for n in need.split("|")):
            for obj in [result, *(g for g in result.get("groups", []) if isinstance(g, dict))]:
                for path in paths:
                    _null(obj, path)
    span = _span(inv, inputs.reads)
    warnings = []
    if span["first_date"] is not None and (
        period.end < date.fromisoformat(span["first_date"]) or period.start > date.fromisoformat(span["last_date"])
    ):
        warnings.append(
            warning("period_outside_data", period=period.label, first=span["first_date"], last=span["last_date"])
        )
    for code, rule in inputs.warnings.items():
        params = rule(inv, result, period, settings)
        if params is not None:
            warnings.append(warning(code, **params))
    existing = result.get("data_span")
    result["data_span"] = {**span, **existing} if isinstance(existing, dict) else span
    # a metric may have found some itself (quality): keep those, add the others once
    result["missing_inputs"] = list(dict.fromkeys([*result.get("missing_inputs", []), *missing]))
    known = {w["code"] for w in result.get("warnings", [])}
    result["warnings"] = [*result.get("warnings", []), *(w for w in warnings if w["code"] not in known)]
    return result
