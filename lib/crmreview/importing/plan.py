"""The typed-insert plan of one (file, table) load, whichever way the file came in.

A :class:`Plan` is SQL text and bound parameters: for each canonical column the SQL giving
its source text, its typed value and the column a reject names, the checks that reject a
row, and where the rows come from. :mod:`crmreview.importing.canonical` builds one for a
canonical file, :mod:`crmreview.importing.mapped` for a mapping's feed;
:mod:`crmreview.importing.load` runs it.

Public names: :class:`Plan`, :func:`line_source`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from ..schema import TableSpec
from .readers import Scan
from .sql import Params

__all__ = ["Plan", "line_source"]


@dataclass
class Plan:
    """The SQL of one (file, table) load: text per canonical column, typing, checks."""

    spec: TableSpec
    raw: dict[str, str]  # canonical column -> SQL giving its source text (null when absent)
    typed: dict[str, str]  # canonical column -> SQL over raw_<column> giving the typed value
    labels: dict[str, str]  # canonical column -> SQL giving the column named in a reject
    checks: list[tuple[str, str, str, str]]  # (label SQL, value SQL, condition, reason SQL)
    params: Params
    provided: tuple[str, ...]  # canonical columns this load sets
    source_from: str = ""  # FROM text of the source rows (the scan, or a work table over it)
    line_expr: str = "m.line"
    where: str = ""
    checked: str = "checked"  # FROM text of the checked rows: the table, or its query
    final: str = "final"  # FROM text of the rows to load: the table, or its query
    rows: int = 0  # rows the scan accepted
    materialize: bool = False  # store the checked rows (lines are combined or collapsed later)
    check_duplicates: bool = True
    stage_column: str | None = None  # raw column holding CRM stage names to check against the map
    extra_src: dict[str, str] = field(default_factory=dict)  # more source columns (operands)
    # the headers kept in the records' ``attributes`` (extra_src["attributes"] builds the map);
    # None when the load keeps none (the records' attributes are then left as they are)
    attributes: tuple[str, ...] | None = None
    exported_at: object = None  # when the export was taken (a datetime), None when not known
    kept_newer: int = 0  # records the warehouse holds from a newer export, left as they are
    # date columns whose day/month order is read from their values once they are typed
    # (:func:`crmreview.importing.mapped.date_formats`): (column, the parameter holding its
    # formats, the column's name in an error, canonical file)
    date_orders: list[tuple[str, str, str, bool]] = field(default_factory=list)

    @property
    def load_columns(self) -> tuple[str, ...]:
        """The columns of ``final`` written to the table: the canonical ones, then ``attributes``."""
        return (*self.spec.names, "attributes") if self.attributes is not None else self.spec.names


def line_source(con: duckdb.DuckDBPyConnection, scan: Scan, params: Params) -> tuple[str, str]:
    """(FROM clause over the scan's rows as ``r``, SQL giving each row's line). When the scan
    refused no row and met no empty line the lines follow the rowids and no join is needed."""
    if scan.kind in {"csv", "parquet"} and scan.refused == 0 and scan.contiguous:
        (first_rowid,) = con.execute(f"select coalesce(min(rowid), 0) from {scan.raw_table}").fetchall()[0]
        params.values["line_shift"] = scan.header_line + 1 - first_rowid
        return f"{scan.raw_table} as r", "(r.rowid + $line_shift)"
    return f"{scan.raw_table} as r join {scan.line_table} as m on m.row_index = r.rowid", "m.line"
