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

import atexit
import contextlib
import errno
import fcntl
import glob
import os
import re
import shutil
import tempfile
import threading
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
    "real_path",
    "refuse_foreign",
    "configure",
    "DEFAULT_MEMORY_LIMIT",
    "upgrade",
    "install_macros",
    "attach_macros",
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
    and a definition changes with the release, without a schema migration. All the files run
    as one script (one call into DuckDB).
    """
    con.execute(";\n".join(text for _, text in _macro_files(macros_dir)))


def _macro_files(macros_dir: Path | None) -> list[tuple[Path, str]]:
    return [
        (path, path.read_text(encoding="utf-8"))
        for path in sorted((macros_dir or config.QUERIES_DIR / "macros").glob("*.sql"))
    ]


#: a statement of queries/macros/ that defines a temporary macro or view (shareable between
#: connections as a persistent one); the others (the shared_* tables) stay per connection
_DEFINITION = re.compile(r"\s*create\s+(?:or\s+replace\s+)?(temp|temporary)\s+(?:macro|view)\b", re.IGNORECASE)
#: the catalog the macros of a read connection are attached as
MACRO_CATALOG = "crm_macros"
#: (macros folder, its files' names, sizes and times) -> the macro catalog file built for
#: them and the statements each connection runs itself
_CATALOGS: dict[tuple, tuple[Path, str]] = {}
_CATALOG_LOCK = threading.Lock()


def _macro_key(macros_dir: Path | None) -> tuple:
    """The version of the macro files: their folder, names, sizes and modification times."""
    folder = macros_dir or config.QUERIES_DIR / "macros"
    stats = [(path.name, path.stat()) for path in sorted(folder.glob("*.sql"))]
    return str(folder), tuple((name, stat.st_size, stat.st_mtime_ns) for name, stat in stats)


def _split_macros(macros_dir: Path | None) -> tuple[list[str], list[str]]:
    """The definitions of macros and views of ``queries/macros/`` made persistent, and the
    other statements (the per-connection ``shared_*`` tables), in file order."""
    definitions, others = [], []
    for _, text in _macro_files(macros_dir):
        for statement in duckdb.extract_statements(text):
            sql = statement.query
            match = _DEFINITION.match(sql)
            if match:
                definitions.append(sql[: match.start(1)] + sql[match.end(1) :])
            else:
                others.append(sql)
    return definitions, others


def _macro_catalog(con: duckdb.DuckDBPyConnection, macros_dir: Path | None) -> tuple[Path, str]:
    """The file holding the macros and views of ``queries/macros/`` as persistent definitions,
    built once per process (and per version of the files) in a private temporary folder, and
    the script each connection still runs itself (its ``shared_*`` tables)."""
    key = _macro_key(macros_dir)
    with _CATALOG_LOCK:
        built = _CATALOGS.get(key)
        if built is not None and built[0].exists():
            return built
        definitions, others = _split_macros(macros_dir)
        # named for this process: a killed process's folder is removed by the next import
        # (crmreview.importing.textfiles.remove_stale_work_files)
        folder = Path(tempfile.mkdtemp(prefix=f"crm-review-{os.getpid()}-macros-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "macros.duckdb"
        # a view is checked against the canonical tables when defined: the builder reads the
        # warehouse of ``con`` (checked to be at this release's schema) read-only
        (warehouse_path,) = con.execute(
            "select path from duckdb_databases() where database_name = current_database()"
        ).fetchall()[0]
        with duckdb.connect(str(path), config=dict(_OFFLINE)) as builder:
            builder.execute("attach $path as warehouse (read_only)", {"path": warehouse_path})
            builder.execute("set search_path = 'main,warehouse.main'")
            builder.execute(";\n".join(others))
            builder.execute(";\n".join(definitions))
        _CATALOGS[key] = (path, ";\n".join(others))
        return _CATALOGS[key]


def attach_macros(con: duckdb.DuckDBPyConnection, macros_dir: Path | None = None) -> None:
    """Give a read connection (:func:`connect_read`) the shared SQL of ``queries/macros/``, as
    :func:`install_macros` does, at the cost of attaching a file: the macros and views are
    defined once per process in a catalog file (:data:`MACRO_CATALOG`), attached read-only
    behind the warehouse in the search path (a name still means the connection's own table
    or temporary view first, e.g. a scope's), and only the ``shared_*`` tables are created on
    the connection."""
    path, tables = _macro_catalog(con, macros_dir)
    con.execute(f"attach $path as {MACRO_CATALOG} (read_only)", {"path": str(path)})
    (database,) = con.execute("select current_database()").fetchall()[0]
    con.execute("set search_path = $path", {"path": f"{database}.main,{MACRO_CATALOG}.main"})
    con.execute(tables)


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
    memory_limit: str | None = None,
    shared_macros: bool = False,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the published warehouse read-only, for metrics, reports and exploration.

    The file is attached read-only to a private in-memory database (and made the default
    catalog), so each connection keeps the snapshot it opened even within one process:
    DuckDB's per-process instance cache would otherwise hand a later reader the snapshot of
    an earlier, still open connection. Temporary tables remain possible.

    ``scope`` and ``mask_pii`` restrict what the connection shows (crmreview.scope): only the
    scope's rows, customer and rep names as pseudonyms in ``lang``. DuckDB's memory is
    bounded by ``memory_limit`` (default: the import's default); beyond it, work spills to a
    private temporary folder removed on close.

    ``shared_macros``: attach the macros from the catalog built once per process
    (:func:`attach_macros`: building it costs about three times defining them once, each later
    connection then a fraction of it) rather than define them on the connection
    (:func:`install_macros`); for a process that opens many connections, such as the explore
    dashboard's scoped ones.
    """
    path = Path(path) if path else config.default_db_path()
    if not path.exists():
        raise WarehouseError(
            f"no warehouse at {path}: import data first (crm-review import FILE... --db {path}) or run crm-review demo"
        )
    refuse_foreign(path)
    # named for this process: a killed reader's folder is removed by the next import
    # (crmreview.importing.textfiles.remove_stale_work_files)
    spill = tempfile.mkdtemp(prefix=f"crm-review-spill-{os.getpid()}-")
    con = duckdb.connect(":memory:")
    try:
        configure(con, memory_limit=memory_limit, temp_directory=Path(spill))
        con.execute("attach $path as warehouse (read_only)", {"path": str(path)})
        con.execute("use warehouse")
    except (duckdb.Error, WarehouseError) as exc:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
        if isinstance(exc, WarehouseError):
            raise
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
        if shared_macros:
            attach_macros(con)
        else:
            install_macros(con)
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


@contextlib.contextmanager
def _writer_lock(path: Path, wait_seconds: float) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    try:
        handle = open(lock_path, "a+")  # noqa: SIM115 (closed below, after the lock is released)
    except OSError as exc:
        raise WarehouseError(_os_problem(path.parent, exc, "write a lock file in")) from None
    with handle:
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


#: the first bytes of files that are no DuckDB warehouse, and what they are
_FOREIGN_MAGIC = ((b"SQLite format 3\x00", "an SQLite database"), (b"PK\x03\x04", "a ZIP or XLSX file"))
#: a private connection never installs or loads an extension from the network
_OFFLINE = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
#: DuckDB's memory when no setting gives one (it spills to the temporary folder beyond it)
DEFAULT_MEMORY_LIMIT = "2GB"


def _os_problem(path: Path, exc: OSError, doing: str) -> str:
    """An operating-system error said for a user: what was done where, and why it failed."""
    why = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EROFS: "the file system is read-only",
        errno.EISDIR: "it is a folder",
        errno.ENOTDIR: "a part of the path is not a folder",
    }.get(exc.errno, exc.strerror or str(exc))
    return f"cannot {doing} {path}: {why}"


def real_path(path: str | os.PathLike | None) -> Path:
    """The warehouse path with symlinks resolved: writers through a link and through the real
    path lock and replace the same file, and the link stays a link."""
    path = Path(path) if path else config.default_db_path()
    return Path(os.path.realpath(path))


def refuse_foreign(path: Path) -> None:
    """Refuse what is no warehouse before DuckDB sees it (DuckDB would try to download an
    extension for an SQLite file): a folder, another kind of database or file."""
    if path.is_dir():
        raise WarehouseError(f"the warehouse {path} is a folder; give a file name, e.g. --db {path / 'crm.duckdb'}")
    if not path.exists():
        return
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise WarehouseError(_os_problem(path, exc, "read the warehouse")) from None
    for magic, what in _FOREIGN_MAGIC:
        if head.startswith(magic):
            raise WarehouseError(f"{path} is {what}, not a crm-review warehouse (a DuckDB file); give another --db")
    if head and head[8:12] != b"DUCK":
        raise WarehouseError(f"{path} is not a DuckDB file, so not a crm-review warehouse; give another --db")


def _check_file(path: Path) -> None:
    """Refuse what is no warehouse, and a warehouse this user may not change."""
    refuse_foreign(path)
    if path.exists() and not os.access(path, os.W_OK):
        raise WarehouseError(
            f"the warehouse {path} is read-only for you; an import would replace it. Ask its owner, "
            "or import into a copy (--db)"
        )


def _foreign_writer(path: Path) -> str | None:
    """Whether another program holds the published file open for writing (a DuckDB shell): its
    changes would be lost when an import publishes over it. The message, or None."""
    if not path.exists():
        return None
    probe = duckdb.connect(":memory:", config=dict(_OFFLINE))
    try:
        probe.execute("attach $path as probe (read_only)", {"path": str(path)})
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            return (
                f"another program holds the warehouse {path} open for writing (a DuckDB shell?); an import "
                "would lose its changes. Close it and import again"
            )
        raise WarehouseError(f"cannot open the warehouse {path}: {exc}") from None
    finally:
        probe.close()
    return None


def _repair_wal(path: Path) -> None:
    """Replay a write-ahead log a crashed program left next to the published file into it, so
    that its committed changes are kept and readers can open the file again."""
    wal = path.with_name(path.name + ".wal")
    if not wal.exists() or not path.exists():
        return
    try:
        with duckdb.connect(str(path), config=dict(_OFFLINE)) as con:
            con.execute("checkpoint")
    except duckdb.Error as exc:
        raise WarehouseError(
            f"the warehouse {path} has a write-ahead log ({wal.name}) left by a program that stopped, "
            f"and it cannot be replayed: {exc}"
        ) from None


def _remove_leftovers(path: Path) -> None:
    """Remove the working copies (and their logs and spill folders) that killed imports left:
    under the writer lock no other import of this warehouse runs, so every one is stale."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.writing-*"):
        with contextlib.suppress(OSError):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()


def _keep_mode_and_owner(published: Path, work: Path) -> None:
    """Give the new file the published one's permissions and (where allowed) owner."""
    if not published.exists():
        return
    stat = published.stat()
    os.chmod(work, stat.st_mode & 0o7777)
    if (stat.st_uid, stat.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(PermissionError):
            os.chown(work, stat.st_uid, stat.st_gid)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(path: Path, work: Path) -> None:
    try:
        shutil.copyfile(path, work)
    except OSError as exc:
        work.unlink(missing_ok=True)
        size = path.stat().st_size
        raise WarehouseError(
            _os_problem(work.parent, exc, f"copy the warehouse ({size / 1e6:,.1f} MB) for the import into")
        ) from None


def configure(con: duckdb.DuckDBPyConnection, *, memory_limit: str | None, temp_directory: Path | None) -> None:
    """Bound DuckDB's memory (beyond it, work spills to ``temp_directory``)."""
    try:
        con.execute("set memory_limit = $limit", {"limit": memory_limit or DEFAULT_MEMORY_LIMIT})
    except duckdb.Error:
        raise WarehouseError(f"memory limit {memory_limit!r} is not a size such as 2GB or 512MB") from None
    if temp_directory is not None:
        con.execute("set temp_directory = $dir", {"dir": str(temp_directory)})


@contextlib.contextmanager
def write_session(
    path: str | os.PathLike | None = None,
    *,
    wait_seconds: float = 120.0,
    memory_limit: str | None = None,
    macros: bool = True,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Change the warehouse all-or-nothing; readers keep working meanwhile.

    ``macros``: define the metrics' shared SQL (:func:`install_macros`) on the connection; an
    import, which uses none of it, leaves it out.

    Yields a read-write connection on a private copy inside an open transaction, with the
    schema migrated to this release. On normal exit the transaction commits and the copy
    replaces the published file; on an exception nothing is published.

    The path is resolved first (a symlink's target is locked and updated); the new file keeps
    the published one's mode and owner, and the folder is synced after the rename. Copies left
    by killed imports are removed, a log left by a crashed program is replayed, and a program
    that holds the file open for writing stops the import before anything is published.
    """
    path = real_path(path)
    _check_file(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(_os_problem(path.parent, exc, "create the warehouse folder")) from None
    with _writer_lock(path, wait_seconds):
        _remove_leftovers(path)
        problem = _foreign_writer(path)
        if problem:
            raise WarehouseError(problem)
        _repair_wal(path)
        work = path.with_name(f".{path.name}.writing-{os.getpid()}")
        spill = path.with_name(f".{path.name}.writing-{os.getpid()}.tmp")
        if path.exists():
            _copy(path, work)
        try:
            try:
                con = duckdb.connect(str(work), config=dict(_OFFLINE))
            except duckdb.IOException as exc:
                raise _lock_error(work, exc) from None
            try:
                configure(con, memory_limit=memory_limit, temp_directory=spill)
                con.execute("begin transaction")
                _refuse_foreign_tables(con, path)
                _migrate(con, migrations())
                if macros:
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
            try:
                with open(work, "rb") as handle:
                    os.fsync(handle.fileno())
                _keep_mode_and_owner(path, work)
            except OSError as exc:
                raise WarehouseError(_os_problem(work, exc, "finish the new warehouse file")) from None
            problem = _foreign_writer(path)
            if problem:
                raise WarehouseError(problem)
            os.replace(work, path)
            _fsync_folder(path.parent)
        finally:
            for leftover in (work, work.with_name(work.name + ".wal")):
                leftover.unlink(missing_ok=True)
            shutil.rmtree(spill, ignore_errors=True)


def _refuse_foreign_tables(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A DuckDB file without crm-review's schema log but with tables of its own is someone
    else's database: it is not given our tables."""
    if schema_version(con):
        return
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and not temporary order by table_name"
        ).fetchall()
    ]
    if tables:
        raise WarehouseError(
            f"{path} is a DuckDB database of another program (tables: {', '.join(tables[:8])}"
            f"{', …' if len(tables) > 8 else ''}), not a crm-review warehouse; give another --db"
        )


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
