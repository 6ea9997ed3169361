"""The canonical model: which tables and columns the warehouse has, read from its migrations.

The migration SQL (``queries/schema/NNN_*.sql``) is the one declaration of the tables, their
columns, types and NOT NULL constraints. This module applies it to an empty in-memory
database and reads the result back, then adds what SQL cannot say: each table's natural key,
the load order, which text columns hold a funnel stage or an outcome, and which amounts may
not be negative. The importer's column specs, the sample generator's column order and the
warehouse's table list all come from here.

Some columns are the import's own bookkeeping, never read from an export as such
(``MANAGED_COLUMNS``, migration 004): ``attributes`` (the columns of an export that no
canonical column takes, kept per record), ``exported_at`` (when the export that last wrote
the record was taken) and ``deals.missing_since``. They are left out of ``TABLE_SPECS``;
``ATTRIBUTE_TABLES`` are the tables that keep attributes.

Public names: ``Column``, ``TableSpec``, ``TABLE_SPECS``, ``DATA_TABLES``, ``CANONICAL_TABLES``,
``LOAD_ORDER``, ``LOG_TABLES``, ``MANAGED_COLUMNS``, ``ATTRIBUTE_TABLES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from . import config

__all__ = [
    "Column",
    "TableSpec",
    "TABLE_SPECS",
    "DATA_TABLES",
    "CANONICAL_TABLES",
    "LOAD_ORDER",
    "LOG_TABLES",
    "MANAGED_COLUMNS",
    "ATTRIBUTE_TABLES",
]

#: the canonical tables an export feeds, in the order one import call loads them
#: (a rep before the customers they own, a deals export before its history)
LOAD_ORDER = ("reps", "customers", "targets", "deals", "deal_stage_history", "orders", "activities")
#: the tables every import writes about itself
LOG_TABLES = ("imports", "rejects")
#: every table a report or metric may read (canonical data first, then the import log)
DATA_TABLES = ("customers", "reps", "targets", "deals", "deal_stage_history", "orders", "activities")
CANONICAL_TABLES = (*DATA_TABLES, *LOG_TABLES)

#: the columns an import maintains itself, per table (not importable canonical columns)
MANAGED_COLUMNS = {
    "customers": ("attributes", "exported_at"),
    "deals": ("attributes", "exported_at", "missing_since"),
}
#: the tables whose records keep the export's unmapped columns as ``attributes``
ATTRIBUTE_TABLES = ("customers", "deals")

#: what the DDL cannot say, per table: the natural key, and per column a kind other than its
#: SQL type's (``stage``, ``outcome``) or a rule (``nonnegative``)
_KEYS = {
    "customers": ("customer_id",),
    "reps": ("rep_id",),
    "targets": ("rep_id", "period_start", "period_end"),
    "deals": ("deal_id",),
    "deal_stage_history": ("deal_id", "stage", "entered_at"),
    "orders": ("order_id",),
    "activities": ("activity_id",),
}
_KINDS = {("deals", "stage"): "stage", ("deals", "outcome"): "outcome", ("deal_stage_history", "stage"): "stage"}
_NONNEGATIVE = {("targets", "target_amount"), ("deals", "amount")}
_SQL_KINDS = {"VARCHAR": "text", "TIMESTAMP": "timestamp", "DATE": "date"}


@dataclass(frozen=True)
class Column:
    """One canonical column. ``kind``: text | timestamp | date | decimal | outcome | stage."""

    name: str
    kind: str = "text"
    required: bool = False
    nonnegative: bool = False

    @property
    def is_id(self) -> bool:
        return self.name.endswith("_id")


@dataclass(frozen=True)
class TableSpec:
    """One canonical table: its columns in warehouse order and its natural key."""

    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _kind(table: str, name: str, sql_type: str) -> str:
    if (table, name) in _KINDS:
        return _KINDS[(table, name)]
    if sql_type.startswith("DECIMAL"):
        return "decimal"
    if sql_type not in _SQL_KINDS:
        raise TypeError(f"canonical column {table}.{name} has type {sql_type}, which imports cannot fill")
    return _SQL_KINDS[sql_type]


def _read_specs() -> dict[str, TableSpec]:
    con = duckdb.connect(":memory:")
    try:
        for path in sorted((config.QUERIES_DIR / "schema").glob("*.sql")):
            con.execute(path.read_text(encoding="utf-8"))
        rows = con.execute(
            "select table_name, column_name, data_type, is_nullable = 'NO' as is_required "
            "from information_schema.columns "
            "where list_contains($tables, table_name) "
            "order by table_name, ordinal_position",
            {"tables": list(DATA_TABLES)},
        ).fetchall()
    finally:
        con.close()
    columns: dict[str, list[Column]] = {table: [] for table in DATA_TABLES}
    for table, name, sql_type, required in rows:
        if name in MANAGED_COLUMNS.get(table, ()):
            continue
        columns[table].append(Column(name, _kind(table, name, sql_type), bool(required), (table, name) in _NONNEGATIVE))
    missing = [table for table, cols in columns.items() if not cols]
    if missing:
        raise RuntimeError(f"the schema migrations create no table {', '.join(missing)}")
    return {table: TableSpec(table, tuple(columns[table]), _KEYS[table]) for table in DATA_TABLES}


#: table -> spec, in ``DATA_TABLES`` order
TABLE_SPECS: dict[str, TableSpec] = _read_specs()
