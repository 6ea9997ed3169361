"""The load: checks, duplicates, upsert, rejects and the import log, all in one transaction.

:func:`import_files` imports every file of one call in one transaction
(:func:`crmreview.warehouse.write_session`): either all are published or none. Each file (and
table it feeds) adds one row to ``imports``; every row it refuses goes to ``rejects`` with
its line (the row number a spreadsheet shows: the header is line 1, a quoted value spanning
several physical lines is one row), column, value and reason, so that for every import
``rows_read = rows_loaded + rows_rejected``. A value that is present but cannot be read is a
reject, never a silent null.

Re-import is safe: a file already imported with the same content (and mapping) is skipped
before it is read; rows update earlier ones by natural key (a canonical file replaces the
whole record, a mapped one the columns it maps). Deals exports without a stage history
record snapshots (:mod:`crmreview.importing.snapshots`).

Each file is read once (:class:`crmreview.importing.readers.ExportFile`): a scan stays in
the connection until the last table the file feeds is loaded.

Public names: :func:`import_files`, :class:`FileResult`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from .. import config, warehouse
from ..config import DEFAULT_SETTINGS, Settings
from ..schema import ATTRIBUTE_TABLES, MANAGED_COLUMNS, TABLE_SPECS
from .canonical import canonical_header_test, canonical_plan, check_header, choose_table
from .errors import NUL_BYTE, ImportFileError, MappingError
from .jobs import Job, plan_jobs, resolve_mapping
from .limits import ReadLimits, duckdb_memory_limit, input_bytes
from .mapped import date_formats, mapped_plan
from .mapping import Mapping
from .plan import Plan
from .readers import ExportFile, Layout, ReadError, Scan
from .snapshots import export_date, mark_missing_deals, record_exits, record_snapshot, snapshot_date
from .sql import drop, drop_work_tables, quote, run
from .textfiles import DAMAGED, EncodingError, remove_stale_work_files

__all__ = ["FileResult", "import_files"]

#: rules that involve two columns: (table, column blamed, condition on typed columns, reason)
_ROW_RULES = (
    ("deals", "closed_at", "closed_at < created_at", "closed_at is before created_at"),
    ("targets", "period_end", "period_end < period_start", "period_end is before period_start"),
)


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
    adapter: str = "canonical"
    records_loaded: int | None = None  # canonical rows written (lines combined, unpivoted)
    exported_at: datetime | None = None  # the date of the stage-history snapshot it recorded
    exported_at_source: str | None = None  # where that date came from (snapshots.GIVEN, …)
    records_kept_newer: int = 0  # records the warehouse holds from a newer export: left as they are
    missing_from_snapshot: int | None = None  # full snapshot: deals of the warehouse it no longer has


def import_files(
    paths: list[str | os.PathLike],
    db: str | os.PathLike | None = None,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    mapping: str | os.PathLike | Mapping | None = None,
    source: str | None = None,
    exported_at: datetime | None = None,
    timezone: str | None = None,
    full_snapshot: bool = False,
) -> list[FileResult]:
    """Import files in one transaction; returns one result per file and table fed.

    ``mapping`` is a mapping file (path or :class:`crmreview.importing.mapping.Mapping`),
    ``source`` a built-in adapter name; with neither, files are canonical. ``exported_at`` is
    when the export was taken (for stage-history snapshots), by default a date in the file
    name, else the latest date in the file's rows (never its modification time). ``timezone`` (e.g. ``Asia/Shanghai``) is the local zone
    that timestamps with an offset (``2026-06-03T01:20:00.000Z``) are converted to; by default
    a mapping's own ``timezone``, else the machine's.

    A customers or deals record written from an export taken after this one (the record's
    ``exported_at``) is left as it is and counted in ``records_kept_newer``: an older export
    never rolls a deal back. ``full_snapshot``: the deals files of this call are the CRM's
    every deal, so a deal of the warehouse that none of them has (and that no newer export
    wrote) gets ``missing_since`` = the export's date, counted in the last deals result's
    ``missing_from_snapshot``; a deal that comes back is no longer missing.

    Raises :class:`ImportFileError` (and loads nothing) when a file cannot be imported at all:
    missing, empty, an unknown or missing column, an unreadable encoding, a stage the
    mapping does not know, ambiguous dates, a file with rows none of which could be loaded.
    """
    files = [Path(p) for p in paths]
    if not files:
        raise ImportFileError("no files given to import")
    for path in files:
        if not path.is_file():
            raise ImportFileError(f"{path}: no such file")
    mapping, adapter = resolve_mapping(mapping, source, settings)
    remove_stale_work_files()
    try:
        # the limit is the whole process's: DuckDB gets what the rest leaves of it
        duckdb_limit = duckdb_memory_limit(
            settings.memory_limit or warehouse.DEFAULT_MEMORY_LIMIT, input_bytes=input_bytes(files)
        )
    except ValueError as exc:
        raise ImportFileError(str(exc)) from None
    with contextlib.ExitStack() as open_files:
        limits = ReadLimits.from_settings(settings)
        exports = [open_files.enter_context(ExportFile(p.resolve(), limits)) for p in files]
        jobs = plan_jobs(exports, mapping)
        with warehouse.write_session(db, memory_limit=duckdb_limit, macros=False) as con:
            return _import_all(con, jobs, settings, adapter, mapping, exported_at, timezone, full_snapshot)


class _Scans:
    """The scans of one call: each file read once, kept until its last job is done."""

    def __init__(self, con: duckdb.DuckDBPyConnection, jobs: list[Job]) -> None:
        self.con = con
        self.jobs_left = Counter(id(job.export) for job in jobs)
        self.kept: dict[tuple[int, Layout], Scan] = {}
        self.slots = itertools.count(1)

    def scan(self, export: ExportFile, layout: Layout) -> Scan:
        key = (id(export), layout)
        if key not in self.kept:
            self.kept[key] = export.scan(self.con, layout, next(self.slots))
        return self.kept[key]

    def typed(self, job: Job, scan: Scan) -> None:
        """The rows of ``scan`` are typed into ``checked``: after a file's last job its text
        copy is dropped at once, so that the two are not both held for the rest of the load."""
        if self.jobs_left[id(job.export)] == 1:
            drop(self.con, scan.raw_table)
            drop(self.con, scan.line_table)

    def job_done(self, job: Job) -> None:
        """After a file's last job: drop its scans and its temporary copy."""
        self.jobs_left[id(job.export)] -= 1
        if self.jobs_left[id(job.export)]:
            return
        for key in [k for k in self.kept if k[0] == id(job.export)]:
            scan = self.kept.pop(key)
            for table in (scan.raw_table, scan.line_table, scan.refused_table):
                drop(self.con, table)
        job.export.close()


def _import_all(
    con: duckdb.DuckDBPyConnection,
    jobs: list[Job],
    settings: Settings,
    adapter: str,
    mapping: Mapping | None,
    exported_at: datetime | None,
    timezone: str | None,
    full_snapshot: bool = False,
) -> list[FileResult]:
    con.execute((config.QUERIES_DIR / "import" / "parse_values.sql").read_text(encoding="utf-8"))
    # The value readers repeat their argument in branches that run only for the few values
    # that need them; DuckDB's common-subexpression pass would hoist those branches out and run
    # them on every value (3-4 times slower typing).
    con.execute("set disabled_optimizers = 'common_subexpressions'")
    scans = _Scans(con, jobs)
    # a file with two feeds of one table (HubSpot's Date entered and Date exited columns) is
    # "unchanged" only when imported by an earlier call, not by this call's other feed
    (before,) = con.execute("select coalesce(max(import_id), 0) from imports").fetchall()[0]
    results = []
    if full_snapshot:
        con.execute("create or replace temp table snapshot_deal_ids (deal_id varchar)")
    for job in jobs:
        try:
            results.append(
                _import_one(con, job, scans, settings, adapter, mapping, exported_at, timezone, full_snapshot, before)
            )
        except (EncodingError, ReadError, MappingError) as exc:
            raise ImportFileError(str(exc)) from None
        except DAMAGED as exc:
            raise ImportFileError(f"{job.path}: a damaged compressed file ({exc})") from None
        except duckdb.Error as exc:
            raise ImportFileError(f"{job.path}: {exc}") from None
        scans.job_done(job)
    if full_snapshot:
        results = mark_missing_deals(con, results)
    return results


def _import_one(
    con: duckdb.DuckDBPyConnection,
    job: Job,
    scans: _Scans,
    settings: Settings,
    adapter: str,
    mapping: Mapping | None,
    exported_at: datetime | None,
    timezone: str | None,
    full_snapshot: bool = False,
    before: int | None = None,
) -> FileResult:
    started = datetime.now()
    path, feed, export = job.path, job.feed, job.export
    sha = export.sha256
    mapping_sha = mapping.sha256 if mapping is not None else None
    feed_table = feed.table if feed is not None else None
    earlier = con.execute(
        "select import_id, target_table from imports where sha256 = $sha and adapter = $adapter "
        "and mapping_sha256 is not distinct from $mapping and ($table is null or target_table = $table) "
        "and ($before is null or import_id <= $before)",
        {"sha": sha, "adapter": adapter, "mapping": mapping_sha, "table": feed_table, "before": before},
    ).fetchall()
    if feed is None:
        layout = export.layout(is_header=canonical_header_test(path))
        spec = choose_table(path, list(layout.raw_header))
        check_header(path, list(layout.raw_header), spec)
        if earlier:
            return FileResult(str(path), spec.table, "unchanged", earlier[0][0], 0, 0, 0, export.encoding, adapter)
        scan = scans.scan(export, layout)
        plan = canonical_plan(con, path, spec, scan, settings, timezone)
    else:
        if earlier:
            return FileResult(str(path), feed.table, "unchanged", earlier[0][0], 0, 0, 0, "", adapter)
        scan = scans.scan(export, job.layout)
        spec = TABLE_SPECS[feed.table]
        plan = mapped_plan(con, path, scan, feed, mapping, settings, timezone)
    plan.rows = scan.rows
    _check(con, path, plan, settings)
    scans.typed(job, scan)
    if feed is not None and plan.stage_column:
        _unmapped_stages(con, path, plan, mapping.name)
    if feed is None and "stage" in spec.names:
        _unconfigured_stages(con, path, plan, settings)
    if feed is not None and feed.combine == "sum":
        _group_rejects(con, plan)
    import_id = con.execute("select nextval('import_id_seq')").fetchall()[0][0]
    con.execute(
        f"""
        insert into rejects
        select $import_id, $file, line, "column", value, reason
        from (select * from {quote(scan.refused_table)} union all select * from problems)
        order by line, "column"
        """,
        {"import_id": import_id, "file": str(path)},
    )
    _final(
        con,
        plan,
        feed.combine if feed is not None else None,
        collapse_history=feed is not None and spec.table == "deal_stage_history",
        open_deals_not_closed=feed is not None and spec.table == "deals" and "closed_at" in plan.provided,
    )
    export_at = export_source = None
    snapshots = feed is not None and spec.table == "deals" and job.history == "snapshots"
    if snapshots:
        export_at, export_source = snapshot_date(con, path, exported_at, spec, plan.final, plan.params.values)
    elif spec.table in ATTRIBUTE_TABLES:
        export_at, export_source = export_date(path, exported_at)
    plan.exported_at = export_at
    if full_snapshot and spec.table == "deals":
        run(con, f"insert into snapshot_deal_ids select deal_id from {plan.final}", plan.params.values)
    if feed is not None and feed.unpivot is not None and feed.unpivot.exits:
        records = record_exits(con, plan.final, plan.params.values)
    else:
        records = _upsert(con, plan, merge=feed is not None)
    rejected_lines = con.execute(
        f"select count(*) from (select line from problems union select line from {quote(scan.refused_table)})"
    ).fetchall()[0][0]
    rows_read = scan.rows + scan.refused
    rows_rejected = rejected_lines
    rows_loaded = rows_read - rows_rejected
    if feed is None or (feed.combine is None and not plan.where and spec.table != "deal_stage_history"):
        assert rows_loaded == records, "import accounting out of balance"
    if rows_read and not rows_loaded:
        raise ImportFileError(_nothing_loaded(con, path, rows_read, scan.refused_table))
    if snapshots:
        record_snapshot(con, plan.final, plan.params.values, import_id, export_at, settings)
    con.execute(
        """
        insert into imports (import_id, file, sha256, adapter, target_table, rows_read, rows_loaded,
                             rows_rejected, started_at, finished_at, mapping_sha256, exported_at,
                             records_loaded)
        values ($import_id, $file, $sha, $adapter, $table, $read, $loaded, $rejected, $started,
                $finished, $mapping, $exported_at, $records)
        """,
        {
            "import_id": import_id,
            "file": str(path),
            "sha": sha,
            "adapter": adapter,
            "table": spec.table,
            "read": rows_read,
            "loaded": rows_loaded,
            "rejected": rows_rejected,
            "started": started,
            "finished": datetime.now(),
            "mapping": mapping_sha,
            "exported_at": export_at,
            "records": records,
        },
    )
    drop_work_tables(con)
    return FileResult(
        str(path),
        spec.table,
        "loaded",
        import_id,
        rows_read,
        rows_loaded,
        rows_rejected,
        scan.encoding,
        adapter,
        records,
        export_at,
        export_source,
        plan.kept_newer,
    )


#: how many reasons the error of a file with nothing loaded names
_TOP_REASONS = 3


def _nothing_loaded(con: duckdb.DuckDBPyConnection, path: Path, rows_read: int, refused_table: str) -> str:
    """The error of a file none of whose rows could be loaded: its most common reasons."""
    reasons = con.execute(
        f"""
        select "column", reason, count(distinct line) as n, min(line) as first_line,
               arg_min(value, line) as example
        from (select * from problems union all select * from {quote(refused_table)})
        group by all order by n desc, first_line limit $top
        """,
        {"top": _TOP_REASONS},
    ).fetchall()
    listed = "; ".join(
        f"{column + ': ' if column else ''}{reason} ({f'{n} rows, first at ' if n > 1 else ''}"
        f"line {line}{': ' + repr(example) if example is not None else ''})"
        for column, reason, n, line, example in reasons
    )
    nothing = f"none of its {rows_read} rows could be loaded" if rows_read > 1 else "its one row could not be loaded"
    return f"{path}: {nothing}; {'most common reasons' if len(reasons) > 1 else 'reason'}: {listed}"


def _check(con: duckdb.DuckDBPyConnection, path: Path, plan: Plan, settings: Settings) -> None:
    """Build ``checked`` (source text, typed values, first line of each key) and ``problems``.

    Every value is read and typed once, into the work table ``checked_rows``; the duplicate
    check, the problem scan, the stage checks and the insert read the stored values. A typed
    column that is its source text as it is (ids, names) is stored once: the view ``checked``
    gives it under both names.
    """
    spec = plan.spec
    src_cols = [f"{expr} as raw_{name}" for name, expr in plan.raw.items()]
    src_cols += [f"{expr} as {alias}" for alias, expr in plan.extra_src.items()]
    same = [name for name, expr in plan.typed.items() if expr == f"raw_{name}"]
    typed = "".join(f", {expr} as {quote(name)}" for name, expr in plan.typed.items() if name not in same)
    key = ", ".join(quote(k) for k in spec.key)
    key_present = " and ".join(f"{quote(k)} is not null" for k in spec.key)
    drop(con, "checked")
    drop(con, "checked_rows")
    run(
        con,
        f"""
        create temp table checked_rows as
        with src as (
            select {plan.line_expr} as line, {", ".join(src_cols)}
            from {plan.source_from} {plan.where}
        )
        select *{typed} from src
        """,
        plan.params.values,
    )
    _date_orders(con, path, plan)
    aliases = "".join(f", raw_{name} as {quote(name)}" for name in same)
    con.execute(f"create temp view checked as select *{aliases} from checked_rows")
    plan.checked = "checked"
    checked = plan.checked
    con.execute("drop table if exists temp.dups")
    # keys seen twice: grouping 64-bit hashes first is cheaper than grouping the texts
    run(
        con,
        f"""
        create temp table dups as
        select {key}, min(line) as first_line_of_key from {checked}
        where {key_present} and hash({key}) in (
            select key_hash from (select hash({key}) as key_hash from {checked} where {key_present})
            group by key_hash having count(*) > 1
        )
        group by {key} having count(*) > 1
        """,
        plan.params.values,
    )
    checks = list(plan.checks)
    for table, column, condition, reason in _ROW_RULES:
        if table == spec.table:
            checks.append((plan.labels[column], f"raw_{column}", condition, plan.params.add(reason)))
    if plan.check_duplicates:
        key_label = " + ".join(spec.key)
        checks.append(
            (
                plan.labels[spec.key[-1]] if len(spec.key) == 1 else plan.params.add(key_label),
                f"raw_{spec.key[0]}",
                "first_line_of_key < line",
                f"{plan.params.add(f'duplicate {key_label} within the file (first at line ')} || first_line_of_key || ')'",
            )
        )
    checks = _nul_checks(plan, checks)
    items = ", ".join(
        f"case when {cond} then {{'col': {label}, 'value': {value}, 'reason': {reason}}} end"
        for label, value, cond, reason in checks
    )
    con.execute("drop table if exists temp.problems")
    run(
        con,
        f"""
        create temp table problems as
        select line, p.col as "column", p.value, p.reason
        from (
            select line, unnest(list_filter([{items}], lambda x: x is not null)) as p
            from {checked} left join dups using ({key})
            where {" or ".join(f"coalesce({cond}, false)" for _, _, cond, _ in checks)}
        )
        """,
        plan.params.values,
    )


def _date_orders(con: duckdb.DuckDBPyConnection, path: Path, plan: Plan) -> None:
    """Day-first or month-first dates (31/12/2025, 12/31/2025): the order is read from the
    values of a date column that the unambiguous readers left unread, and only those values
    are read again with it. A value one of those readers reads never has a day/month order
    (each of them starts with the year or a month name), so the result is the same as
    reading every value with the order first."""
    for column, formats, label, canonical in plan.date_orders:
        detected = date_formats(
            con, f"checked_rows where {quote(column)} is null", f"raw_{column}", plan.params, path, label, canonical
        )
        if not detected:
            continue
        plan.params.values[formats] = [*detected, *plan.params.values[formats]]
        run(
            con,
            f"update checked_rows set {quote(column)} = {plan.typed[column]} "
            f"where raw_{column} is not null and {quote(column)} is null",
            plan.params.values,
        )


def _nul_checks(plan: Plan, checks: list[tuple[str, str, str, str]]) -> list[tuple[str, str, str, str]]:
    """A NUL byte in a value is a reject of its own (a damaged export, not data); the other
    checks of that value then stay silent, so that the reject says what is wrong."""
    nul = {f"raw_{name}" for name in plan.raw if plan.raw[name] != "null::varchar"}
    guarded = []
    for label, value, cond, reason in checks:
        source = "raw_" + value[5:] if value.startswith("orig_") else value  # as written -> as read
        if source in nul:
            cond = f"({cond}) and not coalesce(contains({source}, chr(0)), false)"
        guarded.append((label, value, cond, reason))
    reason = plan.params.add(NUL_BYTE)
    first = [
        (plan.labels[value[4:]], f"replace({value}, chr(0), '\\x00')", f"contains({value}, chr(0))", reason)
        for value in sorted(nul)
    ]
    return first + guarded


def _unknown_stages(con, plan: Plan) -> tuple[int, str, str]:
    """How many distinct stage texts of the checked rows no stage list knows, and a listing of
    them (text, rows, first line), for the error that stops the import."""
    rows = run(
        con,
        f"select raw_stage, count(*), min(line) from {plan.checked} "
        "where raw_stage is not null and stage is null group by raw_stage order by min(line)",
        plan.params.values,
    ).fetchall()
    listed = "; ".join(
        f"{stage!r} ({n} row{'s' if n > 1 else ''}, first at line {line})" for stage, n, line in rows[:10]
    )
    return len(rows), listed, (str(rows[0][0]).lower() if rows else "")


def _unmapped_stages(con, path: Path, plan: Plan, mapping_name: str) -> None:
    count, listed, _ = _unknown_stages(con, plan)
    if count:
        raise ImportFileError(
            f"{path}: stage{'s' if count > 1 else ''} not in the stage map of the mapping "
            f"{mapping_name}: {listed}; add {'them' if count > 1 else 'it'} under stage_map"
        )


def _unconfigured_stages(con, path: Path, plan: Plan, settings: Settings) -> None:
    """A canonical file's stage that the funnel's stage list does not have fails the import: the
    stage list is the settings' ``stages`` (a team may add ``negotiation``), not a per-row error."""
    count, listed, first = _unknown_stages(con, plan)
    if count:
        example = ", ".join([*settings.stages[:-1], first, settings.stages[-1]])
        raise ImportFileError(
            f"{path}: stage{'s' if count > 1 else ''} not in the configured funnel: {listed}; the funnel "
            f"stages are {', '.join(settings.stages)} (and lost). Add {'them' if count > 1 else 'it'} to the "
            f"'stages' key of the settings file (crm-review.yml or --config), e.g. stages: [{example}]"
        )


def _final(con, plan: Plan, combine: str | None, collapse_history: bool, open_deals_not_closed: bool = False) -> None:
    """``final``: one row per record to load, from the lines not rejected (a query when the
    rows go in as they are, so that they are not copied once more).

    ``open_deals_not_closed``: the close date an open deal carries in a CRM export is its
    expected close date, not a closing: it is dropped.
    """
    spec = plan.spec
    names = list(plan.load_columns)
    if combine is None and not collapse_history:
        cols = ", ".join(
            "case when outcome = 'open' then null else closed_at end as closed_at"
            if n == "closed_at" and open_deals_not_closed
            else quote(n)
            for n in names
        )
        plan.final = f"(select {cols}, line from {plan.checked} where line not in (select line from problems))"
        return
    plan.final = "final"
    drop(con, "valid")
    con.execute("create temp view valid as select * from checked where line not in (select line from problems)")
    drop(con, "final")
    cols = ", ".join(quote(n) for n in names)
    key = ", ".join(quote(k) for k in spec.key)
    if combine == "sum":
        aggregates = ", ".join(
            f"sum({quote(c.name)}) as {quote(c.name)}"
            if c.kind == "decimal"
            else f"min({quote(c.name)}) as {quote(c.name)}"
            if c.kind in {"date", "timestamp"}
            else f"arg_min({quote(c.name)}, line) as {quote(c.name)}"
            for c in spec.columns
            if c.name not in spec.key
        )
        if plan.attributes is not None:
            aggregates += ", arg_min(attributes, line) as attributes"
        con.execute(
            f"create temp table final as select {key}, {aggregates}, min(line) as line from valid group by {key}"
        )
    elif combine in {"first", "last"}:
        pick = "arg_min" if combine == "first" else "arg_max"
        aggregates = ", ".join(
            f"{pick}({quote(c)}, line) as {quote(c)}" for c in plan.load_columns if c not in spec.key
        )
        con.execute(
            f"create temp table final as select {key}, {aggregates}, min(line) as line from valid group by {key}"
        )
    else:  # collapse_history: a row repeating the stage before it is no new stage entered
        con.execute(
            f"create temp table final as select {cols}, line from valid "
            "qualify stage is distinct from lag(stage) over (partition by deal_id order by entered_at, line) "
        )


def _group_rejects(con, plan: Plan) -> None:
    """Lines combined into one record stand or fall together: a record summed from only
    some of its lines would be silently wrong."""
    spec = plan.spec
    key = ", ".join(quote(k) for k in spec.key)
    key_label = " + ".join(spec.key)
    con.execute(
        f"""
        insert into problems
        select c.line, $column, c.raw_{spec.key[0]},
               $reason || bad.first_bad || ')'
        from checked as c
        join (
            select {key}, min(line) as first_bad from checked
            where line in (select line from problems) group by {key}
        ) as bad using ({key})
        where c.line not in (select line from problems)
        """,
        {"column": key_label, "reason": f"another line of the same {key_label} was rejected (line "},
    )


def _upsert(con, plan: Plan, merge: bool) -> int:
    """Write ``final`` into the table: a mapped load (``merge``) updates the columns it maps
    (and the attribute headers it has), a canonical one replaces whole records. In customers
    and deals, a record the warehouse holds from an export taken after this one
    (``exported_at``) is left alone and counted in ``plan.kept_newer``."""
    spec = plan.spec
    table = quote(spec.table)
    final = plan.final
    params = dict(plan.params.values)
    key_match = " and ".join(f"t.{quote(k)} = v.{quote(k)}" for k in spec.key)
    names = ", ".join(quote(n) for n in plan.load_columns)
    managed = spec.table in MANAGED_COLUMNS
    if spec.table == "deal_stage_history":
        # history from an export replaces the history crm-review built from snapshots
        run(
            con,
            f"delete from deal_stage_history where deal_id in (select deal_id from {final}) "
            "and deal_id in (select deal_id from deal_history_origin)",
            params,
        )
        run(con, f"delete from deal_history_origin where deal_id in (select deal_id from {final})", params)
    (existing,) = con.execute(f"select count(*) > 0 from {table}").fetchall()[0]
    older = "false"
    if managed:
        params["record_exported_at"] = plan.exported_at
        older = "coalesce(t.exported_at > $record_exported_at::timestamp, false)"
        if existing and plan.exported_at is not None:
            (plan.kept_newer,) = run(
                con,
                f"select count(*) from {final} as v where exists (select 1 from {table} as t "
                f"where {key_match} and {older})",
                params,
            ).fetchall()[0]
    stamp = ", exported_at" if managed else ""
    stamp_value = ", $record_exported_at::timestamp" if managed else ""
    if merge and existing:
        sets = [f"{quote(c)} = v.{quote(c)}" for c in plan.provided if c not in spec.key]
        if plan.attributes is not None:
            # the headers of this export replace their entries; the others stay
            params["attribute_headers"] = list(plan.attributes)
            sets.append(
                "attributes = map_concat(map_from_entries(list_filter(map_entries(t.attributes), "
                "lambda e: not list_contains($attribute_headers, e.key))), v.attributes)"
            )
        if managed:
            sets.append("exported_at = $record_exported_at::timestamp")
        if spec.table == "deals":
            sets.append("missing_since = null")
        if sets:
            run(
                con,
                f"update {table} as t set {', '.join(sets)} from {final} as v where {key_match} and not {older}",
                params,
            )
        run(
            con,
            f"insert into {table} ({names}{stamp}) select {names}{stamp_value} from {final} as v "
            f"where not exists (select 1 from {table} as t where {key_match})",
            params,
        )
    elif existing and plan.kept_newer:
        run(con, f"delete from {table} as t using {final} as v where {key_match} and not {older}", params)
        run(
            con,
            f"insert into {table} ({names}{stamp}) select {names}{stamp_value} from {final} as v "
            f"where not exists (select 1 from {table} as t where {key_match})",
            params,
        )
    else:
        if existing:
            run(con, f"delete from {table} as t using {final} as v where {key_match}", params)
        # rows keep the file's order (DuckDB preserves insertion order)
        run(con, f"insert into {table} ({names}{stamp}) select {names}{stamp_value} from {final} as v", params)
    if final == "final":
        return con.execute("select count(*) from final").fetchall()[0][0]
    if plan.checked == "checked":
        return con.execute("select count(*) from checked where line not in (select line from problems)").fetchall()[0][
            0
        ]
    return con.execute("select $rows - (select count(distinct line) from problems)", {"rows": plan.rows}).fetchall()[0][
        0
    ]
