"""Which export a record comes from: an older export never overwrites a record written from a
newer one, and a deal missing from a later full snapshot is marked missing.

Each customers and deals record keeps the date of the export that wrote it (``exported_at``:
--exported-at, else a date in the file name; for a current-stage snapshot also the latest
date in the file).
"""

from datetime import datetime

import pytest

from crmreview.check import check_warehouse
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
AUGUST = HEADER + "D1,A,Proposal,100,2026-07-01,\nD2,A,Open,200,2026-07-05,\nD3,B,Open,50,2026-07-10,\n"
SEPTEMBER = HEADER + "D1,A,Won,120,2026-07-01,2026-09-12\nD2,A,Proposal,200,2026-07-05,\n"
OCTOBER = HEADER + "D1,A,Won,120,2026-07-01,2026-09-12\nD2,A,Proposal,200,2026-07-05,\nD3,B,Proposal,50,2026-07-10,\n"


@pytest.fixture
def mapping(tmp_path):
    return _write(tmp_path / "snap.yml", MAPPING)


def test_an_older_export_imported_after_a_newer_one_never_rolls_a_won_deal_back(tmp_path, mapping):
    db = tmp_path / "w.duckdb"
    september = _write(tmp_path / "deals_2026-09-30.csv", SEPTEMBER)
    august = _write(tmp_path / "deals_2026-08-31.csv", AUGUST)
    import_files([september], db, mapping=mapping)
    (result,) = import_files([august], db, mapping=mapping)
    # D1 and D2 are held from September's export; D3 is new and loads
    assert (result.rows_loaded, result.records_kept_newer) == (3, 2)
    assert _rows(
        db, "select deal_id, stage, outcome, amount::double, exported_at::date::varchar from deals order by 1"
    ) == [
        ("D1", "won", "won", 120.0, "2026-09-30"),
        ("D2", "proposal", "open", 200.0, "2026-09-30"),
        ("D3", "lead", "open", 50.0, "2026-08-31"),
    ]
    # the August snapshot takes its place in the history: proposal first, won at closing
    assert _rows(
        db, "select stage, entered_at::date::varchar from deal_stage_history where deal_id = 'D1' order by 2"
    ) == [
        ("proposal", "2026-07-01"),
        ("won", "2026-09-12"),
    ]


def test_an_older_canonical_file_leaves_newer_records_and_says_how_many(tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    newer, older = tmp_path / "new", tmp_path / "old"
    newer.mkdir()
    older.mkdir()
    header = "customer_id,name,industry\n"
    _write(newer / "customers.csv", header + "C1,Acme,retail\nC2,Beta,retail\n")
    _write(older / "customers.csv", header + "C1,Acme Old,manufacturing\nC3,Gamma,retail\n")
    assert main(["import", str(newer / "customers.csv"), "--db", str(db), "--exported-at", "2026-09-30"]) == 0
    assert main(["import", str(older / "customers.csv"), "--db", str(db), "--exported-at", "2026-06-30"]) == 0
    out = capsys.readouterr().out
    assert "1 customers kept as they were: the warehouse holds them from a newer export" in out
    assert _rows(db, "select customer_id, name, industry from customers order by 1") == [
        ("C1", "Acme", "retail"),
        ("C2", "Beta", "retail"),
        ("C3", "Gamma", "retail"),
    ]
    # an export whose date is not known overwrites, as before
    undated = tmp_path / "undated"
    undated.mkdir()
    _write(undated / "customers.csv", header + "C1,Acme Renamed,retail\n")
    (result,) = import_files([undated / "customers.csv"], db)
    assert result.records_kept_newer == 0
    assert _rows(db, "select name, exported_at from customers where customer_id = 'C1'") == [("Acme Renamed", None)]


def test_a_deal_missing_from_a_later_full_snapshot_is_marked_counted_and_listed(tmp_path, mapping, capsys):
    db = tmp_path / "w.duckdb"
    august = _write(tmp_path / "deals_2026-08-31.csv", AUGUST)
    september = _write(tmp_path / "deals_2026-09-30.csv", SEPTEMBER)
    import_files([august], db, mapping=mapping)
    assert main(["import", str(september), "--mapping", str(mapping), "--db", str(db), "--full-snapshot"]) == 0
    assert "1 deals of the warehouse are missing from this full snapshot" in capsys.readouterr().out
    assert _rows(db, "select deal_id, missing_since::date::varchar from deals order by 1") == [
        ("D1", None),
        ("D2", None),
        ("D3", "2026-09-30"),
    ]
    problems = [p for p in check_warehouse(db) if p.check == "snapshots"]
    assert [(p.table, p.rows, p.example) for p in problems] == [("deals", 1, "D3")]
    # D3 comes back in October's full snapshot: no longer missing
    october = _write(tmp_path / "deals_2026-10-31.csv", OCTOBER)
    (result,) = import_files([october], db, mapping=mapping, full_snapshot=True)
    assert result.missing_from_snapshot == 0
    assert _rows(db, "select count(*) from deals where missing_since is not null") == [(0,)]


def test_without_full_snapshot_a_deal_absent_from_an_export_is_left_alone(tmp_path, mapping):
    db = tmp_path / "w.duckdb"
    import_files([_write(tmp_path / "deals_2026-08-31.csv", AUGUST)], db, mapping=mapping)
    (result,) = import_files([_write(tmp_path / "deals_2026-09-30.csv", SEPTEMBER)], db, mapping=mapping)
    assert result.missing_from_snapshot is None
    assert _rows(db, "select count(*) from deals where missing_since is not null") == [(0,)]


def test_a_full_snapshot_needs_deals_and_their_export_date(tmp_path, mapping):
    db = tmp_path / "w.duckdb"
    customers = _write(tmp_path / "customers.csv", "customer_id,name\nC1,Acme\n")
    with pytest.raises(ImportFileError, match="--full-snapshot: none of the files feeds deals"):
        import_files([customers], db, full_snapshot=True)
    deals = _write(tmp_path / "deals.csv", "deal_id,stage,outcome\nD1,lead,open\n")
    with pytest.raises(ImportFileError, match=r"deals.csv: --full-snapshot needs to know when the export was taken"):
        import_files([deals], db, full_snapshot=True)
    (result,) = import_files([deals], db, full_snapshot=True, exported_at=datetime(2026, 9, 30))
    assert result.missing_from_snapshot == 0
