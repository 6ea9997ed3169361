"""Splitting a team target (tests/sql/targets_split/case.yaml has the deals and the tiers):
shares by history, pipeline or equally, a rep without history, largest-remainder rounding,
the customer allocation by tier, the import with its log record, the CSV that imports back,
and the errors of a bad request."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from crmreview.cli import main
from crmreview.importing import import_files
from crmreview.periods import parse_period
from crmreview.targets import (
    TargetSplitError,
    import_split,
    largest_remainder,
    parse_amount,
    split_target,
)
from crmreview.warehouse import connect_read
from tests.metrics.test_sql_cases import CASES_DIR, _load_inputs

CASE = CASES_DIR / "targets_split"
Q4 = parse_period("2026Q4")


@pytest.fixture
def hand(empty_warehouse):
    _load_inputs(empty_warehouse, CASE)
    return empty_warehouse


@pytest.fixture
def warehouse_file(tmp_path):
    db = tmp_path / "w.duckdb"
    import_files([CASE / "reps.csv", CASE / "customers.csv", CASE / "deals.csv"], db)
    return db


def _targets(split) -> dict[str, Decimal]:
    return dict(zip(split.reps["rep_id"], split.reps["target_amount"]))


def test_largest_remainder_gives_the_spare_units_to_the_largest_remainders():
    assert largest_remainder(Decimal(10), [0.46, 0.34, 0.2], Decimal(1)) == [5, 3, 2]
    assert largest_remainder(Decimal(10), [1, 1, 1], Decimal(1)) == [4, 3, 3]  # a tie: the first
    # 100.50 in units of 10: 10 units by quotas 5, 3, 2; the 0.50 below a unit to the largest
    assert largest_remainder(Decimal("100.50"), [0.5, 0.3, 0.2], Decimal(10)) == [
        Decimal("50.50"),
        Decimal(30),
        Decimal(20),
    ]
    assert largest_remainder(Decimal(7), [0, 1, 0], Decimal(1)) == [0, 7, 0]
    with pytest.raises(ValueError, match="weight above 0"):
        largest_remainder(Decimal(7), [0, 0], Decimal(1))


def test_history_shares_give_a_rep_without_history_the_median_share(hand):
    split = split_target(hand, Q4, "1,000,000", team="T1")
    # won 600, 300, 100; R4 counts with the median 300: shares 6/13, 3/13, 1/13, 3/13 (R4's is
    # the median share). In units of 1000: quotas 461.54, 230.77, 76.92, 230.77 -> 461 230 76
    # 230 (997), the 3 spare units to the largest remainders: R3 (.92), then R2 and R4 (.77)
    assert _targets(split) == {"R1": 461_000, "R2": 231_000, "R3": 77_000, "R4": 231_000}
    assert split.reps["has_basis"].tolist() == [True, True, True, False]
    assert split.history == ("2025-10-01", "2026-09-30")


def test_rounding_keeps_the_sum_exact(hand):
    split = split_target(hand, Q4, "1000500", team="T1")  # 1000 units of 1000, 500 left over
    assert _targets(split) == {"R1": Decimal("461500"), "R2": 231_000, "R3": 77_000, "R4": 231_000}
    equal = split_target(hand, Q4, 100_000, team="T1", method="equal", unit=30_000)
    # 3 units of 30,000 for 4 reps (quotas 0.75 each: the first three), 10,000 left to R1
    assert _targets(equal) == {"R1": 40_000, "R2": 30_000, "R3": 30_000, "R4": 0}
    assert sum(equal.reps["target_amount"]) == 100_000


def test_pipeline_shares_and_an_explicit_share_for_reps_without_pipeline(hand):
    # open at 09-30: R1 200, R4 200; R2 and R3 count with the median 200
    split = split_target(hand, Q4, 1_000_000, team="T1", method="pipeline")
    assert _targets(split) == {"R1": 250_000, "R2": 250_000, "R3": 250_000, "R4": 250_000}
    with pytest.raises(TargetSplitError, match="leave nothing for the others"):
        split_target(hand, Q4, 1_000_000, team="T1", method="pipeline", new_rep_share=0.5)
    split = split_target(hand, Q4, 1_000_000, team="T1", method="pipeline", new_rep_share=0.1)
    assert _targets(split) == {"R1": 400_000, "R2": 100_000, "R3": 100_000, "R4": 400_000}


def test_customers_carry_their_reps_target_by_tier_and_value(hand):
    split = split_target(hand, Q4, 1_000_000, team="T1", customers=True)
    rows = {
        (r.rep_id, r.customer_id if isinstance(r.customer_id, str) else None): r.target_amount
        for r in split.customers.itertuples(index=False)
    }
    # R1 461,000: A (C1 500, C2 100) weighs 2 x 1, B (C4) 1 x 0.5: A 368,800 by value (C1
    # 307,333.33, C2 61,466.67), B 92,200; in units of 1000 the spare one goes to C2 (.47)
    assert rows[("R1", "C1")] == 307_000 and rows[("R1", "C2")] == 62_000 and rows[("R1", "C4")] == 92_000
    assert rows[("R1", "C6")] == 0  # tier C: upside
    assert rows[("R2", "C3")] == 231_000
    # R3 and R4 own no customer: their targets stay unallocated
    assert rows[("R3", None)] == 77_000 and rows[("R4", None)] == 231_000
    assert sum(split.customers["target_amount"]) == 1_000_000


def test_the_split_is_imported_into_the_targets_with_its_import_log_record(warehouse_file):
    with connect_read(warehouse_file) as con:
        split = split_target(con, Q4, 1_000_000, team="T1")
    path, result = import_split(split, warehouse_file)
    assert path.parent == warehouse_file.parent / "targets" and result.rows_loaded == 4
    with connect_read(warehouse_file) as con:
        rows = con.execute("select rep_id, target_amount from targets order by rep_id").fetchall()
        log = con.execute("select target_table, rows_read, file from imports where target_table = 'targets'").fetchall()
    assert rows == [("R1", 461_000), ("R2", 231_000), ("R3", 77_000), ("R4", 231_000)]
    assert log == [("targets", 4, str(path))]


def test_the_command_writes_a_csv_that_imports_back(warehouse_file, tmp_path, capsys):
    out, customers = tmp_path / "q4.csv", tmp_path / "q4_customers.csv"
    argv = ["targets", "split", "--period", "2026Q4", "--amount", "100万", "--team", "T1", "--db", str(warehouse_file)]
    assert main([*argv, "--out", str(out), "--customers", str(customers)]) == 0
    printed = capsys.readouterr().out
    assert "R4" in printed and "total 1,000,000.00" in printed and "R3 keeps 77,000.00 unallocated" in printed
    with open(out, encoding="utf-8-sig") as handle:
        assert list(csv.reader(handle))[:2] == [
            ["rep_id", "period_start", "period_end", "target_amount"],
            ["R1", "2026-10-01", "2026-12-31", "461000.00"],
        ]
    (result,) = import_files([out], warehouse_file)
    assert (result.table, result.rows_loaded, result.rows_rejected) == ("targets", 4, 0)
    with open(customers, encoding="utf-8-sig") as handle:
        assert sum(float(r["target_amount"]) for r in csv.DictReader(handle)) == 1_000_000


def test_bad_requests_are_clear_errors(hand, empty_warehouse, capsys, warehouse_file):
    with pytest.raises(TargetSplitError, match=r"unknown team 'T9'.*'T1', 'T2'"):
        split_target(hand, Q4, 100, team="T9")
    with pytest.raises(TargetSplitError, match="negative"):
        parse_amount("-5")
    with pytest.raises(TargetSplitError, match="not an amount"):
        parse_amount("lots")
    assert parse_amount("¥1,234.50") == Decimal("1234.50") and parse_amount("1.2万") == 12000
    with pytest.raises(TargetSplitError, match="no rep of team 'T2' has any open pipeline"):
        split_target(hand, Q4, 100, team="T2", method="pipeline")
    hand.execute("delete from reps")
    with pytest.raises(TargetSplitError, match="holds no reps"):
        split_target(hand, Q4, 100)
    assert main(["targets", "split", "--period", "2026Q4", "--amount", "-1", "--db", str(warehouse_file)]) == 2
    assert "crm-review: error: amount -1 is negative" in capsys.readouterr().err


def test_the_split_settings_are_checked_and_change_the_split(hand, tmp_path):
    from crmreview.config import SettingsError, load_settings

    path = tmp_path / "crm-review.yml"
    path.write_text("target_tier_weights: {A: -1}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"target_tier_weights.A \(line 1\): -1 must be at least 0"):
        load_settings(path)
    path.write_text("target_rounding: 0.01\ntarget_tier_weights: {B: 1}\ntarget_history_periods: 1\n", encoding="utf-8")
    settings = load_settings(path)
    assert settings.target_tier_weights == {"A": 1.0, "B": 1.0, "C": 0.0}
    split = split_target(hand, Q4, 1000, team="T1", settings=settings)
    # one quarter of history (2026Q3): R2 300 (D3), R3 100 (D4); R1 and R4 count with the
    # median 200: 200 300 100 200 of 800, to the cent
    assert split.history == ("2026-07-01", "2026-09-30")
    assert _targets(split) == {"R1": 250, "R2": 375, "R3": 125, "R4": 250}
    split = split_target(hand, Q4, 1000, team="T1", method="equal", customers=True, settings=settings)
    rows = {r.customer_id: r.target_amount for r in split.customers.itertuples(index=False) if r.rep_id == "R1"}
    # A and B weigh alike now: R1's 250 over C1 (A 500), C2 (A 100), C4 (B 100): pools 2/3 and 1/3
    assert rows["C1"] == Decimal("138.89") and rows["C2"] == Decimal("27.78") and rows["C4"] == Decimal("83.33")
