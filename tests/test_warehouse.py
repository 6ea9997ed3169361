import subprocess
import sys

import duckdb
import pytest

from crmreview import warehouse
from crmreview.warehouse import WarehouseError, connect_read, write_session


def test_a_new_warehouse_has_every_canonical_table_at_the_latest_version(tmp_path):
    db = tmp_path / "w.duckdb"
    with write_session(db):
        pass
    with connect_read(db) as con:
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = current_database()"
            ).fetchall()
        }
        assert set(warehouse.CANONICAL_TABLES) <= tables
        assert warehouse.schema_version(con) == len(warehouse.migrations())


def test_readers_cannot_write(tmp_path):
    db = tmp_path / "w.duckdb"
    with write_session(db):
        pass
    with connect_read(db) as con, pytest.raises(duckdb.Error, match="read-only"):
        con.execute("insert into reps (rep_id) values ('R1')")


def test_a_failed_write_publishes_nothing(tmp_path):
    db = tmp_path / "w.duckdb"
    with write_session(db) as con:
        con.execute("insert into reps (rep_id) values ('R1')")
    with pytest.raises(RuntimeError), write_session(db) as con:
        con.execute("insert into reps (rep_id) values ('R2')")
        raise RuntimeError("boom")
    with connect_read(db) as con:
        assert con.execute("select list(rep_id) from reps").fetchall()[0][0] == ["R1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb", "w.duckdb.lock"]


def test_a_reader_in_another_process_does_not_block_a_write_and_keeps_its_snapshot(tmp_path):
    db = tmp_path / "w.duckdb"
    with write_session(db) as con:
        con.execute("insert into reps (rep_id) values ('R1')")
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('open', flush=True); sys.stdin.readline(); "
            "print(c.execute('select count(*) from reps').fetchall()[0][0], flush=True)",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "open"
        with write_session(db, wait_seconds=5) as con:
            con.execute("insert into reps (rep_id) values ('R2')")
        out, _ = reader.communicate("go\n", timeout=30)
    finally:
        reader.kill()
    assert out.strip() == "1"
    with connect_read(db) as con:
        assert con.execute("select count(*) from reps").fetchall()[0][0] == 2


def test_a_reader_opened_after_a_write_in_the_same_process_sees_it(tmp_path):
    db = tmp_path / "w.duckdb"
    with write_session(db) as con:
        con.execute("insert into reps (rep_id) values ('R1')")
    with connect_read(db) as old:
        with write_session(db) as con:
            con.execute("insert into reps (rep_id) values ('R2')")
        with connect_read(db) as new:
            assert new.execute("select count(*) from reps").fetchall()[0][0] == 2
        assert old.execute("select count(*) from reps").fetchall()[0][0] == 1


def test_an_older_warehouse_is_upgraded_by_the_next_write(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    v1 = warehouse.migrations()
    with write_session(db):
        pass
    v2 = [*v1, warehouse.Migration(len(v1) + 1, "add_note", "alter table reps add column note varchar;")]
    monkeypatch.setattr(warehouse, "migrations", lambda schema_dir=None: v2)
    with pytest.raises(WarehouseError, match="crm-review upgrade"), connect_read(db):
        pass
    assert warehouse.upgrade(db) == (len(v1), len(v2))
    with connect_read(db) as con:
        assert "note" in con.execute("select * from reps").df().columns


def test_a_warehouse_newer_than_the_release_is_refused(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    with write_session(db):
        pass
    monkeypatch.setattr(warehouse, "migrations", lambda schema_dir=None: [])
    with pytest.raises(WarehouseError, match="newer than this release"), connect_read(db):
        pass


def test_a_missing_warehouse_names_the_path_and_what_to_do(tmp_path):
    with (
        pytest.raises(WarehouseError, match=r"no warehouse at .*nope.duckdb.*crm-review import"),
        connect_read(tmp_path / "nope.duckdb"),
    ):
        pass


def test_read_connections_attach_one_macro_catalog_and_its_macros_read_each_connections_rows(tmp_path):
    from crmreview.scope import Scope

    db = tmp_path / "w.duckdb"
    with write_session(db) as con:
        con.execute("insert into reps (rep_id, team) values ('R1', 'T1'), ('R2', 'T2')")
        con.execute(
            "insert into deals (deal_id, owner_rep_id, stage, outcome) "
            "values ('D1', 'R1', 'lead', 'open'), ('D2', 'R2', 'lead', 'open'), ('D3', 'R1', 'won', 'won')"
        )
    catalog = "select path from duckdb_databases() where database_name = $name"
    shared = {"shared_macros": True}
    with connect_read(db, **shared) as whole, connect_read(db, scope=Scope(team="T1"), **shared) as team:
        paths = [c.execute(catalog, {"name": warehouse.MACRO_CATALOG}).fetchall() for c in (whole, team)]
        assert paths[0] == paths[1] and len(paths[0]) == 1  # one catalog file, built once
        rows = "select list(deal_id order by deal_id), list(distinct team) from deal_dimensions"
        assert whole.execute(rows).fetchall()[0] == (["D1", "D2", "D3"], ["T1", "T2"])
        assert team.execute(rows).fetchall()[0] == (["D1", "D3"], ["T1"])  # the scope's temporary views
        # the per-connection tables the shared state fills stay private to each connection
        whole.execute("insert into shared_purchase_days (customer_id) values ('C1')")
        assert team.execute("select count(*) from shared_purchase_days").fetchall()[0][0] == 0
        assert whole.execute("select count(*) from purchase_days").fetchall()[0][0] == 0  # not listed as shared
    # a write session (and any other connection) defines them on the connection itself
    with connect_read(db) as reader:
        assert reader.execute(rows).fetchall()[0][0] == ["D1", "D2", "D3"]
        assert not reader.execute(catalog, {"name": warehouse.MACRO_CATALOG}).fetchall()
    with write_session(db) as con:
        assert con.execute(rows).fetchall()[0][0] == ["D1", "D2", "D3"]
        assert not con.execute(catalog, {"name": warehouse.MACRO_CATALOG}).fetchall()
