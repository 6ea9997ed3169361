"""Repurchase: who bought more than once in a period, who came back, and how often people buy.

Definitions are those of DESIGN.md "Repurchase" (purchases only: an order with amount <= 0
counts in revenue but is not a purchase). The SQL: ``queries/metrics/repurchase/rates.sql`` (one
row per group), on the macros of ``queries/macros/purchases.sql``.

Public names: ``repurchase`` (the metric), ``rows``, ``summary``, ``BREAKDOWNS``, ``KEYS``.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from .. import queries
from ..config import DEFAULT_SETTINGS, Settings
from ..periods import Period
from . import shared
from .common import BREAKDOWNS, check_by, count, fmt, number, stacked_rows, tier_params
from .inputs import Inputs

__all__ = ["BREAKDOWNS", "KEYS", "repurchase", "rows", "summary"]

#: the keys of one repurchase object, in order (DESIGN.md "Command line" names first)
KEYS = (
    "customers_purchasing",
    "repeat_rate",
    "returning_rate",
    "returning_revenue_share",
    "median_gap_days",
    "repeat_customers",
    "returning_customers",
    "net_revenue",
    "returning_revenue",
    "purchase_gaps",
)
#: what repurchase reads; every number rests on orders
INPUTS = Inputs(reads=("orders",), needs={"orders": KEYS})


def _object(row: pd.Series | None) -> dict[str, Any]:
    if row is None:
        return {
            key: (
                0
                if key in ("customers_purchasing", "repeat_customers", "returning_customers", "purchase_gaps")
                else None
            )
            for key in KEYS
        }
    return {
        "customers_purchasing": count(row["count_customers_purchasing"]),
        "repeat_rate": number(row["repeat_rate"]),
        "returning_rate": number(row["returning_rate"]),
        "returning_revenue_share": number(row["returning_revenue_share"]),
        "median_gap_days": number(row["median_gap_days"]),
        "repeat_customers": count(row["count_repeat_customers"]),
        "returning_customers": count(row["count_returning_customers"]),
        "net_revenue": number(row["net_amount"]),
        "returning_revenue": number(row["returning_net_amount"]),
        "purchase_gaps": count(row["count_purchase_gaps"]),
    }


def repurchase(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    by: str | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """Repurchase in ``period`` as a JSON-ready dict with the DESIGN.md keys.

    ``customers_purchasing`` (>= 1 purchase in the period), ``repeat_rate`` (>= 2 of them),
    ``returning_rate`` (also bought before the period), ``returning_revenue_share`` (their
    share of the period's net order amount; None when that amount is <= 0),
    ``median_gap_days`` (over every pair of consecutive purchase days up to the as-of date:
    several orders on one day are one purchase day, so a gap is never 0),
    with the counts and amounts behind them. Rates are fractions, None without a denominator.
    With ``by`` (rep, team, channel, tier, region), ``groups`` repeats the object per group;
    with ``group`` too, only that group is computed (``groups`` holds it, or nothing when it
    has no customer, as in the whole breakdown) and the result holds none of the whole's numbers.
    """
    group_by = check_by(by, "repurchase")
    if group is not None and by is None:
        raise ValueError(f"repurchase group {group!r} needs a breakdown (by=...)")
    params = {
        "period_start": period.start,
        "period_end": period.end,
        "as_of": period.as_of,
        **tier_params(settings),
    }
    shared.purchase_days(con)
    if by == "tier":
        shared.customer_state(con, period.as_of, settings)
    result: dict[str, Any] = {"period": period.as_dict(), "as_of": period.as_of.isoformat()}
    if group is None:
        overall = queries.run(con, "metrics/repurchase/rates", {**params, "by": "all", "only_group": None})
        result.update(_object(overall.iloc[0] if len(overall) else None))
    if by is not None:
        groups = queries.run(con, "metrics/repurchase/rates", {**params, "by": group_by, "only_group": group})
        result["by"] = by
        result["groups"] = [{"group": row["group_key"] or None, **_object(row)} for _, row in groups.iterrows()]
    return result


def rows(result: dict[str, Any]) -> pd.DataFrame:
    """One row per period (and group): the ``--format table`` / csv body."""
    return stacked_rows(result, lambda obj: pd.DataFrame([{key: obj[key] for key in KEYS}]))


def summary(result: dict[str, Any]) -> list[str]:
    """Plain-text lines for ``--format table``."""
    lines = [
        f"Repurchase {result['period']['label']} ({result['period']['start']}..{result['period']['end']}), "
        f"as of {result['as_of']}; purchases are orders with amount > 0"
    ]
    for res in filter(None, (result, result.get("comparison"))):
        lines.append(
            f"{res['period']['label']}: {fmt(res['customers_purchasing'], 'd')} customers bought, "
            f"{fmt(res['repeat_customers'], 'd')} more than once (repeat rate {fmt(res['repeat_rate'], '.1%')}), "
            f"{fmt(res['returning_customers'], 'd')} had bought before (returning rate {fmt(res['returning_rate'], '.1%')}, "
            f"{fmt(res['returning_revenue_share'], '.1%')} of net revenue {fmt(res['net_revenue'], ',.2f')}); "
            f"median gap {fmt(res['median_gap_days'], '.1f')} days over {fmt(res['purchase_gaps'], 'd')} gaps"
        )
    return lines
