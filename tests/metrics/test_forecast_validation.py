"""The forecast and its back-test on the Maven CRM pipeline (a public B2B export, imported
through its example mapping): the actual amounts it is tested against are checked by an
independent route (the CSV summed in Python), and the error it reports is theirs."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from crmreview import metrics
from crmreview.periods import parse_period
from crmreview.warehouse import connect_read
from tests.conftest import VALIDATION_DATA

MAVEN = VALIDATION_DATA / "maven_crm_sales_opportunities"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MAVEN.is_dir(), reason=f"validation data not found at {MAVEN}"),
]


@pytest.fixture(scope="module")
def maven(validation_import):
    return validation_import("maven").db  # shared read-only (tests/conftest.py)


def _won_in(start: date, end: date) -> float:
    with open(MAVEN / "sales_pipeline.csv", encoding="utf-8") as handle:
        return sum(
            float(row["close_value"])
            for row in csv.DictReader(handle)
            if row["deal_stage"] == "Won" and start.isoformat() <= row["close_date"] <= end.isoformat()
        )


def test_the_backtest_runs_on_the_maven_pipeline_against_its_won_amounts(maven):
    with connect_read(maven) as con:
        result = metrics.compute(con, "forecast", parse_period("2017Q4"), by="team")
    # the data end on 2017-12-31: the quarter is over, the forecast is what was won
    assert result["period_over"] and result["expected_won"] == result["won_to_date"]
    assert result["won_to_date"] == pytest.approx(_won_in(date(2017, 10, 1), date(2017, 12, 31)))
    rows = result["backtest"]["rows"]
    # 2016Q4 and 2017Q1 have no deal closed before them (the first closes on 2017-03-01)
    assert [(r["period"], r["point"]) for r in rows] == [
        ("2017Q2", "1/3"), ("2017Q2", "2/3"), ("2017Q3", "1/3"), ("2017Q3", "2/3"),
    ]  # fmt: skip
    for row in rows:
        period = parse_period(row["period"])
        assert row["actual"] == pytest.approx(_won_in(period.start, period.end))
        assert row["low"] <= row["expected_won"] <= row["high"]
    errors = [abs(r["expected_won"] - r["actual"]) / r["actual"] for r in rows]
    assert result["backtest"]["mape"] == pytest.approx(sum(errors) / len(errors))
    assert 0 < result["backtest"]["mape"] < 0.5
    # open deals carry no amount in this export: they count at their product's mean won amount
    assert "forecast_amounts_imputed" in {w["code"] for w in result["warnings"]}
    assert "history_inferred" in {w["code"] for w in result["warnings"]}
    assert result["missing_inputs"] == ["targets", "orders"]
