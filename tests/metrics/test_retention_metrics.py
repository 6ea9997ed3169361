"""`crm-review metrics repurchase|retention|churn`: DESIGN.md keys, hand-computed values on the
ten customers of tests/sql/retention_q3 (see its case.yaml), breakdowns, comparison, bad input."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from crmreview import metrics
from crmreview.cli import main
from crmreview.importing import import_files
from crmreview.metrics.churn import churn
from crmreview.metrics.repurchase import repurchase
from crmreview.metrics.retention import retention
from crmreview.periods import parse_period
from crmreview.warehouse import connect_read
from tests.paths import SQL_CASES

CASE = SQL_CASES / "retention_q3"


@pytest.fixture(scope="module")
def q3_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("retention") / "q3.duckdb"
    import_files([CASE / "customers.csv", CASE / "reps.csv", CASE / "orders.csv"], db)
    return db


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("retention_empty")
    (folder / "orders.csv").write_text("order_id,customer_id,order_date,amount\n", encoding="utf-8")
    db = folder / "empty.duckdb"
    import_files([folder / "orders.csv"], db)
    return db


def _json(capsys, *args) -> dict:
    assert main(["metrics", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_repurchase_json_gives_the_design_keys_with_the_hand_computed_values(q3_db, capsys):
    result = _json(capsys, "repurchase", "--period", "2026Q3", "--db", str(q3_db))
    assert result["customers_purchasing"] == 7
    assert result["repeat_rate"] == pytest.approx(3 / 7)
    assert result["returning_rate"] == pytest.approx(5 / 7)
    assert result["returning_revenue_share"] == pytest.approx(1200 / 1330)
    # gaps between purchase days: K9's two orders on 09-10 are one purchase day, no gap
    assert result["median_gap_days"] == 59.0
    assert (result["net_revenue"], result["returning_revenue"], result["purchase_gaps"]) == (1330.0, 1200.0, 11)


def test_repurchase_by_tier_repeats_the_object_per_tier_and_the_groups_add_up(q3_db, capsys):
    result = _json(capsys, "repurchase", "--period", "2026Q3", "--by", "tier", "--db", str(q3_db))
    groups = {g["group"]: g for g in result["groups"]}
    assert list(groups) == ["A", "B", "C"]
    assert [groups[t]["customers_purchasing"] for t in "ABC"] == [4, 1, 2]
    assert groups["C"]["returning_revenue_share"] == pytest.approx(50 / 80)
    assert groups["B"]["median_gap_days"] == 59.0
    assert sum(g["customers_purchasing"] for g in groups.values()) == result["customers_purchasing"]
    assert sum(g["net_revenue"] for g in groups.values()) == pytest.approx(result["net_revenue"])


def test_an_as_of_date_inside_the_period_hides_the_orders_after_it(q3_db):
    with connect_read(q3_db) as con:
        result = repurchase(con, parse_period("2026Q3", as_of=date(2026, 8, 31)))
    # bought by 08-31: K1 (twice), K3, K6, K7, K10; K7's 09-01, K9's and K4's orders unseen
    assert result["customers_purchasing"] == 5
    assert result["repeat_rate"] == pytest.approx(1 / 5)
    assert result["as_of"] == "2026-08-31"


def test_churn_json_gives_states_churn_rate_grr_nrr_flows_and_the_risk_list(q3_db, capsys):
    result = _json(capsys, "churn", "--period", "2026Q3", "--db", str(q3_db))
    states = {s["state"]: (s["customers"], s["comparison_customers"]) for s in result["states"]}
    assert states == {"new": (2, 4), "reactivated": (1, 0), "active": (4, 1), "dormant": (1, 1), "churned": (1, 1)}
    assert result["churn_rate"] == pytest.approx(1 / 6)
    assert (result["start_customers"], result["churned_customers"]) == (6, 1)
    assert (result["grr"], result["nrr"]) == (pytest.approx(0.45), pytest.approx(0.85))
    assert {(f["from"], f["to"]): f["customers"] for f in result["flows"]} == {
        ("none", "new"): 2,
        ("new", "active"): 4,
        ("active", "dormant"): 1,
        ("dormant", "churned"): 1,
        ("churned", "reactivated"): 1,
    }
    assert (result["at_risk_customers"], result["at_risk_value"]) == (2, 800.0)
    first, second = result["risk_list"]
    assert (first["customer_id"], first["tier"], first["owner_rep_id"], first["rep_name"]) == (
        "K1",
        "A",
        "R1",
        "Rep One",
    )
    assert (first["recency_days"], first["median_gap_days"], first["state"]) == (51, 30.5, "active")
    assert (second["customer_id"], second["tier"], second["team"], second["value"]) == ("K8", "B", "T2", 300.0)
    # nine customers are too few for the BG/NBD model: it says so instead of guessing
    model = result["purchase_model"]
    assert model["status"] == "insufficient_data" and "too few customers" in model["reason"]
    assert first["p_alive"] is None


def test_churn_by_team_counts_each_team_and_the_groups_add_up(q3_db):
    with connect_read(q3_db) as con:
        result = churn(con, parse_period("2026Q3"), by="team", model=False)
    groups = {g["group"]: g for g in result["groups"]}
    assert set(groups) == {None, "T1", "T2"}  # K10 has no owner rep
    for state in ("new", "reactivated", "active", "dormant", "churned"):
        total = sum(next(s["customers"] for s in g["states"] if s["state"] == state) for g in groups.values())
        assert total == next(s["customers"] for s in result["states"] if s["state"] == state), state
    assert (groups["T1"]["at_risk_customers"], groups["T2"]["at_risk_customers"]) == (1, 1)
    assert groups["T1"]["churn_rate"] == pytest.approx(1 / 2)  # K1, K5 not churned at 06-30; K5 is now
    assert "purchase_model" not in result


def test_retention_json_gives_cohorts_and_revenue_retention_of_the_comparison_buyers(q3_db, capsys):
    result = _json(capsys, "retention", "--period", "2026Q3", "--db", str(q3_db))
    assert result["base_period"]["label"] == "2026Q2"
    assert (result["base_customers"], result["base_revenue"], result["retained_revenue"]) == (4, 1000.0, 450.0)
    assert (result["grr"], result["nrr"]) == (pytest.approx(0.45), pytest.approx(0.85))
    cohorts = {c["cohort"]: c for c in result["cohorts"]}
    assert list(cohorts) == ["2025-10", "2026-01", "2026-02", "2026-04", "2026-05", "2026-06", "2026-09"]
    assert cohorts["2025-10"]["is_data_start"] and not cohorts["2026-05"]["is_data_start"]
    may = cohorts["2026-05"]
    assert (may["customers"], may["revenue"]) == (2, 400.0)
    assert [m["share"] for m in may["months"]] == [1.0, 0.0, 1.0, 0.0, 0.0]
    assert [m["revenue_share"] for m in may["months"]] == [1.0, 0.0, 0.5, 0.0, 0.0]


def test_with_compare_the_comparison_and_the_change_per_state_are_added(q3_db):
    with connect_read(q3_db) as con:
        result = metrics.compute(con, "churn", parse_period("2026Q3"), compare="prev")
    assert result["comparison"]["period"]["label"] == "2026Q2"
    change = {row["state"]: row["customers"] for row in result["change"]["states"]}
    assert change == {"new": -2, "reactivated": 1, "active": 3, "dormant": 0, "churned": 0}
    assert result["change"]["churn_rate"] == pytest.approx(result["churn_rate"] - result["comparison"]["churn_rate"])


def test_year_over_year_revenue_retention_follows_the_comparison_mode(q3_db):
    with connect_read(q3_db) as con:
        result = retention(con, parse_period("2026Q3"), compare="yoy")
    # 2025Q3 had no orders: no base, no rates
    assert result["base_period"]["label"] == "2025Q3"
    assert (result["base_customers"], result["grr"], result["nrr"]) == (0, None, None)


def test_csv_and_table_output_have_one_row_per_state_cohort_cell_or_period(q3_db, capsys):
    assert main(["metrics", "churn", "--period", "2026Q3", "--db", str(q3_db), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "period,state,customers,share,comparison_customers" and len(lines) == 6
    assert main(["metrics", "repurchase", "--period", "2026Q3", "--db", str(q3_db), "--compare", "prev"]) == 0
    out = capsys.readouterr().out
    assert "2026Q3: 7 customers bought, 3 more than once" in out and "2026Q2" in out
    assert main(["metrics", "retention", "--period", "2026Q3", "--db", str(q3_db), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("period,cohort,month,cohort_customers,customers,share")


def test_an_empty_warehouse_gives_no_numbers_and_names_the_missing_orders(empty_db, capsys):
    result = _json(capsys, "churn", "--period", "2026Q3", "--db", str(empty_db))
    assert result["customers"] is None and result["churn_rate"] is None and result["grr"] is None
    assert result["risk_list"] == [] and result["flows"] == []
    assert result["purchase_model"]["status"] == "insufficient_data"
    assert result["missing_inputs"] == ["orders"]
    result = _json(capsys, "repurchase", "--period", "2026Q3", "--db", str(empty_db))
    assert result["customers_purchasing"] is None and result["repeat_rate"] is None
    assert result["missing_inputs"] == ["orders"]
    assert result["data_span"] == {"first_date": None, "last_date": None, "tables": {}}
    result = _json(capsys, "retention", "--period", "2026Q3", "--db", str(empty_db))
    assert result["cohorts"] == [] and result["nrr"] is None and result["missing_inputs"] == ["orders"]


def test_bad_arguments_fail_with_a_message_naming_them(q3_db):
    period = parse_period("2026Q3")
    with connect_read(q3_db) as con:
        with pytest.raises(ValueError, match="breakdown 'stage'"):
            repurchase(con, period, by="stage")
        with pytest.raises(ValueError, match="comparison 'last'"):
            churn(con, period, compare="last")
        with pytest.raises(ValueError, match="risk_list_length"):
            churn(con, period, risk_list_length=-1)
        with pytest.raises(ValueError, match="cohort_months"):
            retention(con, period, cohort_months=0)
    for name in ("repurchase", "retention", "churn"):
        assert set(metrics.load(name).BREAKDOWNS) == {
            "rep",
            "team",
            "channel",
            "tier",
            "region",
            "industry",
            "size_band",
            "attr:NAME",
            "tag:NAME",
        }


def test_lifecycle_thresholds_and_the_risk_factor_come_from_the_settings_file(q3_db, tmp_path, capsys):
    settings = tmp_path / "crm-review.yml"
    settings.write_text("new_days: 30\nactive_days: 60\nchurn_days: 120\nrisk_gap_factor: 1.5\n", encoding="utf-8")
    result = _json(capsys, "churn", "--period", "2026Q3", "--db", str(q3_db), "--config", str(settings))
    # at 09-30: new K4 (0 days), K9 (20); reactivated K3 (gap 318 > 120); active K1 (51), K7 (29);
    # dormant K6 (72), K10 (87); churned K5 (194), K8 (168 > 120)
    assert {s["state"]: s["customers"] for s in result["states"]} == {
        "new": 2,
        "reactivated": 1,
        "active": 2,
        "dormant": 2,
        "churned": 2,
    }
    assert result["thresholds"] == {"new_days": 30, "active_days": 60, "churn_days": 120, "risk_gap_factor": 1.5}
    # K8 has churned, so only K1 is at risk (K6: 72 <= 1.5 x 76, K10: 87 <= 1.5 x 65)
    assert [r["customer_id"] for r in result["risk_list"]] == ["K1"]
    settings.write_text("risk_gap_factor: 3\n", encoding="utf-8")
    result = _json(capsys, "churn", "--period", "2026Q3", "--db", str(q3_db), "--config", str(settings))
    assert result["at_risk_customers"] == 0  # K1: 51 <= 3 x 30.5, K8: 168 <= 3 x 59
