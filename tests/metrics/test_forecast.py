"""The forecast on hand-computed deals (tests/sql/forecast_q3/case.yaml has the arithmetic),
its simulated range, an empty pipeline, a period already over, a period without history, the
back-test, and the imported sample."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest

from crmreview import metrics
from crmreview.config import DEFAULT_SETTINGS
from crmreview.metrics import forecast as fc
from crmreview.periods import parse_period, quarter
from crmreview.warehouse import connect_read
from tests.metrics.test_sql_cases import CASES_DIR, _load_inputs


@pytest.fixture
def hand(empty_warehouse):
    _load_inputs(empty_warehouse, CASES_DIR / "forecast_q3")
    return empty_warehouse


#: one back-test period keeps these cases quick; the back-test case itself uses the default four
QUICK = dataclasses.replace(DEFAULT_SETTINGS, backtest_periods=1)


def _forecast(con, period="2026Q3", as_of=None, settings=QUICK, **options):
    return metrics.compute(con, "forecast", parse_period(period, as_of=as_of), settings=settings, **options)


def test_the_forecast_adds_won_to_date_and_probability_times_amount_of_the_open_deals(hand):
    result = _forecast(hand, as_of=date(2026, 9, 10))
    assert result["as_of"] == "2026-09-10" and result["as_of_basis"] == "given" and result["days_left"] == 20
    assert result["won_to_date"] == 700 and result["won_deals_to_date"] == 1
    assert result["open_deals"] == 5 and result["open_pipeline"] == 1000 + 600 + 2000 + 200 + 999
    assert result["expected_from_pipeline"] == pytest.approx(250 + 400 + 50)
    assert result["expected_from_new_deals"] == 0  # no deal was won within 20 days of its creation
    assert result["expected_won"] == pytest.approx(1400)
    # outcomes of O1 (0.25 x 1000), O2 (2/3 x 600), O4 (0.25 x 200): P(0) = 0.1875 >= 0.1;
    # P(<= 1200) = 0.8333 < 0.9 <= P(<= 1600) = 0.9583
    assert (result["low"], result["high"]) == (700, 700 + 1600)
    # targets 2000 (R1) + 1830 x 92 / 183 (R2, half a year) = 2920
    assert result["target"] == pytest.approx(2920)
    assert result["gap"] == pytest.approx(2920 - 1400)
    assert result["remaining"] == pytest.approx(2920 - 700)
    assert result["coverage"] == pytest.approx(4799 / 2220)
    assert result["open_deals_imputed"] == 1 and result["open_deals_without_basis"] == 1
    assert result["history"] == {
        "start": "2025-07-01", "end": "2026-06-30", "closed_deals": 5, "periods": 4, "per_pipeline": False,
    }  # fmt: skip
    assert [(s["stage"], s["open_deals"], s["amount"], s["expected"]) for s in result["stages"]] == [
        ("lead", 2, 1599, 400),
        ("qualified", 1, 2000, 0),
        ("proposal", 2, 1200, 300),
    ]
    assert [(d["deal_id"], d["probability"], d["expected_amount"]) for d in result["deals"]] == [
        ("O2", pytest.approx(2 / 3), 400),
        ("O1", 0.25, 250),
        ("O4", 0.25, 50),
    ]
    assert result["deals"][2]["amount"] is None and result["deals"][2]["amount_used"] == 200
    assert result["run_rate"]["won_projected"] == pytest.approx(700 * 92 / 72, abs=0.01)
    assert result["run_rate"]["orders_to_date"] is None
    codes = {w["code"] for w in result["warnings"]}
    assert {"forecast_amounts_imputed", "forecast_no_comparable", "forecast_thin_history"} <= codes
    assert "run_rate.orders_projected" not in result["missing_inputs"] and "orders" in result["missing_inputs"]


def test_groups_split_the_forecast_per_rep_with_their_own_range_and_target(hand):
    result = _forecast(hand, as_of=date(2026, 9, 10), by="rep")
    groups = {g["group"]: g for g in result["groups"]}
    assert set(groups) == {"R1", "R2"}
    one, two = groups["R1"], groups["R2"]
    assert (one["won_to_date"], one["expected_won"], one["low"], one["high"]) == (700, 1350, 700, 2300)
    assert (one["target"], one["gap"]) == (2000, 650)
    assert (two["won_to_date"], two["expected_won"], two["low"], two["high"]) == (0, 50, 0, 200)
    assert two["target"] == 920 and two["coverage"] == pytest.approx(3199 / 920)
    teams = {g["group"]: g["target"] for g in _forecast(hand, as_of=date(2026, 9, 10), by="team")["groups"]}
    assert teams == {"T1": 2000, "T2": 920}


def test_a_period_already_over_expects_exactly_what_was_won(hand):
    july = _forecast(hand, period="2026-07")  # the data run to 09-20: July is over
    assert (july["as_of"], july["as_of_basis"], july["period_over"]) == ("2026-07-31", "period_end", True)
    assert july["won_to_date"] == july["expected_won"] == july["low"] == july["high"] == 700
    assert july["open_deals"] == 2 and july["deals"] == []  # O3, and L1 (lost 08-01)
    # a quarter's target counts for its days in July: 2000 x 31 / 92 + 1830 x 31 / 183
    assert july["target"] == pytest.approx(2000 * 31 / 92 + 1830 * 31 / 183, abs=0.01)
    assert july["coverage"] is None
    later = _forecast(hand, as_of=date(2026, 10, 15))
    assert later["days_left"] == 0 and later["won_to_date"] == 1699
    assert later["expected_won"] == later["low"] == later["high"] == 1699
    assert later["gap"] == pytest.approx(2920 - 1699)


def test_a_period_in_progress_is_seen_from_the_last_date_of_the_data(hand):
    result = _forecast(hand)  # the data end with W2 won on 09-20
    assert (result["as_of"], result["as_of_basis"], result["days_left"]) == ("2026-09-20", "data_end", 10)
    assert result["won_to_date"] == 1699


def test_an_empty_pipeline_expects_the_won_amount_with_no_range(hand):
    hand.execute("delete from deals where outcome = 'open' or deal_id = 'W2'")
    result = _forecast(hand, as_of=date(2026, 9, 10))
    assert result["open_deals"] == 0 and result["open_pipeline"] == 0
    assert result["expected_won"] == result["low"] == result["high"] == 700
    assert result["deals"] == [] and result["stages"] == []


def test_without_deals_closed_before_the_period_there_is_no_forecast(hand):
    result = _forecast(hand, period="2026Q1", as_of=date(2026, 1, 30))
    assert result["history"]["closed_deals"] == 0 and result["open_deals"] == 1
    assert result["expected_won"] is None and result["low"] is None and result["gap"] is None
    assert "forecast_no_history" in {w["code"] for w in result["warnings"]}


def test_the_backtest_forecasts_at_a_third_and_two_thirds_of_past_periods(hand):
    backtest = _forecast(hand, as_of=date(2026, 9, 10), settings=DEFAULT_SETTINGS)["backtest"]
    # 2026Q2 only: Q1 has no history before it, 2025Q3/Q4 nothing won or open.
    # 04-30: H4 in proposal 19 days, H1 and H2 closed won after more -> p 1, 200; deals still
    #   to be created: H1 (100, won in 30 days) fits 31 of the 61 days left, over the 304 days
    #   of the window it is counted in -> 3100 / 304; actual 200
    # 05-31: won 200 (H4); O3 in lead 30 days, only H2 (won at 50) was open longer -> p 1, 2000
    assert [(r["period"], r["point"], r["as_of"], r["expected_won"], r["actual"]) for r in backtest["rows"]] == [
        ("2026Q2", "1/3", "2026-04-30", round(200 + 3100 / 304, 2), 200),
        ("2026Q2", "2/3", "2026-05-31", 2200, 200),
    ]
    assert backtest["mape"] == pytest.approx((3100 / 304 / 200 + 10) / 2, abs=1e-4)
    assert backtest["within_range"] == 0
    # run rate: nothing won by 04-30 (error 1), 200 in 61 of 91 days by 05-31
    assert backtest["mape_run_rate"] == pytest.approx((1 + abs(200 * 91 / 61 - 200) / 200) / 2, abs=1e-4)


def test_the_range_is_the_percentiles_of_independent_wins():
    low, high = fc.outcome_range(np.array([0.5, 0.5]), np.array([100.0, 200.0]))
    assert (low, high) == (0, 300)  # 0, 100, 200, 300 with a quarter each
    sure = fc.outcome_range(np.array([1.0, 0.0]), np.array([100.0, 200.0]))
    assert list(sure) == [100, 100]
    grouped = fc.outcome_range(np.array([1.0, 1.0]), np.array([5.0, 7.0]), np.array([1, 0]))
    assert grouped.tolist() == [[7, 5], [7, 5]]
    with pytest.raises(ValueError, match="between 0 and 1"):
        fc.outcome_range(np.array([1.5]), np.array([1.0]))


def test_sets_of_deals_drawn_together_get_each_the_range_it_gets_alone():
    rng = np.random.default_rng(7)
    sets = [(rng.random(n) * (rng.random(n) < 0.8), rng.random(n) * 1000) for n in (700, 3, 0, 1200, 5000)]
    together = fc.outcome_ranges([(p, a, None) for p, a in sets])
    for (p, a), found in zip(sets, together):
        assert found.tolist() == fc.outcome_range(p, a).tolist()
    # a sure deal adds its amount to every simulation, a hopeless one nothing, whatever the others draw
    p, a = sets[0]
    shifted = fc.outcome_range(np.append(p, [1.0, 0.0]), np.append(a, [500.0, 900.0]))
    assert shifted.tolist() == pytest.approx((fc.outcome_range(p, a) + 500).tolist(), abs=1e-6)
    # the whole's range comes from the same simulations as the groups': two groups, the whole last
    codes = np.arange(len(p)) % 2
    grouped = fc.outcome_ranges([(p, a, codes)], overall=True)[0]
    assert grouped.shape == (2, 3)
    assert grouped[:, 2].tolist() == pytest.approx(fc.outcome_range(p, a).tolist(), abs=1e-6)


def test_the_same_data_give_the_same_range(hand):
    first, second = (_forecast(hand, as_of=date(2026, 9, 10)) for _ in range(2))
    assert (first["low"], first["high"]) == (second["low"], second["high"])


def test_forecast_points_and_history_window_follow_the_period_kind():
    q3 = quarter(2026, 7)
    assert fc.point_as_of(q3, 1) == date(2026, 7, 31) and fc.point_as_of(q3, 2) == date(2026, 8, 30)
    assert fc.history_window(q3, 4) == (date(2025, 7, 1), date(2026, 6, 30))
    assert fc.history_window(parse_period("2026-07"), 2) == (date(2026, 5, 1), date(2026, 6, 30))


def test_an_empty_warehouse_gives_nulls_and_names_the_missing_deals(empty_warehouse):
    result = _forecast(empty_warehouse)
    assert result["won_to_date"] is None and result["expected_won"] is None and result["target"] is None
    assert result["missing_inputs"][:1] == ["deals"] and result["backtest"]["rows"] == []


def test_a_breakdown_the_forecast_does_not_have_is_refused(hand):
    with pytest.raises(metrics.MetricError, match="rep, team"):
        _forecast(hand, by="channel")
    with pytest.raises(metrics.MetricError, match="no --compare"):
        metrics.compute(hand, "forecast", parse_period("2026Q3"), compare="prev")


@pytest.mark.slow
def test_the_forecast_runs_on_the_sample_with_a_backtest(imported_sample):
    sample = imported_sample(seed=7, size=1.0)
    with connect_read(sample.db) as con:
        result = _forecast(con, as_of=date(2026, 8, 15), by="team", settings=DEFAULT_SETTINGS)
    assert result["won_to_date"] > 0 and result["low"] <= result["expected_won"] <= result["high"]
    assert len(result["backtest"]["rows"]) == 8 and 0 < result["backtest"]["mape"] < 1
    assert sum(g["target"] for g in result["groups"]) == pytest.approx(result["target"])
    assert sum(g["won_to_date"] for g in result["groups"]) == pytest.approx(result["won_to_date"])
    assert sum(g["expected_won"] for g in result["groups"]) == pytest.approx(result["expected_won"])
