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
    # shares .6 .3 .1 of 1000 won; R4 gets the median .3, the others share .7: .42 .21 .07
    assert _targets(split) == {"R1": 420_000, "R2": 210_000, "R3": 70_000, "R4": 300_000}
    assert split.reps["has_basis"].tolist() == [True, True, True, False]
    assert split.history == ("2025-10-01", "2026-09-30")


def test_rounding_keeps_the_sum_exact(hand):
    split = split_target(hand, Q4, "1000500", team="T1")  # 1000 units of 1000, 500 left over
    assert _targets(split) == {"R1": Decimal("420500"), "R2": 210_000, "R3": 70_000, "R4": 300_000}
    equal = split_target(hand, Q4, 100_000, team="T1", method="equal", unit=30_000)
    # 3 units of 30,000 for 4 reps (quotas 0.75 each: the first three), 10,000 left to R1
    assert _targets(equal) == {"R1": 40_000, "R2": 30_000, "R3": 30_000, "R4": 0}
    assert sum(equal.reps["target_amount"]) == 100_000


def test_pipeline_shares_and_an_explicit_share_for_reps_without_pipeline(hand):
    with pytest.raises(TargetSplitError, match="leave nothing for the others"):
        split_target(hand, Q4, 1_000_000, team="T1", method="pipeline")  # 2 x the median 0.5
    split = split_target(hand, Q4, 1_000_000, team="T1", method="pipeline", new_rep_share=0.1)
    assert _targets(split) == {"R1": 400_000, "R2": 100_000, "R3": 100_000, "R4": 400_000}


def test_customers_carry_their_reps_target_by_tier_and_value(hand):
    split = split_target(hand, Q4, 1_000_000, team="T1", customers=True)
    rows = {
        (r.rep_id, r.customer_id if isinstance(r.customer_id, str) else None): r.target_amount
        for r in split.customers.itertuples(index=False)
    }
    # R1 420,000: A (C1 500, C2 100) weighs 2 x 1, B (C4) 1 x 0.5: A 336,000 by value, B 84,000
    assert rows[("R1", "C1")] == 280_000 and rows[("R1", "C2")] == 56_000 and rows[("R1", "C4")] == 84_000
    assert rows[("R1", "C6")] == 0  # tier C: upside
    assert rows[("R2", "C3")] == 210_000
    # R3 and R4 own no customer: their targets stay unallocated
    assert rows[("R3", None)] == 70_000 and rows[("R4", None)] == 300_000
    assert sum(split.customers["target_amount"]) == 1_000_000


def test_the_split_is_imported_into_the_targets_with_its_import_log_record(warehouse_file):
    with connect_read(warehouse_file) as con:
        split = split_target(con, Q4, 1_000_000, team="T1")
    path, result = import_split(split, warehouse_file)
    assert path.parent == warehouse_file.parent / "targets" and result.rows_loaded == 4
    with connect_read(warehouse_file) as con:
        rows = con.execute("select rep_id, target_amount from targets order by rep_id").fetchall()
        log = con.execute("select target_table, rows_read, file from imports where target_table = 'targets'").fetchall()
    assert rows == [("R1", 420_000), ("R2", 210_000), ("R3", 70_000), ("R4", 300_000)]
    assert log == [("targets", 4, str(path))]


def test_the_command_writes_a_csv_that_imports_back(warehouse_file, tmp_path, capsys):
    out, customers = tmp_path / "q4.csv", tmp_path / "q4_customers.csv"
    argv = ["targets", "split", "--period", "2026Q4", "--amount", "100万", "--team", "T1", "--db", str(warehouse_file)]
    assert main([*argv, "--out", str(out), "--customers", str(customers)]) == 0
    printed = capsys.readouterr().out
    assert "R4" in printed and "total 1,000,000.00" in printed and "R3 keeps 70,000.00 unallocated" in printed
    with open(out, encoding="utf-8-sig") as handle:
        assert list(csv.reader(handle))[:2] == [
            ["rep_id", "period_start", "period_end", "target_amount"],
            ["R1", "2026-10-01", "2026-12-31", "420000.00"],
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
