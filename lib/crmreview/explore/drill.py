"""Drill-down: team → its reps → a rep's deals → a deal's stage history, and tier → its
customers → a customer's orders, deals and activities.

Each level is one aggregate (the funnel by rep, the tier distribution) or one query of
``queries/explore/`` with bound parameters, LIMITed to the rows its table shows.

Public names: ``ROWS``, ``teams``, ``team_reps``, ``rep_deals``, ``deal_history``, ``tiers``,
``tier_customers``, ``customer_detail``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..metrics.common import tier_params
from ..scope import Scope
from .session import TIERS, Explorer, Selection

__all__ = ["ROWS", "teams", "team_reps", "rep_deals", "deal_history", "tiers", "tier_customers", "customer_detail"]

#: rows a drill-down table shows (its query's LIMIT)
ROWS = 25


def _funnel_rows(result: dict[str, Any], keep: list[str] | None = None) -> pd.DataFrame:
    records = [
        {
            "group": g["group"],
            "cohort_deals": g["cohort_deals"],
            "won": g["won"],
            "lost": g["lost"],
            "win_rate": g["win_rate"],
            "open_deals": g["open_deals"],
        }
        for g in result.get("groups") or []
        if keep is None or g["group"] in keep
    ]
    return pd.DataFrame(records, columns=["group", "cohort_deals", "won", "lost", "win_rate", "open_deals"])


def teams(explorer: Explorer, selection: Selection) -> pd.DataFrame:
    """One row per team: deals created in the period, won, lost, win rate, open at the as-of
    date (the funnel by team)."""
    return _funnel_rows(explorer.result("funnel", selection, by="team", compare=False, pipeline=selection.pipeline))


def team_reps(explorer: Explorer, selection: Selection, team: str) -> pd.DataFrame:
    """The reps of ``team`` with the same numbers (the funnel by rep on the team's scoped
    connection), plus ``label``."""
    reps = explorer.values.reps_of(team)
    result = explorer.within(
        "funnel", selection, Scope(team=team), by="rep", compare=False, pipeline=selection.pipeline
    )
    if result is None:  # a team the scope does not know as named: the whole by rep
        result = explorer.result("funnel", selection, by="rep", compare=False, pipeline=selection.pipeline)
    frame = _funnel_rows(result, [rep for _, rep in reps])
    labels = {rep: label for label, rep in reps}
    present = set(frame["group"])
    missing = [
        {"group": rep, "cohort_deals": 0, "won": 0, "lost": 0, "win_rate": None, "open_deals": 0}
        for _, rep in reps
        if rep not in present
    ]
    if missing:
        frame = pd.concat([frame, pd.DataFrame(missing)], ignore_index=True) if len(frame) else pd.DataFrame(missing)
    frame.insert(1, "label", [labels.get(rep, rep) for rep in frame["group"]])
    return frame.sort_values(["cohort_deals", "label"], ascending=[False, True], ignore_index=True)


def rep_deals(explorer: Explorer, selection: Selection, rep_id: str) -> pd.DataFrame:
    """The rep's deals of the period (created or closed in it, or open at its end), stale and
    lost first (``queries/explore/rep_deals.sql``), at most :data:`ROWS`."""
    period = explorer.period(selection)
    return explorer.run(
        "rep_deals",
        {
            "rep_id": rep_id,
            "period_start": period.start,
            "period_end": period.end,
            "as_of": period.as_of,
            "stale_days": explorer.settings.stale_days,
            "pipeline": selection.pipeline,
            "row_limit": ROWS,
        },
    )


def deal_history(explorer: Explorer, selection: Selection, deal_id: str) -> pd.DataFrame:
    """The deal's stage history up to the as-of date (``queries/explore/deal_history.sql``)."""
    return explorer.run(
        "deal_history", {"deal_id": deal_id, "as_of": explorer.period(selection).as_of, "row_limit": ROWS}
    )


def tiers(explorer: Explorer, selection: Selection) -> pd.DataFrame:
    """One row per ABC tier: customers, value and shares (the tiers metric)."""
    result = explorer.result("tier_distribution", selection, compare=False)
    return pd.DataFrame(result["tiers"], columns=["tier", "customers", "share_of_customers", "value", "share_of_value"])


def tier_customers(explorer: Explorer, selection: Selection, tier: str) -> pd.DataFrame:
    """The tier's customers at the as-of date, most valuable first (``tier_customers.sql``)."""
    if tier not in TIERS:
        raise ValueError(f"tier {tier!r} is not one of: A, B, C")
    params = {"tier": tier, "as_of": explorer.period(selection).as_of, "row_limit": ROWS}
    return explorer.run("tier_customers", {**params, **tier_params(explorer.settings)})


def customer_detail(explorer: Explorer, selection: Selection, customer_id: str) -> dict[str, pd.DataFrame]:
    """The customer's latest orders, deals and activities up to the as-of date."""
    params = {"customer_id": customer_id, "as_of": explorer.period(selection).as_of, "row_limit": ROWS}
    return {
        "orders": explorer.run("customer_orders", params),
        "deals": explorer.run("customer_deals", params),
        "activities": explorer.run("customer_activities", params),
    }
