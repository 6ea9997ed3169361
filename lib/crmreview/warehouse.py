"""The DuckDB warehouse file: schema, versions, and safe opening for readers and writers.

Concurrency model. DuckDB locks a database file per process: while one process writes,
no other can even open it read-only. So a write never happens on the published file.
:func:`write_session` copies the published warehouse to a private working file, applies
migrations and the caller's changes there in one transaction, checkpoints, and atomically
renames the working file over the published one. Readers (:func:`connect_read`) open the
published file read-only and are never blocked by an import: they keep the snapshot they
opened, the next reader sees the new one. A failed write leaves the published file as it
was. Writers are serialised by a lock file next to the warehouse.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import config, schema
from .scope import Scope, restrict

__all__ = [
    "WarehouseError",
    "Migration",
    "migrations",
    "schema_version",
    "connect_read",
    "write_session",
    "upgrade",
    "install_macros",
    "CANONICAL_TABLES",
]

#: every table of the canonical model and the import log (:mod:`crmreview.schema`)
CANONICAL_TABLES = schema.CANONICAL_TABLES
_MIGRATION_FILE = re.compile(r"(\d{3})_([a-z0-9_]+)\.sql")


class WarehouseError(RuntimeError):
    """The warehouse file is missing, locked, or of a version this release cannot read."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(schema_dir: Path | None = None) -> list[Migration]:
    """Schema migrations in order: ``queries/schema/NNN_name.sql``, numbered from 001."""
    schema_dir = schema_dir or config.QUERIES_DIR / "schema"
    found = []
    for path in sorted(schema_dir.glob("*.sql")):
        match = _MIGRATION_FILE.fullmatch(path.name)
        if not match:
            raise WarehouseError(f"{path}: schema files are named NNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise WarehouseError(f"schema migration {expected:03d} is missing in {schema_dir}")
    return found


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The version recorded in the warehouse; 0 for an empty database."""
    exists = con.execute(
        "select count(*) from duckdb_tables() "
        "where database_name = current_database() and table_name = 'schema_migrations'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return con.execute("select coalesce(max(version), 0) from schema_migrations").fetchall()[0][0]


def _migrate(con: duckdb.DuckDBPyConnection, available: list[Migration]) -> int:
    current = schema_version(con)
    latest = len(available)
    if current > latest:
        raise WarehouseError(
            f"the warehouse is at schema version {current}, newer than this release "
            f"of crm-review knows ({latest}); upgrade crm-review"
        )
    if current == 0:
        con.execute(
            "create table schema_migrations "
            "(version integer not null, name varchar not null, applied_at timestamp not null)"
        )
    for migration in available[current:]:
        con.execute(migration.sql)
        con.execute(
            "insert into schema_migrations values ($version, $name, current_localtimestamp())",
            {"version": migration.version, "name": migration.name},
        )
    return latest


def install_macros(con: duckdb.DuckDBPyConnection, macros_dir: Path | None = None) -> None:
    """Define the shared SQL of ``queries/macros/*.sql`` (temporary views and macros) on ``con``.

    They live in the connection's temporary catalog, so a read-only warehouse gets them too
    and a definition changes with the release, without a schema migration.
    """
    for path in sorted((macros_dir or config.QUERIES_DIR / "macros").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))


def _lock_error(path: Path, exc: Exception) -> WarehouseError:
    return WarehouseError(
        f"cannot open the warehouse {path}: {exc}. Another program (a DuckDB shell or an "
        "older crm-review) holds it open; close it and try again"
    )


@contextlib.contextmanager
def connect_read(
    path: str | os.PathLike | None = None,
    *,
    scope: Scope | None = None,
    mask_pii: bool = False,
    lang: str = "en",
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the published warehouse read-only, for metrics, reports and exploration.

    The file is attached read-only to a private in-memory database (and made the default
    catalog), so each connection keeps the snapshot it opened even within one process:
    DuckDB's per-process instance cache would otherwise hand a later reader the snapshot of
    an earlier, still open connection. Temporary tables remain possible.

    ``scope`` and ``mask_pii`` restrict what the connection shows (crmreview.scope): only the
    scope's rows, customer and rep names as pseudonyms in ``lang``.
    """
    path = Path(path) if path else config.default_db_path()
    if not path.exists():
        raise WarehouseError(
            f"no warehouse at {path}: import data first (crm-review import FILE... --db {path}) or run crm-review demo"
        )
    con = duckdb.connect(":memory:")
    try:
        con.execute("attach $path as warehouse (read_only)", {"path": str(path)})
        con.execute("use warehouse")
    except duckdb.Error as exc:
        con.close()
        raise _lock_error(path, exc) from None
    try:
        version, latest = schema_version(con), len(migrations())
        if version != latest:
            raise WarehouseError(
                f"the warehouse {path} is at schema version {version}, this release reads "
                f"version {latest}; run crm-review upgrade --db {path}"
                if version < latest
                else f"the warehouse {path} is at schema version {version}, newer than this "
                f"release of crm-review reads ({latest}); upgrade crm-review"
            )
        restrict(con, scope, mask_pii=mask_pii, lang=lang)
        install_macros(con)
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def _writer_lock(path: Path, wait_seconds: float) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    raise WarehouseError(f"another import is writing {path}; waited {wait_seconds:.0f} s") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def write_session(
    path: str | os.PathLike | None = None, *, wait_seconds: float = 120.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Change the warehouse all-or-nothing; readers keep working meanwhile.

    Yields a read-write connection on a private copy inside an open transaction, with the
    schema migrated to this release. On normal exit the transaction commits and the copy
    replaces the published file; on an exception nothing is published.
    """
    path = Path(path) if path else config.default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _writer_lock(path, wait_seconds):
        work = path.with_name(f".{path.name}.writing-{os.getpid()}")
        for leftover in (work, work.with_name(work.name + ".wal")):
            leftover.unlink(missing_ok=True)
        if path.exists():
            shutil.copyfile(path, work)
        try:
            try:
                con = duckdb.connect(str(work))
            except duckdb.IOException as exc:
                raise _lock_error(work, exc) from None
            try:
                con.execute("begin transaction")
                _migrate(con, migrations())
                install_macros(con)
                yield con
                con.execute("commit")
                con.execute("checkpoint")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.execute("rollback")
                raise
            finally:
                con.close()
            with open(work, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(work, path)
        finally:
            for leftover in (work, work.with_name(work.name + ".wal")):
                leftover.unlink(missing_ok=True)


def upgrade(path: str | os.PathLike | None = None) -> tuple[int, int]:
    """Bring a warehouse file to this release's schema; returns (old, new) versions."""
    path = Path(path) if path else config.default_db_path()
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path}")
    with duckdb.connect(str(path), read_only=True) as con:
        old = schema_version(con)
    with write_session(path) as con:
        new = schema_version(con)
    return old, new
