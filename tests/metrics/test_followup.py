"""The followup metric on the hand-computed case tests/sql/followup_q2 (see its case.yaml):
cadence compliance per tier and rep, a customer never contacted, an unowned customer, pool
candidates, ownership conflicts, workload and attainment (a rep with no customers), and an
empty period."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmreview import metrics
from crmreview.cli import main
from crmreview.config import Settings
from crmreview.importing import import_files
from crmreview.metrics import MetricError
from crmreview.metrics.followup import compliance_frame, followup, reps_frame, rows, summary, teams_frame
from crmreview.periods import parse_period
from crmreview.warehouse import connect_read
from tests.paths import SQL_CASES

CASE = SQL_CASES / "followup_q2"
TABLES = ("reps", "customers", "orders", "deals", "activities", "targets")


@pytest.fixture(scope="module")
def case_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("followup") / "w.duckdb"
    import_files([CASE / f"{table}.csv" for table in TABLES], db)
    return db


@pytest.fixture(scope="module")
def result(case_db) -> dict:
    with connect_read(case_db) as con:
        return followup(con, parse_period("2026Q2"), by="rep")


def test_compliance_counts_overdue_customers_against_their_tier_cadence(result):
    assert (result["customers"], result["overdue"], result["never_contacted"]) == (7, 5, 2)
    assert result["compliance"] == pytest.approx(2 / 7)
    assert result["median_days_since_activity"] == 29.0
    assert result["cadence_days"] == {"A": 7, "B": 14, "C": 30} and result["pool_days"] == 90
    tiers = {t["tier"]: t for t in result["tiers"]}
    assert [(t["customers"], t["overdue"], t["compliance"]) for t in tiers.values()] == [
        (1, 0, 1.0),
        (1, 1, 0.0),
        (5, 4, pytest.approx(0.2)),
    ]
    assert [tiers[t]["median_days_since_activity"] for t in "ABC"] == [7.0, 15.0, 121.0]
    assert tiers["C"]["never_contacted"] == 2 and tiers["C"]["pool_candidates"] == 2


def test_compliance_per_rep_and_tier_includes_a_rep_without_customers(result):
    frame = compliance_frame(result)
    by_cell = {(r.rep_id, r.tier): (r.customers, r.overdue, r.compliance) for r in frame.itertuples()}
    assert by_cell[("R1", "A")] == (1, 0, 1.0)
    assert by_cell[("R1", "B")] == (1, 1, 0.0)
    assert by_cell[("R1", "C")] == (1, 1, 0.0)  # F7, never contacted
    assert by_cell[("R2", "C")][:2] == (3, 2)
    assert by_cell[("R3", "A")][:2] == (0, 0) and frame.query("rep_id == 'R3'")["compliance"].isna().all()
    reps = {r["rep_id"]: r for r in result["reps"]}
    assert (reps["R1"]["customers"], reps["R1"]["overdue"], reps["R1"]["compliance"]) == (3, 2, pytest.approx(1 / 3))
    assert (reps["R3"]["customers"], reps["R3"]["compliance"]) == (0, None)
    assert result["unowned_customers"] == 1  # F5
    groups = {g["group"]: g for g in result["groups"]}
    assert set(groups) == {None, "R1", "R2"}
    assert (groups[None]["customers"], groups[None]["overdue"], groups[None]["median_days_since_activity"]) == (
        1,
        1,
        166.0,
    )
    assert groups["R1"]["median_days_since_activity"] == 11.0 and groups["R2"]["median_days_since_activity"] == 75.0


def test_pool_candidates_are_owned_customers_silent_for_more_than_pool_days(result):
    assert result["pool_candidates"] == 2
    assert [
        (c["customer_id"], c["days_since_activity"], c["last_activity_date"]) for c in result["pool_candidate_list"]
    ] == [
        ("F4", 121, "2026-03-01"),
        ("F7", None, None),
    ]


def test_ownership_conflicts_are_customers_worked_by_several_reps_in_the_period(result):
    assert result["ownership_conflicts"] == 1
    assert result["ownership_conflict_list"] == [
        {
            "customer_id": "F1",
            "name": "Foxtrot One",
            "owner_rep_id": "R1",
            "tier": "A",
            "value": 800.0,
            "reps": 2,
            "rep_ids": ["R1", "R3"],
            "activities": 3,
            "other_rep_activities": 1,
        },
    ]


def test_workload_and_attainment_per_rep_and_team(result):
    reps = reps_frame(result).set_index("rep_id")
    assert reps.loc["R1", ["customers", "a_customers", "won_amount", "target_amount", "attainment"]].tolist() == [
        3,
        1,
        650.0,
        1000.0,
        0.65,
    ]  # D6 has no created_at and counts all the same
    assert reps.loc["R2", "attainment"] == 0.0
    assert reps.loc["R3", ["customers", "a_customers", "target_won_amount", "attainment"]].tolist() == [
        0,
        0,
        200.0,
        1.0,
    ]
    teams = teams_frame(result).set_index("team")
    assert teams.loc["T1", ["reps", "customers", "a_customers"]].tolist() == [2, 6, 1]
    assert teams.loc["T1", "attainment"] == pytest.approx(650 / 1500)
    assert teams.loc["T2", "attainment"] == 1.0
    assert teams.loc["T1", "compliance"] == pytest.approx(2 / 6)  # F1, F3 of R1's and R2's six
    assert (result["target_amount"], result["target_won_amount"]) == (1700.0, 850.0)
    assert result["attainment"] == pytest.approx(0.5)


def test_an_empty_period_has_no_customers_no_rates_and_reps_without_targets(case_db):
    with connect_read(case_db) as con:
        empty = followup(con, parse_period("2024Q4"))
    assert (empty["customers"], empty["overdue"], empty["compliance"]) == (0, 0, None)
    assert [t["customers"] for t in empty["tiers"]] == [0, 0, 0]
    assert empty["pool_candidate_list"] == [] and empty["ownership_conflict_list"] == []
    assert [(r["rep_id"], r["customers"], r["target_amount"], r["attainment"]) for r in empty["reps"]] == [
        ("R1", 0, None, None),
        ("R2", 0, None, None),
        ("R3", 0, None, None),
    ]
    assert empty["attainment"] is None and empty["target_amount"] is None


def test_a_stricter_cadence_and_pool_from_settings_change_who_is_overdue(case_db):
    settings = Settings(followup_cadence_days={"A": 6, "B": 20, "C": 30}, pool_days=120)
    with connect_read(case_db) as con:
        strict = followup(con, parse_period("2026Q2"), settings=settings)
    tiers = {t["tier"]: t for t in strict["tiers"]}
    assert (tiers["A"]["overdue"], tiers["B"]["overdue"]) == (1, 0)  # F1 at 7 days > 6; F2 at 15 <= 20
    assert strict["pool_candidates"] == 2  # F4 at 121 > 120, F7 never contacted and known > 120 days


def test_by_tier_and_bad_arguments(case_db):
    with connect_read(case_db) as con:
        by_tier = metrics.compute(con, "followup", parse_period("2026Q2"), by="tier", compare="prev")
        with pytest.raises(MetricError, match="cannot be broken down by 'stage'"):
            metrics.compute(con, "followup", parse_period("2026Q2"), by="stage")
        with pytest.raises(ValueError, match="list_limit"):
            followup(con, parse_period("2026Q2"), list_limit="all")
    assert [(g["group"], g["customers"], g["overdue"]) for g in by_tier["groups"]] == [
        ("A", 1, 0),
        ("B", 1, 1),
        ("C", 5, 4),
    ]
    assert "tiers" not in by_tier["groups"][0]
    assert by_tier["comparison"]["period"]["label"] == "2026Q1"
    assert "pool_candidate_list" not in by_tier["change"]


def test_rows_and_summary(result):
    frame = rows(result)
    assert frame.columns[:4].tolist() == ["period", "rep", "customers", "overdue"]
    assert frame["rep"].tolist() == ["", "R1", "R2"]
    line = summary({k: v for k, v in result.items() if k not in ("by", "groups")})[1]
    assert "7 customers, 5 overdue, compliance 28.6% (A 100%, B 0%, C 20%)" in line
    assert "2 pool candidates; 1 worked by more than one rep; target attainment 50.0%" in line


def test_the_cli_prints_followup_as_json_csv_and_a_table(case_db, capsys):
    args = ["metrics", "followup", "--period", "2026Q2", "--db", str(case_db)]
    assert main([*args, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {
        "customers",
        "overdue",
        "compliance",
        "tiers",
        "reps",
        "teams",
        "pool_candidates",
        "ownership_conflicts",
        "attainment",
    } <= set(out)
    assert out["reps"][2]["rep_id"] == "R3" and out["reps"][2]["attainment"] == 1.0
    assert main([*args, "--format", "csv"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("period,rep_id,name,team,customers,a_customers,overdue,compliance")
    assert main(args) == 0
    assert "Follow-up 2026Q2 as of 2026-06-30" in capsys.readouterr().out
