"""``crm-review check``: verify a warehouse, and list what is wrong.

The checks (``queries/check/problems.sql``): natural keys unique, references resolve (into
tables that hold rows), stages inside the configured funnel and outcomes matching them, no
negative duration (closed before created, a target ending before it starts, a stage entered
before its deal was created), the import log's accounting (``rows_read = rows_loaded +
rows_rejected``, and as many rejected lines as ``rejects`` holds), open deals a later full
snapshot no longer had (``import --full-snapshot``), and the schema version this release reads. The file is opened read-only, so a check runs beside reports and imports.

Public names: :class:`Problem`, :func:`check_warehouse`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb

from . import queries, warehouse
from .config import DEFAULT_SETTINGS, Settings

__all__ = ["Problem", "check_warehouse"]


@dataclass(frozen=True)
class Problem:
    check: str  # keys | references | stages | durations | import log | snapshots | schema
    table: str
    problem: str
    rows: int
    example: str | None  # the first offending key (or import id)

    def __str__(self) -> str:
        example = f" (e.g. {self.example})" if self.example is not None else ""
        return f"{self.check}: {self.table}: {self.problem}: {self.rows:,} row{'s' if self.rows != 1 else ''}{example}"


def check_warehouse(path: str | os.PathLike | None = None, *, settings: Settings = DEFAULT_SETTINGS) -> list[Problem]:
    """Every problem of the warehouse at ``path``; an empty list when all checks pass.

    Raises :class:`crmreview.warehouse.WarehouseError` for a file that is no warehouse."""
    path = warehouse.real_path(path)
    if not path.exists():
        raise warehouse.WarehouseError(f"no warehouse at {path}")
    warehouse.refuse_foreign(path)
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        try:
            con.execute("attach $path as warehouse (read_only)", {"path": str(path)})
        except duckdb.Error as exc:
            raise warehouse.WarehouseError(f"cannot open the warehouse {path}: {exc}") from None
        con.execute("use warehouse")
        version, latest = warehouse.schema_version(con), len(warehouse.migrations())
        if version != latest:
            return [
                Problem(
                    "schema",
                    "schema_migrations",
                    f"the schema is at version {version}, this release reads version {latest}"
                    + ("; run crm-review upgrade" if version < latest else ""),
                    1,
                    None,
                )
            ]
        found = queries.run(
            con, "check/problems", {"stages": list(settings.all_stages), "won_stage": settings.won_stage}
        )
    finally:
        con.close()
    return [
        Problem(r.check_name, r.table_name, r.problem, int(r.count_rows), None if r.example is None else str(r.example))
        for r in found.itertuples()
    ]
