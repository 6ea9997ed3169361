"""Churn and lifecycle: each customer's state at the as-of date, how customers moved between
states since the comparison period, who is slipping away, and what the BG/NBD model expects.

Definitions are those of DESIGN.md "Churn and lifecycle" (thresholds ``new_days``,
``active_days``, ``churn_days`` and ``risk_gap_factor`` from :class:`config.Settings`). The
SQL, one question per file in ``queries/metrics/``: ``lifecycle_states`` (counts per state),
``lifecycle_flows`` (comparison state × this state), ``churn_rate``, ``revenue_retention``
(grr / nrr), ``churn_risk`` (the risk list), ``recency_distribution``, ``customer_rfm``
(each customer's purchase history), ``rfm_histories`` (the distinct histories with their
customers, which the BG/NBD model is fitted on), ``lifecycle_history`` (the states at several
dates, for the report) and ``purchase_span``; shared definitions are the macros of
``queries/macros/purchases.sql``. The lifecycle states and tiers the queries read are
computed once per connection and date (:mod:`.shared`).

The probabilistic view (``purchase_model``) fits BG/NBD (``crmreview.bgnbd``) on every
customer's purchase history up to the as-of date, in weeks, and back-tests it: a fit on the
history up to one period before the as-of date predicts each customer's purchases in the
last period, next to what they did.

Public names: ``churn`` (the metric), ``churn_rates``, ``purchase_model``, ``customer_predictions``,
``lifecycle_history``, ``recency_frame``, ``states_frame``, ``flows_frame``, ``risk_frame``, ``data_span``,
``rows``, ``summary``, ``STATES``, ``BREAKDOWNS``, ``RISK_LIST_LENGTH``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from .. import queries
from ..config import DEFAULT_SETTINGS, Settings
from ..periods import Period
from . import bgnbd, shared
from .common import BREAKDOWNS, check_by, check_compare, count, fmt, group_rows, number, stacked_rows, tier_params
from .inputs import Inputs
from .retention import revenue_retention

__all__ = [
    "STATES",
    "BREAKDOWNS",
    "RISK_LIST_LENGTH",
    "churn",
    "churn_rates",
    "purchase_model",
    "customer_predictions",
    "lifecycle_history",
    "recency_frame",
    "states_frame",
    "flows_frame",
    "risk_frame",
    "data_span",
    "rows",
    "summary",
]

STATES = ("new", "reactivated", "active", "dormant", "churned")


def _model_degenerate(inv: Any, result: Any, period: Period, settings: Settings) -> dict[str, Any] | None:
    model = result.get("purchase_model") or {}
    return {"reason": model["reason"]} if model.get("status") == "degenerate" else None


#: what churn reads; every number rests on orders (purchases)
INPUTS = Inputs(
    warnings={"model_degenerate": _model_degenerate},
    reads=("orders",),
    needs={
        "orders": (
            "customers", "comparison_customers", "states[].customers", "states[].share",
            "states[].comparison_customers", "churn_rate", "start_customers", "churned_customers", "grr", "nrr",
            "at_risk_customers", "at_risk_value",
        ),
    },
)  # fmt: skip
#: customers listed in the result's risk list (all are counted)
RISK_LIST_LENGTH = 20
#: the BG/NBD model works in weeks
DAYS_PER_UNIT = 7.0
#: bands of P(alive) reported by the model
ALIVE_BANDS = ((0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0))
#: a fitted parameter outside this range means the fit collapsed (see :func:`degenerate_reason`)
PARAMETER_BOUNDS = (1e-4, 1e4)
#: P(alive) this high for this share of customers means the model sees no dropout at all
ALIVE_CEILING = 0.99
#: a back-test whose predicted total is off by more than this share of the actual total
MAX_BACKTEST_ERROR = 0.5
RISK_COLUMNS = (
    "customer_id",
    "name",
    "owner_rep_id",
    "rep_name",
    "team",
    "tier",
    "value",
    "state",
    "purchases",
    "purchase_days",
    "last_purchase_date",
    "recency_days",
    "median_gap_days",
    "gap_ratio",
    "p_alive",
    "expected_purchases",
)


def _thresholds(settings: Settings) -> dict[str, Any]:
    return {
        "new_days": settings.new_days,
        "active_days": settings.active_days,
        "churn_days": settings.churn_days,
    }


def _state_params(period: Period, settings: Settings) -> dict[str, Any]:
    return {"as_of": period.as_of, "window_start": period.start, **_thresholds(settings)}


def _states(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    by_state = {} if frame is None else {r.lifecycle_state: r for r in frame.itertuples(index=False)}
    out = []
    for state in STATES:
        row = by_state.get(state)
        out.append(
            {
                "state": state,
                "customers": 0 if row is None else count(row.count_customers),
                "share": None if row is None else number(row.share_of_customers),
            }
        )
    return out


def _flows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None:
        return []
    return [
        {"from": r.from_state, "to": r.to_state, "customers": count(r.count_customers)}
        for r in frame.itertuples(index=False)
    ]


def _risk_entries(frame: pd.DataFrame | None, model: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None or frame.empty:
        return []
    if model is not None and not model.empty:
        frame = frame.merge(model, on="customer_id", how="left")
    entries = []
    for r in frame.itertuples(index=False):
        entries.append(
            {
                "customer_id": r.customer_id,
                "name": r.customer_name,
                "owner_rep_id": r.owner_rep_id,
                "rep_name": r.rep_name,
                "team": r.team,
                "tier": r.tier,
                "value": number(r.value),
                "state": r.lifecycle_state,
                "purchases": count(r.count_purchases),
                "purchase_days": count(r.count_purchase_days),
                "last_purchase_date": pd.Timestamp(r.last_purchase_date).date().isoformat(),
                "recency_days": count(r.recency_days),
                "median_gap_days": number(r.median_gap_days),
                "gap_ratio": number(r.gap_ratio),
                "p_alive": number(getattr(r, "p_alive", None)),
                "expected_purchases": number(getattr(r, "expected_purchases", None)),
            }
        )
    for entry in entries:
        for key in ("name", "owner_rep_id", "rep_name", "team"):
            if entry[key] is not None and pd.isna(entry[key]):
                entry[key] = None
    return entries


def data_span(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, Any]:
    """Where the order history begins and ends up to ``as_of``: ``first_order_date``,
    ``first_purchase_date``, ``last_purchase_date`` (ISO dates or None), ``buyers``."""
    row = queries.run(con, "metrics/churn/purchase_span", {"as_of": as_of}).iloc[0]

    def iso(value: Any) -> str | None:
        return None if pd.isna(value) else pd.Timestamp(value).date().isoformat()

    return {
        "first_order_date": iso(row["first_order_date"]),
        "first_purchase_date": iso(row["first_purchase_date"]),
        "last_purchase_date": iso(row["last_purchase_date"]),
        "buyers": count(row["count_buyers"]),
    }


# -- the probabilistic view -------------------------------------------------------------------


def _rfm(con, calibration_end: date, holdout_end: date) -> pd.DataFrame:
    """The distinct purchase histories up to ``calibration_end`` with their customers
    (``count_customers``) and holdout purchases up to ``holdout_end``."""
    return queries.run(
        con, "metrics/churn/rfm_histories", {"calibration_end": calibration_end, "holdout_end": holdout_end}
    )


def _weeks(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        frame["frequency"].to_numpy(dtype=np.float64),
        frame["recency_days"].to_numpy(dtype=np.float64) / DAYS_PER_UNIT,
        frame["age_days"].to_numpy(dtype=np.float64) / DAYS_PER_UNIT,
    )


def _customers(frame: pd.DataFrame) -> np.ndarray:
    return frame["count_customers"].to_numpy(dtype=np.float64)


def customer_predictions(fit: bgnbd.BgNbdFit, frame: pd.DataFrame, as_of: date, horizon_days: int) -> pd.DataFrame:
    """P(alive) and the purchases expected in the next ``horizon_days`` for the customers of
    ``frame`` (``customer_id, count_purchase_days, first_purchase_date, last_purchase_date``:
    their purchase days up to ``as_of``, as the churn queries give them). Columns:
    ``customer_id, p_alive, expected_purchases``."""
    first = pd.to_datetime(frame["first_purchase_date"])
    last = pd.to_datetime(frame["last_purchase_date"])
    x = frame["count_purchase_days"].to_numpy(dtype=np.float64) - 1
    t_x = (last - first).dt.days.to_numpy(dtype=np.float64) / DAYS_PER_UNIT
    T = (pd.Timestamp(as_of) - first).dt.days.to_numpy(dtype=np.float64) / DAYS_PER_UNIT
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "p_alive": bgnbd.p_alive(fit, x, t_x, T),
            "expected_purchases": bgnbd.conditional_expected_purchases(fit, horizon_days / DAYS_PER_UNIT, x, t_x, T),
        }
    )


def purchase_model(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    holdout_days: int | None = None,
) -> tuple[dict[str, Any], bgnbd.BgNbdFit | None]:
    """BG/NBD on every customer's purchase days up to the as-of date, with a back-test.

    Returns ``(summary, fit)``. ``summary`` (JSON-ready, aggregates only):
    ``status`` (fitted | insufficient_data | degenerate, then ``reason``), ``unit`` (week), ``customers``,
    ``r``, ``alpha``, ``a``, ``b``, ``log_likelihood``, ``converged``; ``horizon_days`` (the
    period's length) and ``expected_purchases`` (Σ over customers of the purchases expected
    in that many days after the as-of date); ``expected_alive`` (Σ P(alive)) and
    ``alive_bands`` (customers per P(alive) band); ``backtest``: the model fitted on the
    history up to ``calibration_end`` = as-of − ``holdout_days`` (default: the period's
    length) against the purchase days of the holdout up to the as-of date (``customers``,
    ``actual_purchases``, ``predicted_purchases``, ``relative_error``,
    ``mean_absolute_error``, ``correlation``, ``by_frequency``, its own ``fit``).
    ``fit``: the fitted model, for :func:`customer_predictions` (None when not fitted or
    degenerate). Both fits run over the distinct purchase histories, weighted by their
    customers (``rfm_histories.sql``), not over the customers one by one.
    """
    horizon_days = period.days if holdout_days is None else int(holdout_days)
    if horizon_days < 1:
        raise ValueError(f"holdout_days must be >= 1, got {holdout_days!r}")
    summary: dict[str, Any] = {"model": "BG/NBD", "unit": "week", "horizon_days": period.days}
    live = _rfm(con, period.as_of, period.as_of)
    x, t_x, T = _weeks(live)
    weights = _customers(live)
    try:
        fit = bgnbd.fit(x, t_x, T, weights=weights)
    except bgnbd.FitError as exc:
        summary.update({"status": "insufficient_data", "reason": str(exc), "customers": int(weights.sum())})
        return summary, None
    alive = bgnbd.p_alive(fit, x, t_x, T)
    expected = bgnbd.conditional_expected_purchases(fit, period.days / DAYS_PER_UNIT, x, t_x, T)
    bands = []
    for low, high in ALIVE_BANDS:
        mask = (alive >= low) & ((alive < high) if high < 1.0 else (alive <= high))
        bands.append({"band": f"{low:.2f}-{high:.2f}", "customers": int(weights[mask].sum())})
    summary.update(
        {
            "status": "fitted",
            **fit.as_dict(),
            "expected_purchases": float((expected * weights).sum()),
            "expected_alive": float((alive * weights).sum()),
            "alive_bands": bands,
        }
    )
    calibration_end = period.as_of - timedelta(days=horizon_days)
    history = _rfm(con, calibration_end, period.as_of)
    test: dict[str, Any] = {
        "calibration_end": calibration_end.isoformat(),
        "holdout_start": (calibration_end + timedelta(days=1)).isoformat(),
        "holdout_end": period.as_of.isoformat(),
        "holdout_days": horizon_days,
    }
    hx, ht_x, hT = _weeks(history)
    try:
        result = bgnbd.backtest(
            hx,
            ht_x,
            hT,
            history["holdout_purchases"].to_numpy(dtype=np.float64),
            horizon_days / DAYS_PER_UNIT,
            weights=_customers(history),
        )
    except bgnbd.FitError as exc:
        test.update({"status": "insufficient_data", "reason": str(exc), "customers": int(_customers(history).sum())})
    else:
        test.update({"status": "fitted", **result.as_dict()})
        del test["horizon"]
    summary["backtest"] = test
    reason = degenerate_reason(summary, alive, weights=weights)
    if reason is not None:
        # the parameters stay for the appendix; no prediction is given for any customer
        summary.update({"status": "degenerate", "reason": reason})
        return summary, None
    return summary, fit


def degenerate_reason(model: dict[str, Any], alive: np.ndarray, *, weights: np.ndarray | None = None) -> str | None:
    """Why a fitted BG/NBD model does not describe the data, or None when it does.

    Degenerate: a parameter at its bound or exploding (below ``PARAMETER_BOUNDS[0]`` or above
    ``PARAMETER_BOUNDS[1]``: the fit has collapsed one of its two distributions to a point),
    P(alive) at least ``ALIVE_CEILING`` for ``ALIVE_CEILING`` of the customers (the model says
    nobody ever stops buying), or a back-test whose predicted total misses the actual one by
    more than ``MAX_BACKTEST_ERROR``. ``weights``: customers per value of ``alive`` (one each
    by default).
    """
    low, high = PARAMETER_BOUNDS
    for name in ("r", "alpha", "a", "b"):
        value = model.get(name)
        if value is not None and not low <= value <= high:
            return f"parameter {name} = {value:.3g}, outside {low:g} – {high:g}"
    alive = np.asarray(alive, dtype=np.float64)
    weights = np.ones(alive.shape) if weights is None else np.asarray(weights, dtype=np.float64)
    share = float(weights[alive >= ALIVE_CEILING].sum() / weights.sum()) if weights.sum() else 0.0
    if len(alive) and share >= ALIVE_CEILING:
        return f"P(alive) is at least {ALIVE_CEILING:.0%} for {share:.0%} of customers"
    test = model.get("backtest") or {}
    error = test.get("relative_error")
    if test.get("status") == "fitted" and error is not None and abs(error) > MAX_BACKTEST_ERROR:
        return f"the back-test missed the holdout purchases by {abs(error):.0%}"
    return None


# -- the metric ---------------------------------------------------------------------------------


def _share_states(con, period: Period, base: Period, settings: Settings) -> None:
    """Compute once on ``con`` the lifecycle states the churn queries read (at the as-of date,
    the comparison's, the day before the period) and the tiers at the as-of date."""
    shared.lifecycle_state(con, period.as_of, period.start, settings)
    shared.lifecycle_state(con, base.as_of, base.start, settings)
    shared.lifecycle_state(con, period.start - timedelta(days=1), period.compare("prev").start, settings)
    shared.customer_state(con, period.as_of, settings)


def _rate_rows(con, period: Period, settings: Settings, by: str, group: str | None = None) -> pd.DataFrame:
    """The churn rate of ``period`` per group key (``metrics/churn/rate``; only ``group``'s
    when given)."""
    return queries.run(
        con,
        "metrics/churn/rate",
        {
            "period_start": period.start,
            "previous_start": period.compare("prev").start,
            "as_of": period.as_of,
            **_thresholds(settings),
            "by": by,
            "only_group": group,
            **tier_params(settings),
        },
    )


def _rate_object(rate: pd.Series | None, money: dict[str, Any]) -> dict[str, Any]:
    return {
        "churn_rate": None if rate is None else number(rate["churn_rate"]),
        "start_customers": 0 if rate is None else count(rate["count_start_customers"]),
        "churned_customers": 0 if rate is None else count(rate["count_churned_customers"]),
        "grr": money.get("grr"),
        "nrr": money.get("nrr"),
    }


def churn_rates(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    by: str | None = None,
    compare: str = "prev",
    group: str | None = None,
) -> dict[str, Any]:
    """The rates of :func:`churn` alone, for a view that shows no states, flows or risk
    list: ``churn_rate``, ``start_customers``, ``churned_customers``, ``grr``, ``nrr`` (of the
    buyers of ``period.compare(compare)``), computed by the same two queries; with ``by``,
    ``groups`` repeats them per group; with ``group`` too, only that group is computed
    (``groups`` holds it, or nothing when it has no customer) and none of the whole's rates."""
    group_by = check_by(by, "churn")
    if group is not None and by is None:
        raise ValueError(f"churn group {group!r} needs a breakdown (by=...)")
    base = period.compare(check_compare(compare))
    # the states the rate compares, shared as churn() shares them (the day before the period
    # is the previous period's as-of date: its rates read the same states)
    shared.lifecycle_state(con, period.as_of, period.start, settings)
    shared.lifecycle_state(con, period.start - timedelta(days=1), period.compare("prev").start, settings)
    if by == "tier":
        shared.customer_state(con, period.as_of, settings)
    objects = {}
    keys = ("all",) if by is None else (group_by,) if group is not None else ("all", group_by)
    for key in keys:
        only = None if key == "all" else group
        rates = {r["group_key"]: r for _, r in _rate_rows(con, period, settings, key, only).iterrows()}
        revenue = revenue_retention(con, period, base, settings, key, only)
        objects[key] = {k: _rate_object(rates.get(k), revenue.get(k, {})) for k in sorted(set(rates) | set(revenue))}
    result: dict[str, Any] = {"period": period.as_dict(), "as_of": period.as_of.isoformat()}
    if "all" in objects:
        result.update(objects["all"]["all"])
    if by is not None:
        result["by"] = by
        result["groups"] = [{"group": key or None, **obj} for key, obj in objects[group_by].items()]
    return result


def _group_objects(
    con,
    period: Period,
    base: Period,
    settings: Settings,
    by: str,
    list_length: int,
) -> tuple[dict[str, dict[str, Any]], dict[str, pd.DataFrame]]:
    tiers = tier_params(settings)
    states = queries.run(con, "metrics/churn/lifecycle_states", {**_state_params(period, settings), "by": by, **tiers})
    base_states = queries.run(
        con, "metrics/churn/lifecycle_states", {**_state_params(base, settings), "by": by, **tiers}
    )
    flows = queries.run(
        con,
        "metrics/churn/lifecycle_flows",
        {
            **_state_params(period, settings),
            "comparison_as_of": base.as_of,
            "comparison_start": base.start,
            "by": by,
            **tiers,
        },
    )
    rates = _rate_rows(con, period, settings, by)
    risk = queries.run(
        con,
        "metrics/churn/risk",
        {
            **_state_params(period, settings),
            "risk_gap_factor": settings.risk_gap_factor,
            "by": by,
            "list_length": list_length,
            **tiers,
        },
    )
    revenue = revenue_retention(con, period, base, settings, by)
    states_by, base_by, flows_by = group_rows(states), group_rows(base_states), group_rows(flows)
    rates_by = {r["group_key"]: r for _, r in rates.iterrows()}
    risk_by = group_rows(risk)
    keys = sorted(set(states_by) | set(rates_by) | set(revenue) | set(risk_by))
    objects = {}
    for key in keys:
        now = _states(states_by.get(key))
        earlier = {s["state"]: s["customers"] for s in _states(base_by.get(key))}
        for entry in now:
            entry["comparison_customers"] = earlier[entry["state"]]
        rate = rates_by.get(key)
        money = revenue.get(key, {})
        group_risk = risk_by.get(key)
        objects[key] = {
            "customers": sum(s["customers"] for s in now),
            "states": now,
            "comparison_customers": sum(earlier.values()),
            "flows": _flows(flows_by.get(key)),
            **_rate_object(rate, money),
            "revenue_retention": money or None,
            "at_risk_customers": 0 if group_risk is None else count(group_risk["count_group_at_risk"].iloc[0]),
            "at_risk_value": 0.0 if group_risk is None else number(group_risk["group_value_at_risk"].iloc[0]),
        }
    return objects, risk_by


def churn(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    by: str | None = None,
    compare: str = "prev",
    risk_list_length: int = RISK_LIST_LENGTH,
    model: bool = True,
) -> dict[str, Any]:
    """Lifecycle, churn and the churn-risk list for ``period`` as a JSON-ready dict.

    ``states``: per state (new, reactivated, active, dormant, churned) the ``customers`` in
    it at the as-of date, their ``share``, and ``comparison_customers`` (at the comparison
    period's as-of date); ``flows``: ``from`` (a state, or ``none`` for a customer who had
    not bought yet) → ``to`` with ``customers``; ``churn_rate`` with ``start_customers``
    (not churned the day before the period starts) and ``churned_customers``; ``grr``,
    ``nrr`` of the comparison period's buyers (details under ``revenue_retention``);
    ``at_risk_customers``, ``at_risk_value`` and ``risk_list`` (the first
    ``risk_list_length`` by value, with tier, owner rep and, when the model fitted, P(alive)
    and expected purchases over the next period-length); ``purchase_model`` (see
    :func:`purchase_model`; left out with ``model=False``); ``data_span``. With ``by``,
    ``groups`` repeats the counts, rates and risk totals per group (no model, no list).
    """
    group_by = check_by(by, "churn")
    compare = check_compare(compare)
    if isinstance(risk_list_length, bool) or not isinstance(risk_list_length, int) or risk_list_length < 0:
        raise ValueError(f"risk_list_length must be a whole number >= 0, got {risk_list_length!r}")
    base = period.compare(compare)
    _share_states(con, period, base, settings)
    objects, risk_by = _group_objects(con, period, base, settings, "all", max(risk_list_length, 1))
    overall = objects["all"]
    model_summary, fit = (None, None)
    if model:
        model_summary, fit = purchase_model(con, period)
    risk_rows = risk_by.get("all")
    per_customer = None
    if risk_rows is not None:
        risk_rows = risk_rows.head(risk_list_length)
        if fit is not None and not risk_rows.empty:
            per_customer = customer_predictions(fit, risk_rows, period.as_of, period.days)
    result: dict[str, Any] = {
        "period": period.as_dict(),
        "as_of": period.as_of.isoformat(),
        "comparison_period": base.as_dict(),
        "thresholds": {**_thresholds(settings), "risk_gap_factor": settings.risk_gap_factor},
        "data_span": data_span(con, period.as_of),
        **overall,
        "risk_list": _risk_entries(risk_rows, per_customer),
    }
    if model_summary is not None:
        result["purchase_model"] = model_summary
    if by is not None:
        groups, _ = _group_objects(con, period, base, settings, group_by, 1)
        result["by"] = by
        result["groups"] = [{"group": key or None, **obj} for key, obj in groups.items()]
    return result


# -- frames for charts and tables ----------------------------------------------------------------


def states_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The ``states`` of a :func:`churn` result: ``state, customers, share, comparison_customers``."""
    frame = pd.DataFrame(result.get("states", []), columns=["state", "customers", "share", "comparison_customers"])
    return frame.astype({"customers": "Int64", "share": "float64", "comparison_customers": "Int64"})


def flows_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The ``flows`` of a :func:`churn` result: ``from, to, customers``."""
    frame = pd.DataFrame(result.get("flows", []), columns=["from", "to", "customers"])
    return frame.astype({"customers": "Int64"})


def risk_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The ``risk_list`` of a :func:`churn` result, one row per customer, value order."""
    return pd.DataFrame(result.get("risk_list", []), columns=list(RISK_COLUMNS))


def lifecycle_history(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    periods: int = 8,
) -> pd.DataFrame:
    """Customers per lifecycle state at the as-of date of ``period`` and of the ``periods``
    − 1 periods of equal kind before it (oldest first), leaving out periods that end before
    the first purchase. Columns: ``period, as_of, state, customers``. One query counts the
    states at every date (``lifecycle_history.sql``)."""
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise ValueError(f"periods must be a whole number >= 1, got {periods!r}")
    span = data_span(con, period.as_of)
    first = date.fromisoformat(span["first_purchase_date"]) if span["first_purchase_date"] else None
    chain = [period]
    for _ in range(periods - 1):
        chain.append(chain[-1].compare("prev"))
    shown = [each for each in reversed(chain) if first is not None and each.as_of >= first]
    records = []
    if shown:
        counts = queries.run(
            con,
            "metrics/churn/lifecycle_history",
            {
                "as_of_dates": [each.as_of for each in shown],
                "window_starts": [each.start for each in shown],
                **_thresholds(settings),
            },
        )
        for row in counts.itertuples(index=False):  # dates in order, states in STATES order
            each = shown[int(row.date_index) - 1]
            records.append(
                {
                    "period": each.label,
                    "as_of": each.as_of.isoformat(),
                    "state": row.lifecycle_state,
                    "customers": count(row.count_customers),
                }
            )
    frame = pd.DataFrame(records, columns=["period", "as_of", "state", "customers"])
    return frame.astype({"customers": "Int64"})


def recency_frame(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    bin_days: int = 30,
) -> pd.DataFrame:
    """Customers per recency bin and state at the as-of date: ``recency_bin_start_days,
    recency_bin_end_days, state, customers`` (bins of ``bin_days`` days, present bins only)."""
    if isinstance(bin_days, bool) or not isinstance(bin_days, int) or bin_days < 1:
        raise ValueError(f"bin_days must be a whole number >= 1, got {bin_days!r}")
    frame = queries.run(
        con, "metrics/churn/recency_distribution", {**_state_params(period, settings), "bin_days": bin_days}
    )
    frame = frame.rename(columns={"lifecycle_state": "state", "count_customers": "customers"})
    columns = ["recency_bin_start_days", "recency_bin_end_days", "state", "customers"]
    return frame[columns].astype(
        {"recency_bin_start_days": "Int64", "recency_bin_end_days": "Int64", "customers": "Int64"}
    )


# -- command-line output ---------------------------------------------------------------------------


def rows(result: dict[str, Any]) -> pd.DataFrame:
    """One row per period (and group) and state: the ``--format table`` / csv body."""
    return stacked_rows(
        result,
        lambda obj: pd.DataFrame(
            [{k: entry[k] for k in ("state", "customers", "share", "comparison_customers")} for entry in obj["states"]],
            columns=["state", "customers", "share", "comparison_customers"],
        ),
    )


def summary(result: dict[str, Any]) -> list[str]:
    """Plain-text lines for ``--format table``: thresholds, then churn, revenue retention,
    risk and the model per period."""
    th = result["thresholds"]
    lines = [
        f"Churn and lifecycle {result['period']['label']} ({result['period']['start']}..{result['period']['end']}), "
        f"as of {result['as_of']}, states against {result['comparison_period']['label']}; "
        f"new <= {th['new_days']} days, active <= {th['active_days']}, dormant <= {th['churn_days']}"
    ]
    for res in filter(None, (result, result.get("comparison"))):
        lines.append(
            f"{res['period']['label']}: churn rate {fmt(res['churn_rate'], '.1%')} "
            f"({res['churned_customers']} of {res['start_customers']}); grr {fmt(res['grr'], '.1%')}, "
            f"nrr {fmt(res['nrr'], '.1%')}; {res['at_risk_customers']} at risk "
            f"(value {fmt(res['at_risk_value'], ',.2f')})"
        )
        model = res.get("purchase_model")
        if model and model["status"] == "fitted":
            test = model["backtest"]
            back = (
                f"back-test {test['holdout_start']}..{test['holdout_end']}: predicted "
                f"{test['predicted_purchases']:,.0f} vs actual {test['actual_purchases']:,.0f} purchase days"
                if test["status"] == "fitted"
                else "back-test: not enough history"
            )
            lines.append(
                f"  BG/NBD (weeks) r={model['r']:.4g} alpha={model['alpha']:.4g} a={model['a']:.4g} "
                f"b={model['b']:.4g} LL={model['log_likelihood']:,.1f} on {model['customers']} customers; "
                f"expected {model['expected_purchases']:,.0f} purchase days in the next {model['horizon_days']} days; {back}"
            )
        elif model:
            lines.append(f"  BG/NBD: not fitted ({model['reason']})")
    for group in result.get("groups", []):
        lines.append(
            f"  {result['by']} {group['group'] or '(none)'}: churn rate {fmt(group['churn_rate'], '.1%')}, "
            f"grr {fmt(group['grr'], '.1%')}, nrr {fmt(group['nrr'], '.1%')}, {group['at_risk_customers']} at risk"
        )
    for entry in result.get("risk_list", [])[:10]:
        lines.append(
            f"  at risk: {entry['customer_id']} {entry['name'] or ''} tier {entry['tier']}, value "
            f"{fmt(entry['value'], ',.2f')}, {entry['state']}, {entry['recency_days']} days since the last "
            f"purchase (median gap {fmt(entry['median_gap_days'], '.0f')}), rep {entry['owner_rep_id'] or '-'}"
        )
    return lines
