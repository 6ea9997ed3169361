"""The forecast's range on many deals: beyond ``EXACT_DEALS`` the sum of the small deals is
drawn as a normal variable. Checked against the exact distribution of the total, computed
independently: deals of equal amount and probability sum to amount × a binomial count, whose
percentiles follow from its probabilities (log-gamma, no simulation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crmreview.metrics import forecast as fc

_lgamma = np.vectorize(math.lgamma)


def _binomial_cdf(n: int, p: float) -> np.ndarray:
    """P(count <= k) for k = 0..n of a binomial(n, p)."""
    k = np.arange(n + 1)
    log_pmf = math.lgamma(n + 1) - _lgamma(k + 1) - _lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)
    return np.cumsum(np.exp(log_pmf))


def _percentile(values: np.ndarray, cdf: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative probability reaches ``q`` (numpy's inverted_cdf)."""
    return float(values[np.searchsorted(cdf, q)])


def _binomial_percentiles(n: int, p: float, amount: float) -> list[float]:
    cdf = _binomial_cdf(n, p)
    return [amount * _percentile(np.arange(n + 1), cdf, q) for q in fc.QUANTILES]


def test_many_equal_deals_give_the_binomial_percentiles():
    n, p, amount = 50_000, 0.3, 100.0
    assert n > fc.EXACT_DEALS  # most of them are summed as one normal variable
    found = fc.outcome_range(np.full(n, p), np.full(n, amount))
    sd = amount * math.sqrt(n * p * (1 - p))  # 10,247
    # the simulation's own error at the 10th/90th percentile is about 0.017 sd
    assert found.tolist() == pytest.approx(_binomial_percentiles(n, p, amount), abs=0.06 * sd)
    # exact: 1,484,500 and 1,510,700; the same data give the same range
    assert fc.outcome_range(np.full(n, p), np.full(n, amount)).tolist() == found.tolist()


def test_a_large_deal_is_drawn_on_its_own_beside_many_small_ones():
    # one deal of 1,000,000 at p 0.5 beside 20,000 deals of 10 at p 0.5: the total is bimodal,
    # B or 1,000,000 + B with B = 10 × binomial(20,000, 0.5). Its 10th percentile is B's 20th
    # (half the mass below B's 20th percentile is 0.1), its 90th 1,000,000 + B's 80th.
    n = 20_000
    p = np.r_[np.full(n, 0.5), 0.5]
    amounts = np.r_[np.full(n, 10.0), 1_000_000.0]
    low, high = fc.outcome_range(p, amounts)
    cdf = _binomial_cdf(n, 0.5)
    exact_low = 10 * _percentile(np.arange(n + 1), cdf, 0.2)
    exact_high = 1_000_000 + 10 * _percentile(np.arange(n + 1), cdf, 0.8)
    sd = 10 * math.sqrt(n * 0.25)  # 707; a normal in place of the large deal would be off by 10^5
    assert (low, high) == pytest.approx((exact_low, exact_high), abs=0.25 * sd)


def test_each_group_and_the_whole_get_their_own_percentiles():
    # group 0: 30,000 deals of 50 at p 0.2 (mostly summed as a normal); group 1: 50 deals of
    # 1,000 at p 0.5 (all drawn: fewer than EXACT_PER_GROUP). The whole is their sum.
    n0, n1 = 30_000, 50
    p = np.r_[np.full(n0, 0.2), np.full(n1, 0.5)]
    amounts = np.r_[np.full(n0, 50.0), np.full(n1, 1000.0)]
    codes = np.r_[np.zeros(n0, dtype=int), np.ones(n1, dtype=int)]
    found = fc.outcome_ranges([(p, amounts, codes)], overall=True)[0]
    assert found.shape == (2, 3)
    sd0, sd1 = 50 * math.sqrt(n0 * 0.16), 1000 * math.sqrt(n1 * 0.25)
    assert found[:, 0].tolist() == pytest.approx(_binomial_percentiles(n0, 0.2, 50.0), abs=0.06 * sd0)
    # a count of 50 is coarse: P(count <= 29) = 0.899, so the simulated 90th percentile may be
    # 29 or 30 deals won; within one deal
    assert found[:, 1].tolist() == pytest.approx(_binomial_percentiles(n1, 0.5, 1000.0), abs=1000)
    # the whole: P(total <= x) = Σ_k P(group 1 wins k) × P(group 0 <= x − 1000 k), on a 50-wide grid
    pmf1 = np.diff(np.r_[0.0, _binomial_cdf(n1, 0.5)])
    cdf0 = _binomial_cdf(n0, 0.2)
    grid = np.arange(0, 50 * n0 + 1000 * n1 + 1, 50)
    whole = np.zeros(len(grid))
    for k in range(n1 + 1):
        shifted = np.ones(len(grid))  # P(group 0 <= x − 1000 k) on the grid
        shifted[: 20 * k] = 0
        shifted[20 * k : 20 * k + n0 + 1] = cdf0
        whole += pmf1[k] * shifted
    exact = [_percentile(grid, whole, q) for q in fc.QUANTILES]
    assert found[:, 2].tolist() == pytest.approx(exact, abs=0.06 * math.hypot(sd0, sd1))
