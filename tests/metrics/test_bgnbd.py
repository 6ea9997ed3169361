"""The BG/NBD model against the published CDNOW estimates, closed forms and simulation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crmreview.metrics import bgnbd
from tests.paths import DATA

CDNOW = DATA / "cdnow" / "cdnow_customers.csv"
PUBLISHED = (0.243, 4.414, 0.793, 2.426)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(CDNOW, comment="#")


@pytest.fixture(scope="module")
def cdnow_fit(cdnow) -> bgnbd.BgNbdFit:
    return bgnbd.fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def test_the_cdnow_fixture_is_the_papers_2357_customers_over_39_weeks(cdnow):
    assert len(cdnow) == 2357
    assert cdnow["T"].max() == pytest.approx(38.86)
    assert int(cdnow["frequency"].sum()) == 2457
    assert int(cdnow["holdout_purchases"].sum()) == 1882


def test_the_fit_on_cdnow_reproduces_the_published_parameters_and_log_likelihood(cdnow_fit):
    fit = cdnow_fit
    assert fit.converged and fit.customers == 2357
    assert tuple(round(v, 3) for v in fit.params) == PUBLISHED
    assert round(fit.log_likelihood, 1) == -9582.4


def test_the_log_likelihood_of_the_published_parameters_is_that_of_the_fit_to_one_decimal(cdnow):
    ll = bgnbd.log_likelihood(PUBLISHED, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert round(ll, 1) == -9582.4


def test_a_customer_with_two_repeat_purchases_expects_1_226_more_in_39_weeks(cdnow_fit):
    # the paper's worked example: x = 2, t_x = 30.43, T = 38.86
    expected = bgnbd.conditional_expected_purchases(cdnow_fit, 39, [2], [30.43], [38.86])
    assert round(float(expected[0]), 3) == 1.226


def test_p_alive_is_one_without_a_repeat_purchase_and_falls_as_recency_ages():
    # 1 / (1 + a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)) with the published parameters:
    # 1 / (1 + 0.793/3.426 * (43.274/34.844)^2.243) = 0.72658
    alive = bgnbd.p_alive(PUBLISHED, [0, 2, 2], [0.0, 30.43, 10.0], [38.86, 38.86, 38.86])
    assert alive[0] == 1.0
    assert alive[1] == pytest.approx(0.726579, abs=1e-6)
    assert alive[2] < alive[1]


def test_hyp2f1_matches_closed_forms_and_reference_values():
    z = np.array([0.0, 0.1, 0.5, 0.9, 0.99])
    assert bgnbd.hyp2f1(1, 1, 2, z[1:]) == pytest.approx(-np.log1p(-z[1:]) / z[1:], rel=1e-12)
    assert bgnbd.hyp2f1(0.7, 2.5, 2.5, z) == pytest.approx((1 - z) ** -0.7, rel=1e-12)
    # values of scipy.special.hyp2f1 (scipy 1.17.1), computed once outside this project
    cases = [
        ((0.5, 2.3, 1.7, 0.4), 1.4334673329427037),
        ((10.2, 12.5, 9.1, 0.77), 632173418.196189),
        ((0.24, -0.2, 3.2, 0.9), 0.9845321892105282),
        ((50.24, 52.4, 52.2, 0.5), 1521600354698229.0),
        ((0.5, 0.7, -0.4, 0.3), 0.459153917433785),  # c < 0: x = 0 with a + b < 1
        ((0.78, 0.61, -0.385, 0.6), -4.097383901091043),
    ]
    for args, value in cases:
        assert float(bgnbd.hyp2f1(*args)) == pytest.approx(value, rel=1e-11), args


def test_hyp2f1_refuses_arguments_outside_the_unit_interval_and_poles():
    with pytest.raises(ValueError, match="0 <= z < 1"):
        bgnbd.hyp2f1(1, 1, 2, 1.0)
    with pytest.raises(ValueError, match="c = 0, -1, -2"):
        bgnbd.hyp2f1(1, 1, -1.0, 0.5)


def _simulate(rng, n, params, T, horizon):
    """Histories (x, t_x, T) and holdout purchase counts drawn from the BG/NBD process."""
    r, alpha, a, b = params
    rate = rng.gamma(r, 1.0 / alpha, n)
    drop = rng.beta(a, b, n)
    now = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    x = np.zeros(n)
    t_x = np.zeros(n)
    holdout = np.zeros(n)
    while alive.any():
        now = now + rng.exponential(1.0, n) / np.maximum(rate, 1e-12)
        buying = alive & (now <= T + horizon)
        in_calibration = buying & (now <= T)
        x += in_calibration
        t_x = np.where(in_calibration, now, t_x)
        holdout += buying & (now > T)
        alive = buying & (rng.random(n) >= drop)
    return x, t_x, np.full(n, T), holdout


def test_a_fit_on_simulated_customers_recovers_the_parameters_and_predicts_the_holdout():
    rng = np.random.default_rng(2005)
    truth = (0.5, 6.0, 0.8, 2.5)
    x, t_x, T, holdout = _simulate(rng, 20_000, truth, T=52.0, horizon=26.0)
    result = bgnbd.backtest(x, t_x, T, holdout, 26.0)
    fit = result.fit
    assert fit.r == pytest.approx(0.5, rel=0.1)
    assert fit.alpha == pytest.approx(6.0, rel=0.15)
    assert fit.a == pytest.approx(0.8, rel=0.2)
    assert fit.b == pytest.approx(2.5, rel=0.25)
    assert result.predicted_purchases == pytest.approx(result.actual_purchases, rel=0.05)
    # a new customer's expected purchases over 52 weeks: the simulated mean of x
    assert bgnbd.expected_purchases(truth, 52.0) == pytest.approx(x.mean(), rel=0.05)


def test_the_cdnow_backtest_compares_39_holdout_weeks_with_the_actual_purchases(cdnow):
    result = bgnbd.backtest(cdnow["frequency"], cdnow["recency"], cdnow["T"], cdnow["holdout_purchases"], 39.0)
    assert result.customers == 2357
    assert result.actual_purchases == 1882
    # the same sum computed with scipy's hyp2f1 and optimiser outside this project: 1653.42
    assert result.predicted_purchases == pytest.approx(1653.42, abs=0.01)
    assert result.relative_error == pytest.approx(1653.42 / 1882 - 1, abs=1e-5)
    rows = {row["frequency"]: row for row in result.by_frequency}
    assert list(rows) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(row["customers"] for row in rows.values()) == 2357
    assert rows["0"]["customers"] == int((cdnow["frequency"] == 0).sum())
    zero = cdnow[cdnow["frequency"] == 0]
    assert rows["0"]["actual_mean"] == pytest.approx(zero["holdout_purchases"].mean())
    assert 0 < rows["0"]["predicted_mean"] < rows["7+"]["predicted_mean"]


def test_a_fit_refuses_too_few_customers_and_impossible_histories():
    with pytest.raises(bgnbd.FitError, match="too few customers"):
        bgnbd.fit([1, 0, 2], [3.0, 0.0, 4.0], [5.0, 5.0, 5.0])
    with pytest.raises(bgnbd.FitError, match="recency exceeds age"):
        bgnbd.fit([1], [6.0], [5.0])
    with pytest.raises(bgnbd.FitError, match="frequency has a negative value"):
        bgnbd.fit([-1], [0.0], [5.0])
    with pytest.raises(bgnbd.FitError, match="same length"):
        bgnbd.fit([1, 2], [0.0], [5.0])
    with pytest.raises(bgnbd.FitError, match="positive numbers"):
        bgnbd.p_alive((0.2, -1.0, 0.5, 2.0), [1], [1.0], [2.0])


def test_a_zero_horizon_expects_no_purchases():
    assert bgnbd.conditional_expected_purchases(PUBLISHED, 0, [3], [5.0], [9.0]).tolist() == [0.0]
    assert bgnbd.expected_purchases(PUBLISHED, 0) == 0.0
    assert math.isfinite(bgnbd.expected_purchases(PUBLISHED, 1000.0))


def test_the_fit_sums_the_log_likelihood_grouped_as_history_by_history():
    # the fit's objective groups the histories (by x, by age for x = 0, distinct ages and
    # recencies looked up); the sum must be the plain Σ weight × eq. (6) over the histories
    rng = np.random.default_rng(3)
    T = rng.integers(1, 300, 2_000) / 7
    x = rng.poisson(1.5, T.size) * (rng.random(T.size) < 0.7)
    t_x = np.where(x > 0, np.floor(rng.random(T.size) * T * 7) / 7, 0.0)
    w = rng.integers(1, 5, T.size).astype(float)
    grouped = bgnbd._Grouped(x.astype(float), t_x, T, w)
    for params in ((0.243, 4.414, 0.793, 2.426), (3.4, 17.0, 0.5, 0.9), (0.05, 0.2, 40.0, 1e4)):
        plain = float((bgnbd._log_likelihoods(params, x.astype(float), t_x, T) * w).sum())
        assert grouped.total(params) == pytest.approx(plain, rel=1e-12)
