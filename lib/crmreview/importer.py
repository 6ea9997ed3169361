"""Import of canonical CSV files into the warehouse: all-or-nothing, nothing lost.

A canonical file is a UTF-8 (or GBK/UTF-16, transcoded) CSV named ``<table>.csv`` whose
header uses the canonical column names of that table. Every file of one call is imported in
one transaction (:func:`crmreview.warehouse.write_session`): either all are published or
none. Each file adds one row to ``imports``; every row it refuses goes to ``rejects`` with
its line (the row number a spreadsheet shows: the header is line 1, a quoted value
spanning several physical lines is one row), column, value and reason, so that for every import
``rows_read = rows_loaded + rows_rejected``. Rows update earlier ones by natural key.
"""
from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from . import textfiles, warehouse
from .config import DEFAULT_SETTINGS, Settings

__all__ = ["Column", "TableSpec", "TABLE_SPECS", "ImportFileError", "FileResult", "import_files"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text | timestamp | date | decimal | outcome | stage
    required: bool = False
    nonnegative: bool = False


@dataclass(frozen=True)
class TableSpec:
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _spec(table: str, key: tuple[str, ...], *columns: Column) -> TableSpec:
    return TableSpec(table, columns, key)


TABLE_SPECS: dict[str, TableSpec] = {
    spec.table: spec
    for spec in (
        _spec(
            "customers", ("customer_id",),
            Column("customer_id", required=True), Column("name"), Column("industry"),
            Column("region"), Column("size_band"), Column("owner_rep_id"),
            Column("source_channel"), Column("created_at", "timestamp"),
        ),
        _spec(
            "reps", ("rep_id",),
            Column("rep_id", required=True), Column("name"), Column("team"), Column("region"),
        ),
        _spec(
            "targets", ("rep_id", "period_start", "period_end"),
            Column("rep_id", required=True), Column("period_start", "date", required=True),
            Column("period_end", "date", required=True),
            Column("target_amount", "decimal", required=True, nonnegative=True),
        ),
        _spec(
            "deals", ("deal_id",),
            Column("deal_id", required=True), Column("customer_id"), Column("owner_rep_id"),
            Column("pipeline"), Column("stage", "stage", required=True),
            Column("outcome", "outcome", required=True),
            Column("amount", "decimal", nonnegative=True), Column("created_at", "timestamp"),
            Column("closed_at", "timestamp"), Column("lost_reason"), Column("source_channel"),
        ),
        _spec(
            "deal_stage_history", ("deal_id", "stage", "entered_at"),
            Column("deal_id", required=True), Column("stage", "stage", required=True),
            Column("entered_at", "timestamp", required=True),
        ),
        _spec(
            "orders", ("order_id",),
            Column("order_id", required=True), Column("customer_id", required=True),
            Column("order_date", "date", required=True),
            Column("amount", "decimal", required=True),
        ),
        _spec(
            "activities", ("activity_id",),
            Column("activity_id", required=True), Column("customer_id"), Column("deal_id"),
            Column("rep_id"), Column("kind"), Column("occurred_at", "timestamp", required=True),
        ),
    )
}

# Rules that involve two columns: (table, column blamed, condition on typed columns, reason).
_ROW_RULES = (
    ("deals", "closed_at", "closed_at < created_at", "closed_at is before created_at"),
    ("targets", "period_end", "period_end < period_start", "period_end is before period_start"),
)

_EXPECTED = {
    "timestamp": "a date or timestamp (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)",
    "date": "a date (YYYY-MM-DD)",
    "decimal": "a number such as 1234.50",
}


class ImportFileError(ValueError):
    """A file that cannot be imported at all (nothing of the call is loaded)."""


@dataclass(frozen=True)
class FileResult:
    file: str
    table: str
    status: str  # loaded | unchanged
    import_id: int | None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    encoding: str


_WORK_TABLES = ("raw", "line_map", "checked", "problems", "scan_refused", "valid")
_VOCABULARY = frozenset(
    [*TABLE_SPECS, *_WORK_TABLES, *(c.name for spec in TABLE_SPECS.values() for c in spec.columns)]
)


def _q(name: str) -> str:
    """Quote an identifier; only names of the fixed canonical vocabulary are accepted.

    SQL text is assembled from these names and from fixed expression templates, never from
    values read from a file: values always travel as bound parameters.
    """
    if name not in _VOCABULARY:
        raise ValueError(f"{name!r} is not an identifier of the canonical model")
    return f'"{name}"'


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _read_header(path: Path, encoding: str) -> list[str]:
    with open(path, encoding=encoding, newline="") as handle:
        try:
            header = next(csv.reader(handle))
        except StopIteration:
            raise ImportFileError(
                f"{path}: the file is empty; expected a header line with column names"
            ) from None
    return [h.strip() for h in header]


def _choose_table(path: Path, header: list[str]) -> TableSpec:
    stem = path.stem.lower()
    if stem in TABLE_SPECS:
        return TABLE_SPECS[stem]
    fits = [
        spec for spec in TABLE_SPECS.values()
        if set(header) <= set(spec.names) and set(spec.required) <= set(header)
    ]
    if len(fits) == 1:
        return fits[0]
    raise ImportFileError(
        f"{path}: cannot tell which table this file feeds from its name or header; "
        f"name it after one of: {', '.join(TABLE_SPECS)} (e.g. deals.csv)"
    )


def _check_header(path: Path, header: list[str], spec: TableSpec) -> None:
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if name in seen:
            raise ImportFileError(f"{path}: column {name!r} appears twice in the header (column {position})")
        seen.add(name)
        if name not in spec.names:
            raise ImportFileError(
                f"{path}: column {position} {name!r} is not a column of {spec.table}; "
                f"expected columns: {', '.join(spec.names)}"
            )
    missing = [c for c in spec.required if c not in seen]
    if missing:
        raise ImportFileError(
            f"{path}: required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} missing for {spec.table}; the file has: {', '.join(header)}"
        )


def _typed(column: Column, raw: str) -> str:
    if column.kind == "timestamp":
        return f"try_cast({raw} as timestamp)"
    if column.kind == "date":
        return f"coalesce(try_cast({raw} as date), try_cast({raw} as timestamp)::date)"
    if column.kind == "decimal":
        return f"try_cast({raw} as decimal(18, 2))"
    if column.kind == "outcome":
        return f"case when lower({raw}) in ('open', 'won', 'lost') then lower({raw}) end"
    if column.kind == "stage":
        return f"case when list_contains($stages, lower({raw})) then lower({raw}) end"
    return raw


def _problems(column: Column, raw: str, typed: str) -> list[tuple[str, str]]:
    """(condition, reason expression) pairs for one column."""
    checks = []
    if column.required:
        checks.append((f"{raw} is null", "'missing required value'"))
    if column.kind in _EXPECTED:
        checks.append((f"{raw} is not null and {typed} is null", f"'expected {_EXPECTED[column.kind]}'"))
    if column.kind == "outcome":
        checks.append((f"{raw} is not null and {typed} is null", "'expected one of: open, won, lost'"))
    if column.kind == "stage":
        checks.append((
            f"{raw} is not null and {typed} is null",
            "'unmapped stage; expected one of: ' || array_to_string($stages, ', ')",
        ))
    if column.nonnegative:
        checks.append((f"{typed} < 0", "'negative amount; expected zero or more'"))
    return checks


def _line_numbers(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """Map the scan's accepted rows to their lines, skipping lines DuckDB refused.

    Rows keep file order in ``raw``; inside a transaction their rowids start at a large
    offset, so positions are taken relative to the smallest rowid.
    """
    refused = [r[0] for r in con.execute("select line from scan_refused order by line").fetchall()]
    if not refused:
        con.execute(
            "create temp table line_map as select rowid as row_index, "
            "rowid - (select min(rowid) from raw) + 2 as line from raw"
        )
        return
    candidates = np.arange(2, rows + len(refused) + 2, dtype=np.int64)
    lines = np.setdiff1d(candidates, np.asarray(refused, dtype=np.int64))[:rows]
    frame = pd.DataFrame({"row_offset": np.arange(rows, dtype=np.int64), "line": lines})
    con.register("line_map_frame", frame)
    con.execute(
        "create temp table line_map as select row_offset + (select min(rowid) from raw) "
        "as row_index, line from line_map_frame"
    )
    con.unregister("line_map_frame")


def _drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in _WORK_TABLES:
        con.execute("drop table if exists " + _q(name))


def _import_one(
    con: duckdb.DuckDBPyConnection, path: Path, settings: Settings, adapter: str
) -> FileResult:
    started = datetime.now()
    sha = _sha256(path)
    earlier = con.execute(
        "select import_id from imports where sha256 = $sha and adapter = $adapter",
        {"sha": sha, "adapter": adapter},
    ).fetchall()
    with textfiles.as_utf8(path) as (utf8_path, encoding):
        header = _read_header(utf8_path, "utf-8-sig")
        spec = _choose_table(path, header)
        _check_header(path, header, spec)
        if earlier:
            return FileResult(str(path), spec.table, "unchanged", earlier[0][0], 0, 0, 0, encoding)
        columns = ", ".join(f"{_q(name)}: 'VARCHAR'" for name in header)
        _drop_work_tables(con)
        con.execute("drop table if exists temp.import_scan_errors")
        con.execute("drop table if exists temp.import_scan_files")
        con.execute(
            f"""
            create temp table raw as
            select * from read_csv(
                $path, header = true, auto_detect = false, delim = ',', quote = '"',
                escape = '"', strict_mode = true, null_padding = false,
                columns = {{{columns}}},
                store_rejects = true, rejects_table = 'import_scan_errors',
                rejects_scan = 'import_scan_files'
            )
            """,
            {"path": str(utf8_path)},
        )
        con.execute(
            """
            create temp table scan_refused as
            select line, arg_min(column_name, column_idx) as "column",
                   any_value(csv_line) as value,
                   arg_min(lower(error_type) || ': ' || error_message, column_idx) as reason
            from import_scan_errors group by line
            """
        )
    rows_scanned = con.execute("select count(*) from raw").fetchall()[0][0]
    _line_numbers(con, rows_scanned)

    raw_cols = {c.name: f"nullif(trim(r.{_q(c.name)}), '')" if c.name in header else "null::varchar"
                for c in spec.columns}
    typed_cols = {c.name: _typed(c, f"raw_{c.name}") for c in spec.columns}
    key = ", ".join(spec.key)
    key_present = " and ".join(f"{k} is not null" for k in spec.key)
    con.execute(
        f"""
        create temp table checked as
        with src as (
            select m.line, {", ".join(f"{expr} as raw_{name}" for name, expr in raw_cols.items())}
            from raw as r join line_map as m on m.row_index = r.rowid
        ),
        typed as (
            select *, {", ".join(f"{expr} as {_q(name)}" for name, expr in typed_cols.items())}
            from src
        )
        select *,
            case when {key_present}
                 then min(line) over (partition by {key}) end as first_line_of_key
        from typed
        """,
        {"stages": list(settings.all_stages)} if "$stages" in " ".join(typed_cols.values()) else None,
    )
    checks: list[tuple[str, str, str]] = []
    for column in spec.columns:
        for condition, reason in _problems(column, f"raw_{column.name}", _q(column.name)):
            checks.append((column.name, condition, reason))
    for table, column, condition, reason in _ROW_RULES:
        if table == spec.table:
            checks.append((column, condition, f"'{reason}'"))
    key_label = " + ".join(spec.key)
    checks.append((
        spec.key[-1] if len(spec.key) == 1 else key_label,
        "first_line_of_key < line",
        f"'duplicate {key_label} within the file (first at line ' || first_line_of_key || ')'",
    ))
    items = ", ".join(
        f"case when {cond} then {{'col': '{col}', 'value': raw_{col if col in spec.names else spec.key[0]}, "
        f"'reason': {reason}}} end"
        for col, cond, reason in checks
    )
    uses_stages = "$stages" in items
    con.execute(
        f"""
        create temp table problems as
        select line, p.col as "column", p.value, p.reason
        from (
            select line, unnest(list_filter([{items}], lambda x: x is not null)) as p from checked
        )
        """,
        {"stages": list(settings.all_stages)} if uses_stages else None,
    )
    import_id = con.execute("select nextval('import_id_seq')").fetchall()[0][0]
    con.execute(
        """
        insert into rejects
        select $import_id, $file, line, "column", value, reason
        from (select * from scan_refused union all select * from problems)
        order by line, "column"
        """,
        {"import_id": import_id, "file": str(path)},
    )
    names = ", ".join(_q(n) for n in spec.names)
    key_match = " and ".join(f"t.{_q(k)} = v.{_q(k)}" for k in spec.key)
    con.execute(
        "create or replace temp table valid as select * from checked "
        "where line not in (select line from problems)"
    )
    table = _q(spec.table)
    con.execute("delete from " + table + " as t using valid as v where " + key_match)
    con.execute("insert into " + table + f" ({names}) select {names} from valid order by line")
    loaded = con.execute("select count(*) from valid").fetchall()[0][0]
    refused_lines = con.execute("select count(*) from scan_refused").fetchall()[0][0]
    rejected_lines = con.execute("select count(distinct line) from problems").fetchall()[0][0]
    rows_read = rows_scanned + refused_lines
    rows_rejected = rejected_lines + refused_lines
    assert rows_read == loaded + rows_rejected, "import accounting out of balance"
    con.execute(
        """
        insert into imports values ($import_id, $file, $sha, $adapter, $table, $read, $loaded,
                                    $rejected, $started, $finished)
        """,
        {
            "import_id": import_id, "file": str(path), "sha": sha, "adapter": adapter,
            "table": spec.table, "read": rows_read, "loaded": loaded,
            "rejected": rows_rejected, "started": started, "finished": datetime.now(),
        },
    )
    _drop_work_tables(con)
    return FileResult(str(path), spec.table, "loaded", import_id, rows_read, loaded, rows_rejected, encoding)


def import_files(
    paths: list[str | os.PathLike],
    db: str | os.PathLike | None = None,
    *,
    settings: Settings = DEFAULT_SETTINGS,
) -> list[FileResult]:
    """Import canonical CSV files in one transaction; returns one result per file.

    Raises :class:`ImportFileError` (and loads nothing) when a file cannot be imported at all:
    missing, empty, an unknown or missing column, an unreadable encoding.
    """
    files = [Path(p) for p in paths]
    if not files:
        raise ImportFileError("no files given to import")
    for path in files:
        if not path.is_file():
            raise ImportFileError(f"{path}: no such file")
    results = []
    with warehouse.write_session(db) as con:
        for path in files:
            try:
                results.append(_import_one(con, path.resolve(), settings, "canonical"))
            except textfiles.EncodingError as exc:
                raise ImportFileError(str(exc)) from None
            except duckdb.Error as exc:
                raise ImportFileError(f"{path}: {exc}") from None
    return results
