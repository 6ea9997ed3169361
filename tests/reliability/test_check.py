"""crm-review check: a sound warehouse passes; each kind of damage is listed and exits 1."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from crmreview.check import check_warehouse
from crmreview.cli import main

FIXTURE = Path(__file__).resolve().parents[1] / "sql" / "funnel_q3"


def _imported(tmp_path, capsys) -> Path:
    db = tmp_path / "w.duckdb"
    assert main(["import", str(FIXTURE / "deals.csv"), str(FIXTURE / "deal_stage_history.csv"), "--db", str(db)]) == 0
    capsys.readouterr()
    return db


def test_a_freshly_imported_warehouse_passes_every_check(tmp_path, capsys):
    db = _imported(tmp_path, capsys)
    assert main(["check", "--db", str(db)]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_damage_is_listed_with_its_check_table_count_and_an_example(tmp_path, capsys):
    db = _imported(tmp_path, capsys)
    with duckdb.connect(str(db)) as con:
        first = con.execute("select deal_id from deals order by deal_id limit 1").fetchall()[0][0]
        con.execute("insert into deals select * from deals where deal_id = $d", {"d": first})
        con.execute("update deals set closed_at = created_at - interval 3 day where deal_id = $d", {"d": first})
        con.execute("insert into deal_stage_history values ('ghost', 'lead', timestamp '2026-07-01')")
        con.execute("update imports set rows_loaded = rows_loaded - 1 where import_id = 1")
        con.execute("insert into deals (deal_id, stage, outcome) values ('odd', 'negotiation', 'open')")
    found = {(p.check, p.table, p.problem): (p.rows, p.example) for p in check_warehouse(db)}
    assert found[("keys", "deals", "deal_id occurs more than once")] == (1, first)
    assert found[("durations", "deals", "closed_at is before created_at")] == (2, first)
    assert found[("references", "deal_stage_history", "deal_id not in deals")] == (1, "ghost")
    assert found[("import log", "imports", "rows_read is not rows_loaded + rows_rejected")] == (1, "1")
    assert found[("stages", "deals", "stage not in the configured funnel")] == (1, "odd")
    assert main(["check", "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert f"keys: deals: deal_id occurs more than once: 1 row (e.g. {first})" in out


def test_check_explains_its_options(capsys):
    with pytest.raises(SystemExit) as done:
        main(["check", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "--db" in out and "--config" in out and "exits with status 1" in out


def test_checking_an_sqlite_file_is_a_clear_error_without_any_download(tmp_path, capsys):
    import sqlite3

    path = tmp_path / "crm.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("create table deals (x)")
    assert main(["check", "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert "is an SQLite database, not a crm-review warehouse" in err and "extension" not in err
