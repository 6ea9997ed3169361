"""reps.email (schema migration 003): imported from canonical files, added to older
warehouses by the upgrade, hidden on masked connections."""

from __future__ import annotations

import duckdb

from crmreview import warehouse
from crmreview.importing import import_files
from crmreview.scope import Scope


def _reps(db) -> list[tuple]:
    with warehouse.connect_read(db) as con:
        return con.execute("select rep_id, name, email from reps order by rep_id").fetchall()


def test_a_canonical_reps_file_may_give_an_email_column_and_may_leave_it_out(tmp_path):
    first = tmp_path / "a" / "reps.csv"
    first.parent.mkdir()
    first.write_text("rep_id,name,team,Email\nR1,Ann,East,ann@example.com\nR2,Bo,East,\n", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    (result,) = import_files([first], db)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 2, 0)
    assert _reps(db) == [("R1", "Ann", "ann@example.com"), ("R2", "Bo", None)]
    second = tmp_path / "b" / "reps.csv"
    second.parent.mkdir()
    second.write_text("rep_id,name,team\nR3,Cy,West\n", encoding="utf-8")
    import_files([second], db)
    assert _reps(db)[-1] == ("R3", "Cy", None)


def test_the_upgrade_adds_the_column_to_a_version_2_warehouse_and_keeps_its_reps(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    warehouse._migrate(con, warehouse.migrations()[:2])
    con.execute("insert into reps (rep_id, name) values ('R1', 'Ann')")
    con.close()
    assert warehouse.upgrade(db) == (2, len(warehouse.migrations()))
    assert _reps(db) == [("R1", "Ann", None)]


def test_a_masked_connection_hides_the_addresses(tmp_path):
    path = tmp_path / "reps.csv"
    path.write_text("rep_id,name,team,email\nR1,Ann,East,ann@example.com\n", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    import_files([path], db)
    with warehouse.connect_read(db, scope=Scope(team="East"), mask_pii=True) as con:
        assert con.execute("select name, email from reps").fetchall() == [("Rep 01", None)]
    with warehouse.connect_read(db, scope=Scope(team="East")) as con:
        assert con.execute("select name, email from reps").fetchall() == [("Ann", "ann@example.com")]
