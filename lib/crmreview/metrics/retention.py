"""Retention: monthly purchase cohorts, and how much of a period's revenue its buyers keep.

Definitions are those of DESIGN.md "Repurchase" (cohort retention) and "Churn and
lifecycle" (revenue retention). The SQL, one question per file:
``queries/metrics/retention/cohorts.sql`` (one row per cohort month and month after it) and
``queries/metrics/retention/revenue_retention.sql`` (grr / nrr of the comparison period's buyers).
Shared definitions (purchases, lifecycle states, breakdown groups) are the macros of
``queries/macros/purchases.sql``.

Public names: ``retention`` (the metric), ``cohort_frame``, ``rows``, ``summary``,
``BREAKDOWNS``, ``COHORT_MONTHS``; ``revenue_retention`` is shared with ``churn``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pandas as pd

from .. import queries
from ..config import DEFAULT_SETTINGS, Settings
from ..periods import Period
from . import shared
from .common import BREAKDOWNS, check_by, check_compare, count, fmt, group_rows, number, stacked_rows, tier_params
from .inputs import Inputs

__all__ = [
    "BREAKDOWNS",
    "COHORT_MONTHS",
    "retention",
    "cohort_frame",
    "rows",
    "summary",
    "revenue_retention",
]

#: cohorts shown: the months of first purchase in the year up to the as-of month
COHORT_MONTHS = 12
#: what retention reads; every number rests on orders
INPUTS = Inputs(
    reads=("orders",),
    needs={
        "orders": (
            "base_customers", "retained_customers", "base_revenue", "retained_revenue", "current_revenue",
            "grr", "nrr", "cohorts[].customers", "cohorts[].revenue",
        ),
    },
)  # fmt: skip
COHORT_COLUMNS = (
    "cohort",
    "month",
    "cohort_customers",
    "customers",
    "share",
    "cohort_revenue",
    "revenue",
    "revenue_share",
    "is_data_start",
)


def _revenue_object(row: pd.Series | None) -> dict[str, Any]:
    if row is None:
        return {
            "base_customers": 0,
            "retained_customers": 0,
            "base_revenue": 0.0,
            "retained_revenue": 0.0,
            "current_revenue": 0.0,
            "grr": None,
            "nrr": None,
        }
    return {
        "base_customers": count(row["count_base_customers"]),
        "retained_customers": count(row["count_retained_customers"]),
        "base_revenue": number(row["previous_net_amount"]),
        "retained_revenue": number(row["retained_net_amount"]),
        "current_revenue": number(row["current_net_amount"]),
        "grr": number(row["grr"]),
        "nrr": number(row["nrr"]),
    }


def revenue_retention(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    base: Period,
    settings: Settings,
    by: str = "all",
    group: str | None = None,
) -> dict[str, dict[str, Any]]:
    """grr / nrr of ``base``'s buyers (net revenue > 0 there) in ``period``, per group key
    (only ``group``'s, when given).

    Each object: ``base_customers``, ``retained_customers`` (bought again, net > 0),
    ``base_revenue`` (Σ previous), ``retained_revenue`` (Σ min(this, previous)),
    ``current_revenue`` (Σ this, floored at 0 per customer), ``grr``, ``nrr``.
    """
    frame = queries.run(
        con,
        "metrics/retention/revenue_retention",
        {
            "comparison_start": base.start,
            "comparison_end": base.end,
            "period_start": period.start,
            "period_end": period.end,
            "as_of": period.as_of,
            "by": by,
            "only_group": group,
            **tier_params(settings),
        },
    )
    return {row["group_key"]: _revenue_object(row) for _, row in frame.iterrows()}


def _first_cohort_month(as_of: date, months: int) -> date:
    index = as_of.year * 12 + as_of.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def _cohorts(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    out = []
    for cohort_month, cells in frame.groupby("cohort_month", sort=True):
        cells = cells.sort_values("month_index")
        head = cells.iloc[0]
        out.append(
            {
                "cohort": pd.Timestamp(cohort_month).strftime("%Y-%m"),
                "customers": count(head["count_cohort_customers"]),
                "revenue": number(head["cohort_net_amount"]),
                "is_data_start": bool(head["is_data_start"]),
                "months": [
                    {
                        "month": int(cell.month_index),
                        "customers": count(cell.count_active_customers),
                        "share": number(cell.share_active),
                        "revenue": number(cell.net_amount),
                        "revenue_share": number(cell.share_of_first_month_revenue),
                    }
                    for cell in cells.itertuples(index=False)
                ],
            }
        )
    return out


def retention(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    by: str | None = None,
    compare: str = "prev",
    cohort_months: int = COHORT_MONTHS,
) -> dict[str, Any]:
    """Cohort retention up to the period's as-of date and revenue retention of the
    comparison period's buyers, as a JSON-ready dict.

    ``cohorts``: one entry per month of first purchase among the ``cohort_months`` months
    ending with the as-of month: ``cohort`` (YYYY-MM), ``customers``, ``revenue`` (net, month 0),
    ``is_data_start`` (the first month of the data: it also holds everyone who bought before
    the data begin), and ``months``: per month k after it, ``customers`` with a purchase,
    ``share`` of the cohort, net ``revenue``, ``revenue_share`` of month 0's revenue.
    ``grr`` / ``nrr`` over the buyers of ``base_period`` (the ``compare`` period, prev or
    yoy), with their counts and sums. With ``by``, ``groups`` repeats it per group.
    """
    group_by = check_by(by, "retention")
    compare = check_compare(compare)
    if isinstance(cohort_months, bool) or not isinstance(cohort_months, int) or cohort_months < 1:
        raise ValueError(f"cohort_months must be a whole number >= 1, got {cohort_months!r}")
    base = period.compare(compare)
    if by == "tier":
        shared.customer_state(con, period.as_of, settings)

    def compute(key_by: str) -> dict[str, dict[str, Any]]:
        cells = queries.run(
            con,
            "metrics/retention/cohorts",
            {
                "as_of": period.as_of,
                "first_cohort_month": _first_cohort_month(period.as_of, cohort_months),
                "by": key_by,
                **tier_params(settings),
            },
        )
        by_group = group_rows(cells)
        revenue = revenue_retention(con, period, base, settings, key_by)
        keys = sorted(set(by_group) | set(revenue))
        return {
            key: {**_revenue_object(None), **revenue.get(key, {}), "cohorts": _cohorts(by_group.get(key))}
            for key in keys
        }

    overall = compute("all").get("all") or {**_revenue_object(None), "cohorts": []}
    cohorts = overall.pop("cohorts")
    result: dict[str, Any] = {
        "period": period.as_dict(),
        "as_of": period.as_of.isoformat(),
        "base_period": base.as_dict(),
        **overall,
        "cohort_months": cohort_months,
        "cohorts": cohorts,
    }
    if by is not None:
        result["by"] = by
        result["groups"] = [{"group": key or None, **obj} for key, obj in compute(group_by).items()]
    return result


def cohort_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The ``cohorts`` of a :func:`retention` result (or of one group), one row per cohort and
    month after it: ``cohort, month, cohort_customers, customers, share, cohort_revenue,
    revenue, revenue_share, is_data_start``."""
    records = [
        {
            "cohort": cohort["cohort"],
            "month": cell["month"],
            "cohort_customers": cohort["customers"],
            "customers": cell["customers"],
            "share": cell["share"],
            "cohort_revenue": cohort["revenue"],
            "revenue": cell["revenue"],
            "revenue_share": cell["revenue_share"],
            "is_data_start": cohort["is_data_start"],
        }
        for cohort in result.get("cohorts", [])
        for cell in cohort["months"]
    ]
    frame = pd.DataFrame(records, columns=list(COHORT_COLUMNS))
    return frame.astype(
        {
            "month": "Int64",
            "cohort_customers": "Int64",
            "customers": "Int64",
            "share": "float64",
            "cohort_revenue": "float64",
            "revenue": "float64",
            "revenue_share": "float64",
            "is_data_start": "bool",
        }
    )


def rows(result: dict[str, Any]) -> pd.DataFrame:
    """One row per period (and group), cohort and month: the ``--format table`` / csv body."""
    return stacked_rows(result, cohort_frame)


def summary(result: dict[str, Any]) -> list[str]:
    """Plain-text lines for ``--format table``: the header, then revenue retention per period."""
    lines = [
        f"Retention {result['period']['label']} ({result['period']['start']}..{result['period']['end']}), "
        f"as of {result['as_of']}; cohorts of the last {result['cohort_months']} months"
    ]
    for res in filter(None, (result, result.get("comparison"))):
        lines.append(
            f"{res['period']['label']}: of {res['base_customers']} buyers of {res['base_period']['label']} "
            f"(net {fmt(res['base_revenue'], ',.2f')}), {res['retained_customers']} bought again; "
            f"grr {fmt(res['grr'], '.1%')}, nrr {fmt(res['nrr'], '.1%')}"
        )
    for group in result.get("groups", []):
        lines.append(
            f"  {result['by']} {group['group'] or '(none)'}: {group['base_customers']} buyers, "
            f"grr {fmt(group['grr'], '.1%')}, nrr {fmt(group['nrr'], '.1%')}"
        )
    return lines
