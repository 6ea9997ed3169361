"""Canonical files: a CSV or XLSX named ``<table>.csv`` whose header uses the canonical column names.

Header names are matched ignoring case, spaces and punctuation (``Deal ID`` is ``deal_id``,
``Created At`` is ``created_at``); title rows above the header are skipped
(:func:`canonical_header_test`). :func:`choose_table` tells which table a file feeds (its
name, else its header), :func:`check_header` refuses an unknown, repeated or missing column,
and :func:`canonical_plan` builds the :class:`crmreview.importing.plan.Plan` that reads and
checks every value with the same readers as a mapped import
(``queries/import/parse_values.sql``): amounts such as ``¥1,234.50``, ``1.2万`` or ``(300)``,
dates such as ``2025/9/9``, ``2025年9月10日`` or an Excel date number; stages and outcomes
from the fixed vocabulary.

A customers or deals file may carry more columns than the canonical ones (合同类型, 客户标签):
they are kept as the records' ``attributes`` (:mod:`crmreview.importing.attributes`).

Public names: :func:`attribute_columns`, :func:`canonical_header_test`, :func:`canonical_names`,
:func:`canonical_plan`, :func:`check_header`, :func:`choose_table`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path

import duckdb

from ..config import Settings
from ..schema import ATTRIBUTE_TABLES, TABLE_SPECS, TableSpec
from .attributes import attributes_sql
from .errors import (
    AMOUNT_EXAMPLES,
    DATE_EXAMPLES,
    EXPECTED_OUTCOME,
    MISSING_VALUE,
    NEGATIVE_AMOUNT,
    ImportFileError,
)
from .mapped import AUTO_FORMATS
from .plan import Plan, line_source
from .readers import Scan, column_name
from .sql import Params, quote

__all__ = [
    "attribute_columns",
    "canonical_header_test",
    "canonical_names",
    "canonical_plan",
    "check_header",
    "choose_table",
]


#: how close (difflib ratio) a column name must be to a canonical one to count as its misspelling
_MISSPELT = 0.85


#: how an error about a non-canonical file points to the mapping draft
_DRAFT_HINT = "crm-review mapping draft {path} --out my_crm.yml"


def _folded(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


_CANONICAL = {_folded(c.name): c.name for spec in TABLE_SPECS.values() for c in spec.columns}


def canonical_names(header: list[str]) -> list[str]:
    """The header with each name that is a canonical column name but for case, spaces and
    punctuation written as that column (``Deal ID`` -> ``deal_id``); other names as written."""
    return [_CANONICAL.get(_folded(name), name) for name in header]


def _table_of_name(path: Path) -> TableSpec | None:
    stem = Path(path.stem).stem if path.suffix.lower() == ".gz" else path.stem  # orders.csv.gz
    return TABLE_SPECS.get(_CANONICAL.get(_folded(stem), stem.lower()))


def canonical_header_test(path: Path) -> Callable[[list[str]], bool]:
    """Whether a row is the header of a canonical file: canonical names of the table the
    file is named after (any table when its name is none), with that table's required ones."""
    named = _table_of_name(path)
    specs = [named] if named is not None else list(TABLE_SPECS.values())

    def is_header(row: list[str]) -> bool:
        names = set(canonical_names([c for c in row if c]))
        return any(
            (names <= set(spec.names) or (spec.table in ATTRIBUTE_TABLES and named is not None))
            and set(spec.required) <= names
            for spec in specs
        )

    return is_header


def choose_table(path: Path, header: list[str]) -> TableSpec:
    named = _table_of_name(path)
    if named is not None:
        return named
    header = canonical_names(header)
    fits = [
        spec for spec in TABLE_SPECS.values() if set(header) <= set(spec.names) and set(spec.required) <= set(header)
    ]
    if len(fits) == 1:
        return fits[0]
    raise ImportFileError(
        f"{path}: cannot tell which table this file feeds from its name or header; "
        f"name it after one of: {', '.join(TABLE_SPECS)} (e.g. deals.csv), "
        "or import it with --mapping FILE.yml or --source NAME; "
        f"to start a mapping from its headers: {_DRAFT_HINT.format(path=path)}"
    )


def _misspelt(name: str, spec: TableSpec) -> str | None:
    """The canonical column of ``spec`` that ``name`` looks like a misspelling of, if any."""
    folded = {_folded(c): c for c in spec.names}
    close = difflib.get_close_matches(_folded(name), list(folded), n=1, cutoff=_MISSPELT)
    return folded[close[0]] if close else None


def attribute_columns(header: list[str], spec: TableSpec) -> list[int]:
    """1-based positions of the columns of a canonical file kept as its records' attributes:
    in a customers or deals file, every named column that is no canonical column."""
    if spec.table not in ATTRIBUTE_TABLES:
        return []
    return [p for p, name in enumerate(canonical_names(header), start=1) if name.strip() and name not in spec.names]


def check_header(path: Path, header: list[str], spec: TableSpec) -> None:
    """Refuse a repeated column, a missing required one, and a column that is not the table's
    (in customers and deals files: one whose name is close to a canonical column's, such as
    ``creatd_at``; the others are kept as attributes)."""
    seen: set[str] = set()
    for position, (written, name) in enumerate(zip(header, canonical_names(header), strict=True), start=1):
        if name in seen:
            raise ImportFileError(f"{path}: column {written!r} appears twice in the header (column {position})")
        seen.add(name)
        if name not in spec.names and spec.table in ATTRIBUTE_TABLES:
            close = _misspelt(name, spec)
            if close is not None:
                raise ImportFileError(
                    f"{path}: column {position} {written!r} is not a column of {spec.table} (did you mean "
                    f"{close}?); rename it, or give it a name further from the canonical columns to keep it "
                    f"as an attribute; expected columns: {', '.join(spec.names)}"
                )
        elif name not in spec.names:
            raise ImportFileError(
                f"{path}: column {position} {written!r} is not a column of {spec.table}; "
                f"expected columns: {', '.join(spec.names)}"
            )
    missing = [c for c in spec.required if c not in seen]
    if missing:
        raise ImportFileError(
            f"{path}: required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} missing for {spec.table}; the file has: {', '.join(header)}"
        )


def _text(scan: Scan, position: int) -> str:
    """The value of the column at ``position``: trimmed (unless no value of the file begins or
    ends with a space), null when empty."""
    value = f"r.{quote(column_name(position))}"
    return f"nullif(trim({value}), '')" if scan.spaced else f"nullif({value}, '')"


def canonical_plan(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    spec: TableSpec,
    scan: Scan,
    settings: Settings,
    timezone: str | None = None,
) -> Plan:
    """The plan of a canonical file. ``timezone`` is the local zone that times with an offset
    are converted to (by default the connection's)."""
    header = canonical_names(list(scan.header))
    params = Params()
    params.values["stages"] = list(settings.all_stages)
    positions = {name: i for i, name in enumerate(header, start=1)}
    raw = {c.name: _text(scan, positions[c.name]) if c.name in positions else "null::varchar" for c in spec.columns}
    kept = attribute_columns(list(scan.header), spec)
    attributes = attributes_sql([(scan.header[p - 1], _text(scan, p)) for p in kept], params)
    source_from, line_expr = line_source(con, scan, params)
    local_zone = timezone or con.execute("select current_setting('TimeZone')").fetchall()[0][0]
    tz = params.add(local_zone)
    typed = {}
    date_orders = []
    for c in spec.columns:
        value = f"raw_{c.name}"
        if c.kind in {"date", "timestamp"}:
            # the unambiguous readers first; a day-first or month-first order is read from the
            # values none of them reads, once the column is typed (Plan.date_orders)
            formats = params.add(list(AUTO_FORMATS))
            if c.name in positions:
                date_orders.append((c.name, formats[1:], repr(scan.header[positions[c.name] - 1]), True))
            sql = f"crm_timestamp({value}, {formats}, {tz})"
            typed[c.name] = f"({sql})::date" if c.kind == "date" else sql
        elif c.kind == "decimal":
            typed[c.name] = f"crm_money({value})"
        elif c.kind == "outcome":
            typed[c.name] = f"case when lower({value}) in ('open', 'won', 'lost') then lower({value}) end"
        elif c.kind == "stage":
            typed[c.name] = f"case when list_contains($stages, lower({value})) then lower({value}) end"
        else:
            typed[c.name] = value
    labels = {c.name: params.add(c.name) for c in spec.columns}
    expected = {"date": f"expected a date {DATE_EXAMPLES}", "decimal": f"expected an amount {AMOUNT_EXAMPLES}"}
    expected["timestamp"] = expected["date"]
    checks = []
    for column in spec.columns:
        label, value, typed_col = labels[column.name], f"raw_{column.name}", quote(column.name)
        if column.required:
            checks.append((label, value, f"{value} is null", params.add(MISSING_VALUE)))
        if column.kind in expected:
            checks.append(
                (label, value, f"{value} is not null and {typed_col} is null", params.add(expected[column.kind]))
            )
        if column.kind == "outcome":
            checks.append((label, value, f"{value} is not null and {typed_col} is null", params.add(EXPECTED_OUTCOME)))
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
            checks.append((label, value, f"{typed_col} < 0", params.add(NEGATIVE_AMOUNT)))
    return Plan(
        spec,
        raw,
        typed,
        labels,
        checks,
        params,
        tuple(c for c in header if c in spec.names),
        source_from=source_from,
        line_expr=line_expr,
        extra_src={"attributes": attributes} if attributes is not None else {},
        attributes=tuple(scan.header[p - 1] for p in kept) if attributes is not None else None,
        date_orders=date_orders,
    )
