"""The BG/NBD model: how likely a customer still buys, and how much more they will buy.

Fader, Hardie and Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
Pareto/NBD Model", Marketing Science 24(2), 275-284. While alive, a customer buys at a
Poisson rate λ ~ Gamma(r, α); after each purchase they drop out with probability
p ~ Beta(a, b). A customer's history is summarised as

- ``frequency`` x: repeat purchases (purchase days after the first one),
- ``recency`` t_x: time from the first to the last purchase,
- ``age`` T: time from the first purchase to the end of the calibration period,

all in one time unit of the caller's choosing (the parameter α is in that unit).

The likelihood depends on a customer only through (x, t_x, T), so customers with the same
history may be passed once with their number as ``weights``: the fit, its log-likelihood and
the back-test are those of the customers one by one, at the cost of the distinct histories.

Implemented with numpy alone (no scipy): the log-likelihood of the paper's eq. (6), fitted
by Nelder-Mead on the log parameters with restarts until the optimum stops moving; the
Gauss hypergeometric function of eq. (10) summed as a series, after Euler's transformation
where that converges faster. On the CDNOW sample of the paper (2,357 customers, 39
calibration weeks) :func:`fit` gives r = 0.243, α = 4.414, a = 0.793, b = 2.426 and a
log-likelihood of -9582.4, the published values (tests/test_bgnbd.py).

Public names: ``BgNbdFit``, ``Backtest``, ``fit``, ``log_likelihood``, ``p_alive``,
``conditional_expected_purchases``, ``expected_purchases``, ``backtest``, ``hyp2f1``,
``FitError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "BgNbdFit",
    "Backtest",
    "FitError",
    "fit",
    "log_likelihood",
    "p_alive",
    "conditional_expected_purchases",
    "expected_purchases",
    "backtest",
    "hyp2f1",
]

#: parameter order everywhere: r, alpha, a, b
PARAMS = ("r", "alpha", "a", "b")
#: fewer customers than this, or fewer with a repeat purchase, is not enough to fit
MIN_CUSTOMERS = 30
MIN_REPEAT_CUSTOMERS = 10


class FitError(ValueError):
    """Data a BG/NBD fit cannot use (bad values, or too few customers to fit)."""


@dataclass(frozen=True)
class BgNbdFit:
    """Fitted BG/NBD parameters with the log-likelihood they reach on the data."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int
    evaluations: int = 0
    converged: bool = True

    @property
    def params(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.a, self.b)

    @property
    def rate_mean(self) -> float:
        """Mean purchase rate of the customers while alive, per time unit: r / α."""
        return self.r / self.alpha

    @property
    def dropout_mean(self) -> float:
        """Mean probability of dropping out after a purchase: a / (a + b)."""
        return self.a / (self.a + self.b)

    @property
    def dropout_sd(self) -> float:
        """Spread of that probability across customers (standard deviation of Beta(a, b)).
        Near 0 when a and b grow without bound: then everyone drops out alike."""
        total = self.a + self.b
        return math.sqrt(self.a * self.b / (total * total * (total + 1.0)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "log_likelihood": self.log_likelihood,
            "customers": self.customers,
            "converged": self.converged,
            "rate_mean": self.rate_mean,
            "dropout_mean": self.dropout_mean,
            "dropout_sd": self.dropout_sd,
        }


# -- input checks ----------------------------------------------------------------------


def _weights(weights, size: int) -> np.ndarray:
    """Customers per history: ones when None, else whole numbers >= 0, one per history."""
    if weights is None:
        return np.ones(size)
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size != size:
        raise FitError(f"weights has {w.size} values for {size} customer histories")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or np.any(w != np.round(w)):
        raise FitError("weights must be whole numbers of customers >= 0")
    return w


def _weighted_sum(values: np.ndarray, w: np.ndarray) -> float:
    """Σ values × w, elementwise (a BLAS dot product is no faster on these short vectors, and
    its threads stall on a busy machine)."""
    return float((values * w).sum())


def _history(frequency, recency, age) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(frequency, dtype=np.float64).ravel()
    t_x = np.asarray(recency, dtype=np.float64).ravel()
    T = np.asarray(age, dtype=np.float64).ravel()
    if not (x.shape == t_x.shape == T.shape):
        raise FitError(f"frequency, recency and age need the same length, got {x.size}, {t_x.size} and {T.size}")
    for name, values in (("frequency", x), ("recency", t_x), ("age", T)):
        if not np.all(np.isfinite(values)):
            raise FitError(f"{name} has a missing or infinite value")
        if np.any(values < 0):
            raise FitError(f"{name} has a negative value")
    if np.any(x != np.round(x)):
        raise FitError("frequency must be whole numbers of repeat purchases")
    if np.any(t_x > T + 1e-9):
        raise FitError("recency exceeds age for some customer (the last purchase after the end?)")
    return x, t_x, T


def _check_params(params) -> tuple[float, float, float, float]:
    r, alpha, a, b = (float(v) for v in params)
    if not all(math.isfinite(v) and v > 0 for v in (r, alpha, a, b)):
        raise FitError(f"BG/NBD parameters must be positive numbers, got {params!r}")
    return r, alpha, a, b


# -- likelihood --------------------------------------------------------------------------


def _log_rising(base: float, x: np.ndarray, max_x: int) -> np.ndarray:
    """log Γ(base + x) − log Γ(base) for whole x >= 0: the sum of log(base + k), k < x."""
    table = np.concatenate([[0.0], np.cumsum(np.log(base + np.arange(max_x)))])
    return table[x]


def _log_likelihoods(params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each history's log-likelihood (FHL 2005 eq. 6)."""
    r, alpha, a, b = params
    xi = x.astype(np.int64)
    max_x = int(xi.max()) if xi.size else 0
    ln_a1 = _log_rising(r, xi, max_x) + r * math.log(alpha)
    ln_a2 = _log_rising(b, xi, max_x) - _log_rising(a + b, xi, max_x)
    ln_a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_a4 = math.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x)
    tail = np.where(x > 0, np.logaddexp(ln_a3, ln_a4), ln_a3)
    return ln_a1 + ln_a2 + tail


class _Grouped:
    """Customer histories arranged for the summed log-likelihood (:meth:`total`), which a fit
    evaluates for a thousand parameter sets on the same histories.

    Only the last term of eq. (6) needs each history; the others depend on x alone and are
    summed per x. A history without repeat purchases (x = 0, so t_x = 0) adds
    −r log(α + T), summed per distinct age. The logarithms of α + T and α + t_x are taken once
    per distinct age and recency (days, at most a few hundred) and looked up per history.
    """

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray) -> None:
        xi = x.astype(np.int64)
        self.max_x = int(xi.max()) if xi.size else 0
        self.counts = np.arange(self.max_x + 1)
        self.weight_by_x = np.bincount(xi, weights=w, minlength=self.max_x + 1)
        once = xi == 0
        self.once_ages, once_index = np.unique(T[once], return_inverse=True)
        self.once_weights = np.bincount(once_index, weights=w[once], minlength=self.once_ages.size)
        repeat = ~once
        self.x, self.xi, self.w = x[repeat], xi[repeat], w[repeat]
        self.ages, self.age_index = np.unique(T[repeat], return_inverse=True)
        self.recencies, self.recency_index = np.unique(t_x[repeat], return_inverse=True)

    def total(self, params: tuple[float, float, float, float]) -> float:
        """Σ weight × log-likelihood over the histories (:func:`log_likelihood`)."""
        r, alpha, a, b = params
        per_x = (
            _log_rising(r, self.counts, self.max_x)
            + r * math.log(alpha)
            + _log_rising(b, self.counts, self.max_x)
            - _log_rising(a + b, self.counts, self.max_x)
        )
        total = _weighted_sum(per_x, self.weight_by_x) - r * _weighted_sum(
            np.log(alpha + self.once_ages), self.once_weights
        )
        if self.x.size:
            rx = r + self.x
            ln_a3 = -rx * np.log(alpha + self.ages)[self.age_index]
            with np.errstate(divide="ignore", invalid="ignore"):
                ln_b = np.log(b + np.maximum(self.counts, 1) - 1)
            ln_a4 = math.log(a) - ln_b[self.xi] - rx * np.log(alpha + self.recencies)[self.recency_index]
            total += _weighted_sum(np.logaddexp(ln_a3, ln_a4), self.w)
        return total


def log_likelihood(params, frequency, recency, age, *, weights=None) -> float:
    """The BG/NBD log-likelihood (FHL 2005 eq. 6) of ``params`` = (r, α, a, b), summed over
    customers (``weights``: customers per history, default one each)."""
    x, t_x, T = _history(frequency, recency, age)
    w = _weights(weights, x.size)
    return _weighted_sum(_log_likelihoods(_check_params(params), x, t_x, T), w)


# -- optimiser ---------------------------------------------------------------------------


def _nelder_mead(f, x0: np.ndarray, *, step: float, xtol: float, ftol: float, max_evals: int):
    """Minimise ``f`` from ``x0`` (Nelder-Mead with the standard coefficients).

    Returns (best point, best value, evaluations, converged)."""
    n = x0.size
    simplex = np.vstack([x0] + [x0 + step * np.eye(n)[i] for i in range(n)])
    values = np.array([f(p) for p in simplex])
    evals = n + 1
    while evals < max_evals:
        order = np.argsort(values, kind="stable")
        simplex, values = simplex[order], values[order]
        if np.max(np.abs(simplex[1:] - simplex[0])) <= xtol and np.max(np.abs(values[1:] - values[0])) <= ftol:
            return simplex[0], values[0], evals, True
        centroid = simplex[:-1].mean(axis=0)
        worst = simplex[-1]
        reflected = centroid + (centroid - worst)
        f_reflected = f(reflected)
        evals += 1
        if f_reflected < values[0]:
            expanded = centroid + 2.0 * (centroid - worst)
            f_expanded = f(expanded)
            evals += 1
            if f_expanded < f_reflected:
                simplex[-1], values[-1] = expanded, f_expanded
            else:
                simplex[-1], values[-1] = reflected, f_reflected
            continue
        if f_reflected < values[-2]:
            simplex[-1], values[-1] = reflected, f_reflected
            continue
        if f_reflected < values[-1]:  # outside contraction
            contracted = centroid + 0.5 * (reflected - centroid)
            f_contracted = f(contracted)
            evals += 1
            if f_contracted <= f_reflected:
                simplex[-1], values[-1] = contracted, f_contracted
                continue
        else:  # inside contraction
            contracted = centroid + 0.5 * (worst - centroid)
            f_contracted = f(contracted)
            evals += 1
            if f_contracted < values[-1]:
                simplex[-1], values[-1] = contracted, f_contracted
                continue
        simplex[1:] = simplex[0] + 0.5 * (simplex[1:] - simplex[0])  # shrink
        values[1:] = [f(p) for p in simplex[1:]]
        evals += n
    best = int(np.argmin(values))
    return simplex[best], values[best], evals, False


def fit(
    frequency,
    recency,
    age,
    *,
    weights=None,
    start: tuple[float, float, float, float] | None = None,
    max_evals: int = 20_000,
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD parameters for the customers' (frequency, recency, age)
    (``weights``: how many customers have each history; default one each).

    The search runs on log parameters (all four stay positive), restarting Nelder-Mead from
    its best point until a restart improves the log-likelihood by less than 1e-9 per
    customer. ``start`` defaults to α = the mean age, the others 1. Raises :class:`FitError`
    with fewer than ``MIN_CUSTOMERS`` customers or ``MIN_REPEAT_CUSTOMERS`` who bought twice.
    """
    x, t_x, T = _history(frequency, recency, age)
    w = _weights(weights, x.size)
    n = int(w.sum())
    repeaters = int(w[x > 0].sum())
    if n < MIN_CUSTOMERS or repeaters < MIN_REPEAT_CUSTOMERS:
        raise FitError(
            f"too few customers to fit BG/NBD: {n} customers, {repeaters} with a repeat purchase "
            f"(need {MIN_CUSTOMERS} and {MIN_REPEAT_CUSTOMERS})"
        )
    if start is None:
        start = (1.0, max(_weighted_sum(T, w) / n, 1e-3), 1.0, 1.0)
    theta = np.log(np.asarray(_check_params(start)))
    histories = _Grouped(x, t_x, T, w)  # only the parameters change between passes

    def objective(log_params: np.ndarray) -> float:
        if np.any(np.abs(log_params) > 30):
            return math.inf
        value = -histories.total(tuple(np.exp(log_params))) / n
        return value if math.isfinite(value) else math.inf

    evals_total, best_value, converged = 0, objective(theta), False
    for _ in range(12):
        theta, value, evals, converged = _nelder_mead(
            objective,
            theta,
            step=0.3,
            xtol=1e-9,
            ftol=1e-13,
            max_evals=max_evals,
        )
        evals_total += evals
        improved = best_value - value
        best_value = min(best_value, value)
        if converged and improved < 1e-9:
            break
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    return BgNbdFit(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=float(-best_value * n),
        customers=n,
        evaluations=evals_total,
        converged=bool(converged and math.isfinite(best_value)),
    )


# -- hypergeometric function -----------------------------------------------------------


def _series(a, b, c, z, *, max_terms: int = 200_000) -> np.ndarray:
    """Σ (a)_n (b)_n / ((c)_n n!) z^n, summed until the terms shrink below 1e-17 of the sum."""
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c, z)))
    total = np.ones(a.shape)
    term = np.ones(a.shape)
    active = np.ones(a.shape, dtype=bool)
    n = 0
    while active.any():
        if n >= max_terms:
            raise ArithmeticError("hypergeometric series did not converge")
        ratio = (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        term = np.where(active, term * ratio, 0.0)
        total = total + term
        active = active & ((np.abs(term) > 1e-17 * np.abs(total)) | (np.abs(ratio) >= 1.0))
        active &= term != 0.0
        n += 1
    return total


def _log_hyp2f1(a, b, c, z) -> tuple[np.ndarray, np.ndarray]:
    """log |₂F₁(a, b; c; z)| and its sign, for c not 0, −1, −2, … and 0 <= z < 1.

    Summed directly when c − a − b >= 0, else through Euler's transformation
    ₂F₁(a, b; c; z) = (1 − z)^(c−a−b) ₂F₁(c − a, c − b; c; z), whose terms fall faster.
    """
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c, z)))
    if np.any((c <= 0) & (np.abs(c - np.round(c)) < 1e-12)):
        raise ValueError("hyp2f1 is not defined for c = 0, -1, -2, ...")
    if np.any(z < 0) or np.any(z >= 1):
        raise ValueError("hyp2f1 here needs 0 <= z < 1")
    euler = (c - a - b) < 0
    log_abs = np.empty(a.shape)
    sign = np.empty(a.shape)
    if np.any(~euler):
        value = _series(a[~euler], b[~euler], c[~euler], z[~euler])
        log_abs[~euler], sign[~euler] = np.log(np.abs(value)), np.sign(value)
    if np.any(euler):
        ae, be, ce, ze = a[euler], b[euler], c[euler], z[euler]
        value = _series(ce - ae, ce - be, ce, ze)
        log_abs[euler] = np.log(np.abs(value)) + (ce - ae - be) * np.log1p(-ze)
        sign[euler] = np.sign(value)
    return log_abs, sign


def hyp2f1(a, b, c, z) -> np.ndarray:
    """The Gauss hypergeometric function ₂F₁(a, b; c; z) for c not 0, −1, −2, … and
    0 <= z < 1 (the series of its definition, after Euler's transformation when c − a − b < 0)."""
    log_abs, sign = _log_hyp2f1(a, b, c, z)
    with np.errstate(over="ignore"):
        return sign * np.exp(log_abs)


# -- predictions -------------------------------------------------------------------------


def _model(model) -> tuple[float, float, float, float]:
    if isinstance(model, BgNbdFit):
        return model.params
    return _check_params(model)


def p_alive(model, frequency, recency, age) -> np.ndarray:
    """P(a customer with this history is still alive) (Fader, Hardie and Lee 2008, note 021):
    1 / (1 + [x > 0] a / (b + x − 1) ((α + T) / (α + t_x))^(r + x))."""
    r, alpha, a, b = _model(model)
    x, t_x, T = _history(frequency, recency, age)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = (r + x) * np.log((alpha + T) / (alpha + t_x)) + np.log(a / (b + np.maximum(x, 1) - 1))
    return np.where(x > 0, np.exp(-np.logaddexp(0.0, log_odds)), 1.0)


def conditional_expected_purchases(model, t: float, frequency, recency, age) -> np.ndarray:
    """Expected purchases in the next ``t`` time units for customers with this history
    (FHL 2005 eq. 10)."""
    r, alpha, a, b = _model(model)
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"the horizon t must be a number >= 0, got {t!r}")
    x, t_x, T = _history(frequency, recency, age)
    if t == 0:
        return np.zeros(x.shape)
    z = t / (alpha + T + t)
    log_hyp, sign = _log_hyp2f1(r + x, b + x, a + b + x - 1, z)
    with np.errstate(over="ignore"):
        bracket = 1.0 - sign * np.exp(log_hyp + (r + x) * np.log((alpha + T) / (alpha + T + t)))
    with np.errstate(divide="ignore", invalid="ignore"):
        alive_odds = np.where(
            x > 0,
            a / (b + np.maximum(x, 1) - 1) * np.exp((r + x) * np.log((alpha + T) / (alpha + t_x))),
            0.0,
        )
    return (a + b + x - 1) / (a - 1) * bracket / (1.0 + alive_odds)


def expected_purchases(model, t: float) -> float:
    """Expected repeat purchases within ``t`` of a customer's first purchase (FHL 2005 eq. 7)."""
    r, alpha, a, b = _model(model)
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"the horizon t must be a number >= 0, got {t!r}")
    if t == 0:
        return 0.0
    log_hyp, sign = _log_hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1.0 - float(sign) * math.exp(float(log_hyp) + r * math.log(alpha / (alpha + t))))


# -- back-test -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Backtest:
    """A calibration/holdout back-test: fit on the calibration histories, predict each
    customer's purchases over the holdout, compare with what they did.

    ``by_frequency``: one row per calibration frequency 0 … ``top_frequency`` − 1 and a last
    row for ``top_frequency`` and more: ``frequency`` (text), ``customers``, ``actual_mean``,
    ``predicted_mean`` (purchases per customer in the holdout).
    """

    fit: BgNbdFit
    horizon: float
    customers: int
    actual_purchases: float
    predicted_purchases: float
    mean_absolute_error: float
    correlation: float | None
    by_frequency: list[dict[str, Any]] = field(default_factory=list)

    @property
    def relative_error(self) -> float | None:
        """(predicted − actual) / actual over all customers; None when nobody bought."""
        if self.actual_purchases == 0:
            return None
        return (self.predicted_purchases - self.actual_purchases) / self.actual_purchases

    def as_dict(self) -> dict[str, Any]:
        return {
            "fit": self.fit.as_dict(),
            "horizon": self.horizon,
            "customers": self.customers,
            "actual_purchases": self.actual_purchases,
            "predicted_purchases": self.predicted_purchases,
            "relative_error": self.relative_error,
            "mean_absolute_error": self.mean_absolute_error,
            "correlation": self.correlation,
            "by_frequency": self.by_frequency,
        }


def backtest(
    frequency, recency, age, holdout_purchases, horizon: float, *, top_frequency: int = 7, weights=None
) -> Backtest:
    """Fit on the calibration histories, then compare each customer's expected purchases over
    ``horizon`` with ``holdout_purchases`` (what they bought in the holdout period).
    ``weights``: how many customers have each (history, holdout purchases); default one each."""
    x, t_x, T = _history(frequency, recency, age)
    actual = np.asarray(holdout_purchases, dtype=np.float64).ravel()
    if actual.shape != x.shape:
        raise FitError(f"holdout_purchases has {actual.size} values for {x.size} customers")
    if not np.all(np.isfinite(actual)) or np.any(actual < 0):
        raise FitError("holdout_purchases must be counts >= 0")
    w = _weights(weights, x.size)
    model = fit(x, t_x, T, weights=w)
    predicted = conditional_expected_purchases(model, horizon, x, t_x, T)
    n = float(w.sum())
    correlation = None
    # the weighted Pearson correlation: each customer counted once, as np.corrcoef would
    actual_mean, predicted_mean = _weighted_sum(actual, w) / n, _weighted_sum(predicted, w) / n
    actual_dev, predicted_dev = actual - actual_mean, predicted - predicted_mean
    actual_var, predicted_var = _weighted_sum(actual_dev**2, w), _weighted_sum(predicted_dev**2, w)
    counted = w > 0
    if np.ptp(actual[counted]) > 0 and np.ptp(predicted[counted]) > 0 and actual_var > 0 and predicted_var > 0:
        correlation = _weighted_sum(actual_dev * predicted_dev, w) / math.sqrt(actual_var * predicted_var)
    rows = []
    for k in range(top_frequency + 1):
        mask = x == k if k < top_frequency else x >= k
        count = int(w[mask].sum())
        rows.append(
            {
                "frequency": str(k) if k < top_frequency else f"{k}+",
                "customers": count,
                "actual_mean": _weighted_sum(actual[mask], w[mask]) / count if count else None,
                "predicted_mean": _weighted_sum(predicted[mask], w[mask]) / count if count else None,
            }
        )
    return Backtest(
        fit=model,
        horizon=float(horizon),
        customers=int(n),
        actual_purchases=_weighted_sum(actual, w),
        predicted_purchases=_weighted_sum(predicted, w),
        mean_absolute_error=_weighted_sum(np.abs(actual - predicted), w) / n,
        correlation=correlation,
        by_frequency=rows,
    )
