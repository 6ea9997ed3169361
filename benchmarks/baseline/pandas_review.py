"""The review's metrics in pandas, as an analyst would write them: the speed baseline of
``python3 dev.py bench``.

The warehouse tables are read into pandas once (:func:`load`); each metric is then computed
from those frames with vectorised pandas (group-bys, merges, cumulative sums; no loop over
deals or customers) from the definitions of DESIGN.md. Where the tests' independent
implementations (``tests/reference/``) are already vectorised they are called as they are
(repurchase, lifecycle and churn rate, revenue retention, cohorts, follow-up state, ownership
conflicts, workload); the funnel, the ABC tiers and the Gini coefficient are written here,
because the references count deal by deal, tier by exact fractions and Gini pair by pair
(right for checking digits, not how anyone would compute them at scale). The purchase model
of the churn metric is the project's own BG/NBD fit (``crmreview.metrics.bgnbd``), fed from
pandas: both sides spend the same time in it. The forecast has no baseline.

Each metric returns its headline numbers under the names of the SQL metric's JSON, and
:func:`headlines` picks the same names out of a SQL result, so the benchmark can check at a
small size that both agree (``mismatches``).

Public names: ``TABLES``, ``METRICS``, ``load``, ``compute``, ``review``, ``headlines``,
``mismatches``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from crmreview.config import Settings
from crmreview.metrics import bgnbd
from crmreview.metrics.churn import DAYS_PER_UNIT
from crmreview.periods import Period
from tests.reference import retention_pandas, tiers_pandas
from tests.reference.funnel_pandas import stages_used

__all__ = ["TABLES", "METRICS", "load", "compute", "review", "headlines", "mismatches"]

#: the canonical tables a review reads
TABLES = ("customers", "reps", "targets", "deals", "deal_stage_history", "orders", "activities")
_TIMESTAMPS = {
    "customers": ("created_at",),
    "deals": ("created_at", "closed_at"),
    "deal_stage_history": ("entered_at",),
    "orders": ("order_date",),
    "activities": ("occurred_at",),
    "targets": ("period_start", "period_end"),
}
_AMOUNTS = {"orders": "amount", "deals": "amount", "targets": "target_amount"}


def load(con: Any) -> dict[str, pd.DataFrame]:
    """Every table of the review as a pandas frame (amounts as float, dates as datetime64)."""
    frames = {}
    for table in TABLES:
        frame = con.sql(f"select * from {table}").df()  # table names from the fixed list above
        for column in _TIMESTAMPS.get(table, ()):
            frame[column] = pd.to_datetime(frame[column])
        if table in _AMOUNTS:
            frame[_AMOUNTS[table]] = frame[_AMOUNTS[table]].astype(float)
        frames[table] = frame
    return frames


def _day(value: Any) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _median(values: pd.Series) -> float | None:
    return float(values.median()) if len(values) else None


# -- funnel --------------------------------------------------------------------------------


def funnel(frames: dict[str, pd.DataFrame], period: Period, settings: Settings) -> dict[str, Any]:
    """DESIGN "Funnel leakage" (furthest-stage rule) over the deals and their stage history."""
    deals, history = frames["deals"], frames["deal_stage_history"]
    stages = stages_used(deals, history, list(settings.stages))
    rank = {stage: i + 1 for i, stage in enumerate(stages)}
    won_rank = len(stages)
    start, end, as_of = _day(period.start), _day(period.end), _day(period.as_of)
    cutoff = as_of + pd.Timedelta(days=1)

    known = deals[deals["created_at"].notna() & (deals["created_at"] < cutoff)].copy()
    closed_by_then = known["closed_at"].isna() | (known["closed_at"] < cutoff)
    known["status"] = np.where((known["outcome"] != "open") & closed_by_then, known["outcome"], "open")
    seen = history[history["entered_at"] < cutoff]
    seen_rank = seen["stage"].map(rank)
    furthest = seen_rank.groupby(seen["deal_id"]).max()
    has_history = known["deal_id"].isin(history["deal_id"])
    from_history = known["deal_id"].map(furthest)
    current = known["stage"].map(rank)
    reached = from_history.where(from_history.notna(), current.where(~has_history)).fillna(1)
    known["furthest"] = np.where(known["status"] == "won", won_rank, np.minimum(reached, won_rank - 1))

    created = known["created_at"].dt.normalize()
    cohort = known[(created >= start) & (created <= end)]
    rows = []
    counts = [int((cohort["furthest"] >= i + 1).sum()) for i in range(len(stages))]
    for i, stage in enumerate(stages):
        at_stage = cohort["furthest"] == i + 1
        rows.append(
            {
                "stage": stage,
                "reached": counts[i],
                "conversion": counts[i + 1] / counts[i] if i + 1 < len(stages) and counts[i] else None,
                "lost_at": int((at_stage & (cohort["status"] == "lost")).sum()),
                "open_at": int((at_stage & (cohort["status"] == "open")).sum()),
            }
        )

    # days in stage: visits begun in the period, to the next history row, else the close, else as-of
    visits = history.assign(rank=history["stage"].map(rank).fillna(0)).sort_values(["deal_id", "entered_at", "rank"])
    visits["next_at"] = visits.groupby("deal_id")["entered_at"].shift(-1)
    visits = visits.merge(deals[["deal_id", "outcome", "closed_at"]], on="deal_id", how="left")
    entered = visits["entered_at"].dt.normalize()
    visits = visits[(entered >= start) & (entered <= end) & (visits["entered_at"] < cutoff)]
    closes = visits["outcome"].isin(["won", "lost"]) & (visits["closed_at"] >= visits["entered_at"])
    closes &= visits["closed_at"] < cutoff
    finish = np.where(
        visits["next_at"] < cutoff,
        visits["next_at"].dt.normalize(),
        np.where(closes, visits["closed_at"].dt.normalize(), as_of),
    )
    days = (pd.to_datetime(finish) - visits["entered_at"].dt.normalize().to_numpy()).days
    in_stage = pd.Series(np.asarray(days), index=visits.index).groupby(visits["stage"].to_numpy()).median()
    for row in rows[:-1]:
        row["median_days_in_stage"] = float(in_stage[row["stage"]]) if row["stage"] in in_stage.index else None

    closed_day = deals["closed_at"].dt.normalize()
    closed = deals[
        deals["outcome"].isin(["won", "lost"])
        & (closed_day >= start)
        & (closed_day <= end)
        & (deals["closed_at"] < cutoff)
    ]
    won = closed[closed["outcome"] == "won"]
    win_rate = len(won) / len(closed) if len(closed) else None
    avg_won = float(won["amount"].mean()) if won["amount"].notna().any() else None
    cycle = (won["closed_at"].dt.normalize() - won["created_at"].dt.normalize()).dt.days.dropna()
    median_cycle = _median(cycle)
    open_deals = int((known["status"] == "open").sum())
    velocity = (
        open_deals * win_rate * avg_won / median_cycle
        if None not in (win_rate, avg_won, median_cycle) and median_cycle > 0
        else None
    )
    open_now = known[known["status"] == "open"]
    last_change = seen.groupby("deal_id")["entered_at"].max()
    changed = open_now["deal_id"].map(last_change).fillna(open_now["created_at"]).dt.normalize()
    stale = int(((as_of - changed).dt.days >= settings.stale_days).sum())
    lost_reasons = closed.loc[closed["outcome"] == "lost", "lost_reason"].value_counts(dropna=False)
    return {
        "cohort_deals": len(cohort),
        "stages": rows,
        "deals_closed": len(closed),
        "won": len(won),
        "win_rate": win_rate,
        "avg_won_amount": avg_won,
        "median_cycle_days": median_cycle,
        "open_deals": open_deals,
        "pipeline_velocity": velocity,
        "stale_deals": stale,
        "lost_reasons": len(lost_reasons),
    }


# -- tiers ---------------------------------------------------------------------------------


def _abc(frames: dict[str, pd.DataFrame], as_of: Any, settings: Settings) -> pd.DataFrame:
    """customer_id, value, tier over the customers known at the as-of date, in ABC order."""
    cents = tiers_pandas.values(
        frames["customers"],
        frames["orders"],
        frames["deals"],
        frames["activities"],
        as_of,
        settings.value_window_months,
    )
    frame = pd.DataFrame({"customer_id": cents.index, "value": cents.to_numpy() / 100})
    frame = frame.sort_values(["value", "customer_id"], ascending=[False, True]).reset_index(drop=True)
    total = frame["value"].sum()
    before = frame["value"].cumsum() - frame["value"]
    frame["tier"] = np.select(
        [
            (total > 0) & (before < settings.tier_a_share * total),
            (total > 0) & (before < settings.tier_b_share * total),
        ],
        ["A", "B"],
        default="C",
    )
    return frame


def _gini(values: pd.Series) -> float | None:
    x = np.sort(values.to_numpy(dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return None
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def tiers(frames: dict[str, pd.DataFrame], period: Period, settings: Settings, compare: str = "prev") -> dict:
    """DESIGN "Customer tiers": ABC distribution, concentration and migration."""
    now = _abc(frames, period.as_of, settings)
    before = _abc(frames, period.compare(compare).as_of, settings)
    total = now["value"].sum()
    per_tier = now.groupby("tier").agg(customers=("customer_id", "size"), value=("value", "sum"))
    first = -(-len(now) // 5)
    moved = before[["customer_id", "tier"]].merge(now[["customer_id", "tier"]], on="customer_id", how="outer")
    migration = moved.fillna({"tier_x": "new"}).groupby(["tier_x", "tier_y"]).size()
    return {
        "customers": len(now),
        "total_value": float(round(total, 2)),
        "tiers": [
            {
                "tier": tier,
                "customers": int(per_tier["customers"].get(tier, 0)),
                "value": float(round(per_tier["value"].get(tier, 0.0), 2)),
            }
            for tier in ("A", "B", "C")
        ],
        "top20_value_share": float(now["value"].iloc[:first].sum() / total) if total else None,
        "gini": _gini(now["value"]),
        "migration_cells": int((migration > 0).sum()),
    }


# -- follow-up -----------------------------------------------------------------------------


def followup(frames: dict[str, pd.DataFrame], period: Period, settings: Settings) -> dict[str, Any]:
    """DESIGN "Follow-up and allocation": overdue against the tier cadence, pool, conflicts,
    attainment."""
    tiered = _abc(frames, period.as_of, settings)
    tiered["value"] = (tiered["value"] * 100).round().astype("int64")
    state = tiers_pandas.followup_state(
        frames["customers"],
        frames["orders"],
        frames["deals"],
        frames["activities"],
        tiered,
        period.as_of,
        dict(settings.followup_cadence_days),
        settings.pool_days,
    )
    clash = tiers_pandas.conflicts(
        frames["activities"], frames["deals"], tiered["customer_id"], period.start, period.end, period.as_of
    )
    load = tiers_pandas.workload(
        frames["reps"],
        frames["customers"],
        frames["deals"],
        frames["targets"],
        tiered,
        period.start,
        period.end,
        period.as_of,
    )
    target = load["target_amount"].sum()
    overdue = int(state["overdue"].sum())
    return {
        "customers": len(state),
        "overdue": overdue,
        "compliance": 1 - overdue / len(state) if len(state) else None,
        "never_contacted": int(state["never"].sum()),
        "pool_candidates": int(state["pool"].sum()),
        "ownership_conflicts": len(clash),
        "attainment": float(load["target_won_amount"].sum() / target) if target else None,
    }


# -- repurchase, retention, churn ----------------------------------------------------------


def repurchase(frames: dict[str, pd.DataFrame], period: Period, settings: Settings) -> dict[str, Any]:
    """DESIGN "Repurchase" (``tests/reference/retention_pandas.repurchase``)."""
    return retention_pandas.repurchase(frames["orders"], period.start, period.end, period.as_of)


def retention(frames: dict[str, pd.DataFrame], period: Period, settings: Settings, compare: str = "prev") -> dict:
    """Revenue retention of the comparison period's buyers and the monthly cohorts."""
    orders, base = frames["orders"], period.compare(compare)
    out = retention_pandas.revenue_retention(orders, base.start, base.end, period.start, period.end, period.as_of)
    cells = retention_pandas.cohorts(orders, period.as_of, retention_pandas.month_start(period.as_of, 11))
    return {**out, "cohort_customers": int(cells.drop_duplicates("cohort")["cohort_customers"].sum())}


def _weeks(rfm: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        rfm["frequency"].to_numpy(dtype=np.float64),
        rfm["recency_days"].to_numpy(dtype=np.float64) / DAYS_PER_UNIT,
        rfm["age_days"].to_numpy(dtype=np.float64) / DAYS_PER_UNIT,
    )


def churn(
    frames: dict[str, pd.DataFrame], period: Period, settings: Settings, compare: str = "prev", model: bool = True
) -> dict[str, Any]:
    """DESIGN "Churn and lifecycle": states, churn rate, flows, the risk list and, with
    ``model``, the BG/NBD fit with its back-test (the project's fit on pandas' inputs)."""
    orders, base = frames["orders"], period.compare(compare)
    thresholds = {"new_days": settings.new_days, "active_days": settings.active_days, "churn_days": settings.churn_days}
    states = retention_pandas.lifecycle(orders, period.as_of, period.start, **thresholds)
    earlier = retention_pandas.lifecycle(orders, base.as_of, base.start, **thresholds)
    day_before = period.start - timedelta(days=1)
    before = retention_pandas.lifecycle(orders, day_before, base.start, **thresholds)
    start = before.loc[before["state"] != "churned", "customer_id"]
    churned_now = set(states.loc[states["state"] == "churned", "customer_id"])
    churned = int(start.isin(churned_now).sum())
    flows = earlier[["customer_id", "state"]].merge(states[["customer_id", "state"]], on="customer_id", how="right")
    at_risk = states[
        states["state"].isin(["active", "dormant"])
        & (states["purchase_days"] >= 2)
        & (states["recency_days"] > 1.5 * states["median_gap_days"])
    ]
    out = {
        "states": retention_pandas.state_counts(states),
        "start_customers": len(start),
        "churned_customers": churned,
        "churn_rate": churned / len(start) if len(start) else None,
        "flows": int(flows.fillna({"state_x": "none"}).groupby(["state_x", "state_y"]).ngroups),
        "at_risk_customers": len(at_risk),
    }
    if model:
        live = retention_pandas.rfm(orders, period.as_of, period.as_of)
        x, t_x, age = _weeks(live)
        fit = bgnbd.fit(x, t_x, age)
        bgnbd.p_alive(fit, x, t_x, age)
        bgnbd.conditional_expected_purchases(fit, period.days / DAYS_PER_UNIT, x, t_x, age)
        history = retention_pandas.rfm(orders, period.as_of - timedelta(days=period.days), period.as_of)
        hx, ht_x, h_age = _weeks(history)
        bgnbd.backtest(hx, ht_x, h_age, history["holdout_purchases"].to_numpy(np.float64), period.days / DAYS_PER_UNIT)
        out["model_customers"] = len(live)
    return out


#: metric name -> its pandas baseline
METRICS: dict[str, Callable[..., dict[str, Any]]] = {
    "funnel": funnel,
    "tiers": tiers,
    "followup": followup,
    "repurchase": repurchase,
    "retention": retention,
    "churn": churn,
}


def compute(frames: dict[str, pd.DataFrame], name: str, period: Period, settings: Settings) -> dict[str, Any]:
    return METRICS[name](frames, period, settings)


def review(frames: dict[str, pd.DataFrame], period: Period, settings: Settings, compare: str = "prev") -> dict:
    """The review's metric set, as ``crm-review metrics NAME --compare`` computes it for each
    metric with a baseline: every metric of :data:`METRICS` for the period and for its
    comparison period (the comparison taken against the period before it, as the SQL metric
    takes it: tiers' migration, retention's base, churn's earlier states), from frames read
    once. The SQL side of this comparison is ``benchmarks.bench.review_metric_set``."""
    previous = period.compare(compare)
    out = {}
    for name, function in METRICS.items():
        options = {"compare": compare} if "compare" in inspect.signature(function).parameters else {}
        out[name] = function(frames, period, settings, **options)
        out[f"{name}_previous"] = function(frames, previous, settings, **options)
    return out


# -- agreement with the SQL metrics --------------------------------------------------------


def headlines(name: str, result: dict[str, Any]) -> dict[str, Any]:
    """The numbers of a metric's JSON (SQL) or of its baseline that both give, flattened."""
    out: dict[str, Any] = {}
    if name == "funnel":
        for key in ("cohort_deals", "deals_closed", "won", "win_rate", "avg_won_amount", "median_cycle_days"):
            out[key] = result[key]
        for key in ("open_deals", "pipeline_velocity", "stale_deals"):
            out[key] = result[key]
        for row in result["stages"]:
            for key in ("reached", "conversion", "lost_at", "open_at", "median_days_in_stage"):
                if key in row:
                    out[f"{row['stage']}.{key}"] = row[key]
        reasons = result["lost_reasons"]
        out["lost_reasons"] = reasons if isinstance(reasons, int) else len(reasons)
    elif name == "tiers":
        for key in ("customers", "total_value", "top20_value_share", "gini"):
            out[key] = result[key]
        for row in result["tiers"]:
            out[f"{row['tier']}.customers"] = row["customers"]
            out[f"{row['tier']}.value"] = row["value"]
        cells = result.get("migration_cells")
        out["migration_cells"] = cells if cells is not None else sum(1 for c in result["migration"] if c["customers"])
    elif name == "followup":
        for key in ("customers", "overdue", "compliance", "never_contacted", "pool_candidates", "ownership_conflicts"):
            out[key] = result[key]
        out["attainment"] = result["attainment"]
    elif name == "repurchase":
        for key in ("customers_purchasing", "repeat_rate", "returning_rate", "returning_revenue_share"):
            out[key] = result[key]
        out["median_gap_days"] = result["median_gap_days"]
    elif name == "retention":
        for key in ("base_customers", "retained_customers", "grr", "nrr"):
            out[key] = result[key]
        cohorts = result.get("cohorts")
        out["cohort_customers"] = (
            result["cohort_customers"] if cohorts is None else sum(c["customers"] for c in cohorts)
        )
    elif name == "churn":
        states = result["states"]
        if isinstance(states, list):
            states = {row["state"]: row["customers"] for row in states}
        out |= {f"state.{state}": count for state, count in states.items()}
        for key in ("start_customers", "churned_customers", "churn_rate", "at_risk_customers"):
            out[key] = result[key]
    return out


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-6)


def mismatches(name: str, sql: dict[str, Any], pandas: dict[str, Any]) -> list[str]:
    """``key: sql X, pandas Y`` for every headline number on which the two disagree."""
    have, want = headlines(name, sql), headlines(name, pandas)
    return [
        f"{key}: sql {have.get(key)!r}, pandas {want.get(key)!r}" for key in have if not _same(have[key], want.get(key))
    ]
