"""Canonical files: a CSV named ``<table>.csv`` whose header uses the canonical column names.

:func:`choose_table` tells which table a file feeds (its name, else its header),
:func:`check_header` refuses an unknown, repeated or missing column, and
:func:`canonical_plan` builds the :class:`crmreview.importing.plan.Plan` that reads and checks
every value: dates and timestamps in ISO form, amounts as plain numbers, stages and outcomes
from the fixed vocabulary.

Public names: :func:`canonical_plan`, :func:`check_header`, :func:`choose_table`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..config import Settings
from ..schema import TABLE_SPECS, Column, TableSpec
from .errors import EXPECTED, EXPECTED_OUTCOME, MISSING_VALUE, NEGATIVE_AMOUNT, ImportFileError
from .plan import Plan, line_source
from .readers import Scan, column_name
from .sql import Params, quote

__all__ = ["canonical_plan", "check_header", "choose_table"]


def choose_table(path: Path, header: list[str]) -> TableSpec:
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


def check_header(path: Path, header: list[str], spec: TableSpec) -> None:
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


def _typed(column: Column, raw: str) -> str:
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


def canonical_plan(con: duckdb.DuckDBPyConnection, spec: TableSpec, scan: Scan, settings: Settings) -> Plan:
    header = scan.header
    params = Params()
    params.values["stages"] = list(settings.all_stages)
    positions = {name: i for i, name in enumerate(header, start=1)}
    raw = {
        c.name: f"nullif(trim(r.{quote(column_name(positions[c.name]))}), '')"
        if c.name in positions
        else "null::varchar"
        for c in spec.columns
    }
    typed = {c.name: _typed(c, f"raw_{c.name}") for c in spec.columns}
    labels = {c.name: params.add(c.name) for c in spec.columns}
    checks = []
    for column in spec.columns:
        label, value, typed_col = labels[column.name], f"raw_{column.name}", quote(column.name)
        if column.required:
            checks.append((label, value, f"{value} is null", params.add(MISSING_VALUE)))
        if column.kind in EXPECTED:
            checks.append(
                (
                    label,
                    value,
                    f"{value} is not null and {typed_col} is null",
                    params.add(f"expected {EXPECTED[column.kind]}"),
                )
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
    source_from, line_expr = line_source(con, scan, params)
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
    )
