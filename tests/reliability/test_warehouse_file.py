"""The warehouse file: symlinks, mode, foreign files and programs, leftovers of killed runs."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import textwrap

import duckdb
import pytest

from crmreview.importing import import_files
from crmreview.warehouse import WarehouseError, connect_read
from tests.reliability import unprivileged

ORDERS = "order_id,customer_id,order_date,amount\no1,c1,2026-01-02,10\n"
MORE = "order_id,customer_id,order_date,amount\no2,c1,2026-01-03,20\n"


def _files(tmp_path):
    first, second = tmp_path / "in1" / "orders.csv", tmp_path / "in2" / "orders.csv"
    for path, text in ((first, ORDERS), (second, MORE)):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    return first, second


def _order_ids(db):
    with connect_read(db) as con:
        return [r[0] for r in con.execute("select order_id from orders order by 1").fetchall()]


def test_an_import_through_a_symlink_updates_the_real_file_and_keeps_the_link(tmp_path):
    first, second = _files(tmp_path)
    real = tmp_path / "real" / "crm.duckdb"
    real.parent.mkdir()
    import_files([first], real)
    link = tmp_path / "link.duckdb"
    link.symlink_to(real)
    import_files([second], link)
    assert link.is_symlink()
    assert _order_ids(real) == ["o1", "o2"]


def test_an_owner_only_warehouse_stays_owner_only(tmp_path):
    first, second = _files(tmp_path)
    db = tmp_path / "crm.duckdb"
    import_files([first], db)
    db.chmod(0o600)
    import_files([second], db)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: sqlite3.connect(p).execute("create table deals (x)").connection.commit(), "an SQLite database"),
        (lambda p: p.write_text("hello, world\n" * 10), "not a DuckDB file"),
    ],
    ids=["folder", "sqlite", "text"],
)
def test_something_else_at_the_warehouse_path_is_a_clear_error(tmp_path, make, expected):
    first, _ = _files(tmp_path)
    db = tmp_path / "crm.duckdb"
    make(db)
    with pytest.raises(WarehouseError, match=expected):
        import_files([first], db)


def test_another_programs_duckdb_file_is_not_given_our_tables(tmp_path):
    first, _ = _files(tmp_path)
    db = tmp_path / "theirs.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table deals (id integer)")
    with pytest.raises(WarehouseError, match=r"another program \(tables: deals\)"):
        import_files([first], db)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select table_name from duckdb_tables()").fetchall() == [("deals",)]


_IMPORT = """
import sys
from crmreview.importing import import_files
from crmreview.warehouse import WarehouseError
try:
    import_files([sys.argv[1]], sys.argv[2])
except WarehouseError as exc:
    print(exc)
    sys.exit(2)
"""


def test_a_read_only_warehouse_is_not_replaced():
    # the warehouse belongs to a user that permissions bind (nobody, when the tests run as
    # root), in a folder that user may write; the file itself is read-only
    owner = unprivileged.user()
    if owner is None:
        pytest.skip("running as root with no unprivileged user to switch to")
    with unprivileged.folder(owner) as home:
        first, second = _files(home)
        db = home / "crm.duckdb"
        assert unprivileged.run(owner, _IMPORT, str(first), str(db), cwd=home).returncode == 0
        db.chmod(0o444)
        before = db.read_bytes()
        done = unprivileged.run(owner, _IMPORT, str(second), str(db), cwd=home)
        assert done.returncode == 2, done.stderr
        assert "read-only for you" in done.stdout and "Traceback" not in done.stderr
        assert db.read_bytes() == before
        assert stat.S_IMODE(db.stat().st_mode) == 0o444 and db.stat().st_uid == owner[0]
        assert _order_ids(db) == ["o1"]


def test_working_copies_left_by_a_killed_import_are_removed_by_the_next(tmp_path):
    first, second = _files(tmp_path)
    db = tmp_path / "crm.duckdb"
    import_files([first], db)
    dead = tmp_path / ".crm.duckdb.writing-999999"
    dead.write_bytes(b"x" * 1000)
    (tmp_path / ".crm.duckdb.writing-999999.wal").write_bytes(b"x")
    (tmp_path / ".crm.duckdb.writing-999999.tmp").mkdir()
    import_files([second], db)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".crm")) == []


_HOLD = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("insert into orders values ('shell', 'c9', date '2026-02-01', 1)")
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_a_program_holding_the_warehouse_open_for_writing_stops_the_import(tmp_path):
    first, second = _files(tmp_path)
    db = tmp_path / "crm.duckdb"
    import_files([first], db)
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseError, match=r"holds the warehouse .* open for writing"):
            import_files([second], db)
    finally:
        holder.kill()
        holder.wait()


_CRASH = textwrap.dedent(
    """
    import os, sys, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("set checkpoint_threshold = '1TB'")
    con.execute("insert into orders values ('shell', 'c9', date '2026-02-01', 1)")
    os._exit(0)
    """
)


def test_a_log_left_by_a_crashed_program_is_replayed_and_its_changes_kept(tmp_path):
    first, second = _files(tmp_path)
    db = tmp_path / "crm.duckdb"
    import_files([first], db)
    subprocess.run([sys.executable, "-c", _CRASH, str(db)], check=True)
    assert (tmp_path / "crm.duckdb.wal").exists()
    import_files([second], db)
    assert _order_ids(db) == ["o1", "o2", "shell"]
    assert not (tmp_path / "crm.duckdb.wal").exists()


_LIMITED = textwrap.dedent(
    """
    import resource, signal, sys
    from crmreview.cli import main
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
    sys.exit(main(["import", sys.argv[2], "--db", sys.argv[3]]))
    """
)


def test_a_disk_that_fills_while_the_warehouse_is_copied_is_a_clear_error_and_changes_nothing(tmp_path):
    first, second = _files(tmp_path)
    db = tmp_path / "crm.duckdb"
    import_files([first], db)
    before = db.read_bytes()
    limit = db.stat().st_size // 2  # the working copy cannot be written whole
    run = subprocess.run(
        [sys.executable, "-c", _LIMITED, str(limit), str(second), str(db)], capture_output=True, text=True
    )
    assert run.returncode == 2, run.stderr
    assert "cannot copy the warehouse" in run.stderr and "Traceback" not in run.stderr
    assert db.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if ".writing-" in p.name] == []
