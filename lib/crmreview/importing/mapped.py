"""Mapped feeds: an export in the CRM's own layout, read through a mapping's feed.

:func:`mapped_plan` compiles one feed (:class:`crmreview.importing.mapping.Feed`) against one
scanned file into a :class:`crmreview.importing.plan.Plan`: each canonical column from a
source column (found by :func:`crmreview.importing.mapping.find_header`), an expression
(:class:`Binder` turns :mod:`crmreview.importing.expressions` into SQL), a constant or a
generated id; unpivoted columns become rows; CRM stage names go through the stage map;
dates are read in many forms (day-first or month-first told apart from a column's values),
amounts with currency signs, thousands separators and 万, and times with an offset are
converted to the import's time zone. Each source column the feed uses is read once into the
work table ``base`` (trimmed, null markers such as ``#N/A`` made null). The columns no feed
of the mapping mentions become the records' ``attributes`` (customers and deals:
:mod:`crmreview.importing.attributes`).

Public names: :func:`mapped_plan`, :class:`Binder`, :func:`date_formats` and ``AUTO_FORMATS``
(the date readers the canonical route shares).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..config import Settings
from ..schema import TABLE_SPECS
from .attributes import attributes_sql, unmapped_positions
from .errors import (
    AMOUNT_EXAMPLES,
    DATE_EXAMPLES,
    EXPECTED_OUTCOME,
    MISSING_VALUE,
    NEGATIVE_AMOUNT,
    ImportFileError,
    MappingError,
)
from .expressions import FUNCTIONS, Expr, parse_expression
from .mapping import Feed, Mapping, find_header
from .patterns import match_headers
from .plan import Plan, line_source
from .readers import Scan, column_name
from .sql import Params, drop, quote, run

__all__ = ["AUTO_FORMATS", "Binder", "date_formats", "mapped_plan"]

#: date formats tried on every mapped date column (none of them is ambiguous)
AUTO_FORMATS = (
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


class Binder:
    """Compiles a feed's sources against one file's header into SQL text and parameters."""

    def __init__(self, path: Path, header: tuple[str, ...], feed: Feed, mapping: Mapping, params: Params):
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
        position = find_header(self.header, name)
        if position is None:
            raise self.missing(name, canonical)
        return position

    def text(self, position: int) -> str:
        """The column at ``position`` as text, null when empty or a null marker (#N/A, NULL, -)."""
        self.used.add(position)
        return f"b.{quote(column_name(position))}"

    def original(self, position: int) -> str:
        """The column at ``position`` as the file has it (trimmed), for a reject's value."""
        self.originals.add(position)
        return f"b.{quote('o' + str(int(position)))}"

    def normalised(self, ref: str) -> str:
        return f"case when list_contains({self.nulls}, trim({ref})) then null else trim({ref}) end"

    def expr(self, node: Expr, canonical: str, numeric: bool = False) -> str:
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
        is_numeric = FUNCTIONS[name].numeric
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


def date_formats(
    con: duckdb.DuckDBPyConnection,
    plan_src: str,
    raw_sql: str,
    params: Params,
    path: Path,
    label: str,
    canonical: bool = False,
) -> tuple[str, ...]:
    """Day-first or month-first, read from a column's values (31/12/2025 vs 12/31/2025).

    An ambiguous column is an error that says how to tell: the format in the mapping, or
    (``canonical``) the dates written as YYYY-MM-DD."""
    fix = "write them as YYYY-MM-DD, or import the file with a mapping that sets the format"
    row = run(
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
            + (fix if canonical else "set its format in the mapping (e.g. format: '%d/%m/%Y')")
        )
    if not day_first and not month_first:
        raise ImportFileError(
            f"{path}: column {label} has dates such as {example} that read as day/month or month/day; "
            + (fix if canonical else "set its format in the mapping (format: '%d/%m/%Y' or '%m/%d/%Y')")
        )
    order = ("%d", "%m") if day_first else ("%m", "%d")
    return tuple(f"{order[0]}{sep}{order[1]}{sep}%Y{clock}" for sep in "/-." for clock in _CLOCKS)


def _base_sql(
    binder: Binder, inner: str, extra: list[str], where: str, line: str = "m.line", spaced: bool = True
) -> str:
    """Each source column a feed uses, read once: trimmed, null markers made null."""
    if extra:  # unpivoted rows
        columns = [
            f"{binder.normalised('r.' + quote(column_name(p)))} as {quote(column_name(p))}" for p in sorted(binder.used)
        ]
        columns += [f"trim(r.{quote(column_name(p))}) as {quote('o' + str(int(p)))}" for p in sorted(binder.originals)]
        return f"select r.line as line, {', '.join([*columns, *extra])} from {inner} {where}"
    positions = sorted(binder.used | binder.originals)
    trim = "trim" if spaced else ""  # no value begins or ends with a space: trim() changes none
    trimmed = ", ".join(f"{trim}(r.{quote(column_name(p))}) as {quote(column_name(p))}" for p in positions)
    columns = [
        f"case when list_contains({binder.nulls}, t.{quote(column_name(p))}) then null "
        f"else t.{quote(column_name(p))} end as {quote(column_name(p))}"
        for p in sorted(binder.used)
    ]
    columns += [f"t.{quote(column_name(p))} as {quote('o' + str(int(p)))}" for p in sorted(binder.originals)]
    return (
        f"select t.line as line, {', '.join(columns)} from (select {line} as line, {trimmed} from {inner} {where}) as t"
    )


def mapped_plan(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    scan: Scan,
    feed: Feed,
    mapping: Mapping,
    settings: Settings,
    timezone: str | None = None,
) -> Plan:
    """The plan of one feed over one scanned file.

    ``timezone`` is the local zone of the import (times with an offset are converted to it):
    the feed's own ``timezone`` wins, then this one, then the connection's.
    """
    spec = TABLE_SPECS[feed.table]
    params = Params()
    binder = Binder(path, scan.header, feed, mapping, params)
    raw: dict[str, str] = {}
    labels: dict[str, str] = {}
    checks: list[tuple[str, str, str, str]] = []
    operand_checks: list[tuple[int, str]] = []
    operands_of: dict[str, list[str]] = {}  # expression column -> operand aliases
    originals: dict[str, str] = {}  # column read from one source column -> its text as written
    inner, row_line = line_source(con, scan, params)
    base_extra: list[str] = []
    base_where = ""
    where = ""
    line_expr = "b.line"
    if feed.unpivot:
        matched = [(m.position, m.header, m.groups) for m in match_headers(feed.unpivot.headers, scan.header)]
        if not matched:
            raise ImportFileError(
                f"{path}: no column header matches the unpivot pattern {feed.unpivot.headers!r} of the "
                f"mapping {mapping.name}; the file has: {', '.join(scan.header)}"
            )
        values = ", ".join(f"r.{quote(column_name(i))}" for i, _, _ in matched)
        unnests = [f"unnest([{values}]) as u_value", f"unnest({params.add([h for _, h, _ in matched])}) as u_header"]
        for group, column in feed.unpivot.groups:
            unnests.append(f"unnest({params.add([m[group] for _, _, m in matched])}) as u_g_{column}")
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
        if kind == "auto" and source.optional and find_header(scan.header, source.text) is None:
            continue
        if kind == "auto":
            if find_header(scan.header, source.text) is not None:
                kind = "column"
            else:
                try:
                    node = parse_expression(source.text)
                except MappingError:
                    node = None
                if node is None or (node.op == "name" and node.text == source.text):
                    raise binder.missing(source.text, name)
                kind = "expr"
        if kind == "column":
            found = [p for p in (find_header(scan.header, n) for n in (source.text, *source.alternatives)) if p]
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
        position = find_header(scan.header, name)
        if position is None:
            raise binder.missing(name, "skip_if_empty")
        where = (f"{where} and " if where else "where ") + f"{binder.text(position)} is not null"
    # the columns no feed of the mapping mentions travel as the records' attributes
    kept = unmapped_positions(feed.table, path, scan.header, mapping)
    attributes = attributes_sql([(scan.header[p - 1], binder.text(p)) for p in kept], params)
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
    local_zone = feed.timezone or timezone or con.execute("select current_setting('TimeZone')").fetchall()[0][0]
    tz = params.add(local_zone)

    # each used source column read once (trimmed, null markers made null) into a work table:
    # the typing macros and the day/month detection read a value several times
    drop(con, "base")
    run(
        con,
        f"create temp table base as {_base_sql(binder, inner, base_extra, base_where, row_line, scan.spaced)}",
        params.values,
    )
    typed: dict[str, str] = {}
    source_from = "base as b"
    stage_sql = f"{stage_to}[list_position({stage_from}, lower(raw_stage))]"
    date_orders: list[tuple[str, str, str, bool]] = []
    for column in spec.columns:
        value = f"raw_{column.name}"
        label = labels[column.name]
        typed_col = quote(column.name)
        if column.kind in {"timestamp", "date"}:
            explicit = feed.columns.get(column.name).formats if column.name in feed.columns else ()
            explicit = explicit or feed.date_format
            formats = params.add(list(explicit) + list(AUTO_FORMATS))
            if not explicit and raw[column.name] != "null::varchar":
                # day-first or month-first is read from the values none of the readers reads,
                # once the column is typed (Plan.date_orders)
                date_orders.append(
                    (
                        column.name,
                        formats[1:],
                        repr(scan.header[find_header(scan.header, feed.columns[column.name].text) - 1])
                        if column.name in feed.columns
                        and feed.columns[column.name].kind in {"column", "auto"}
                        and find_header(scan.header, feed.columns[column.name].text)
                        else column.name,
                        False,
                    )
                )
            sql = f"crm_timestamp({value}, {formats}, {tz})"
            typed[column.name] = f"({sql})::date" if column.kind == "date" else sql
            expected = (
                f"expected a date in the format {' or '.join(explicit)}"
                if explicit
                else f"expected a date {DATE_EXAMPLES}"
            )
            checks.append((label, value, f"{value} is not null and {typed_col} is null", params.add(expected)))
        elif column.kind == "decimal":
            typed[column.name] = f"crm_money({value})"
            checks.append(
                (
                    label,
                    value,
                    f"{value} is not null and {typed_col} is null",
                    params.add(f"expected an amount {AMOUNT_EXAMPLES}"),
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
                        params.add(EXPECTED_OUTCOME),
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
            checks.insert(0, (label, value, condition, params.add(MISSING_VALUE)))
        if column.nonnegative:
            checks.append((label, value, f"{typed_col} < 0", params.add(NEGATIVE_AMOUNT)))
    extra_src = {"u_header": "b.u_header"} if feed.unpivot else {}
    for position, operand in dict.fromkeys(operand_checks):
        alias = f"operand_{position}"
        extra_src[alias] = binder.text(position)
        checks.append(
            (
                params.add(operand),
                alias,
                f"{alias} is not null and crm_amount({alias}) is null",
                params.add(f"expected a number {AMOUNT_EXAMPLES}"),
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
    if attributes is not None:
        extra_src["attributes"] = attributes
    checks = [
        (label, f"orig_{value[4:]}" if value.startswith("raw_") and value[4:] in originals else value, cond, reason)
        for label, value, cond, reason in checks
    ]
    plan = Plan(
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
        attributes=tuple(scan.header[p - 1] for p in kept) if attributes is not None else None,
        date_orders=date_orders,
    )
    return plan
