"""Stage history from successive exports that only show each deal's current stage.

A deals feed without a stage history (``history: snapshots``) records, per import, each
deal's stage and outcome as a snapshot dated when the export was taken. The first snapshot of
a deal infers its history from created_at / closed_at (``deal_history_origin`` says so); a
stage that changed between two snapshots enters the history dated at the later snapshot
(``queries/import/stage_history_from_snapshots.sql``).

A snapshot's date is when the export was taken (:func:`snapshot_date`): the date the user
gave (``--exported-at``), else a date in the file name, else the latest date inside the file
(the largest date or timestamp of the rows loaded). Never the file's modification time: a
copied or downloaded file carries the day it was copied, and a 2017 export would date its
history today.

Every customers and deals import is dated the same way when it can be (:func:`export_date`:
the date given, else one in the file name; a snapshot also falls back on the file's content):
a record keeps the date of the export that wrote it (``exported_at``), and an older export
never overwrites it (:mod:`crmreview.importing.load`). An import marked as a full snapshot
(``crm-review import --full-snapshot``) holds every deal of the CRM: a deal of the warehouse
that it lacks gets ``missing_since`` (:func:`mark_missing_deals`); ``crm-review check`` lists
those deals. When an export says when deals left a stage (HubSpot's ``Date exited``
columns, a feed with ``unpivot: {exits: true}``), a deal's last exit dates its entry into its
current stage when no column recorded that entry (:func:`record_exits`).

Public names: :func:`record_snapshot`, :func:`snapshot_date`, :func:`export_date`,
:func:`mark_missing_deals`, :func:`record_exits`, :func:`date_in_name`, and the sources a date comes from:
``GIVEN``, ``FROM_NAME``, ``FROM_CONTENT``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb

from .. import config
from ..config import Settings
from ..schema import TableSpec
from .errors import ImportFileError
from .sql import quote, run

__all__ = [
    "FROM_CONTENT",
    "FROM_NAME",
    "GIVEN",
    "date_in_name",
    "export_date",
    "mark_missing_deals",
    "record_exits",
    "record_snapshot",
    "snapshot_date",
]

#: where a snapshot's date came from, as the import prints it
GIVEN = "--exported-at"
FROM_NAME = "date in the file name"
FROM_CONTENT = "latest date in the file"

_NAME_DATE = re.compile(
    r"(20\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?:[T_ -]?([01]\d|2[0-3])[-_.:]?([0-5]\d))?"
)


def date_in_name(path: Path) -> datetime | None:
    """A date (and time) in a file's name (``deals_2026-07-06.csv``, ``商机20260706_0930.xlsx``)."""
    for match in _NAME_DATE.finditer(path.name):
        year, month, day, hour, minute = match.groups()
        try:
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
        except ValueError:
            continue
    return None


def export_date(path: Path, given: datetime | None) -> tuple[datetime | None, str | None]:
    """(when the export at ``path`` was taken, where that date came from): the date the user
    gave, else a date in the file name; (None, None) when neither says."""
    if given is not None:
        return given, GIVEN
    named = date_in_name(path)
    if named is not None:
        return named, FROM_NAME
    return None, None


def snapshot_date(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    given: datetime | None,
    spec: TableSpec,
    rows: str,
    params: dict[str, object],
) -> tuple[datetime, str]:
    """(when the export at ``path`` was taken, where that date came from).

    ``rows`` is the FROM text (with ``params``) of the rows loaded from the file, typed as
    ``spec``'s columns: their latest date or timestamp is the last resort. Raises
    :class:`ImportFileError` when none of the three gives a date.
    """
    known, source = export_date(path, given)
    if known is not None:
        return known, source
    columns = [c.name for c in spec.columns if c.kind in {"date", "timestamp"}]
    if columns:
        latest = ", ".join(f"max({quote(c)})::timestamp" for c in columns)
        (value,) = run(con, f"select greatest({latest}) from {rows}", params).fetchall()[0]
        if value is not None:
            return value, FROM_CONTENT
    raise ImportFileError(
        f"{path}: cannot tell when this export was taken: its name holds no date and its rows "
        "no date either; give it with --exported-at YYYY-MM-DD"
    )


def record_snapshot(
    con: duckdb.DuckDBPyConnection,
    deals: str,
    params: dict[str, object],
    import_id: int,
    snapshot_at: datetime,
    settings: Settings,
) -> None:
    """Record the deals of ``deals`` (FROM text of the loaded rows, with its ``params``) as
    import ``import_id``'s snapshot, and rebuild those deals' stage history."""
    run(
        con,
        f"insert into deal_snapshots select $import_id, deal_id, stage, outcome, $at from {deals} as v",
        {**params, "import_id": import_id, "at": snapshot_at},
    )
    sql = (config.QUERIES_DIR / "import" / "stage_history_from_snapshots.sql").read_text(encoding="utf-8")
    run(
        con,
        "create or replace temp table snapshot_history as " + sql,
        {"import_id": import_id, "first_stage": settings.stages[0], "won": settings.won_stage},
    )
    con.execute("delete from deal_stage_history where deal_id in (select deal_id from snapshot_history)")
    con.execute(
        "insert into deal_stage_history (deal_id, stage, entered_at) "
        "select deal_id, stage, entered_at from snapshot_history where stage is not null order by deal_id, entered_at"
    )
    con.execute("delete from deal_history_origin where deal_id in (select deal_id from snapshot_history)")
    con.execute(
        "insert into deal_history_origin select deal_id, any_value(origin), $import_id "
        "from snapshot_history group by deal_id",
        {"import_id": import_id},
    )
    con.execute("drop table snapshot_history")


def mark_missing_deals(con: duckdb.DuckDBPyConnection, results: list) -> list:
    """After the files of a full snapshot (their deal ids in the temp table
    ``snapshot_deal_ids``): mark the deals of the warehouse none of them has, and that no
    export taken after the snapshot wrote, as ``missing_since`` the snapshot's date (the
    latest date of its deals files). Returns ``results`` (the call's
    :class:`crmreview.importing.load.FileResult` list) with the count in the last deals
    result's ``missing_from_snapshot``. Raises :class:`ImportFileError` when no file fed
    deals, or when a deals file's date is not known."""
    deals = [i for i, r in enumerate(results) if r.table == "deals"]
    if not deals:
        raise ImportFileError(
            "--full-snapshot: none of the files feeds deals; a full snapshot is an export of every deal"
        )
    unchanged = [results[i].file for i in deals if results[i].status == "unchanged"]
    if len(unchanged) == len(deals):  # the same snapshot again: nothing new to compare
        con.execute("drop table snapshot_deal_ids")
        return results
    if unchanged:
        raise ImportFileError(
            f"{unchanged[0]}: imported before, so its deals cannot be compared with the warehouse's; "
            "--full-snapshot needs every deals file of the snapshot to be new in this call"
        )
    undated = [results[i].file for i in deals if results[i].exported_at is None]
    if undated:
        raise ImportFileError(
            f"{undated[0]}: --full-snapshot needs to know when the export was taken: give it with "
            "--exported-at YYYY-MM-DD (or put the date in the file name)"
        )
    at = max(results[i].exported_at for i in deals)
    missing = con.execute(
        """
        update deals set missing_since = $at
        where missing_since is null
            and deal_id not in (select deal_id from snapshot_deal_ids)
            and coalesce(exported_at <= $at, true)
        returning deal_id
        """,
        {"at": at},
    ).fetchall()
    con.execute("drop table snapshot_deal_ids")
    last = deals[-1]
    results = list(results)
    results[last] = replace(results[last], missing_from_snapshot=len(missing))
    return results


def record_exits(con: duckdb.DuckDBPyConnection, exits: str, params: dict[str, object]) -> int:
    """Add to the stage history the entries that the exits of ``exits`` (FROM text of rows
    deal_id, stage left, entered_at = when it was left, with ``params``) imply
    (``queries/import/stage_entries_from_exits.sql``); returns how many rows it added."""
    run(con, f"create or replace temp table stage_exits as select deal_id, stage, entered_at from {exits}", params)
    sql = (config.QUERIES_DIR / "import" / "stage_entries_from_exits.sql").read_text(encoding="utf-8")
    con.execute("create or replace temp table stage_entries as " + sql)
    con.execute(
        "insert into deal_stage_history (deal_id, stage, entered_at) "
        "select deal_id, stage, entered_at from stage_entries order by deal_id"
    )
    (added,) = con.execute("select count(*) from stage_entries").fetchall()[0]
    con.execute("drop table stage_entries")
    con.execute("drop table stage_exits")
    return added
