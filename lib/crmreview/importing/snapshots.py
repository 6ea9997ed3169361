"""Stage history from successive exports that only show each deal's current stage.

A deals feed without a stage history (``history: snapshots``) records, per import, each
deal's stage and outcome as a snapshot dated when the export was taken. The first snapshot of
a deal infers its history from created_at / closed_at (``deal_history_origin`` says so); a
stage that changed between two snapshots enters the history dated at the later snapshot
(``queries/import/stage_history_from_snapshots.sql``).

Public names: :func:`record_snapshot`, :func:`exported_at` (when an export was taken: a date
in its file name, else its modification time).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import duckdb

from .. import config
from ..config import Settings
from .sql import run

__all__ = ["exported_at", "record_snapshot"]

_NAME_DATE = re.compile(
    r"(20\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?:[T_ -]?([01]\d|2[0-3])[-_.:]?([0-5]\d))?"
)


def exported_at(path: Path) -> datetime:
    """When an export was taken: a date (and time) in its file name, else its modification time."""
    match = _NAME_DATE.search(path.name)
    if match:
        year, month, day, hour, minute = match.groups()
        try:
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
        except ValueError:
            pass
    return datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)


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
