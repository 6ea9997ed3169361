"""When a current-stage export was taken, and files of which nothing can be loaded.

A snapshot's date is --exported-at, else a date in the file name, else the latest date in
the rows loaded from the file: never the file's modification time (a 2017 export copied
today must not date its history today).
"""

from datetime import datetime

import pytest

from crmreview.cli import main
from crmreview.importing import ImportFileError, import_files
from tests.importing.files import rows as _rows
from tests.importing.files import write as _write

MAPPING = """
name: snap
stage_map: {Open: lead, Proposal: proposal, Won: won, Lost: lost}
feeds:
  - file: "deals*.csv"
    table: deals
    columns:
      deal_id: Id
      customer_id: Account
      stage: Stage
      amount: Amount
      created_at: Created
      closed_at: Closed
"""

HEADER = "Id,Account,Stage,Amount,Created,Closed\n"
# D1 is open and carries an expected close date in 2018 (not a closing: not a date of the
# export); line 4's 2019 date sits in a row rejected for its amount. Latest: 2017-12-15.
FIRST = HEADER + "D1,A,Open,100,2017-12-15,2018-03-31\nD2,A,Won,200,2017-02-01,2017-11-30\nD9,A,Open,lots,2019-01-01,\n"
# a week later D1 reached the proposal stage and D3 came in on 2017-12-20
SECOND = HEADER + "D1,A,Proposal,100,2017-12-15,\nD2,A,Won,200,2017-02-01,2017-11-30\nD3,A,Open,5,2017-12-20,\n"


@pytest.fixture
def mapping(tmp_path):
    return _write(tmp_path / "snap.yml", MAPPING)


def test_an_export_without_a_date_in_its_name_is_dated_by_the_latest_date_of_its_loaded_rows(tmp_path, mapping):
    db = tmp_path / "w.duckdb"
    first = _write(tmp_path / "deals.csv", FIRST)
    (result,) = import_files([first], db, mapping=mapping)
    assert (result.rows_loaded, result.rows_rejected) == (2, 1)
    assert (result.exported_at, result.exported_at_source) == (datetime(2017, 12, 15), "latest date in the file")
    assert _rows(db, "select exported_at from imports") == [(datetime(2017, 12, 15),)]
    second = _write(tmp_path / "deals_latest.csv", SECOND)
    (result,) = import_files([second], db, mapping=mapping)
    assert result.exported_at == datetime(2017, 12, 20)
    # the stage change between the two snapshots is dated at the second one, not today
    assert _rows(db, "select stage, entered_at from deal_stage_history where deal_id = 'D1' order by entered_at") == [
        ("lead", datetime(2017, 12, 15)),
        ("proposal", datetime(2017, 12, 20)),
    ]
    assert _rows(db, "select max(entered_at) from deal_stage_history") == [(datetime(2017, 12, 20),)]


def test_a_date_in_the_file_name_wins_over_the_rows_and_exported_at_wins_over_both(tmp_path, mapping):
    named = _write(tmp_path / "deals_2018-01-05.csv", FIRST)
    (result,) = import_files([named], tmp_path / "a.duckdb", mapping=mapping)
    assert (result.exported_at, result.exported_at_source) == (datetime(2018, 1, 5), "date in the file name")
    (result,) = import_files([named], tmp_path / "b.duckdb", mapping=mapping, exported_at=datetime(2018, 2, 1, 9, 30))
    assert (result.exported_at, result.exported_at_source) == (datetime(2018, 2, 1, 9, 30), "--exported-at")
    assert _rows(tmp_path / "b.duckdb", "select exported_at from imports") == [(datetime(2018, 2, 1, 9, 30),)]


def test_an_export_with_no_date_anywhere_asks_for_exported_at_and_loads_nothing(tmp_path, mapping):
    path = _write(tmp_path / "deals.csv", HEADER + "D1,A,Open,100,,\n")
    db = tmp_path / "w.duckdb"
    with pytest.raises(ImportFileError) as info:
        import_files([path], db, mapping=mapping)
    assert str(info.value) == (
        f"{path.resolve()}: cannot tell when this export was taken: its name holds no date and its rows "
        "no date either; give it with --exported-at YYYY-MM-DD"
    )
    assert not db.exists()


def test_the_import_command_prints_the_date_it_used_and_where_it_came_from(tmp_path, mapping, capsys):
    path = _write(tmp_path / "deals.csv", FIRST)
    assert main(["import", str(path), "--mapping", str(mapping), "--db", str(tmp_path / "w.duckdb")]) == 0
    assert f"{path}: exported at 2017-12-15 (latest date in the file)" in capsys.readouterr().out


def test_a_file_none_of_whose_rows_can_be_loaded_fails_the_whole_import_with_its_top_reasons(tmp_path):
    good = _write(tmp_path / "customers.csv", "customer_id,name\nC1,Ann\n")
    bad = _write(
        tmp_path / "deals.csv",
        "deal_id,customer_id,stage,outcome,amount,created_at\n"
        "D1,C1,lead,open,abc,2026-07-01\nD2,C1,lead,open,n/a,2026-07-02\nD3,C1,lead,open,5,soon\n",
    )
    db = tmp_path / "w.duckdb"
    with pytest.raises(ImportFileError) as info:
        import_files([good, bad], db)
    assert str(info.value) == (
        f"{bad.resolve()}: none of its 3 rows could be loaded; most common reasons: "
        "amount: expected an amount such as 1234.50, ¥1,234.50, 1.2万 or (300) (2 rows, first at line 2: 'abc'); "
        "created_at: expected a date such as 2025-09-09, 2025/9/9, 2025年9月9日 or an Excel date number "
        "(line 4: 'soon')"
    )
    assert not db.exists()  # the good file of the same call is not loaded either


def test_a_header_only_file_reads_no_rows_and_is_no_failure(tmp_path):
    path = _write(tmp_path / "deals.csv", "deal_id,customer_id,stage,outcome,amount,created_at\n")
    (result,) = import_files([path], tmp_path / "w.duckdb")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (0, 0, 0)
