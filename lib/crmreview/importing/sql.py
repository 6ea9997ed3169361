"""How the importer writes SQL: fixed identifiers, bound values, temporary work tables.

SQL text is assembled from names of the canonical model (:data:`crmreview.schema.TABLE_SPECS`),
the work tables below, positional column names (``c1``, ``c2``, …) and fixed expression
templates, never from values read from a file or a mapping: values always travel as bound
parameters (:class:`Params`).

Public names: :func:`quote`, :class:`Params`, :func:`run`, :func:`drop`, ``WORK_TABLES``, ``WORK_VIEWS``,
:func:`drop_work_tables`, :func:`scan_tables`.
"""

from __future__ import annotations

import re

import duckdb

from ..schema import MANAGED_COLUMNS, TABLE_SPECS

__all__ = ["WORK_TABLES", "WORK_VIEWS", "Params", "drop", "drop_work_tables", "quote", "run", "scan_tables"]

#: temporary tables one (file, table) load builds and drops when it is done
WORK_TABLES = (
    "checked",
    "checked_rows",
    "problems",
    "valid",
    "final",
    "group_rejects",
    "dups",
    "base",
)
_VOCABULARY = frozenset(
    [
        *TABLE_SPECS,
        *WORK_TABLES,
        *(c.name for spec in TABLE_SPECS.values() for c in spec.columns),
        *(name for names in MANAGED_COLUMNS.values() for name in names),
    ]
)
# positional source columns (c1, …), their texts as written (o1, …) and the tables of scan n
_GENERATED = re.compile(r"[co][1-9]\d{0,4}|(?:raw|line_map|scan_refused)_[1-9]\d{0,5}")
_PARAM = re.compile(r"\$([A-Za-z_]\w*)")


def quote(name: str) -> str:
    """Quote an identifier; only names of the fixed vocabulary above are accepted."""
    if name not in _VOCABULARY and not _GENERATED.fullmatch(name):
        raise ValueError(f"{name!r} is not an identifier of the canonical model")
    return f'"{name}"'


def scan_tables(slot: int) -> tuple[str, str, str]:
    """The work tables that hold scan number ``slot`` of a call: rows, their lines, refused rows."""
    return f"raw_{int(slot)}", f"line_map_{int(slot)}", f"scan_refused_{int(slot)}"


def run(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]):
    """Execute with the parameters the statement uses (DuckDB refuses unused ones)."""
    used = set(_PARAM.findall(sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in used} or None)


class Params:
    """Bound parameters of one statement, named p1, p2, … by this module."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def add(self, value: object) -> str:
        name = f"p{len(self.values) + 1}"
        self.values[name] = value
        return f"${name}"


#: the work tables above that are views (the others are tables)
WORK_VIEWS = frozenset({"checked", "valid"})


def drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the temporary table or view ``name`` if it exists (a wrong kind would abort the
    import's transaction: the views are :data:`WORK_VIEWS`)."""
    con.execute(f"drop {'view' if name in WORK_VIEWS else 'table'} if exists temp.{quote(name)}")


def drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in WORK_TABLES:
        drop(con, name)
