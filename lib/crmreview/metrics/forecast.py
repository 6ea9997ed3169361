"""Forecast: will the period's number be made? Won so far, the open pipeline, what it should
still bring, the range around that, the gap to target, and how well this forecast did before.

The SQL, one question per file in ``queries/metrics/forecast/``: ``open_deals.sql`` (each deal
open at the as-of date with its probability of closing won in the period), ``stage_model.sql``
(the conversion and days to close per stage the probabilities come from), ``new_deals.sql``
(what deals not created yet should still win), ``won.sql`` (won so far, per group),
``targets.sql`` (the period's target, per group) and ``run_rate.sql``.
The stages a deal reached and when are ``deal_stages_reached`` (``queries/macros/deal_stages.sql``).

The model. The deals closed (won or lost) in the ``settings.forecast_history_periods`` periods
of the period's kind before it are the history. A deal open at the as-of date sits in its
furthest stage, entered ``a`` days earlier; of the history deals that reached that stage and
were still open ``a`` days after entering it, the share won within the days left in the period
is its probability (per pipeline when the pipelines' stage lists differ, as the funnel's).
Deals not created yet count too (``new_deals.sql``): each deal won in the history window
counts once for every day after the as-of date on which it could have been created and still
been won within the period, per day of the window. Expected won = won to date + Σ
probability × amount + the deals not created yet. The low and high ends are the 10th and 90th
percentiles of won to date + Σ amount × (1 if the deal is won) + the deals not created yet
(at their expected amount), each open deal won independently with its probability: computed
by a seeded simulation (:data:`SIMULATIONS` draws, seed :data:`SEED`; only the deals that may
or may not be won are drawn, a sure one counts in full and a hopeless one not at all), so the
same data give the same range. Up to :data:`EXACT_DEALS` such deals are each drawn; beyond
that, the :data:`EXACT_DEALS` of largest variance and each group's :data:`EXACT_PER_GROUP`
largest are, and the sum of the many small others is drawn as one normal variable of their
mean and variance per group, so the range costs the same at any size. A breakdown's groups and the whole come from the same
simulations, and the open deals and the model are computed once for both.

The back-test repeats the forecast at a third and two thirds of each of the
``settings.backtest_periods`` complete periods before this one and compares it with what those
periods finally won: ``mape`` = mean of |forecast − actual| / actual. Its points are computed
together: one query over every point (``backtest.sql``, from the same macros as the forecast's
queries) and one simulation whose draws they share.

Public names: ``forecast`` (the metric), ``BREAKDOWNS``, ``SIMULATIONS``, ``SEED``,
``EXACT_DEALS``, ``EXACT_PER_GROUP``,
``QUANTILES``, ``DEALS_LISTED``, ``history_window``, ``point_as_of``, ``outcome_range``,
``outcome_ranges``,
``stages_frame``, ``deals_frame``, ``backtest_frame``, ``groups_frame``, ``rows``, ``summary``.
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
from . import common
from .common import fmt, number, stacked_rows
from .funnel import _deals_missing, _history_inferred, _no_amounts, _no_lost_deals, pipeline_stages
from .inputs import Inputs, Inventory

__all__ = [
    "BREAKDOWNS",
    "SIMULATIONS",
    "SEED",
    "EXACT_DEALS",
    "EXACT_PER_GROUP",
    "QUANTILES",
    "DEALS_LISTED",
    "forecast",
    "history_window",
    "point_as_of",
    "outcome_range",
    "outcome_ranges",
    "stages_frame",
    "deals_frame",
    "backtest_frame",
    "groups_frame",
    "rows",
    "summary",
]

BREAKDOWNS = ("rep", "team")
#: simulated periods behind the low and high ends, and the seed that makes them repeatable
SIMULATIONS = 10_000
SEED = 20_260_930
#: the percentiles the low and high ends are
QUANTILES = (0.1, 0.9)
#: how many of the deals that matter most the result lists
DEALS_LISTED = 10
#: the forecast points of the back-test, as fractions of a period
BACKTEST_POINTS = (1, 2)


def _thin_history(inv: Inventory, result: Any, period: Period, settings: Settings) -> dict[str, Any] | None:
    history = result.get("history") or {}
    closed = history.get("closed_deals") or 0
    if not 0 < closed < settings.min_group_deals:
        return None
    return {"closed": closed, "start": history["start"], "end": history["end"], "minimum": settings.min_group_deals}


def _no_history(inv: Inventory, result: Any, period: Period, settings: Settings) -> dict[str, Any] | None:
    history = result.get("history") or {}
    if not inv.rows["deals"] or history.get("closed_deals") or not result.get("needs_model"):
        return None
    return {"start": history["start"], "end": history["end"], "period": period.label}


def _amounts_imputed(inv: Inventory, result: Any, period: Period, settings: Settings) -> dict[str, Any] | None:
    count = result.get("open_deals_imputed") or 0
    return {"deals": count} if count and not inv.missing("deals.amount") else None


def _no_comparable(inv: Inventory, result: Any, period: Period, settings: Settings) -> dict[str, Any] | None:
    count = result.get("open_deals_without_basis") or 0
    history = result.get("history") or {}
    if not count or not history.get("closed_deals"):
        return None
    return {"deals": count, "start": history["start"], "end": history["end"]}


_MONEY = ("won_to_date", "expected_won", "low", "high", "gap", "remaining", "coverage", "expected_attainment",
          "open_pipeline", "expected_from_pipeline")  # fmt: skip
_PIPELINE = ("expected_won", "low", "high", "gap", "coverage", "expected_attainment", "open_pipeline",
             "expected_from_pipeline", "open_deals")  # fmt: skip
_TARGET = ("target", "gap", "remaining", "coverage", "expected_attainment")
#: what the forecast reads and which numbers each input feeds (:mod:`crmreview.metrics.inputs`)
INPUTS = Inputs(
    reads=("deals", "deal_stage_history", "targets", "orders"),
    needs={
        "deals": (*_MONEY, "won_deals_to_date", "open_deals", "run_rate.won_to_date", "run_rate.won_projected"),
        "deals.closed_at": (*_MONEY, "won_deals_to_date", "backtest.mape", "backtest.mape_run_rate"),
        "deals.created_at": _PIPELINE,
        "deals.amount": (*_MONEY, "run_rate.won_to_date", "run_rate.won_projected", "backtest.mape",
                         "backtest.mape_run_rate"),
        "targets": _TARGET,
        "orders": ("run_rate.orders_to_date", "run_rate.orders_projected"),
    },
    warnings={
        "no_lost_deals": _no_lost_deals,
        "no_amounts": _no_amounts,
        "history_inferred": _history_inferred,
        "forecast_no_history": _no_history,
        "forecast_thin_history": _thin_history,
        "forecast_no_comparable": _no_comparable,
        "forecast_amounts_imputed": _amounts_imputed,
        "deals_missing": _deals_missing,
    },
)  # fmt: skip


# ------------------------------------------------------------------------- the pieces


def history_window(period: Period, periods: int) -> tuple[date, date]:
    """The first and last day of the ``periods`` periods of ``period``'s kind just before it."""
    if periods < 1:
        raise ValueError(f"the forecast history needs at least one period, got {periods}")
    first = period
    for _ in range(periods):
        first = first.compare("prev")
    return first.start, period.start - timedelta(days=1)


def point_as_of(period: Period, thirds: int) -> date:
    """The last day of the first ``thirds``/3 of ``period`` (days rounded half up): the
    back-test's forecast points (a 92-day quarter: its 31st and 61st day)."""
    return period.start + timedelta(days=int(period.days * thirds / 3 + 0.5) - 1)


#: deals whose draws are made at once (``SIMULATIONS`` float32 uniforms each)
_DRAW_ROWS = 512
#: the deals drawn one by one: the ``EXACT_DEALS`` of largest variance (amount² × p × (1 − p))
#: and each group's ``EXACT_PER_GROUP`` largest; the sum of a group's other deals is drawn as
#: one normal variable of the same mean and variance (see :func:`_simulated_totals`)
EXACT_DEALS = 2_000
EXACT_PER_GROUP = 50


def _drawn_one_by_one(variance: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Which deals (of ``variance``, group ``codes``) the simulation draws one by one: all of
    them up to :data:`EXACT_DEALS`, else the :data:`EXACT_DEALS` of largest variance and the
    :data:`EXACT_PER_GROUP` largest of each group (ties in deal order)."""
    count = variance.shape[0]
    if count <= EXACT_DEALS:
        return np.ones(count, dtype=bool)
    position = np.arange(count)
    keep = np.zeros(count, dtype=bool)
    keep[np.lexsort((position, -variance))[:EXACT_DEALS]] = True
    by_group = np.lexsort((position, -variance, codes))  # each group's deals, largest first
    ranked = codes[by_group]
    rank = position - np.searchsorted(ranked, ranked, side="left")
    keep[by_group[rank < EXACT_PER_GROUP]] = True
    return keep


def _add_by_group(total: np.ndarray, won: np.ndarray, amount: np.ndarray, codes: np.ndarray) -> None:
    """total[g] += Σ amount × won over the rows of group g (``won``: one row per deal)."""
    if total.shape[0] == 1:
        total[0] += amount @ won
        return
    weights = np.zeros((total.shape[0], amount.shape[0]))
    weights[codes, np.arange(amount.shape[0])] = amount
    total += weights @ won


def _simulated_totals(
    problems: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]], simulations: int, seed: int
) -> list[np.ndarray]:
    """Σ amount × won per group in each of ``simulations`` simulated periods, for each of
    ``problems`` (probabilities, amounts, group codes, number of groups): arrays of shape
    (groups, simulations).

    A deal won for sure (probability 1) adds its amount to every simulation and one that
    cannot be won adds nothing. Each deal drawn one by one (:func:`_drawn_one_by_one`: every
    deal of a problem with up to :data:`EXACT_DEALS` that may or may not be won) gets its own
    row of ``simulations`` uniforms from ``numpy.random.default_rng(seed)``, the rows in deal
    order, and is won in the simulations whose uniform lies below its probability. The other
    deals of a large problem are many, each with less variance than any drawn one: their sum
    in a group is drawn as a normal variable of the same mean (Σ amount × p) and variance
    (Σ amount² × p × (1 − p)), from ``numpy.random.default_rng([seed, 1])``, one row per group
    (the central limit theorem; with thousands of such deals its error is far below the
    simulation's own). A problem's draws are the first rows of those streams, so problems
    computed together (the back-test's points) share the draws, and each gets what it would
    get alone.
    """
    prepared = []
    for p, amount, codes, width in problems:
        sure = p >= 1
        fixed = np.bincount(codes[sure], weights=amount[sure], minlength=width).astype(float)
        uncertain = (p > 0) & (p < 1)
        p, amount, codes = p[uncertain], amount[uncertain], codes[uncertain]
        variance = amount * amount * p * (1 - p)
        drawn = _drawn_one_by_one(variance, codes)
        rest = ~drawn
        spread = None
        if rest.any():
            fixed += np.bincount(codes[rest], weights=amount[rest] * p[rest], minlength=width)
            spread = np.sqrt(np.bincount(codes[rest], weights=variance[rest], minlength=width))
        prepared.append((p[drawn].astype(np.float32), amount[drawn], codes[drawn], fixed, spread))
    totals = [np.repeat(fixed[:, None], simulations, axis=1) for *_, fixed, _ in prepared]
    longest = max((len(item[0]) for item in prepared), default=0)
    rng = np.random.default_rng(seed)
    won = np.empty((min(_DRAW_ROWS, longest), simulations))  # 1.0 where the deal is won
    for start in range(0, longest, _DRAW_ROWS):
        uniforms = rng.random((min(_DRAW_ROWS, longest - start), simulations), dtype=np.float32)
        for (p, amount, codes, *_), total in zip(prepared, totals):
            part = slice(start, start + _DRAW_ROWS)
            count = p[part].shape[0]
            if not count:
                continue
            np.less(uniforms[:count], p[part, None], out=won[:count], casting="unsafe")
            _add_by_group(total, won[:count], amount[part], codes[part])
    for (*_, spread), total in zip(prepared, totals):
        if spread is not None:
            total += spread[:, None] * np.random.default_rng([seed, 1]).standard_normal(total.shape)
    return totals


def _check_deals(p: np.ndarray, amount: np.ndarray) -> None:
    if p.shape != amount.shape:
        raise ValueError(f"outcome_range: {p.shape[0]} probabilities but {amount.shape[0]} amounts")
    if ((p < 0) | (p > 1)).any():
        raise ValueError("outcome_range: probabilities must lie between 0 and 1")


def outcome_range(
    probabilities: np.ndarray,
    amounts: np.ndarray,
    groups: np.ndarray | None = None,
    *,
    quantiles: tuple[float, ...] = QUANTILES,
    simulations: int = SIMULATIONS,
    seed: int = SEED,
) -> np.ndarray:
    """Percentiles of Σ amount × won over deals each won independently with its probability.

    ``groups`` (integer codes 0..g-1, one per deal) gives the percentiles per group too.
    Returns an array of shape (len(quantiles),) without groups, (len(quantiles), g) with them.
    A percentile is the smallest simulated total that at least that share of the simulations
    do not exceed (numpy's ``inverted_cdf``); the draws come from ``numpy.random.default_rng(seed)``,
    one row of uniforms per deal that is neither sure nor hopeless, in deal order, so the same
    deals give the same range.
    """
    return outcome_ranges([(probabilities, amounts, groups)], quantiles=quantiles, simulations=simulations, seed=seed)[
        0
    ]


def outcome_ranges(
    problems: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]],
    *,
    quantiles: tuple[float, ...] = QUANTILES,
    simulations: int = SIMULATIONS,
    seed: int = SEED,
    overall: bool = False,
) -> list[np.ndarray]:
    """:func:`outcome_range` of several sets of deals (probabilities, amounts, groups or None),
    drawn together: each result is the one :func:`outcome_range` gives alone. With
    ``overall``, a grouped result has one more column, last: the percentiles of the groups'
    sum (the whole, from the same simulations)."""
    prepared = []
    for probabilities, amounts, groups in problems:
        p = np.asarray(probabilities, dtype=float)
        amount = np.asarray(amounts, dtype=float)
        _check_deals(p, amount)
        codes = np.zeros(p.shape[0], dtype=int) if groups is None else np.asarray(groups, dtype=int)
        width = int(codes.max()) + 1 if codes.size else 1
        prepared.append((p, amount, codes, width))
    out = []
    for (*_, groups), totals in zip(problems, _simulated_totals(prepared, simulations, seed)):
        if groups is not None and overall:
            totals = np.vstack([totals, totals.sum(axis=0)])
        found = np.quantile(totals, quantiles, axis=1, method="inverted_cdf")
        out.append(found[:, 0] if groups is None else found)
    return out


def _money(value: Any) -> float | None:
    amount = number(value)
    return None if amount is None else round(amount, 2)


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _default_as_of(con: duckdb.DuckDBPyConnection, period: Period) -> tuple[date, str]:
    """The period's as-of date, or the last date the data hold when that is earlier and no
    other as-of was asked for: a period in progress is seen from where the data end."""
    if period.as_of != period.end:
        return period.as_of, "given"
    value = queries.run(con, "report/data_loaded_through", {})["loaded_through_date"].iloc[0]
    loaded = None if pd.isna(value) else pd.Timestamp(value).date()
    if loaded is not None and loaded < period.end:
        return loaded, "data_end"
    return period.as_of, "period_end"


def _keys(frame: pd.DataFrame, by: str) -> pd.Series:
    if by == "all":
        return pd.Series(["all"] * len(frame), index=frame.index, dtype=object)
    column = {"rep": "owner_rep_id", "team": "team"}[by]
    return frame[column].astype(object).where(frame[column].notna(), "")


def _won(con: duckdb.DuckDBPyConnection, period: Period, as_of: date, by: str) -> pd.DataFrame:
    params = {"period_start": period.start, "period_end": period.end, "as_of": as_of, "by": by}
    return queries.run(con, "metrics/forecast/won", params)


def _new_deals(con: duckdb.DuckDBPyConnection, period: Period, as_of: date, window: tuple[date, date], by: str):
    params = {"as_of": as_of, "period_start": period.start, "period_end": period.end, "history_start": window[0],
              "history_end": window[1], "by": by}  # fmt: skip
    return queries.run(con, "metrics/forecast/new_deals", params).set_index("group_key")


def _totals(
    deals: pd.DataFrame,
    keys: pd.Series,
    won: pd.DataFrame,
    new: pd.DataFrame,
    names: list[str],
    computable: bool,
    ranges: np.ndarray | None,
) -> dict[str, dict[str, Any]]:
    """The totals of each group in ``names`` (``keys``: each open deal's group; ``won`` and
    ``new`` by group key; ``ranges``: the simulated low and high ends, one column per name)."""
    won_keys = won.set_index("group_key")
    amounts = deals["amount_used"].fillna(0).to_numpy(dtype=float)
    expected_amounts = deals["expected_amount"].fillna(0).to_numpy(dtype=float)
    positions = {key[0]: rows for key, rows in _positions(keys).items()}
    totals = {}
    for i, name in enumerate(names):
        mine = positions.get(name, np.zeros(0, dtype=int))
        won_amount = float(won_keys.loc[name, "won_amount"]) if name in won_keys.index else 0.0
        won_count = int(won_keys.loc[name, "count_won_deals"]) if name in won_keys.index else 0
        expected_pipeline = float(expected_amounts[mine].sum()) if computable else None
        expected_new = number(new.loc[name, "expected_amount"]) if name in new.index else 0.0
        if expected_new is None or expected_pipeline is None:
            expected_pipeline = expected_new = None
        totals[name] = {
            "won_to_date": round(won_amount, 2),
            "won_deals_to_date": won_count,
            "open_deals": len(mine),
            "open_pipeline": round(float(amounts[mine].sum()), 2),
            "expected_from_pipeline": None if expected_pipeline is None else round(expected_pipeline, 2),
            "expected_from_new_deals": None if expected_new is None else round(expected_new, 2),
            "expected_won": None
            if expected_pipeline is None
            else round(won_amount + expected_pipeline + expected_new, 2),
            "low": None,
            "high": None,
        }
        if expected_pipeline is not None:
            low, high = (0.0, 0.0) if ranges is None else (ranges[0, i], ranges[1, i])
            totals[name]["low"] = round(won_amount + expected_new + float(low), 2)
            totals[name]["high"] = round(won_amount + expected_new + float(high), 2)
    return totals


def _point(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    as_of: date,
    settings: Settings,
    per_pipeline: bool,
    by: str,
) -> dict[str, Any]:
    """The forecast of ``period`` seen from the end of ``as_of``: per-deal frame, won so far,
    the model, the whole's totals (``totals``) and, when ``by`` is a breakdown, each group's
    (``groups``). The open deals and the model are computed once for both, and the whole's
    range is the groups' sum in the same simulations."""
    window = history_window(period, settings.forecast_history_periods)
    model_params = {"history_start": window[0], "history_end": window[1], "stages": list(settings.stages),
                    "per_pipeline": per_pipeline}  # fmt: skip
    deals = queries.run(
        con,
        "metrics/forecast/open_deals",
        {**model_params, "as_of": as_of, "period_start": period.start, "period_end": period.end},
    )
    model = queries.run(con, "metrics/forecast/stage_model", model_params)
    days_left = max((period.end - as_of).days, 0)
    closed_deals = int(model.loc[model["stage_rank"] == 1, "count_reached"].sum()) if len(model) else 0
    needs_model = days_left > 0
    amounts = deals["amount_used"].astype(float).to_numpy()
    p = deals["probability"].astype(float).to_numpy()
    unknown_amount = bool(np.isnan(amounts[p > 0]).any())
    computable = (not needs_model or closed_deals > 0) and not unknown_amount
    won, new = _won(con, period, as_of, "all"), _new_deals(con, period, as_of, window, "all")
    keys = _keys(deals, by)
    won_groups = _won(con, period, as_of, by) if by != "all" else won
    new_groups = _new_deals(con, period, as_of, window, by) if by != "all" else new
    names = sorted(set(keys) | set(won_groups["group_key"]) | set(new_groups.index)) if by != "all" else ["all"]
    ranges = whole_range = None
    if computable and len(deals):
        codes = keys.map({name: i for i, name in enumerate(names)}).to_numpy(dtype=int)
        found = outcome_ranges([(p, np.nan_to_num(amounts), codes if by != "all" else None)], overall=True)[0]
        if by == "all":
            whole_range = found[:, None]
        else:
            whole_range, ranges = found[:, -1:], found[:, :-1]
            ranges = np.hstack([ranges, np.zeros((ranges.shape[0], len(names) - ranges.shape[1]))])
    return {
        "as_of": as_of,
        "days_left": days_left,
        "history": {"start": window[0].isoformat(), "end": window[1].isoformat(), "closed_deals": closed_deals},
        "needs_model": needs_model,
        "deals": deals,
        "model": model,
        "totals": _totals(deals, _keys(deals, "all"), won, new, ["all"], computable, whole_range),
        "groups": _totals(deals, keys, won_groups, new_groups, names, computable, ranges) if by != "all" else {},
    }


def _targets(con: duckdb.DuckDBPyConnection, period: Period, by: str) -> dict[str, float]:
    frame = queries.run(
        con, "metrics/forecast/targets", {"period_start": period.start, "period_end": period.end, "by": by}
    )
    return {row.group_key: float(row.target_amount) for row in frame.itertuples(index=False)}


def _against_target(totals: dict[str, Any], target: float | None, over: bool) -> dict[str, Any]:
    """Target, gap (target − expected won: what is still missing beyond the forecast; below 0
    the forecast beats it), remaining (target − won to date), coverage (open pipeline /
    remaining, null once nothing remains or the period is ``over``) and expected attainment."""
    expected, won = totals["expected_won"], totals["won_to_date"]
    target = None if target is None else round(target, 2)
    remaining = None if target is None else round(target - won, 2)
    return {
        "target": target,
        "gap": None if target is None or expected is None else round(target - expected, 2),
        "remaining": remaining,
        "coverage": totals["open_pipeline"] / remaining
        if remaining is not None and remaining > 0 and not over
        else None,
        "expected_attainment": expected / target if target and expected is not None else None,
    }


def _positions(*columns: pd.Series) -> dict[Any, np.ndarray]:
    """The row positions of each value (tuple of values) of ``columns``, in row order."""
    frame = pd.DataFrame({i: column.to_numpy(dtype=object) for i, column in enumerate(columns)})
    if frame.empty:
        return {}
    found = frame.groupby(list(frame.columns), sort=False, dropna=False).indices
    return {key if isinstance(key, tuple) else (key,): rows for key, rows in found.items()}


def _stage_rows_by(deals: pd.DataFrame, keys: pd.Series, settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """The open pipeline by stage of each group of ``keys`` (one per open deal)."""
    amounts = deals["amount_used"].fillna(0).to_numpy(dtype=float)
    expected_amounts = deals["expected_amount"].fillna(0).to_numpy(dtype=float)
    positions = _positions(keys, deals["stage"])
    out: dict[str, list[dict[str, Any]]] = {}
    for key in dict.fromkeys(keys):
        rows = out.setdefault(key, [])
        for stage in settings.stages[:-1]:
            mine = positions.get((key, stage))
            if mine is None:
                continue
            amount = float(amounts[mine].sum())
            expected = float(expected_amounts[mine].sum())
            rows.append(
                {
                    "stage": stage,
                    "open_deals": len(mine),
                    "amount": round(amount, 2),
                    "expected": round(expected, 2),
                    "probability": expected / amount if amount > 0 else None,
                }
            )
    return out


def _deal_list(deals: pd.DataFrame) -> list[dict[str, Any]]:
    ranked = deals[deals["expected_amount"].fillna(0) > 0].sort_values(
        ["expected_amount", "deal_id"], ascending=[False, True], kind="stable"
    )
    return [
        {
            "deal_id": r.deal_id,
            "customer_id": _text(r.customer_id),
            "customer_name": _text(r.customer_name),
            "owner_rep_id": _text(r.owner_rep_id),
            "team": _text(r.team),
            "pipeline": r.pipeline or None,
            "stage": r.stage,
            "days_in_stage": int(r.days_in_stage),
            "amount": _money(r.amount),
            "amount_used": _money(r.amount_used),
            "amount_imputed": bool(r.is_amount_imputed),
            "probability": float(r.probability),
            "expected_amount": _money(r.expected_amount),
            "comparable_deals": int(r.count_comparable),
        }
        for r in ranked.head(DEALS_LISTED).itertuples(index=False)
    ]


def _model_rows(model: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "pipeline": r.model_pipeline or None,
            "stage": r.stage,
            "closed_deals": int(r.count_reached),
            "won": int(r.count_won),
            "conversion": float(r.conversion),
            "median_days_to_close": number(r.median_days_to_close),
            "p80_days_to_close": number(r.p80_days_to_close),
        }
        for r in model.itertuples(index=False)
    ]


def _projected(value: float | None, period: Period, elapsed: int) -> float | None:
    """``value`` reached in ``elapsed`` days of ``period``, over all its days at the same pace."""
    return None if value is None or elapsed <= 0 else round(value * period.days / elapsed, 2)


def _run_rate(con: duckdb.DuckDBPyConnection, period: Period, as_of: date) -> dict[str, Any]:
    """Won deals and net orders so far, projected over the whole period at the same daily
    pace (null before the period starts)."""
    row = queries.run(
        con, "metrics/forecast/run_rate", {"period_start": period.start, "period_end": period.end, "as_of": as_of}
    ).iloc[0]
    elapsed = int(row["days_elapsed"])
    won, orders = _money(row["won_amount"]), _money(row["order_amount"])
    return {
        "days_elapsed": elapsed,
        "days": period.days,
        "won_to_date": won,
        "won_projected": _projected(won, period, elapsed),
        "orders_to_date": orders,
        "orders_projected": _projected(orders, period, elapsed),
    }


def _backtest(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    settings: Settings,
    per_pipeline: bool,
    loaded_through: date | None,
) -> dict[str, Any]:
    """Forecasts at a third and two thirds of each complete period of the ``backtest_periods``
    before ``period`` against what it finally won. A point without a forecast (no history
    before it) and a period with nothing won or open are left out. Every point is computed
    in one query (``backtest.sql``) and their ranges in one simulation (:func:`outcome_ranges`)."""
    chain = [period]
    for _ in range(settings.backtest_periods):
        chain.append(chain[-1].compare("prev"))
    points = [
        (past, thirds, point_as_of(past, thirds), history_window(past, settings.forecast_history_periods))
        for past in reversed(chain[1:])
        if loaded_through is not None and past.end <= loaded_through
        for thirds in BACKTEST_POINTS
    ]
    out: list[dict[str, Any]] = []
    if points:
        seen = queries.run(
            con,
            "metrics/forecast/backtest",
            {
                "as_of_dates": [as_of for _, _, as_of, _ in points],
                "period_starts": [past.start for past, *_ in points],
                "period_ends": [past.end for past, *_ in points],
                "history_starts": [window[0] for *_, window in points],
                "history_ends": [window[1] for *_, window in points],
                "stages": list(settings.stages),
                "per_pipeline": per_pipeline,
            },
        )
        deals = [
            (np.asarray(row.probabilities, dtype=float), np.asarray(row.amounts_used, dtype=float))
            for row in seen.itertuples(index=False)
        ]
        # as for the forecast itself (_point): a forecast needs a model once days are left,
        # and an amount for every deal that may be won
        computable = [
            (point_as_of_date >= past.end or int(row.count_closed_deals) > 0) and not np.isnan(a[p > 0]).any()
            for (past, _, point_as_of_date, _), row, (p, a) in zip(points, seen.itertuples(index=False), deals)
        ]
        simulated = outcome_ranges([(p, np.nan_to_num(a), None) for p, a in deals])
        for (past, thirds, as_of, _), row, (p, a), ok, (low, high) in zip(
            points, seen.itertuples(index=False), deals, computable, simulated
        ):
            expected_new = number(row.expected_from_new_deals)
            if not ok or expected_new is None:
                continue
            won = float(row.won_to_date)
            expected = round(won + float(np.nan_to_num(p * a).sum()) + expected_new, 2)
            actual = round(float(row.won_in_period), 2)
            if not actual and not expected:
                continue
            if not len(p):
                low = high = 0.0
            low, high = round(won + expected_new + float(low), 2), round(won + expected_new + float(high), 2)
            elapsed = max((min(past.end, as_of) - past.start).days + 1, 0)
            run_rate = _projected(_money(won), past, elapsed)
            out.append(
                {
                    "period": past.label,
                    "point": f"{thirds}/3",
                    "as_of": as_of.isoformat(),
                    "won_to_date": round(won, 2),
                    "expected_won": expected,
                    "low": low,
                    "high": high,
                    "run_rate": run_rate,
                    "actual": actual,
                    "abs_pct_error": abs(expected - actual) / actual if actual else None,
                    "run_rate_abs_pct_error": abs(run_rate - actual) / actual
                    if actual and run_rate is not None
                    else None,
                    "within_range": low <= actual <= high,
                }
            )
    errors = [r["abs_pct_error"] for r in out if r["abs_pct_error"] is not None]
    run_errors = [r["run_rate_abs_pct_error"] for r in out if r["run_rate_abs_pct_error"] is not None]
    return {
        "periods": settings.backtest_periods,
        "rows": out,
        "mape": sum(errors) / len(errors) if errors else None,
        "mape_run_rate": sum(run_errors) / len(run_errors) if run_errors else None,
        "within_range": sum(r["within_range"] for r in out) / len(out) if out else None,
    }


# ------------------------------------------------------------------------- the metric


def forecast(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    by: str | None = None,
) -> dict[str, Any]:
    """The forecast of ``period`` as a JSON-ready dict.

    The as-of date is the period's (``--as-of``), else the last date the data hold when the
    period runs past it (``as_of_basis``: given | data_end | period_end). Keys:
    ``won_to_date`` and ``won_deals_to_date``; ``open_deals``, ``open_pipeline`` (their
    amounts, an amount-less deal at its pipeline's mean won amount) and ``stages`` (the open
    pipeline by stage); ``expected_from_pipeline`` (Σ probability × amount);
    ``expected_from_new_deals`` (deals not created yet); ``expected_won`` = won_to_date +
    expected_from_pipeline + expected_from_new_deals; ``low``/``high`` (see the module
    docstring: ``range_method``); ``target``, ``gap`` (target − expected_won), ``remaining``
    (target − won_to_date), ``coverage`` (open_pipeline / remaining), ``expected_attainment``;
    ``run_rate``; ``deals`` (the :data:`DEALS_LISTED` open deals with the largest
    probability × amount); ``model`` (conversion and days to close per stage); ``backtest``
    (``rows`` and ``mape``). With ``by`` (rep, team) ``groups`` repeat the numbers per group.
    A forecast that needs a model where no deal closed in the history window is null.
    """
    group_by = common.check_by(by, "forecast", BREAKDOWNS)
    as_of, as_of_basis = _default_as_of(con, period)
    period = period.with_as_of(as_of)
    per_pipeline = len(set(pipeline_stages(con, settings).values())) > 1
    seen = _point(con, period, as_of, settings, per_pipeline, group_by)
    whole = seen["totals"]["all"]
    deals = seen["deals"]
    targets = _targets(con, period, "all")
    loaded = queries.run(con, "report/data_loaded_through", {})["loaded_through_date"].iloc[0]
    loaded_through = None if pd.isna(loaded) else pd.Timestamp(loaded).date()
    imputed = deals["is_amount_imputed"].astype(bool) if len(deals) else pd.Series(dtype=bool)
    result: dict[str, Any] = {
        "period": period.as_dict(),
        "as_of": as_of.isoformat(),
        "as_of_basis": as_of_basis,
        "days_left": seen["days_left"],
        "period_over": seen["days_left"] == 0,
        "history": {**seen["history"], "periods": settings.forecast_history_periods, "per_pipeline": per_pipeline},
        "needs_model": seen["needs_model"],
        **whole,
        **_against_target(whole, targets.get("all"), seen["days_left"] == 0),
        "range_method": f"simulation ({SIMULATIONS:,} draws, seed {SEED}; beyond the {EXACT_DEALS:,} deals "
        "of largest variance, the others' sum as a normal variable)",
        "range_quantiles": list(QUANTILES),
        "open_deals_imputed": int(imputed.sum()),
        "open_deals_without_basis": int((~deals["has_basis"].astype(bool)).sum()) if seen["days_left"] else 0,
        "run_rate": _run_rate(con, period, as_of),
        "stages": _stage_rows_by(deals, _keys(deals, "all"), settings).get("all", []),
        "deals": _deal_list(deals),
        "model": _model_rows(seen["model"]),
        "backtest": _backtest(con, period, settings, per_pipeline, loaded_through),
    }
    if by is not None:
        group_targets = _targets(con, period, group_by)
        group_stages = _stage_rows_by(deals, _keys(deals, group_by), settings)
        names = sorted(set(seen["groups"]) | set(group_targets))
        result["by"] = by
        result["groups"] = []
        for name in names:
            totals = seen["groups"].get(name) or {
                "won_to_date": 0.0,
                "open_pipeline": 0.0,
                "won_deals_to_date": 0,
                "open_deals": 0,
                "expected_from_pipeline": 0.0 if whole["expected_won"] is not None else None,
                "expected_won": 0.0 if whole["expected_won"] is not None else None,
                "low": 0.0 if whole["low"] is not None else None,
                "high": 0.0 if whole["high"] is not None else None,
            }
            result["groups"].append(
                {
                    "group": name or None,
                    **totals,
                    **_against_target(totals, group_targets.get(name), seen["days_left"] == 0),
                    "stages": group_stages.get(name, []),
                }
            )
    return result


# ------------------------------------------------------------------------- frames and text


def stages_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The open pipeline by stage of a result (or of one group): ``stage, open_deals, amount,
    probability, expected``."""
    columns = ["stage", "open_deals", "amount", "probability", "expected"]
    return pd.DataFrame(result.get("stages") or [], columns=columns).astype(
        {"amount": "float64", "probability": "float64", "expected": "float64"}
    )


def deals_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The deals that matter most: one row per listed deal, largest probability × amount first."""
    columns = ["deal_id", "customer_id", "customer_name", "owner_rep_id", "team", "pipeline", "stage",
               "days_in_stage", "amount", "amount_used", "amount_imputed", "probability", "expected_amount",
               "comparable_deals"]  # fmt: skip
    return pd.DataFrame(result.get("deals") or [], columns=columns)


def backtest_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The back-test rows, oldest first."""
    columns = ["period", "point", "as_of", "won_to_date", "expected_won", "low", "high", "run_rate", "actual",
               "abs_pct_error", "run_rate_abs_pct_error", "within_range"]  # fmt: skip
    return pd.DataFrame((result.get("backtest") or {}).get("rows") or [], columns=columns)


def groups_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per group of a result computed with ``by``: the totals against target."""
    columns = ["group", "won_to_date", "open_deals", "open_pipeline", "expected_won", "low", "high", "target",
               "gap", "coverage", "expected_attainment"]  # fmt: skip
    rows_out = [{c: g.get(c) for c in columns} for g in result.get("groups") or []]
    frame = pd.DataFrame(rows_out, columns=columns)
    frame["group"] = frame["group"].fillna("")
    return frame.astype({c: "float64" for c in columns if c not in ("group", "open_deals")})


def rows(result: dict[str, Any]) -> pd.DataFrame:
    """One row per period (and group) and stage of the open pipeline: the ``--format csv`` /
    table body."""
    return stacked_rows(result, stages_frame)


def _money_text(value: float | None) -> str:
    return fmt(value, ",.0f")


def summary(result: dict[str, Any]) -> list[str]:
    """Plain-text lines for ``--format table``: the forecast first, then the back-test."""
    period, history = result["period"], result["history"]
    lines = [
        f"Forecast {period['label']} ({period['start']}..{period['end']}), as of {result['as_of']} "
        f"({result['days_left']} days left); open pipeline by stage:"
    ]
    lines.append(
        f"won to date {_money_text(result['won_to_date'])} ({fmt(result['won_deals_to_date'], ',.0f')} deals); "
        f"expected won {_money_text(result['expected_won'])} "
        f"(range {_money_text(result['low'])} .. {_money_text(result['high'])}, "
        f"{int(QUANTILES[0] * 100)}th-{int(QUANTILES[1] * 100)}th percentile, {result['range_method']}); "
        f"target {_money_text(result['target'])}, gap {_money_text(result['gap'])}, "
        f"coverage {fmt(result['coverage'], '.2f')}x"
    )
    run_rate = result["run_rate"]
    lines.append(
        f"run rate ({run_rate['days_elapsed']} of {run_rate['days']} days): won {_money_text(run_rate['won_projected'])}"
        f", orders {_money_text(run_rate['orders_projected'])}"
    )
    lines.append(
        f"model: {history['closed_deals']} deals closed {history['start']}..{history['end']} "
        f"({history['periods']} periods{', per pipeline' if history['per_pipeline'] else ''})"
    )
    backtest = result["backtest"]
    lines.append(
        f"back-test ({len(backtest['rows'])} forecasts at 1/3 and 2/3 of the last {backtest['periods']} periods): "
        f"MAPE {fmt(backtest['mape'], '.1%')} (run rate {fmt(backtest['mape_run_rate'], '.1%')}), "
        f"actual within the range {fmt(backtest['within_range'], '.0%')}"
    )
    for row in backtest["rows"]:
        lines.append(
            f"  {row['period']} at {row['point']} ({row['as_of']}): expected {_money_text(row['expected_won'])}, "
            f"actual {_money_text(row['actual'])}, error {fmt(row['abs_pct_error'], '.1%')}"
        )
    for group in result.get("groups", []):
        lines.append(
            f"  {result['by']} {group['group'] or '(none)'}: won {_money_text(group['won_to_date'])}, "
            f"expected {_money_text(group['expected_won'])} "
            f"({_money_text(group['low'])} .. {_money_text(group['high'])}), "
            f"target {_money_text(group['target'])}, gap {_money_text(group['gap'])}"
        )
    return lines
