"""Repurchase, retention and churn: the SQL against an independent pandas computation
(tests/reference/retention_pandas.py) on the generated sample and on Online Retail II."""

from __future__ import annotations

import pandas as pd
import pytest

from crmreview import warehouse
from crmreview.metrics.churn import churn, purchase_model
from crmreview.metrics.repurchase import repurchase
from crmreview.metrics.retention import retention
from crmreview.periods import parse_period
from crmreview.queries import run
from tests.reference import retention_pandas as ref

THRESHOLDS = {"new_days": 90, "active_days": 90, "churn_days": 180}


def _orders_frame(con) -> pd.DataFrame:
    frame = con.sql("select order_id, customer_id, order_date, amount::double as amount from orders").df()
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame


def _customers_frame(con) -> pd.DataFrame:
    frame = con.sql("select customer_id, name, owner_rep_id, created_at from customers").df()
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    return frame


@pytest.fixture(scope="module")
def sample(imported_sample):
    with warehouse.connect_read(imported_sample(seed=7, size=0.5).db) as con:
        yield con, _orders_frame(con), _customers_frame(con)


@pytest.fixture(scope="module")
def online_retail(online_retail_warehouse):
    con = online_retail_warehouse
    return con, _orders_frame(con), _customers_frame(con)


def _check_period(con, orders, customers, label):
    period = parse_period(label)
    base = period.compare("prev")
    # repurchase
    got = repurchase(con, period)
    want = ref.repurchase(orders, period.start, period.end, period.as_of)
    for key, value in want.items():
        assert ref.close(got[key], value), (label, key, got[key], value)
    # revenue retention and cohorts
    got = retention(con, period)
    want = ref.revenue_retention(orders, base.start, base.end, period.start, period.end, period.as_of)
    for key, value in want.items():
        assert ref.close(got[key], value, 1e-7), (label, key, got[key], value)
    cells = pd.DataFrame(
        [
            {
                "cohort": c["cohort"],
                "month": m["month"],
                "cohort_customers": c["customers"],
                "customers": m["customers"],
                "revenue": m["revenue"],
            }
            for c in got["cohorts"]
            for m in c["months"]
        ],
        columns=["cohort", "month", "cohort_customers", "customers", "revenue"],
    )
    expected = ref.cohorts(orders, period.as_of, ref.month_start(period.as_of, 11))
    pd.testing.assert_frame_equal(cells, expected, check_dtype=False, atol=1e-6)
    # lifecycle, churn, flows, risk list
    got = churn(con, period, model=False, risk_list_length=10_000)
    states = ref.lifecycle(orders, period.as_of, period.start, **THRESHOLDS)
    earlier = ref.lifecycle(orders, base.as_of, base.start, **THRESHOLDS)
    assert {s["state"]: s["customers"] for s in got["states"]} == ref.state_counts(states), label
    assert {s["state"]: s["comparison_customers"] for s in got["states"]} == ref.state_counts(earlier), label
    start, churned, rate = ref.churn_rate(orders, period.start, base.start, period.as_of, **THRESHOLDS)
    assert (got["start_customers"], got["churned_customers"]) == (start, churned), label
    assert ref.close(got["churn_rate"], rate), label
    flows = ref.flows(orders, period.as_of, period.start, base.as_of, base.start, **THRESHOLDS)
    assert {(f["from"], f["to"]): f["customers"] for f in got["flows"]} == flows, label
    risk = ref.risk_list(orders, customers, period.as_of, period.start, 1.5, **THRESHOLDS)
    assert got["at_risk_customers"] == len(risk), label
    assert [r["customer_id"] for r in got["risk_list"]] == list(risk["customer_id"]), label
    assert [r["tier"] for r in got["risk_list"]] == list(risk["tier"]), label
    assert [r["value"] for r in got["risk_list"]] == pytest.approx(list(risk["value"]), abs=1e-6)
    assert [r["recency_days"] for r in got["risk_list"]] == list(risk["recency_days"]), label
    assert [r["median_gap_days"] for r in got["risk_list"]] == list(risk["median_gap_days"]), label
    assert [(r["purchases"], r["purchase_days"]) for r in got["risk_list"]] == list(
        zip(risk["purchases"], risk["purchase_days"])
    ), label
    # the BG/NBD input
    rfm = run(con, "metrics/churn/customer_rfm", {"calibration_end": base.as_of, "holdout_end": period.as_of})
    expected = ref.rfm(orders, base.as_of, period.as_of)
    pd.testing.assert_frame_equal(rfm.reset_index(drop=True), expected, check_dtype=False)
    return got


@pytest.mark.parametrize("label", ["2026Q3", "2025Q4", "2026-08"])
def test_sql_and_pandas_agree_on_the_generated_sample(sample, label):
    con, orders, customers = sample
    got = _check_period(con, orders, customers, label)
    assert got["customers"] > 300 and got["at_risk_customers"] > 10


@pytest.mark.parametrize("label", ["2010Q3", "2010-11", "2010Q1"])
def test_sql_and_pandas_agree_on_online_retail_ii(online_retail, label):
    con, orders, customers = online_retail
    got = _check_period(con, orders, customers, label)
    assert got["customers"] > 1000


def test_online_retail_ii_buyers_are_the_published_count_less_two_zero_amount_invoices(online_retail):
    # SOURCE.md: 4,314 customers have a non-cancelled invoice, 2,893 of them more than one.
    # Two of those invoices (497819 of 14103, 497843 of 14827, both 2010-02-12) sum to 0.00:
    # orders, not purchases, and those two customers have no other invoice.
    con, orders, _ = online_retail
    kept = orders[~orders["order_id"].str.startswith("C")]
    per_customer = kept.groupby("customer_id")["order_id"].nunique()
    assert (len(per_customer), int((per_customer > 1).sum())) == (4314, 2893)
    zero = kept[kept["amount"] <= 0]
    assert sorted(zero["order_id"]) == ["497819", "497843"] and (zero["amount"] == 0).all()
    # cancellations are orders (they count in revenue) but never purchases
    returns = orders[orders["order_id"].str.startswith("C")]
    assert len(returns) > 0 and (returns["amount"] <= 0).all()
    got = repurchase(con, parse_period("2009-12-01..2010-12-09"))
    assert got["customers_purchasing"] == 4312
    assert got["repeat_customers"] == 2893
    assert got["net_revenue"] == pytest.approx(float(orders["amount"].sum()), abs=0.005)


def test_the_bgnbd_fit_and_backtest_on_online_retail_ii_match_an_independent_scipy_route(online_retail):
    # calibration to 2010-08-31, holdout the 100 days to 2010-12-09. The same histories fitted
    # with scipy.optimize (Nelder-Mead, then L-BFGS-B) and predicted with scipy.special.hyp2f1
    # outside this project: r 0.77678, alpha 9.62701, a 0.0040999, b 0.61107, LL -22655.016;
    # 3,785.27 purchase days predicted against 4,794 made (the Christmas season).
    con, _, _ = online_retail
    model, _ = purchase_model(con, parse_period("2010-09-01..2010-12-09"))
    test = model["backtest"]
    assert (test["calibration_end"], test["customers"], test["actual_purchases"]) == ("2010-08-31", 3321, 4794)
    fit = test["fit"]
    assert (fit["r"], fit["alpha"]) == (pytest.approx(0.77678, abs=2e-5), pytest.approx(9.62701, abs=2e-4))
    assert (fit["a"], fit["b"]) == (pytest.approx(0.0041, abs=2e-5), pytest.approx(0.61107, abs=2e-4))
    assert fit["log_likelihood"] == pytest.approx(-22655.016, abs=1e-3)
    assert test["predicted_purchases"] == pytest.approx(3785.27, abs=0.05)
