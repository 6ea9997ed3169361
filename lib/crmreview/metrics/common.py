"""Helpers every metric module shares: numbers for JSON, the breakdowns, the bound settings.

Breakdowns (``--by``). Fixed dimensions: the owner rep, its team, the source channel, the
region, the ABC tier, the customer's industry and size band (and, for deals, the pipeline).
Custom fields (the records' ``attributes``, kept at import): ``attr:NAME`` groups by the
value of attribute NAME (for deals: the deal's, else its customer's), ``tag:NAME`` splits
that value into tags at ``, ， 、 ; ； |`` and counts a record under each of its tags (so the
groups' totals exceed the whole; :func:`overlap_warning` says so). Every form reaches SQL as
the bound ``$by`` value (``breakdown_key`` and ``breakdown_tags`` in
``queries/macros/customer_dimensions.sql``).

Public names: ``BREAKDOWNS``, ``ALL_BREAKDOWNS``, ``ATTRIBUTE_BREAKDOWNS``, ``number``, ``count``,
``fmt``, ``stacked_rows``, ``offers``, ``attribute_of``, ``check_by``, ``check_attribute``,
``attribute_names``, ``overlap_warning``, ``check_compare``, ``group_rows``, ``tier_params``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import duckdb
import pandas as pd

from .. import queries
from ..config import Settings
from ..periods import COMPARE_MODES
from . import inputs

__all__ = [
    "BREAKDOWNS",
    "ALL_BREAKDOWNS",
    "ATTRIBUTE_BREAKDOWNS",
    "offers",
    "attribute_of",
    "check_attribute",
    "attribute_names",
    "overlap_warning",
    "number",
    "count",
    "fmt",
    "stacked_rows",
    "check_by",
    "check_compare",
    "group_rows",
    "tier_params",
]

#: the breakdowns by a custom field, as a module's ``BREAKDOWNS`` lists them (NAME: an attribute)
ATTRIBUTE_BREAKDOWNS = ("attr:NAME", "tag:NAME")
#: every ``--by`` a metric can offer: owner rep, team, source channel, region, customer tier,
#: the customer's industry and size band, a custom field. The breakdowns of customers and
#: deals alike (the customer metrics take these).
BREAKDOWNS = ("rep", "team", "channel", "region", "tier", "industry", "size_band", *ATTRIBUTE_BREAKDOWNS)
#: Every breakdown: a metric module's own ``BREAKDOWNS`` is this tuple or a part of it
#: (``pipeline`` is a deal's: the funnel's only).
ALL_BREAKDOWNS = (*BREAKDOWNS[: -len(ATTRIBUTE_BREAKDOWNS)], "pipeline", *ATTRIBUTE_BREAKDOWNS)
_PREFIXES = {form.split(":")[0] + ":": form for form in ATTRIBUTE_BREAKDOWNS}


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


def attribute_of(by: str | None) -> str | None:
    """The attribute name of a breakdown ``attr:NAME`` / ``tag:NAME``; None for another one."""
    for prefix in _PREFIXES:
        if by is not None and by.startswith(prefix):
            return by[len(prefix) :]
    return None


def offers(by: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``by`` is one of ``allowed`` (``attr:合同类型`` matches ``attr:NAME``)."""
    name = attribute_of(by)
    if name is not None:
        return bool(name.strip()) and _PREFIXES[by[: by.index(":") + 1]] in allowed
    return by in allowed


def check_by(by: str | None, metric: str, allowed: tuple[str, ...] = BREAKDOWNS) -> str:
    """``by`` when ``allowed`` offers it, "all" for None; ``ValueError`` otherwise."""
    if by is not None and not offers(by, allowed):
        raise ValueError(f"{metric} breakdown {by!r} is not one of: {', '.join(allowed)}")
    return by or "all"


def attribute_names(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...] = ("customers", "deals")) -> list[str]:
    """The attribute names the records of ``tables`` (customers, deals) carry, sorted."""
    frame = queries.run(con, "metrics/attribute_names", {})
    return sorted(frame.loc[frame["table_name"].isin(tables), "attribute"].drop_duplicates())


def check_attribute(con: duckdb.DuckDBPyConnection, by: str | None, deals: bool) -> None:
    """``ValueError`` naming the known attributes when ``by`` is ``attr:NAME`` / ``tag:NAME``
    and no record has attribute NAME (customers', and with ``deals`` also deals')."""
    name = attribute_of(by)
    if name is None:
        return
    known = attribute_names(con, ("customers", "deals") if deals else ("customers",))
    if name not in known:
        where = "customer or deal" if deals else "customer"
        listed = ", ".join(known) if known else "none (the imported exports had no columns beyond the canonical ones)"
        raise ValueError(f"no {where} attribute {name!r} in the warehouse; the known attributes are: {listed}")


def overlap_warning(by: str | None) -> dict[str, Any] | None:
    """For ``tag:NAME``: the warning that a record counts in each of its tags' groups."""
    if by is None or not by.startswith("tag:"):
        return None
    return inputs.warning("groups_overlap", by=by)


def check_compare(compare: str) -> str:
    if compare not in COMPARE_MODES:
        raise ValueError(f"comparison {compare!r} is not one of: {', '.join(COMPARE_MODES)}")
    return compare


def group_rows(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Query rows by ``group_key``, in key order."""
    return dict(iter(frame.groupby("group_key", sort=True)))
