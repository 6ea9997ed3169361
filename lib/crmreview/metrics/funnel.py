"""Funnel leakage: how far the deals created in a period got, and where they were lost.

Definitions are those of DESIGN.md "Funnel leakage". The SQL, one question per file:
``queries/metrics/funnel/stages.sql`` (one row per group and stage),
``closed.sql`` (win rate, deal size, cycle time, velocity per group),
``lost_reasons.sql`` and ``stale_list.sql`` (the stale deals' totals and the first of them;
``stale_deals.sql`` lists them all).

The stages a funnel shows are the configured ones its data can reach (DESIGN "Canonical
model"): ``stages_used.sql`` lists, per pipeline, the configured stages its deals' current
stages or history rows use, and the won stage always; the funnel of several pipelines shows
the stages any of them uses, and with ``by="pipeline"`` each group shows its own pipeline's.

Public names: ``funnel`` (the metric), ``funnels`` (several periods' at once), ``pipeline_stages``, ``stages_frame``, ``rows``,
``summary``, ``RULES``, ``BREAKDOWNS``, ``STAGE_COLUMNS``.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from .. import queries
from ..config import DEFAULT_SETTINGS, Settings
from ..periods import Period
from . import MetricError, common, shared
from .common import count, fmt, number, stacked_rows
from .inputs import Inputs, Inventory

__all__ = [
    "RULES",
    "BREAKDOWNS",
    "STAGE_COLUMNS",
    "funnel",
    "funnels",
    "pipeline_stages",
    "trend",
    "stages_frame",
    "groups_frame",
    "rows",
    "summary",
]

RULES = ("furthest", "strict")
BREAKDOWNS = common.ALL_BREAKDOWNS


def _no_lost_deals(inv: Inventory, result: Any, period: Period, settings: Settings) -> dict[str, Any] | None:
    return {} if inv.rows["deals"] and inv.lost_deals == 0 else None


def _no_amounts(inv: Inventory, result: Any, period: Period, settings: Settings) -> dict[str, Any] | None:
    return {} if inv.rows["deals"] and inv.missing("deals.amount") else None


def _deals_missing(inv: Inventory, result: Any, period: Period, settings: Settings) -> dict[str, Any] | None:
    count, day = inv.missing_deals_by(period.as_of)
    return {"deals": count, "date": day.isoformat()} if count else None


def _history_inferred(inv: Inventory, result: Any, period: Period, settings: Settings) -> dict[str, Any] | None:
    return {"deals": inv.inferred_history_deals} if inv.inferred_history_deals else None


def _stage_unused(inv: Inventory, result: Any, period: Period, settings: Settings) -> dict[str, Any] | None:
    unused = result.get("unused_stages") or []
    return {"stages": ", ".join(unused)} if inv.rows["deals"] and unused else None


def _small_sample(inv: Inventory, result: Any, period: Period, settings: Settings) -> dict[str, Any] | None:
    created, closed = result.get("cohort_deals"), result.get("deals_closed")
    counts = [n for n in (created, closed) if n is not None]
    if not counts or not any(0 < n < settings.min_group_deals for n in counts):
        return None
    return {"created": created or 0, "closed": closed or 0, "period": period.label, "minimum": settings.min_group_deals}


_COHORT = (
    "cohort_deals", "skipped_stage_deals", "backward_move_deals", "biggest_leak",
    *(f"stages[].{k}" for k in ("reached", "conversion", "share_of_first", "leakage_rate", "lost_at", "open_at", "missing_at")),
)  # fmt: skip
_CLOSED = (
    "deals_closed", "won", "lost", "win_rate", "avg_won_amount", "won_amount", "median_cycle_days",
    "pipeline_velocity",
)  # fmt: skip
#: what the funnel reads and which numbers each input feeds (:mod:`crmreview.metrics.inputs`)
INPUTS = Inputs(
    reads=("deals", "deal_stage_history"),
    needs={
        "deals": (*_COHORT, *_CLOSED, "excluded_no_created_at", "open_deals", "stale_deals", "stale_amount"),
        "deals.created_at": (*_COHORT, "median_cycle_days", "pipeline_velocity"),
        "deals.closed_at": _CLOSED,
        "deals.amount": ("avg_won_amount", "won_amount", "open_amount", "pipeline_velocity", "stale_amount"),
    },
    warnings={
        "no_lost_deals": _no_lost_deals,
        "no_amounts": _no_amounts,
        "history_inferred": _history_inferred,
        "small_sample": _small_sample,
        "stage_unused": _stage_unused,
        "deals_missing": _deals_missing,
    },
)
STAGE_COLUMNS = (
    "stage",
    "reached",
    "conversion",
    "share_of_first",
    "leakage_rate",
    "lost_at",
    "open_at",
    "missing_at",
    "median_days_in_stage",
    "p75_days_in_stage",
    "visits",
    "p10_days_in_stage",
    "p25_days_in_stage",
    "p90_days_in_stage",
)
#: how many stale deals the result lists (all are counted)
STALE_LIST_LENGTH = 20


def _stage_entries(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    reached = [int(row["reached"]) for row in rows]
    first = reached[0] if reached else 0
    entries = []
    for i, row in enumerate(rows):
        conversion = reached[i + 1] / reached[i] if i + 1 < len(reached) and reached[i] > 0 else None
        entries.append(
            {
                "stage": row["stage"],
                "reached": reached[i],
                "conversion": conversion,
                "share_of_first": reached[i] / first if first > 0 else None,
                "leakage_rate": 1 - conversion if conversion is not None else None,
                "lost_at": int(row["lost_at"]),
                "open_at": int(row["open_at"]),
                "missing_at": int(row["missing_at"]),
                "median_days_in_stage": number(row["median_days_in_stage"]),
                "p75_days_in_stage": number(row["p75_days_in_stage"]),
                "visits": int(row["count_visits"]),
                "p10_days_in_stage": number(row["p10_days_in_stage"]),
                "p25_days_in_stage": number(row["p25_days_in_stage"]),
                "p90_days_in_stage": number(row["p90_days_in_stage"]),
            }
        )
    return entries


def _object(
    stage_rows: list[dict[str, Any]] | None, closed: dict[str, Any] | None, stages: tuple[str, ...]
) -> dict[str, Any]:
    """One funnel object (the overall one, or one group's) from its query rows (records)."""
    if not stage_rows:
        empty = {"reached": 0, "lost_at": 0, "open_at": 0, "missing_at": 0, "count_visits": 0}
        days = dict.fromkeys(("median", "p75", "p10", "p25", "p90"), None)
        counts = {"count_cohort_deals": 0, "count_skipped_stage_deals": 0, "count_backward_move_deals": 0}
        stage_rows = [
            {"stage": stage, **empty, **{f"{k}_days_in_stage": v for k, v in days.items()}, **counts}
            for stage in stages
        ]
    entries = _stage_entries(stage_rows)
    losses = [(s["lost_at"], -i, s["stage"]) for i, s in enumerate(entries) if s["lost_at"] > 0]
    head = stage_rows[0]

    def closed_value(key: str, kind=int):
        if closed is None:
            return 0 if kind is int else None
        value = closed[key]
        return int(value) if kind is int else number(value)

    return {
        "cohort_deals": int(head["count_cohort_deals"]),
        "skipped_stage_deals": int(head["count_skipped_stage_deals"]),
        "backward_move_deals": int(head["count_backward_move_deals"]),
        "stages": entries,
        "biggest_leak": max(losses)[2] if losses else None,
        "deals_closed": closed_value("count_closed_deals"),
        "won": closed_value("count_won_deals"),
        "lost": closed_value("count_lost_deals"),
        "win_rate": closed_value("win_rate", float),
        "avg_won_amount": closed_value("avg_won_amount", float),
        "won_amount": closed_value("won_amount", float),
        "median_cycle_days": closed_value("median_cycle_days", float),
        "open_deals": closed_value("count_open_deals"),
        "open_amount": closed_value("open_amount", float),
        "pipeline_velocity": closed_value("pipeline_velocity", float),
    }


def _objects(
    con,
    periods: list[Period],
    settings: Settings,
    rule: str,
    by: str,
    stages: tuple[str, ...],
    pipeline: str | None,
    group: str | None = None,
) -> list[tuple[dict[str, Any] | None, dict[str, dict[str, Any]], dict[str, Any] | None]]:
    """Per period of ``periods``, in order, from one pass of the stage and closed-deal queries:
    the overall funnel object, one object per group of ``by`` (empty for ``by="all"``) and
    the overall closed-deal row (the caller reads more of it). The groups are taken as of the
    last period's as-of date (the customer's tier). With ``group``, only that group of ``by``
    is computed: no overall object or row (None), and the group's object when it has deals."""
    params = {
        "period_starts": [each.start for each in periods],
        "period_ends": [each.end for each in periods],
        "as_of_dates": [each.as_of for each in periods],
        "as_of": periods[-1].as_of,
        "by": by,
        "tier_a_share": settings.tier_a_share,
        "tier_b_share": settings.tier_b_share,
        "value_window_months": settings.value_window_months,
        "pipeline": pipeline,
        "only_group": group,
    }
    stage_rows = queries.run(
        con, "metrics/funnel/stages", {**params, "stages": list(stages), "strict": rule == "strict"}
    )
    closed = queries.run(con, "metrics/funnel/closed", params)
    keys = ("period_id", "is_overall", "group_key")
    by_group_stages: dict[tuple, list[dict[str, Any]]] = {}
    for row in stage_rows.to_dict("records"):
        by_group_stages.setdefault(tuple(row[k] for k in keys), []).append(row)
    by_group_closed = {tuple(row[k] for k in keys): row for row in closed.to_dict("records")}
    out = []
    for period_id in range(1, len(periods) + 1):
        overall = (period_id, True, "all")
        group_keys = sorted(
            {key for key in (*by_group_stages, *by_group_closed) if key[0] == period_id and not key[1]},
            key=lambda key: key[2],
        )
        has_overall = group is None
        out.append(
            (
                _object(by_group_stages.get(overall), by_group_closed.get(overall), stages) if has_overall else None,
                {key[2]: _object(by_group_stages.get(key), by_group_closed.get(key), stages) for key in group_keys},
                by_group_closed[overall] if has_overall else None,
            )
        )
    return out


def pipeline_stages(
    con: duckdb.DuckDBPyConnection, settings: Settings = DEFAULT_SETTINGS
) -> dict[str, tuple[str, ...]]:
    """Pipeline name ('' for the deals without one) -> the stages its funnel shows, in the
    configured order: the configured stages its deals or their history use, and the won
    stage. Empty when the warehouse holds no deals."""
    used = shared.rows(con, "metrics/funnel/stages_used", {"stages": list(settings.stages)})
    return {
        str(name): tuple(rows.loc[rows["in_funnel"].astype(bool), "stage"])
        for name, rows in used.groupby("pipeline", sort=True)
    }


def _union(settings: Settings, lists: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The configured stages any of ``lists`` holds, in the configured order; all of them
    when there is no list (no deals: nothing to restrict to)."""
    if not lists:
        return settings.stages
    seen = {stage for stages in lists for stage in stages}
    return tuple(stage for stage in settings.stages if stage in seen)


def _stages(
    con, settings: Settings, rule: str, pipeline: str | None
) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """The pipelines' stages and the stages the funnel of ``pipeline`` (None: every deal) shows;
    checks the rule and the pipeline."""
    if rule not in RULES:
        raise ValueError(f"funnel rule {rule!r} is not one of: {', '.join(RULES)}")
    used = pipeline_stages(con, settings)
    if pipeline is not None and pipeline not in used:
        names = ", ".join(repr(name) for name in used) or "none (the warehouse holds no deals)"
        raise MetricError(f"funnel pipeline {pipeline!r} is not in the data; its pipelines are: {names}")
    scope = [used[pipeline]] if pipeline is not None else list(used.values())
    return used, _union(settings, scope)


def _result(
    con,
    period: Period,
    overall: dict[str, Any],
    closed: dict[str, Any],
    settings: Settings,
    rule: str,
    pipeline: str | None,
    used: dict[str, tuple[str, ...]],
    stages: tuple[str, ...],
) -> dict[str, Any]:
    """The funnel result of ``period`` from its overall object and closed-deal row (``_objects``),
    with its lost reasons and stale deals (small results kept per snapshot: ``shared.rows``)."""
    params = {"period_start": period.start, "period_end": period.end, "as_of": period.as_of}
    overall = dict(overall)
    reasons = shared.rows(con, "metrics/funnel/lost_reasons", {**params, "pipeline": pipeline})
    stale = shared.rows(
        con,
        "metrics/funnel/stale_list",
        {
            "as_of": period.as_of,
            "stale_days": settings.stale_days,
            "pipeline": pipeline,
            "list_length": STALE_LIST_LENGTH,
        },
    )
    return {
        "period": period.as_dict(),
        "rule": rule,
        **({"pipeline": pipeline} if pipeline is not None else {}),
        "unused_stages": [stage for stage in settings.stages if stage not in stages] if used else [],
        "as_of": period.as_of.isoformat(),
        "cohort_deals": overall.pop("cohort_deals"),
        "excluded_no_created_at": int(closed["count_deals_without_created_at"]),
        **overall,
        "lost_reasons": [
            {
                "lost_reason": None if pd.isna(r.lost_reason) else r.lost_reason,
                "deals": int(r.count_lost_deals),
                "share": float(r.share_of_lost),
            }
            for r in reasons.itertuples(index=False)
        ],
        "stale_days": settings.stale_days,
        "stale_deals": count(stale["count_stale_deals"].iloc[0]) if len(stale) else 0,
        "stale_amount": float(stale["stale_amount"].iloc[0]) if len(stale) else 0.0,
        "stale_deal_list": [
            {
                "deal_id": r.deal_id,
                "customer_id": None if pd.isna(r.customer_id) else r.customer_id,
                "owner_rep_id": None if pd.isna(r.owner_rep_id) else r.owner_rep_id,
                "stage": r.stage,
                "amount": number(r.amount),
                "days_since_change": int(r.days_since_change),
            }
            for r in stale.itertuples(index=False)
        ],
    }


def funnel(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    rule: str = "furthest",
    by: str | None = None,
    pipeline: str | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """The funnel of ``period`` as a JSON-ready dict with the DESIGN.md keys.

    ``pipeline``: only the deals of this pipeline ('' for the deals without one); a name the
    data does not hold is a ``ValueError`` listing the pipelines that exist.

    ``stages`` has one entry per stage the data can reach (:func:`pipeline_stages`), in the
    configured order, and ``unused_stages`` lists the configured stages no deal uses (a
    ``stage_unused`` warning): reached, conversion (% of
    previous: the step to the next stage), share_of_first, leakage_rate, lost_at, open_at,
    missing_at (open deals a later full export no longer had: ``deals.missing_since``),
    median/p75 days in stage. Rates are fractions; a rate whose denominator is zero is None.
    With ``by`` (rep, team, channel, region, pipeline, or the customer's ABC tier at the as-of
    date) the result also holds ``groups``: the same object per group (a pipeline's group with
    its own pipeline's stages), with ``small_group`` true when fewer than
    ``settings.min_group_deals`` deals were created in it (flagged, never hidden).

    ``group`` (with ``by``, not ``pipeline``): compute that group alone, for a view showing one
    group: ``groups`` holds its object (nothing when no deal falls in it, as in the whole
    breakdown) and the result none of the whole's numbers, lost reasons or stale deals.
    """
    common.check_by(by, "funnel", BREAKDOWNS)
    if group is not None and by in (None, "pipeline"):
        raise ValueError(f"funnel group {group!r} needs a breakdown other than pipeline (by={by!r})")
    used, stages = _stages(con, settings, rule, pipeline)
    if by == "tier":
        shared.customer_state(con, period.as_of, settings)
    if group is not None:
        _, groups, _ = _objects(con, [period], settings, rule, by, stages, pipeline, group)[0]
        return {
            "period": period.as_dict(),
            "rule": rule,
            **({"pipeline": pipeline} if pipeline is not None else {}),
            "unused_stages": [stage for stage in settings.stages if stage not in stages] if used else [],
            "as_of": period.as_of.isoformat(),
            "stale_days": settings.stale_days,
            "by": by,
            "groups": _group_entries(groups, settings),
        }
    one_pass = by if by is not None and by != "pipeline" else "all"
    overall, groups, closed = _objects(con, [period], settings, rule, one_pass, stages, pipeline)[0]
    result = _result(con, period, overall, closed, settings, rule, pipeline, used, stages)
    if by == "pipeline":  # each pipeline's group shows its own pipeline's stages
        groups = {}
        for name in [pipeline] if pipeline is not None else used:
            groups.update(_objects(con, [period], settings, rule, by, used[name], name)[0][1])
    if by is not None:
        result["by"] = by
        result["groups"] = _group_entries(groups, settings)
    return result


def _group_entries(groups: dict[str, dict[str, Any]], settings: Settings) -> list[dict[str, Any]]:
    """The ``groups`` of a result: each group's object with its name and ``small_group``."""
    return [
        {"group": key or None, "small_group": obj["cohort_deals"] < settings.min_group_deals, **obj}
        for key, obj in groups.items()
    ]


def funnels(
    con: duckdb.DuckDBPyConnection,
    periods: list[Period],
    *,
    settings: Settings = DEFAULT_SETTINGS,
    rule: str = "furthest",
    pipeline: str | None = None,
) -> list[dict[str, Any]]:
    """The funnel (:func:`funnel`, without breakdown) of each of ``periods``, in order, their
    stage counts and closed deals computed in one pass (a review's period and its comparison)."""
    used, stages = _stages(con, settings, rule, pipeline)
    computed = _objects(con, list(periods), settings, rule, "all", stages, pipeline)
    return [
        _result(con, period, overall, closed, settings, rule, pipeline, used, stages)
        for period, (overall, _, closed) in zip(periods, computed, strict=True)
    ]


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the :data:`STAGE_COLUMNS` typed: counts as nullable integers, the rest
    but ``stage`` as floats."""
    numeric = [c for c in STAGE_COLUMNS if c != "stage"]
    frame = frame.astype(dict.fromkeys(numeric, "float64"))
    frame["visits"] = frame["visits"].fillna(0)
    return frame.astype(
        {"reached": "Int64", "lost_at": "Int64", "open_at": "Int64", "missing_at": "Int64", "visits": "Int64"}
    )


def stages_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The ``stages`` of a :func:`funnel` result (or of one group) as a frame with :data:`STAGE_COLUMNS`."""
    return _typed(pd.DataFrame(result["stages"], columns=list(STAGE_COLUMNS)))


def groups_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per group and stage of a :func:`funnel` result computed with ``by``:
    ``group, small_group, cohort_deals`` and :data:`STAGE_COLUMNS`."""
    if "groups" not in result:
        raise ValueError("groups_frame needs a funnel result computed with by=...")
    columns = ["group", "small_group", "cohort_deals", *STAGE_COLUMNS]
    if not result["groups"]:
        return pd.DataFrame(columns=columns)
    rows = [
        {
            "group": group["group"] if group["group"] is not None else "",
            "small_group": group["small_group"],
            "cohort_deals": group["cohort_deals"],
            **stage,
        }
        for group in result["groups"]
        for stage in group["stages"]
    ]
    return _typed(pd.DataFrame(rows, columns=columns))


def trend(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    periods: int = 8,
    settings: Settings = DEFAULT_SETTINGS,
    rule: str = "furthest",
    pipeline: str | None = None,
) -> pd.DataFrame:
    """The funnel of ``period`` and the ``periods - 1`` periods of equal kind before it.

    One row per period (oldest first) and stage: ``period, stage, cohort_deals, reached,
    conversion, win_rate``; each period is taken as of its own last day. Periods before the
    data start (no deal created and none closed) are left out, so a trend starts with data.
    The numbers are the funnel's (:func:`funnel`); only its stage counts and closed deals are
    computed, for every period in one pass over the deals and their history.
    """
    if periods < 1:
        raise ValueError(f"trend needs at least one period, got {periods}")
    _, stages = _stages(con, settings, rule, pipeline)
    chain = [period]
    for _ in range(periods - 1):
        chain.append(chain[-1].compare("prev"))
    chain.reverse()
    rows_out = []
    started = False
    for each, (result, _, _) in zip(chain, _objects(con, chain, settings, rule, "all", stages, pipeline), strict=True):
        started = started or bool(result["cohort_deals"] or result["deals_closed"])
        if not started:
            continue
        for stage in result["stages"]:
            rows_out.append(
                {
                    "period": each.label,
                    "stage": stage["stage"],
                    "cohort_deals": result["cohort_deals"],
                    "reached": stage["reached"],
                    "conversion": stage["conversion"],
                    "win_rate": result["win_rate"],
                }
            )
    columns = ["period", "stage", "cohort_deals", "reached", "conversion", "win_rate"]
    return pd.DataFrame(rows_out, columns=columns).astype({"conversion": "float64", "win_rate": "float64"})


def rows(result: dict[str, Any]) -> pd.DataFrame:
    """One row per period (and group) and stage: the ``--format csv`` / table body."""
    return stacked_rows(result, stages_frame)


def summary(result: dict[str, Any]) -> list[str]:
    """Plain-text lines for ``--format table``: the rule, then one line per period."""
    lines = [
        f"Funnel {result['period']['label']} ({result['period']['start']}..{result['period']['end']}), "
        f"as of {result['as_of']}, rule: {result['rule']}"
    ]
    for res in filter(None, (result, result.get("comparison"))):
        lines.append(
            f"{res['period']['label']}: {res['cohort_deals']} deals created "
            f"({res['excluded_no_created_at']} without created_at excluded, "
            f"{res['skipped_stage_deals']} skipped a stage, {res['backward_move_deals']} moved backwards); "
            f"closed {res['deals_closed']} (won {res['won']}, lost {res['lost']}), "
            f"win rate {fmt(res['win_rate'], '.1%')}, avg won {fmt(res['avg_won_amount'], ',.2f')}, "
            f"median cycle {fmt(res['median_cycle_days'], '.1f')} days, open {res['open_deals']}, "
            f"velocity {fmt(res['pipeline_velocity'], ',.2f')}/day, "
            f"biggest leak {res['biggest_leak'] or '-'}, "
            f"{res['stale_deals']} stale (no change in {res['stale_days']}+ days)"
        )
        if res["lost_reasons"]:
            top = ", ".join(f"{r['lost_reason'] or '(none)'} {r['deals']}" for r in res["lost_reasons"][:5])
            lines.append(f"  lost reasons: {top}")
    small = [g["group"] or "(none)" for g in result.get("groups", []) if g["small_group"]]
    if small:
        lines.append(f"  small groups (fewer than the minimum deals; read with care): {', '.join(map(str, small))}")
    return lines
