"""Follow-up and allocation: are customers followed up at their tier's cadence, who goes back
to the pool, who is chased by several reps, and how much each rep carries and closes.

Definitions are those of DESIGN.md "Follow-up and allocation". The per-customer state is the
macro ``customer_followup`` (``queries/macros/followup.sql``, on the ABC tier of
``customer_tiers``); the SQL, one question per file in ``queries/metrics/``:
``followup_compliance.sql`` (per group and tier), ``followup_pool_candidates.sql``,
``followup_ownership_conflicts.sql``, ``workload.sql`` (per rep) and ``workload_teams.sql``;
``followup_customers.sql`` lists every customer's state.

Public names: ``followup`` (the metric), ``compliance``, ``BREAKDOWNS``, ``LIST_LENGTH``,
``compliance_frame``, ``reps_frame``, ``teams_frame``, ``rows``, ``summary``.
"""

from __future__ import annotations

import math
from typing import Any

import duckdb
import pandas as pd

from .. import queries
from ..config import DEFAULT_SETTINGS, Settings
from ..periods import Period
from . import common, shared
from .common import fmt, number
from .inputs import Inputs

__all__ = [
    "BREAKDOWNS",
    "LIST_LENGTH",
    "followup",
    "compliance",
    "compliance_frame",
    "reps_frame",
    "teams_frame",
    "rows",
    "summary",
]

TIERS = ("A", "B", "C")
BREAKDOWNS = common.BREAKDOWNS
_ACTIVITY_KEYS = ("overdue", "compliance", "never_contacted", "pool_candidates", "ownership_conflicts",
                  "median_days_since_activity")  # fmt: skip
#: what follow-up reads; without activities nothing can be overdue or followed up
INPUTS = Inputs(
    reads=("customers", "activities", "deals", "targets"),
    needs={
        "activities": (
            *_ACTIVITY_KEYS,
            *(f"tiers[].{k}" for k in _ACTIVITY_KEYS),
            *(f"reps[].{k}" for k in ("overdue", "compliance", "pool_candidates")),
            "reps[].tiers[].overdue", "reps[].tiers[].compliance",
            *(f"teams[].{k}" for k in ("overdue", "compliance")),
        ),
        "targets": (
            "target_amount", "target_won_amount", "attainment",
            *(f"{g}[].{k}" for g in ("reps", "teams") for k in ("target_amount", "target_won_amount", "attainment")),
        ),
    },
)  # fmt: skip
#: how many pool candidates and ownership conflicts the result lists (all are counted)
LIST_LENGTH = 20


def _money(value: Any) -> float | None:
    amount = number(value)
    return None if amount is None else round(amount, 2)


def _text(value: Any) -> str | None:
    return None if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else str(value)


def _date(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


def _params(period: Period, settings: Settings) -> dict[str, Any]:
    cadence = settings.followup_cadence_days
    return {
        "as_of": period.as_of,
        "tier_a_share": settings.tier_a_share,
        "tier_b_share": settings.tier_b_share,
        "value_window_months": settings.value_window_months,
        "cadence_a": cadence["A"],
        "cadence_b": cadence["B"],
        "cadence_c": cadence["C"],
        "pool_days": settings.pool_days,
    }


def _counts(row) -> dict[str, Any]:
    return {
        "customers": int(row.count_customers),
        "overdue": int(row.count_overdue),
        "compliance": number(row.share_compliant),
        "never_contacted": int(row.count_never_contacted),
        "pool_candidates": int(row.count_pool_candidates),
        "ownership_conflicts": int(row.count_conflicts),
        "median_days_since_activity": number(row.median_days_since_activity),
    }


def _compliance(con, period: Period, settings: Settings, *by: str) -> dict[str, dict[str, dict[str, Any]]]:
    """{breakdown: {group: {counts..., "tiers": [{tier, cadence_days, counts...}]}}} for each
    breakdown of ``by``, from one followup_compliance query (the period's activity conflicts
    are computed once for all of them)."""
    frame = queries.run(
        con,
        "metrics/followup/compliance",
        {
            **_params(period, settings),
            "by": by[0],
            "more_by": list(by[1:]),
            "period_start": period.start,
            "period_end": period.end,
        },
    )
    out: dict[str, dict[str, dict[str, Any]]] = {breakdown: {} for breakdown in by}
    for row in frame.itertuples(index=False):
        group = out[row.breakdown].setdefault(row.group_key, {"tiers": []})
        if pd.isna(row.tier):
            group.update(_counts(row))
        else:
            group["tiers"].append({"tier": row.tier, "cadence_days": int(row.cadence_days), **_counts(row)})
    return out


def _workload(con, period: Period, settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    params = {
        "as_of": period.as_of,
        "period_start": period.start,
        "period_end": period.end,
        "tier_a_share": settings.tier_a_share,
        "tier_b_share": settings.tier_b_share,
        "value_window_months": settings.value_window_months,
    }
    return queries.run(con, "metrics/followup/workload", params), queries.run(
        con, "metrics/followup/workload_teams", params
    )


def _rep_entries(workload: pd.DataFrame, by_rep: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    entries = []
    for row in workload.itertuples(index=False):
        compliance = by_rep.get(row.rep_id, {})
        tiers = compliance.get("tiers") or [
            {"tier": t, "customers": 0, "overdue": 0, "compliance": None} for t in TIERS
        ]
        entries.append(
            {
                "rep_id": row.rep_id,
                "name": _text(row.name),
                "team": _text(row.team),
                "customers": int(row.count_customers),
                "a_customers": int(row.count_a_customers),
                "overdue": int(compliance.get("overdue", 0)),
                "compliance": compliance.get("compliance"),
                "tiers": [
                    {
                        "tier": t["tier"],
                        "customers": t["customers"],
                        "overdue": t["overdue"],
                        "compliance": t["compliance"],
                    }
                    for t in tiers
                ],
                "pool_candidates": int(compliance.get("pool_candidates", 0)),
                "won_amount": _money(row.won_amount) or 0.0,
                "target_amount": _money(row.target_amount),
                "target_won_amount": _money(row.target_won_amount),
                "attainment": number(row.attainment),
            }
        )
    return entries


def _team_entries(teams: pd.DataFrame, by_team: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "team": row.team or None,
            "reps": int(row.count_reps),
            "customers": int(row.count_customers),
            "a_customers": int(row.count_a_customers),
            "overdue": int(by_team.get(row.team, {}).get("overdue", 0)),
            "compliance": by_team.get(row.team, {}).get("compliance"),
            "won_amount": _money(row.won_amount) or 0.0,
            "target_amount": _money(row.target_amount),
            "target_won_amount": _money(row.target_won_amount),
            "attainment": number(row.attainment),
        }
        for row in teams.itertuples(index=False)
    ]


def followup(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    by: str | None = None,
    list_limit: int | None = LIST_LENGTH,
) -> dict[str, Any]:
    """Follow-up discipline and workload at ``period``'s as-of date, as a JSON-ready dict.

    Over the customers known at the as-of date (the tier universe), with their ABC tier:
    ``customers``, ``overdue`` (no activity within the tier's cadence, or none ever),
    ``compliance`` (share not overdue; null without customers), ``never_contacted``,
    ``median_days_since_activity``, ``pool_candidates`` (owned, no activity for more than
    ``pool_days``), ``ownership_conflicts`` (activities by more than one rep in the period),
    the same per ``tiers`` entry (A, B, C with its ``cadence_days``), and the lists
    ``pool_candidate_list`` / ``ownership_conflict_list`` (at most ``list_limit`` each, None
    = all). ``reps``: one entry per rep — customers, a_customers, overdue, compliance, its
    ``tiers`` (compliance per rep and tier), won_amount (closed in the period),
    target_amount, target_won_amount (closed within the target ranges overlapping the
    period) and attainment = target_won_amount / target_amount; ``teams``: the same summed
    per team; ``attainment``: the whole sales force's. ``unowned_customers``: customers
    without an owner rep. With ``by`` (rep, team, channel, region, tier) also ``groups``:
    the counts per group, and its ``tiers`` (except when grouped by tier).
    """
    common.check_by(by, "followup", BREAKDOWNS)
    if list_limit is not None and (not isinstance(list_limit, int) or list_limit < 0):
        raise ValueError(f"list_limit must be a whole number >= 0 or None, got {list_limit!r}")
    params = _params(period, settings)
    shared.customer_state(con, period.as_of, settings)
    shared.customer_followup(con, params)
    breakdowns = ("all", "rep", "team", *((by,) if by not in (None, "all", "rep", "team") else ()))
    counted = _compliance(con, period, settings, *breakdowns)
    overall, by_rep, by_team = counted["all"]["all"], counted["rep"], counted["team"]
    workload, teams = _workload(con, period, settings)
    pool = queries.run(con, "metrics/followup/pool_candidates", {**params, "list_limit": list_limit})
    conflicts = queries.run(
        con,
        "metrics/followup/ownership_conflicts",
        {
            "as_of": period.as_of,
            "period_start": period.start,
            "period_end": period.end,
            "tier_a_share": settings.tier_a_share,
            "tier_b_share": settings.tier_b_share,
            "value_window_months": settings.value_window_months,
            "list_limit": list_limit,
        },
    )
    target = sum(number(v) or 0.0 for v in workload["target_amount"])
    target_won = sum(number(v) or 0.0 for v in workload["target_won_amount"])
    result: dict[str, Any] = {
        "period": period.as_dict(),
        "as_of": period.as_of.isoformat(),
        "cadence_days": dict(settings.followup_cadence_days),
        "pool_days": settings.pool_days,
        **{k: v for k, v in overall.items() if k != "tiers"},
        "unowned_customers": int(by_rep.get("", {}).get("customers", 0)),
        "tiers": overall["tiers"],
        "reps": _rep_entries(workload, by_rep),
        "teams": _team_entries(teams, by_team),
        "target_amount": round(target, 2) if workload["target_amount"].notna().any() else None,
        "target_won_amount": round(target_won, 2) if workload["target_amount"].notna().any() else None,
        "attainment": target_won / target if target else None,
        "pool_candidate_list": [
            {
                "customer_id": r.customer_id,
                "name": _text(r.name),
                "owner_rep_id": _text(r.owner_rep_id),
                "tier": r.tier,
                "value": _money(r.value),
                "last_activity_date": _date(r.last_activity_date),
                "days_since_activity": None if pd.isna(r.days_since_activity) else int(r.days_since_activity),
            }
            for r in pool.itertuples(index=False)
        ],
        "ownership_conflict_list": [
            {
                "customer_id": r.customer_id,
                "name": _text(r.name),
                "owner_rep_id": _text(r.owner_rep_id),
                "tier": r.tier,
                "value": _money(r.value),
                "reps": int(r.count_reps),
                "rep_ids": [str(x) for x in r.rep_ids],
                "activities": int(r.count_activities),
                "other_rep_activities": int(r.count_other_rep_activities),
            }
            for r in conflicts.itertuples(index=False)
        ],
    }
    if by is not None:
        result["by"] = by
        result["groups"] = _groups(counted[by], by)
    return result


def _groups(counted: dict[str, dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """The ``groups`` of a result from the compliance counts per group (no ``tiers`` by tier)."""
    return [
        {
            "group": key or None,
            **{k: v for k, v in obj.items() if k != "tiers"},
            **({} if by == "tier" else {"tiers": obj["tiers"]}),
        }
        for key, obj in sorted(counted.items())
    ]


def compliance(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    by: str | None = None,
) -> dict[str, Any]:
    """The compliance counts of :func:`followup` alone, for a view that needs nothing else (a
    comparison period's compliance per tier): ``customers``, ``overdue``, ``compliance``,
    ``never_contacted``, ``pool_candidates``, ``ownership_conflicts``,
    ``median_days_since_activity`` and the same per ``tiers`` entry, or with ``by`` only
    ``groups``, as in :func:`followup`. One query."""
    common.check_by(by, "followup", BREAKDOWNS)
    shared.customer_state(con, period.as_of, settings)
    shared.customer_followup(con, _params(period, settings))
    counted = _compliance(con, period, settings, by or "all")[by or "all"]
    result: dict[str, Any] = {"period": period.as_dict(), "as_of": period.as_of.isoformat()}
    if by is None:
        result.update(counted["all"])
    else:
        result["by"] = by
        result["groups"] = _groups(counted, by)
    return result


# -- frames for charts and tables ---------------------------------------------------------


def compliance_frame(result: dict[str, Any]) -> pd.DataFrame:
    """Compliance per rep and tier: one row per rep (``result["reps"]`` order) and tier, with
    ``rep_id, name, team, tier, customers, overdue, compliance`` (null without customers)."""
    records = [
        {"rep_id": rep["rep_id"], "name": rep["name"], "team": rep["team"], **tier}
        for rep in result["reps"]
        for tier in rep["tiers"]
    ]
    columns = ["rep_id", "name", "team", "tier", "customers", "overdue", "compliance"]
    return pd.DataFrame(records, columns=columns).astype(
        {"customers": "Int64", "overdue": "Int64", "compliance": "float64"}
    )


_REP_COLUMNS = (
    "rep_id",
    "name",
    "team",
    "customers",
    "a_customers",
    "overdue",
    "compliance",
    "pool_candidates",
    "won_amount",
    "target_amount",
    "target_won_amount",
    "attainment",
)


def reps_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per rep: workload, compliance and attainment (``_REP_COLUMNS``)."""
    frame = pd.DataFrame(result["reps"], columns=list(_REP_COLUMNS))
    return frame.astype(
        {
            "customers": "Int64",
            "a_customers": "Int64",
            "overdue": "Int64",
            "compliance": "float64",
            "pool_candidates": "Int64",
            "won_amount": "float64",
            "target_amount": "float64",
            "target_won_amount": "float64",
            "attainment": "float64",
        }
    )


def teams_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per team: reps, customers, a_customers, overdue, compliance, amounts, attainment."""
    columns = [
        "team",
        "reps",
        "customers",
        "a_customers",
        "overdue",
        "compliance",
        "won_amount",
        "target_amount",
        "target_won_amount",
        "attainment",
    ]
    frame = pd.DataFrame(result["teams"], columns=columns)
    return frame.astype(
        {
            "compliance": "float64",
            "won_amount": "float64",
            "target_amount": "float64",
            "target_won_amount": "float64",
            "attainment": "float64",
        }
    )


_GROUP_COLUMNS = ("customers", "overdue", "compliance", "never_contacted", "pool_candidates", "ownership_conflicts")


def rows(result: dict[str, Any]) -> pd.DataFrame:
    """The ``--format csv`` / table body: one row per period and rep (workload, compliance,
    attainment); with ``by``, one row per period and group (follow-up counts) instead."""
    frames = []
    for res in filter(None, (result, result.get("comparison"))):
        if "by" in res:
            frame = pd.DataFrame(
                [
                    {res["by"]: g["group"] if g["group"] is not None else "", **{c: g[c] for c in _GROUP_COLUMNS}}
                    for g in res["groups"]
                ],
                columns=[res["by"], *_GROUP_COLUMNS],
            )
        else:
            frame = reps_frame(res)
        frame.insert(0, "period", res["period"]["label"])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def summary(result: dict[str, Any]) -> list[str]:
    """Plain-text lines for ``--format table``: the rules, then one line per period."""
    cadence = ", ".join(f"{t} {d}" for t, d in result["cadence_days"].items())
    lines = [
        (
            f"Follow-up {result['period']['label']} as of {result['as_of']}: cadence days {cadence}; "
            f"pool after {result['pool_days']} days without activity"
        )
    ]
    for res in filter(None, (result, result.get("comparison"))):
        per_tier = ", ".join(f"{t['tier']} {fmt(t['compliance'], '.0%')}" for t in res["tiers"])
        lines.append(
            f"{res['period']['label']}: {fmt(res['customers'], ',')} customers, {fmt(res['overdue'], ',')} overdue, "
            f"compliance {fmt(res['compliance'], '.1%')} ({per_tier}); {fmt(res['never_contacted'], ',')} never "
            f"contacted; {fmt(res['pool_candidates'], ',')} pool candidates; {fmt(res['ownership_conflicts'], ',')} "
            f"worked by more than one rep; target attainment {fmt(res['attainment'], '.1%')}"
        )
    return lines
