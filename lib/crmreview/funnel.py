"""Funnel leakage: how far the deals created in a period got, and where they were lost.

Definitions are those of DESIGN.md "Funnel leakage"; the SQL is in
``queries/metrics/funnel_stages.sql`` (one row per stage) and
``queries/metrics/funnel_closed.sql`` (win rate, deal size, cycle time, velocity).
"""
from __future__ import annotations

import math
from typing import Any

import duckdb
import pandas as pd

from . import queries
from .config import DEFAULT_SETTINGS, Settings
from .periods import Period

__all__ = ["RULES", "funnel", "stages_frame", "STAGE_COLUMNS"]

RULES = ("furthest", "strict")
STAGE_COLUMNS = (
    "stage",
    "reached",
    "conversion",
    "share_of_first",
    "leakage_rate",
    "lost_at",
    "open_at",
    "median_days_in_stage",
    "p75_days_in_stage",
)


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return float(value)


def funnel(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    rule: str = "furthest",
) -> dict[str, Any]:
    """The funnel of ``period`` as a JSON-ready dict with the DESIGN.md keys.

    ``stages`` has one entry per configured stage in order: reached, conversion (% of
    previous, for the step to the next stage), share_of_first, leakage_rate, lost_at,
    open_at, median/p75 days in stage. Rates are fractions; a rate whose denominator is
    zero is None.
    """
    if rule not in RULES:
        raise ValueError(f"funnel rule {rule!r} is not one of: {', '.join(RULES)}")
    params = {
        "period_start": period.start,
        "period_end": period.end,
        "as_of": period.as_of,
    }
    rows = queries.run(
        con,
        "metrics/funnel_stages",
        {**params, "stages": list(settings.stages), "strict": rule == "strict"},
    )
    closed = queries.run(con, "metrics/funnel_closed", params).iloc[0]

    reached = [int(r) for r in rows["reached"]]
    first = reached[0] if reached else 0
    stages = []
    for i, row in enumerate(rows.itertuples(index=False)):
        conversion = (
            reached[i + 1] / reached[i] if i + 1 < len(reached) and reached[i] > 0 else None
        )
        stages.append(
            {
                "stage": row.stage,
                "reached": reached[i],
                "conversion": conversion,
                "share_of_first": reached[i] / first if first > 0 else None,
                "leakage_rate": 1 - conversion if conversion is not None else None,
                "lost_at": int(row.lost_at),
                "open_at": int(row.open_at),
                "median_days_in_stage": _number(row.median_days_in_stage),
                "p75_days_in_stage": _number(row.p75_days_in_stage),
            }
        )
    losses = [(s["lost_at"], -i, s["stage"]) for i, s in enumerate(stages) if s["lost_at"] > 0]
    first_row = rows.iloc[0]
    return {
        "period": period.as_dict(),
        "rule": rule,
        "as_of": period.as_of.isoformat(),
        "cohort_deals": int(first_row["count_cohort_deals"]),
        "excluded_no_created_at": int(closed["count_deals_without_created_at"]),
        "skipped_stage_deals": int(first_row["count_skipped_stage_deals"]),
        "backward_move_deals": int(first_row["count_backward_move_deals"]),
        "stages": stages,
        "biggest_leak": max(losses)[2] if losses else None,
        "deals_closed": int(closed["count_closed_deals"]),
        "won": int(closed["count_won_deals"]),
        "lost": int(closed["count_lost_deals"]),
        "win_rate": _number(closed["win_rate"]),
        "avg_won_amount": _number(closed["avg_won_amount"]),
        "median_cycle_days": _number(closed["median_cycle_days"]),
        "open_deals": int(closed["count_open_deals"]),
        "pipeline_velocity": _number(closed["pipeline_velocity"]),
    }


def stages_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The ``stages`` of a :func:`funnel` result as a frame with :data:`STAGE_COLUMNS`."""
    frame = pd.DataFrame(result["stages"], columns=list(STAGE_COLUMNS))
    numeric = [c for c in STAGE_COLUMNS if c != "stage"]
    return frame.astype({c: "float64" for c in numeric}).astype(
        {"reached": "int64", "lost_at": "int64", "open_at": "int64"}
    )
