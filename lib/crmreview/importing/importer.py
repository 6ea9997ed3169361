"""Import of CRM exports into the warehouse: all-or-nothing, nothing lost.

Two ways in. A **canonical** file is a CSV named ``<table>.csv`` whose header uses the
canonical column names of that table. Any other export is imported with a **mapping**
(:mod:`crmreview.mapping`): a mapping file the user wrote, or a built-in adapter
(``--source salesforce|hubspot|zoho|jiandaoyun``). Files are read by
:mod:`crmreview.readers` (CSV in any of the encodings Excel writes, XLSX).

Every file of one call is imported in one transaction
(:func:`crmreview.warehouse.write_session`): either all are published or none. Each file (and
table it feeds) adds one row to ``imports``; every row it refuses goes to ``rejects`` with
its line (the row number a spreadsheet shows: the header is line 1, a quoted value spanning
several physical lines is one row), column, value and reason, so that for every import
``rows_read = rows_loaded + rows_rejected``. A value that is present but cannot be read is a
reject, never a silent null.

Re-import is safe: a file already imported with the same content (and mapping) is skipped;
rows update earlier ones by natural key (a canonical file replaces the whole record, a mapped
one the columns it maps). A deals export that only has each deal's current stage records a
snapshot per import: the first one infers the stage history from created_at / closed_at
(``deal_history_origin`` says so), and a stage that changed between two snapshots enters the
history dated at the later snapshot (``queries/import/stage_history_from_snapshots.sql``).
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from .. import config, warehouse
from ..config import DEFAULT_SETTINGS, Settings
from ..schema import LOAD_ORDER, TABLE_SPECS, Column, TableSpec
from . import readers, textfiles

__all__ = [
    "TABLE_SPECS",
    "Column",
    "FileResult",
    "ImportFileError",
    "TableSpec",
    "import_files",
]


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
_AMOUNT_EXAMPLES = "such as 1234.50, ¥1,234.50, 1.2万 or (300)"
_DATE_EXAMPLES = "such as 2025-09-09, 2025/9/9, 2025年9月9日 or an Excel date number"
#: date formats tried on every mapped date column (none of them is ambiguous)
_AUTO_FORMATS = (
    tuple(
        f"{day}{clock}"
        for day in ("%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d")
        for clock in ("", " %H:%M", " %H:%M:%S", "%H:%M", "%H:%M:%S", " %H时%M分", " %H时%M分%S秒")
    )
    + ("%Y%m%d", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")
    + tuple(
        f"{day}{clock}"
        for day in ("%b %d, %Y", "%d %b %Y", "%B %d, %Y", "%d-%b-%Y")
        for clock in ("", " %I:%M %p", " %H:%M", " %H:%M:%S")
    )
)
_CLOCKS = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p", " %I:%M%p")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{4}")


#: the local time zone of this call's import (ISO times with an offset are converted to it)
_TIMEZONE: contextvars.ContextVar[str | None] = contextvars.ContextVar("crm_review_timezone", default=None)


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
    adapter: str = "canonical"
    records_loaded: int | None = None  # canonical rows written (lines combined, unpivoted)


_WORK_TABLES = (
    "raw",
    "line_map",
    "scan_refused",
    "checked",
    "problems",
    "valid",
    "final",
    "group_rejects",
    "dups",
    "base",
)
_VOCABULARY = frozenset([*TABLE_SPECS, *_WORK_TABLES, *(c.name for spec in TABLE_SPECS.values() for c in spec.columns)])
_POSITIONAL = re.compile(r"[co][1-9]\d{0,4}")


def _q(name: str) -> str:
    """Quote an identifier; only names of the fixed canonical vocabulary are accepted.

    SQL text is assembled from these names, from positional column names (c1, c2, …) and from
    fixed expression templates, never from values read from a file or a mapping: values
    always travel as bound parameters.
    """
    if name not in _VOCABULARY and not _POSITIONAL.fullmatch(name):
        raise ValueError(f"{name!r} is not an identifier of the canonical model")
    return f'"{name}"'


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


_PARAM = re.compile(r"\$([A-Za-z_]\w*)")


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]):
    """Execute with the parameters the statement uses (DuckDB refuses unused ones)."""
    used = set(_PARAM.findall(sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in used} or None)


class _Params:
    """Bound parameters of one statement, named p1, p2, … by this module."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def add(self, value: object) -> str:
        name = f"p{len(self.values) + 1}"
        self.values[name] = value
        return f"${name}"


@dataclass
class _Plan:
    """The SQL of one (file, table) load: text per canonical column, typing, checks."""

    spec: TableSpec
    raw: dict[str, str]  # canonical column -> SQL giving its source text (null when absent)
    typed: dict[str, str]  # canonical column -> SQL over raw_<column> giving the typed value
    labels: dict[str, str]  # canonical column -> SQL giving the column named in a reject
    checks: list[tuple[str, str, str, str]]  # (label SQL, value SQL, condition, reason SQL)
    params: _Params
    provided: tuple[str, ...]  # canonical columns this load sets
    source_from: str = "raw as r join line_map as m on m.row_index = r.rowid"
    line_expr: str = "m.line"
    where: str = ""
    checked: str = "checked"  # FROM text of the checked rows: the table, or its query
    final: str = "final"  # FROM text of the rows to load: the table, or its query
    rows: int = 0  # rows the scan accepted
    materialize: bool = False  # store the checked rows (lines are combined or collapsed later)
    check_duplicates: bool = True
    stage_column: str | None = None  # raw column holding CRM stage names to check against the map
    extra_src: dict[str, str] = field(default_factory=dict)  # more source columns (operands)


# ----------------------------------------------------------------------------- canonical files


def _choose_table(path: Path, header: list[str]) -> TableSpec:
    stem = path.stem.lower()
    if stem in TABLE_SPECS:
        return TABLE_SPECS[stem]
    fits = [
        spec for spec in TABLE_SPECS.values() if set(header) <= set(spec.names) and set(spec.required) <= set(header)
    ]
    if len(fits) == 1:
        return fits[0]
    raise ImportFileError(
        f"{path}: cannot tell which table this file feeds from its name or header; "
        f"name it after one of: {', '.join(TABLE_SPECS)} (e.g. deals.csv), "
        "or import it with --mapping FILE.yml or --source NAME"
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


def _canonical_typed(column: Column, raw: str) -> str:
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


def _line_source(con: duckdb.DuckDBPyConnection, scan: readers.Scan, params: _Params) -> tuple[str, str]:
    """(FROM clause over raw, SQL giving each row's line). When the scan refused no row the
    lines follow the rowids and no join is needed."""
    if scan.kind == "csv" and scan.refused == 0:
        (first_rowid,) = con.execute("select coalesce(min(rowid), 0) from raw").fetchall()[0]
        params.values["line_shift"] = scan.header_line + 1 - first_rowid
        return "raw as r", "(r.rowid + $line_shift)"
    return "raw as r join line_map as m on m.row_index = r.rowid", "m.line"


def _canonical_plan(con, spec: TableSpec, scan: readers.Scan, settings: Settings) -> _Plan:
    header = scan.header
    params = _Params()
    params.values["stages"] = list(settings.all_stages)
    positions = {name: i for i, name in enumerate(header, start=1)}
    raw = {
        c.name: f"nullif(trim(r.{_q(readers.column_name(positions[c.name]))}), '')"
        if c.name in positions
        else "null::varchar"
        for c in spec.columns
    }
    typed = {c.name: _canonical_typed(c, f"raw_{c.name}") for c in spec.columns}
    labels = {c.name: params.add(c.name) for c in spec.columns}
    checks = []
    for column in spec.columns:
        label, value, typed_col = labels[column.name], f"raw_{column.name}", _q(column.name)
        if column.required:
            checks.append((label, value, f"{value} is null", params.add("missing required value")))
        if column.kind in _EXPECTED:
            checks.append(
                (
                    label,
                    value,
                    f"{value} is not null and {typed_col} is null",
                    params.add(f"expected {_EXPECTED[column.kind]}"),
                )
            )
        if column.kind == "outcome":
            checks.append(
                (
                    label,
                    value,
                    f"{value} is not null and {typed_col} is null",
                    params.add("expected one of: open, won, lost"),
                )
            )
        if column.kind == "stage":
            checks.append(
                (
                    label,
                    value,
                    f"{value} is not null and {typed_col} is null",
                    "'unmapped stage; expected one of: ' || array_to_string($stages, ', ')",
                )
            )
        if column.nonnegative:
            checks.append((label, value, f"{typed_col} < 0", params.add("negative amount; expected zero or more")))
    source_from, line_expr = _line_source(con, scan, params)
    return _Plan(
        spec,
        raw,
        typed,
        labels,
        checks,
        params,
        tuple(c for c in header if c in spec.names),
        source_from=source_from,
        line_expr=line_expr,
    )


# ----------------------------------------------------------------------------- mapped files


def _find_header(header: tuple[str, ...], name: str) -> int | None:
    """1-based position of the column ``name``: exact, else ignoring case and spacing."""
    if name in header:
        return header.index(name) + 1
    folded = re.sub(r"\s+", " ", name).strip().casefold()
    for i, h in enumerate(header, start=1):
        if re.sub(r"\s+", " ", h).strip().casefold() == folded:
            return i
    return None


class _Binder:
    """Compiles a feed's sources against one file's header into SQL text and parameters."""

    def __init__(self, path: Path, header: tuple[str, ...], feed, mapping, params: _Params):
        self.path, self.header, self.feed, self.mapping = path, header, feed, mapping
        self.params = params
        self.nulls = params.add(list(feed.null_values))
        self.used: set[int] = set()
        self.originals: set[int] = set()

    def missing(self, name: str, canonical: str) -> ImportFileError:
        return ImportFileError(
            f"{self.path}: column {name!r} (the source of {self.feed.table}.{canonical} in the "
            f"mapping {self.mapping.name}) is not in the file; the file has: {', '.join(self.header)}"
        )

    def position(self, name: str, canonical: str) -> int:
        position = _find_header(self.header, name)
        if position is None:
            raise self.missing(name, canonical)
        return position

    def text(self, position: int) -> str:
        """The column at ``position`` as text, null when empty or a null marker (#N/A, NULL, -)."""
        self.used.add(position)
        return f"b.{_q(readers.column_name(position))}"

    def original(self, position: int) -> str:
        """The column at ``position`` as the file has it (trimmed), for a reject's value."""
        self.originals.add(position)
        return f"b.{_q('o' + str(int(position)))}"

    def normalised(self, ref: str) -> str:
        return f"case when list_contains({self.nulls}, trim({ref})) then null else trim({ref}) end"

    def expr(self, node, canonical: str, numeric: bool = False) -> str:
        from .mapping import _FUNCTIONS

        if node.op == "name":
            sql = self.text(self.position(node.text, canonical))
            return f"crm_amount({sql})" if numeric else sql
        if node.op == "num":
            value = self.params.add(node.text)
            return f"crm_amount({value})" if numeric else value
        if node.op == "str":
            value = self.params.add(node.text)
            return f"crm_amount({value})" if numeric else value
        if node.op == "neg":
            return f"(-{self.expr(node.args[0], canonical, True)})"
        if node.op in {"+", "-", "*", "/"}:
            left = self.expr(node.args[0], canonical, True)
            right = self.expr(node.args[1], canonical, True)
            if node.op == "/":
                right = f"nullif({right}, 0)"
            sql = f"({left} {node.op} {right})"
            return sql if numeric else f"({sql})::decimal(38, 8)::varchar"
        name = node.text
        is_numeric = _FUNCTIONS[name][2]
        if name in {"left", "right"}:
            sql = f"{name}({self.expr(node.args[0], canonical)}, {int(node.args[1].text)})"
        elif name == "concat":
            sql = "nullif(concat(" + ", ".join(self.expr(a, canonical) for a in node.args) + "), '')"
        elif name == "coalesce":
            sql = "coalesce(" + ", ".join(self.expr(a, canonical, numeric) for a in node.args) + ")"
            return sql
        elif name in {"round", "abs"}:
            args = [self.expr(node.args[0], canonical, True)]
            if len(node.args) > 1:
                args.append(str(int(float(node.args[1].text))))
            sql = f"{name}({', '.join(args)})"
        else:
            sql = f"{name}(" + ", ".join(self.expr(a, canonical) for a in node.args) + ")"
        if is_numeric and not numeric:
            return f"({sql})::decimal(38, 8)::varchar"
        if numeric and not is_numeric:
            return f"crm_amount({sql})"
        return sql


def _date_formats(con, plan_src: str, raw_sql: str, params: _Params, path: Path, label: str) -> tuple[str, ...]:
    """Day-first or month-first, read from a column's values (31/12/2025 vs 12/31/2025)."""
    row = _run(
        con,
        f"""
        select count(*) filter (where a > 12), count(*) filter (where b > 12), count(*),
               min(v) filter (where a <= 12 and b <= 12)
        from (
            select v,
                   try_cast(regexp_extract(v, '^(\\d{{1,2}})[/.-](\\d{{1,2}})[/.-]\\d{{4}}', 1) as integer) as a,
                   try_cast(regexp_extract(v, '^(\\d{{1,2}})[/.-](\\d{{1,2}})[/.-]\\d{{4}}', 2) as integer) as b
            from (select {raw_sql} as v from {plan_src})
            where (substr(v, 2, 1) in ('/', '.', '-') or substr(v, 3, 1) in ('/', '.', '-'))
              and regexp_matches(v, '^\\d{{1,2}}[/.-]\\d{{1,2}}[/.-]\\d{{4}}')
        )
        """,
        params.values,
    ).fetchall()[0]
    day_first, month_first, total, example = row
    if not total:
        return ()
    if day_first and month_first:
        raise ImportFileError(
            f"{path}: column {label} mixes day-first and month-first dates; "
            "set its format in the mapping (e.g. format: '%d/%m/%Y')"
        )
    if not day_first and not month_first:
        raise ImportFileError(
            f"{path}: column {label} has dates such as {example} that read as day/month or "
            "month/day; set its format in the mapping (format: '%d/%m/%Y' or '%m/%d/%Y')"
        )
    order = ("%d", "%m") if day_first else ("%m", "%d")
    return tuple(f"{order[0]}{sep}{order[1]}{sep}%Y{clock}" for sep in "/-." for clock in _CLOCKS)


def _base_sql(binder: _Binder, inner: str, extra: list[str], where: str, line: str = "m.line") -> str:
    """Each source column a feed uses, read once: trimmed, null markers made null."""
    if extra:  # unpivoted rows
        columns = [
            f"{binder.normalised('r.' + _q(readers.column_name(p)))} as {_q(readers.column_name(p))}"
            for p in sorted(binder.used)
        ]
        columns += [
            f"trim(r.{_q(readers.column_name(p))}) as {_q('o' + str(int(p)))}" for p in sorted(binder.originals)
        ]
        return f"select r.line as line, {', '.join([*columns, *extra])} from {inner} {where}"
    positions = sorted(binder.used | binder.originals)
    trimmed = ", ".join(f"trim(r.{_q(readers.column_name(p))}) as {_q(readers.column_name(p))}" for p in positions)
    columns = [
        f"case when list_contains({binder.nulls}, t.{_q(readers.column_name(p))}) then null "
        f"else t.{_q(readers.column_name(p))} end as {_q(readers.column_name(p))}"
        for p in sorted(binder.used)
    ]
    columns += [f"t.{_q(readers.column_name(p))} as {_q('o' + str(int(p)))}" for p in sorted(binder.originals)]
    return (
        f"select t.line as line, {', '.join(columns)} from (select {line} as line, {trimmed} from {inner} {where}) as t"
    )


def _mapped_plan(con, path: Path, scan: readers.Scan, feed, mapping, settings: Settings) -> _Plan:
    spec = TABLE_SPECS[feed.table]
    params = _Params()
    binder = _Binder(path, scan.header, feed, mapping, params)
    raw: dict[str, str] = {}
    labels: dict[str, str] = {}
    checks: list[tuple[str, str, str, str]] = []
    operand_checks: list[tuple[int, str]] = []
    operands_of: dict[str, list[str]] = {}  # expression column -> operand aliases
    originals: dict[str, str] = {}  # column read from one source column -> its text as written
    inner, row_line = _line_source(con, scan, params)
    base_extra: list[str] = []
    base_where = ""
    where = ""
    line_expr = "b.line"
    if feed.unpivot:
        pattern = re.compile(feed.unpivot.headers)
        matched = [(i, h, pattern.fullmatch(h) or pattern.search(h)) for i, h in enumerate(scan.header, start=1)]
        matched = [(i, h, m) for i, h, m in matched if m]
        if not matched:
            raise ImportFileError(
                f"{path}: no column header matches the unpivot pattern {feed.unpivot.headers!r} of the "
                f"mapping {mapping.name}; the file has: {', '.join(scan.header)}"
            )
        values = ", ".join(f"r.{_q(readers.column_name(i))}" for i, _, _ in matched)
        unnests = [f"unnest([{values}]) as u_value", f"unnest({params.add([h for _, h, _ in matched])}) as u_header"]
        for group, column in feed.unpivot.groups:
            unnests.append(f"unnest({params.add([m.group(group) for _, _, m in matched])}) as u_g_{column}")
        inner = f"(select {row_line} as line, r.*, {', '.join(unnests)} from {inner}) as r"
        value_text = binder.normalised("r.u_value")
        base_extra = [f"{value_text} as u_value", "r.u_header as u_header"]
        base_extra += [f"trim(r.u_g_{column}) as u_g_{column}" for _, column in feed.unpivot.groups]
        base_where = f"where {value_text} is not null"
        raw[feed.unpivot.value] = "b.u_value"
        labels[feed.unpivot.value] = "u_header"
        for _group, column in feed.unpivot.groups:
            raw[column] = f"b.u_g_{column}"
            labels[column] = "u_header"
    for name, source in feed.columns.items():
        kind = source.kind
        if kind == "auto" and source.optional and _find_header(scan.header, source.text) is None:
            continue
        if kind == "auto":
            if _find_header(scan.header, source.text) is not None:
                kind = "column"
            else:
                from .mapping import MappingError, parse_expression

                try:
                    node = parse_expression(source.text)
                except MappingError:
                    node = None
                if node is None or (node.op == "name" and node.text == source.text):
                    raise binder.missing(source.text, name)
                kind = "expr"
        if kind == "column":
            found = [p for p in (_find_header(scan.header, n) for n in (source.text, *source.alternatives)) if p]
            if not found:
                if source.optional:
                    continue
                raise binder.missing(source.text, name)
            position = found[0]
            raw[name] = binder.text(position)
            labels[name] = params.add(scan.header[position - 1])
            if spec.column(name).required:  # a null marker there is shown as written
                originals[name] = binder.original(position)
        elif kind == "expr":
            from .mapping import parse_expression

            node = parse_expression(source.text)
            raw[name] = binder.expr(node, name)
            labels[name] = params.add(f"{name} = {source.text}")
            for operand in dict.fromkeys(node.numeric_names()):
                operand_checks.append((binder.position(operand, name), operand))
                operands_of.setdefault(name, []).append(f"operand_{binder.position(operand, name)}")
        elif kind == "value":
            raw[name] = params.add(source.text)
            labels[name] = params.add(name)
        elif kind == "generate":
            if source.generate == "row":
                raw[name] = f"{params.add(source.prefix)} || b.line::varchar"
            else:
                parts = ", ".join(f"coalesce({binder.text(binder.position(o, name))}, '')" for o in source.of)
                raw[name] = f"{params.add(source.prefix)} || left(md5(concat_ws(chr(31), {parts})), 16)"
            labels[name] = params.add(name)
        if source.value_map:
            keys = params.add([k.casefold() for k, _ in source.value_map])
            targets = params.add([v for _, v in source.value_map])
            raw[name] = f"coalesce({targets}[list_position({keys}, lower({raw[name]}))], {raw[name]})"
    for name in feed.skip_if_empty:
        position = _find_header(scan.header, name)
        if position is None:
            raise binder.missing(name, "skip_if_empty")
        where = (f"{where} and " if where else "where ") + f"{binder.text(position)} is not null"
    raw_given = set(raw)
    for name in spec.names:
        raw.setdefault(name, "null::varchar")
        labels.setdefault(name, params.add(name))

    stage_keys = [k.casefold() for k, _ in feed.stage_map]
    stage_targets = [v for _, v in feed.stage_map]
    for stage in settings.all_stages:  # canonical names and their labels map to themselves
        for alias in [stage, *settings.stage_labels.get(stage, {}).values()]:
            if alias.casefold() not in stage_keys:
                stage_keys.append(alias.casefold())
                stage_targets.append(stage)
    stage_from, stage_to = params.add(stage_keys), params.add(stage_targets)
    outcome_keys = params.add(["open", "won", "lost", "进行中", "跟进中", "赢单", "成交", "输单", "丢单"])
    outcome_to = params.add(["open", "won", "lost", "open", "open", "won", "won", "lost", "lost"])
    won, lost = params.add(settings.won_stage), params.add("lost")
    timezone = feed.timezone or _TIMEZONE.get() or con.execute("select current_setting('TimeZone')").fetchall()[0][0]
    tz = params.add(timezone)

    # each used source column read once (trimmed, null markers made null) into a work table:
    # the typing macros and the day/month detection read a value several times
    _drop(con, "base")
    _run(con, f"create temp table base as {_base_sql(binder, inner, base_extra, base_where, row_line)}", params.values)
    typed: dict[str, str] = {}
    source_from = "base as b"
    stage_sql = f"{stage_to}[list_position({stage_from}, lower(raw_stage))]"
    for column in spec.columns:
        value = f"raw_{column.name}"
        label = labels[column.name]
        typed_col = _q(column.name)
        if column.kind in {"timestamp", "date"}:
            explicit = feed.columns.get(column.name).formats if column.name in feed.columns else ()
            explicit = explicit or feed.date_format
            detected = (
                ()
                if explicit or raw[column.name] == "null::varchar"
                else _date_formats(
                    con,
                    f"base as b {where}",
                    raw[column.name],
                    params,
                    path,
                    repr(scan.header[_find_header(scan.header, feed.columns[column.name].text) - 1])
                    if column.name in feed.columns
                    and feed.columns[column.name].kind in {"column", "auto"}
                    and _find_header(scan.header, feed.columns[column.name].text)
                    else column.name,
                )
            )
            formats = params.add(list(explicit) + list(detected) + list(_AUTO_FORMATS))
            sql = f"crm_timestamp({value}, {formats}, {tz})"
            typed[column.name] = f"({sql})::date" if column.kind == "date" else sql
            expected = (
                f"expected a date in the format {' or '.join(explicit)}"
                if explicit
                else f"expected a date {_DATE_EXAMPLES}"
            )
            checks.append((label, value, f"{value} is not null and {typed_col} is null", params.add(expected)))
        elif column.kind == "decimal":
            typed[column.name] = f"crm_amount({value})"
            checks.append(
                (
                    label,
                    value,
                    f"{value} is not null and {typed_col} is null",
                    params.add(f"expected an amount {_AMOUNT_EXAMPLES}"),
                )
            )
        elif column.kind == "stage":
            typed[column.name] = stage_sql
        elif column.kind == "outcome":
            if column.name in feed.columns:
                typed[column.name] = f"{outcome_to}[list_position({outcome_keys}, lower({value}))]"
                checks.append(
                    (
                        label,
                        value,
                        f"{value} is not null and {typed_col} is null",
                        params.add("expected one of: open, won, lost"),
                    )
                )
            else:
                typed[column.name] = (
                    f"case {stage_sql} when {won} then 'won' when {lost} then 'lost' "
                    f"when null then null else 'open' end"
                )
        elif column.is_id:
            typed[column.name] = f"crm_id({value})"
        else:
            typed[column.name] = value
        derived = column.kind == "outcome" and column.name not in feed.columns
        if column.required and not derived:
            # an expression is null when an operand is unreadable: that operand is the reason
            unreadable = " or ".join(
                f"({alias} is not null and crm_amount({alias}) is null)" for alias in operands_of.get(column.name, [])
            )
            condition = f"{value} is null" + (f" and not ({unreadable})" if unreadable else "")
            checks.insert(0, (label, value, condition, params.add("missing required value")))
        if column.nonnegative:
            checks.append((label, value, f"{typed_col} < 0", params.add("negative amount; expected zero or more")))
    extra_src = {"u_header": "b.u_header"} if feed.unpivot else {}
    for position, operand in dict.fromkeys(operand_checks):
        alias = f"operand_{position}"
        extra_src[alias] = binder.text(position)
        checks.append(
            (
                params.add(operand),
                alias,
                f"{alias} is not null and crm_amount({alias}) is null",
                params.add(f"expected a number {_AMOUNT_EXAMPLES}"),
            )
        )
    provided = tuple(
        c
        for c in spec.names
        if c in raw_given
        or (feed.unpivot and c in {feed.unpivot.value, *(g for _, g in feed.unpivot.groups)})
        or (c == "outcome" and feed.table == "deals")
    )
    for name, expr in originals.items():
        extra_src[f"orig_{name}"] = expr
    checks = [
        (label, f"orig_{value[4:]}" if value.startswith("raw_") and value[4:] in originals else value, cond, reason)
        for label, value, cond, reason in checks
    ]
    plan = _Plan(
        spec,
        raw,
        typed,
        labels,
        checks,
        params,
        provided,
        source_from=source_from,
        line_expr=line_expr,
        where=where,
        check_duplicates=feed.combine is None and feed.table != "deal_stage_history",
        stage_column="raw_stage" if "stage" in spec.names else None,
        extra_src=extra_src,
        materialize=feed.combine is not None or feed.table == "deal_stage_history",
    )
    return plan


# ----------------------------------------------------------------------------- the load


def _check(con: duckdb.DuckDBPyConnection, plan: _Plan, settings: Settings) -> None:
    """Build ``checked`` (source text, typed values, first line of each key) and ``problems``."""
    spec = plan.spec
    src_cols = [f"{expr} as raw_{name}" for name, expr in plan.raw.items()]
    src_cols += [f"{expr} as {alias}" for alias, expr in plan.extra_src.items()]
    typed = ", ".join(f"{expr} as {_q(name)}" for name, expr in plan.typed.items())
    key = ", ".join(_q(k) for k in spec.key)
    key_present = " and ".join(f"{_q(k)} is not null" for k in spec.key)
    _drop(con, "checked")
    # computed source values (expressions, value maps, hashed ids): compute them once too
    computed = any(f in e for e in plan.raw.values() for f in ("crm_amount(", "list_position(", "md5("))
    select = f"""
        with src as (
            select {plan.line_expr} as line, {", ".join(src_cols)}
            from {plan.source_from} {plan.where}
        )
        select *, {typed} from src
    """
    if computed or plan.materialize:
        _run(con, f"create temp table checked as {select}", plan.params.values)
        plan.checked = "checked"
    else:
        # typing is a few casts and lookups: cheaper to redo in each statement than to store
        # every value twice (statements with bound parameters cannot be views)
        plan.checked = f"({select}) as checked"
    checked = plan.checked
    con.execute("drop table if exists temp.dups")
    # keys seen twice: grouping 64-bit hashes first is cheaper than grouping the texts
    _run(
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
    items = ", ".join(
        f"case when {cond} then {{'col': {label}, 'value': {value}, 'reason': {reason}}} end"
        for label, value, cond, reason in checks
    )
    con.execute("drop table if exists temp.problems")
    _run(
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


def _unmapped_stages(con, path: Path, plan: _Plan, mapping_name: str) -> None:
    rows = _run(
        con,
        f"select raw_stage, count(*), min(line) from {plan.checked} "
        "where raw_stage is not null and stage is null group by raw_stage order by min(line)",
        plan.params.values,
    ).fetchall()
    if rows:
        listed = "; ".join(
            f"{stage!r} ({n} row{'s' if n > 1 else ''}, first at line {line})" for stage, n, line in rows[:10]
        )
        raise ImportFileError(
            f"{path}: stage{'s' if len(rows) > 1 else ''} not in the stage map of the mapping "
            f"{mapping_name}: {listed}; add {'them' if len(rows) > 1 else 'it'} under stage_map"
        )


def _final(con, plan: _Plan, combine: str | None, collapse_history: bool, open_deals_not_closed: bool = False) -> None:
    """``final``: one row per record to load, from the lines not rejected (a query when the
    rows go in as they are, so that they are not copied once more).

    ``open_deals_not_closed``: the close date an open deal carries in a CRM export is its
    expected close date, not a closing: it is dropped.
    """
    spec = plan.spec
    names = list(spec.names)
    if combine is None and not collapse_history:
        cols = ", ".join(
            "case when outcome = 'open' then null else closed_at end as closed_at"
            if n == "closed_at" and open_deals_not_closed
            else _q(n)
            for n in names
        )
        plan.final = f"(select {cols}, line from {plan.checked} where line not in (select line from problems))"
        return
    plan.final = "final"
    _drop(con, "valid")
    con.execute("create temp view valid as select * from checked where line not in (select line from problems)")
    _drop(con, "final")
    cols = ", ".join(_q(n) for n in names)
    key = ", ".join(_q(k) for k in spec.key)
    if combine == "sum":
        aggregates = ", ".join(
            f"sum({_q(c.name)}) as {_q(c.name)}"
            if c.kind == "decimal"
            else f"min({_q(c.name)}) as {_q(c.name)}"
            if c.kind in {"date", "timestamp"}
            else f"arg_min({_q(c.name)}, line) as {_q(c.name)}"
            for c in spec.columns
            if c.name not in spec.key
        )
        con.execute(
            f"create temp table final as select {key}, {aggregates}, min(line) as line from valid group by {key}"
        )
    elif combine in {"first", "last"}:
        pick = "arg_min" if combine == "first" else "arg_max"
        aggregates = ", ".join(
            f"{pick}({_q(c.name)}, line) as {_q(c.name)}" for c in spec.columns if c.name not in spec.key
        )
        con.execute(
            f"create temp table final as select {key}, {aggregates}, min(line) as line from valid group by {key}"
        )
    else:  # collapse_history: a row repeating the stage before it is no new stage entered
        con.execute(
            f"create temp table final as select {cols}, line from valid "
            "qualify stage is distinct from lag(stage) over (partition by deal_id order by entered_at, line) "
        )


def _group_rejects(con, plan: _Plan) -> None:
    """Lines combined into one record stand or fall together: a record summed from only
    some of its lines would be silently wrong."""
    spec = plan.spec
    key = ", ".join(_q(k) for k in spec.key)
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


def _upsert(con, plan: _Plan, merge: bool) -> int:
    spec = plan.spec
    table = _q(spec.table)
    final = plan.final
    params = plan.params.values
    key_match = " and ".join(f"t.{_q(k)} = v.{_q(k)}" for k in spec.key)
    names = ", ".join(_q(n) for n in spec.names)
    if spec.table == "deal_stage_history":
        # history from an export replaces the history crm-review built from snapshots
        _run(
            con,
            f"delete from deal_stage_history where deal_id in (select deal_id from {final}) "
            "and deal_id in (select deal_id from deal_history_origin)",
            params,
        )
        _run(con, f"delete from deal_history_origin where deal_id in (select deal_id from {final})", params)
    (existing,) = con.execute(f"select count(*) > 0 from {table}").fetchall()[0]
    if merge and existing:
        updates = [c for c in plan.provided if c not in spec.key]
        if updates:
            sets = ", ".join(f"{_q(c)} = v.{_q(c)}" for c in updates)
            _run(con, f"update {table} as t set {sets} from {final} as v where {key_match}", params)
        _run(
            con,
            f"insert into {table} ({names}) select {names} from {final} as v "
            f"where not exists (select 1 from {table} as t where {key_match})",
            params,
        )
    else:
        if existing:
            _run(con, f"delete from {table} as t using {final} as v where {key_match}", params)
        # rows keep the file's order (DuckDB preserves insertion order)
        _run(con, f"insert into {table} ({names}) select {names} from {final} as v", params)
    if final == "final":
        return con.execute("select count(*) from final").fetchall()[0][0]
    if plan.checked == "checked":
        return con.execute("select count(*) from checked where line not in (select line from problems)").fetchall()[0][
            0
        ]
    return con.execute("select $rows - (select count(distinct line) from problems)", {"rows": plan.rows}).fetchall()[0][
        0
    ]


def _record_snapshot(con, plan: _Plan, import_id: int, snapshot_at: datetime, settings: Settings) -> None:
    _run(
        con,
        f"insert into deal_snapshots select $import_id, deal_id, stage, outcome, $at from {plan.final} as v",
        {**plan.params.values, "import_id": import_id, "at": snapshot_at},
    )
    sql = (config.QUERIES_DIR / "import" / "stage_history_from_snapshots.sql").read_text(encoding="utf-8")
    _run(
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


def _drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the temporary table or view ``name`` if it exists (a wrong kind would abort the
    import's transaction)."""
    (is_view,) = con.execute(
        "select count(*) > 0 from duckdb_views() where temporary and view_name = $name", {"name": name}
    ).fetchall()[0]
    con.execute(f"drop {'view' if is_view else 'table'} if exists temp.{_q(name)}")


def _drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in _WORK_TABLES:
        _drop(con, name)


@dataclass(frozen=True)
class _Job:
    path: Path
    feed: object | None  # a mapping Feed, or None for a canonical file
    history: str = "none"  # snapshots | none (deals feeds)


def _import_one(
    con: duckdb.DuckDBPyConnection,
    job: _Job,
    settings: Settings,
    adapter: str,
    mapping=None,
    exported_at: datetime | None = None,
) -> FileResult:
    started = datetime.now()
    path, feed = job.path, job.feed
    sha = _sha256(path)
    mapping_sha = mapping.sha256 if mapping is not None else None
    feed_table = feed.table if feed is not None else None
    earlier = con.execute(
        "select import_id, target_table from imports where sha256 = $sha and adapter = $adapter "
        "and mapping_sha256 is not distinct from $mapping and ($table is null or target_table = $table)",
        {"sha": sha, "adapter": adapter, "mapping": mapping_sha, "table": feed_table},
    ).fetchall()
    if feed is None:
        scan = readers.scan_file(con, path, is_header=lambda h: True)
        spec = _choose_table(path, list(scan.raw_header))
        _check_header(path, list(scan.raw_header), spec)
        if earlier:
            return FileResult(str(path), spec.table, "unchanged", earlier[0][0], 0, 0, 0, scan.encoding, adapter)
        plan = _canonical_plan(con, spec, scan, settings)
    else:
        if earlier:
            return FileResult(str(path), feed.table, "unchanged", earlier[0][0], 0, 0, 0, "", adapter)
        scan = readers.scan_file(
            con,
            path,
            is_header=_header_test(feed),
            header_row=feed.header_row,
            sheet=feed.sheet,
            delimiter=feed.delimiter,
        )
        spec = TABLE_SPECS[feed.table]
        plan = _mapped_plan(con, path, scan, feed, mapping, settings)
    plan.rows = scan.rows
    _check(con, plan, settings)
    if feed is not None and plan.stage_column:
        _unmapped_stages(con, path, plan, mapping.name)
    if feed is not None and feed.combine == "sum":
        _group_rejects(con, plan)
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
    _final(
        con,
        plan,
        feed.combine if feed is not None else None,
        collapse_history=feed is not None and spec.table == "deal_stage_history",
        open_deals_not_closed=feed is not None and spec.table == "deals" and "closed_at" in plan.provided,
    )
    records = _upsert(con, plan, merge=feed is not None)
    rejected_lines = con.execute(
        "select count(*) from (select line from problems union select line from scan_refused)"
    ).fetchall()[0][0]
    rows_read = scan.rows + scan.refused
    rows_rejected = rejected_lines
    rows_loaded = rows_read - rows_rejected
    if feed is None or (feed.combine is None and not plan.where and spec.table != "deal_stage_history"):
        assert rows_loaded == records, "import accounting out of balance"
    snapshot_at = None
    if feed is not None and spec.table == "deals" and job.history == "snapshots":
        snapshot_at = exported_at or _exported_at(path)
        _record_snapshot(con, plan, import_id, snapshot_at, settings)
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
            "exported_at": snapshot_at,
            "records": records,
        },
    )
    _drop_work_tables(con)
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
    )


_NAME_DATE = re.compile(
    r"(20\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?:[T_ -]?([01]\d|2[0-3])[-_.:]?([0-5]\d))?"
)


def _exported_at(path: Path) -> datetime:
    """When an export was taken: a date (and time) in its file name, else its modification time."""
    match = _NAME_DATE.search(path.name)
    if match:
        year, month, day, hour, minute = match.groups()
        try:
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
        except ValueError:
            pass
    return datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)


def _install_staging(con: duckdb.DuckDBPyConnection) -> None:
    con.execute((config.QUERIES_DIR / "import" / "parse_values.sql").read_text(encoding="utf-8"))


def _resolve_mapping(mapping, source: str | None, settings: Settings):
    from .mapping import Mapping, MappingError, builtin_mapping, load_mapping

    if mapping is not None and source is not None:
        raise ImportFileError("give either a mapping file or a source, not both")
    try:
        if source is not None:
            return builtin_mapping(source, settings=settings), source
        if mapping is None:
            return None, "canonical"
        if not isinstance(mapping, Mapping):
            mapping = load_mapping(mapping, settings=settings)
    except MappingError as exc:
        raise ImportFileError(str(exc)) from None
    return mapping, f"mapping:{mapping.name}"


def _header_test(feed):
    wanted = feed.referenced()
    if not wanted:
        return None
    return lambda h: all(_find_header(tuple(h), n) is not None for n in wanted)


def _feeds_for(path: Path, mapping) -> list:
    """The feeds of ``mapping`` that take this file: its name matches the feed's pattern and
    its header has every column the feed needs."""
    candidates = mapping.feeds_for(path)
    if not candidates:
        patterns = ", ".join(sorted({f.file for f in mapping.feeds}))
        raise ImportFileError(
            f"{path}: the mapping {mapping.name} has no feed for this file name (its feeds take: {patterns})"
        )
    fitting, misses = [], []
    for feed in candidates:
        header = readers.peek_header(
            path,
            is_header=_header_test(feed),
            header_row=feed.header_row,
            sheet=feed.sheet,
            delimiter=feed.delimiter,
        )
        missing = feed.missing(header, _find_header)
        if missing:
            misses.append((len(missing), feed, missing, header))
        else:
            fitting.append(feed)
    if fitting:
        return fitting
    _, feed, missing, header = min(misses, key=lambda m: m[0])
    raise ImportFileError(
        f"{path}: column{'s' if len(missing) > 1 else ''} {', '.join(missing)} (needed by the "
        f"{feed.table} feed of the mapping {mapping.name}) "
        f"{'are' if len(missing) > 1 else 'is'} not in the file; the file has: {', '.join(header)}"
    )


def _jobs(files: list[Path], mapping) -> list[_Job]:
    if mapping is None:
        return [_Job(path, None) for path in files]
    pairs = []
    for path in files:
        try:
            feeds = _feeds_for(path, mapping)
        except (textfiles.EncodingError, readers.ReadError) as exc:
            raise ImportFileError(str(exc)) from None
        pairs.extend((path, feed) for feed in feeds)
    with_history = any(feed.table == "deal_stage_history" for _, feed in pairs)
    jobs = []
    for path, feed in pairs:
        history = "none"
        if feed.table == "deals":
            history = feed.history if feed.history != "auto" else ("none" if with_history else "snapshots")
        jobs.append(_Job(path, feed, history))
    jobs.sort(key=lambda j: LOAD_ORDER.index(j.feed.table))
    return jobs


def import_files(
    paths: list[str | os.PathLike],
    db: str | os.PathLike | None = None,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    mapping=None,
    source: str | None = None,
    exported_at: datetime | None = None,
    timezone: str | None = None,
) -> list[FileResult]:
    """Import files in one transaction; returns one result per file and table fed.

    ``mapping`` is a mapping file (path or :class:`crmreview.mapping.Mapping`), ``source`` a
    built-in adapter name; with neither, files are canonical. ``exported_at`` is when the
    export was taken (for stage-history snapshots), by default read from the file name or
    its modification time. ``timezone`` (e.g. ``Asia/Shanghai``) is the local zone that
    timestamps with an offset (``2026-06-03T01:20:00.000Z``) are converted to; by default a
    mapping's own ``timezone``, else the machine's.

    Raises :class:`ImportFileError` (and loads nothing) when a file cannot be imported at all:
    missing, empty, an unknown or missing column, an unreadable encoding, a stage the
    mapping does not know, ambiguous dates.
    """
    files = [Path(p) for p in paths]
    if not files:
        raise ImportFileError("no files given to import")
    for path in files:
        if not path.is_file():
            raise ImportFileError(f"{path}: no such file")
    mapping, adapter = _resolve_mapping(mapping, source, settings)
    jobs = _jobs([p.resolve() for p in files], mapping)
    results = []
    token = _TIMEZONE.set(timezone)
    try:
        with warehouse.write_session(db) as con:
            _import_all(con, jobs, settings, adapter, mapping, exported_at, results)
    finally:
        _TIMEZONE.reset(token)
    return results


def _import_all(con, jobs, settings, adapter, mapping, exported_at, results) -> None:
    from .mapping import MappingError

    _install_staging(con)
    for job in jobs:
        try:
            results.append(_import_one(con, job, settings, adapter, mapping, exported_at))
        except (textfiles.EncodingError, readers.ReadError, MappingError) as exc:
            raise ImportFileError(str(exc)) from None
        except duckdb.Error as exc:
            raise ImportFileError(f"{job.path}: {exc}") from None
