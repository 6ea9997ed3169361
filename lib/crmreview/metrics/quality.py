"""Data quality: how complete, clean and recent the warehouse is, and where its rows came from.

Definitions are those of DESIGN.md "Data quality". Every part describes the whole warehouse
as loaded; the period only sets the as-of date and the window the date span counts in.

- ``completeness``: the key fields are **every column** of the canonical data tables
  (``schema.TABLE_SPECS``: customers, reps, targets, deals, deal_stage_history, orders,
  activities), each with its table's ``rows``, its ``non_null`` rows and ``share_non_null``
  (null for a table without rows). Which column matters depends on the metric reading it,
  so none is left out.
- ``rejects``: rows the imports refused, per file and reason, with the canonical table the
  file fed (from ``rejects`` joined to ``imports``); ``rejected_rows`` is their total.
- ``duplicate_ids``: per table, its natural key (``TABLE_SPECS[table].key``), how many key
  values occur on more than one row (``duplicates``) and the rows beyond the first of each
  (``extra_rows``). Imports deduplicate, so both are usually 0; the query counts anyway.
- ``date_span``: per date or timestamp column, ``first_date`` and ``last_date``, the rows in
  the period and the rows after the as-of date (which a metric as of that date does not see).
- ``inferred_history``: deals whose stage history crm-review built (``deal_history_origin``),
  per origin (``inferred`` from one snapshot, ``snapshots`` from several), with their share
  of all deals.
- ``missing_deals``: open deals a later full export no longer had (``import --full-snapshot``),
  per date of that export (``deals_missing`` warning);
- ``imports``: one entry per imported file, with exported_at and rows read/loaded/rejected.
- ``missing_inputs`` (tables without rows, ``table.column`` holding only nulls) and
  ``warnings`` (``rejected_rows``, ``duplicate_ids``, ``history_inferred``,
  ``period_outside_data``), as DESIGN.md "Partial exports" asks of every metric.

The SQL is one file per question in ``queries/metrics/quality/`` (``completeness``,
``duplicate_ids``, ``date_span``, ``rejects``, ``inferred_history``, ``imports``), each a
``union all`` over the canonical tables written out, rather than SQL generated from the
schema in Python: the files read, lint and run like every other metric's (the hand-computed
cases in ``tests/sql/quality_*`` drive them unchanged), and no identifier is ever built at
run time. Completeness counts ``columns(*)`` of each table, so a column a migration adds is
covered by itself; ``tests/metrics/test_quality.py`` checks that the tables, keys and date
columns of the files are exactly those of ``schema.TABLE_SPECS``.

There is no ``--by`` (``BREAKDOWNS = ()``), and no ``--compare``: the warehouse holds only
its current contents, so a "previous period" of its quality would be the same numbers
again. The registry marks the metric ``compares=False`` and asking for a comparison is an
error that says so.

Public names: ``quality`` (the metric), ``rows``, ``summary``, ``BREAKDOWNS``, ``COLUMNS``.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd

from .. import queries
from ..config import DEFAULT_SETTINGS, Settings
from ..periods import Period
from ..schema import DATA_TABLES
from .common import check_by, count, fmt, number, stacked_rows
from .inputs import Inputs, warning

__all__ = ["BREAKDOWNS", "COLUMNS", "quality", "rows", "summary"]

BREAKDOWNS: tuple[str, ...] = ()

#: the columns of ``rows``: one row per canonical column, completeness and (for a date or
#: timestamp column) its date span
COLUMNS = (
    "table",
    "column",
    "rows",
    "non_null",
    "share_non_null",
    "first_date",
    "last_date",
    "rows_in_period",
    "rows_after_as_of",
)


#: quality reads every canonical table and needs none of them (it reports what is there)
INPUTS = Inputs(reads=DATA_TABLES)


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _date(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


def _timestamp(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")


def _completeness(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return [
        {
            "table": row["table_name"],
            "column": row["column_name"],
            "rows": count(row["count_rows"]),
            "non_null": count(row["count_non_null"]),
            "share_non_null": number(row["share_non_null"]),
        }
        for row in _records(queries.run(con, "metrics/quality/completeness", {}))
    ]


def _duplicate_ids(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return [
        {
            "table": row["table_name"],
            "key": row["key_columns"],
            "rows": count(row["count_rows"]),
            "keys": count(row["count_keys"]),
            "duplicates": count(row["count_duplicate_keys"]),
            "extra_rows": count(row["count_extra_rows"]),
        }
        for row in _records(queries.run(con, "metrics/quality/duplicate_ids", {}))
    ]


def _date_span(con: duckdb.DuckDBPyConnection, period: Period) -> list[dict[str, Any]]:
    params = {"period_start": period.start, "period_end": period.end, "as_of": period.as_of}
    return [
        {
            "table": row["table_name"],
            "column": row["column_name"],
            "first_date": _date(row["first_date"]),
            "last_date": _date(row["last_date"]),
            "dated_rows": count(row["count_dated"]),
            "rows_in_period": count(row["count_in_period"]),
            "rows_after_as_of": count(row["count_after_as_of"]),
        }
        for row in _records(queries.run(con, "metrics/quality/date_span", params))
    ]


def _rejects(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return [
        {
            "file": row["file"],
            "table": _text(row["table_name"]),
            "reason": row["reason"],
            "rows": count(row["count_rejected_rows"]),
            "values": count(row["count_rejected_values"]),
        }
        for row in _records(queries.run(con, "metrics/quality/rejects", {}))
    ]


def _inferred_history(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return [
        {
            "origin": row["origin"],
            "deals": count(row["count_deals"]),
            "share_of_deals": number(row["share_of_deals"]),
        }
        for row in _records(queries.run(con, "metrics/quality/inferred_history", {}))
    ]


def _missing_deals(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return [
        {"missing_since": _date(row["missing_since"]), "deals": count(row["count_deals"])}
        for row in _records(queries.run(con, "metrics/quality/missing_deals", {}))
    ]


def _imports(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return [
        {
            "import_id": count(row["import_id"]),
            "file": row["file"],
            "table": _text(row["table_name"]),
            "adapter": row["adapter"],
            "exported_at": _timestamp(row["exported_at"]),
            "rows_read": count(row["rows_read"]),
            "rows_loaded": count(row["rows_loaded"]),
            "rows_rejected": count(row["rows_rejected"]),
            "share_rejected": number(row["share_rejected"]),
            "started_at": _timestamp(row["started_at"]),
            "finished_at": _timestamp(row["finished_at"]),
        }
        for row in _records(queries.run(con, "metrics/quality/imports", {}))
    ]


def _missing_inputs(completeness: list[dict[str, Any]]) -> list[str]:
    missing: list[str] = []
    for entry in completeness:
        if entry["rows"] == 0:
            if entry["table"] not in missing:
                missing.append(entry["table"])
        elif entry["non_null"] == 0:
            missing.append(f"{entry['table']}.{entry['column']}")
    return missing


def _warnings(result: dict[str, Any]) -> list[dict[str, str]]:
    warnings = []
    if result["rejected_rows"]:
        files = len({entry["file"] for entry in result["rejects"]})
        warnings.append(
            {
                "code": "rejected_rows",
                "message": f"{result['rejected_rows']:,} rows of {files:,} file(s) were rejected on import",
            }
        )
    duplicated = [entry for entry in result["duplicate_ids"] if entry["duplicates"]]
    if duplicated:
        tables = ", ".join(f"{entry['table']} ({entry['duplicates']:,})" for entry in duplicated)
        warnings.append({"code": "duplicate_ids", "message": f"ids on more than one row in {tables}"})
    inferred = sum(entry["deals"] for entry in result["inferred_history"] if entry["origin"] == "inferred")
    if inferred:
        warnings.append(
            {
                "code": "history_inferred",
                "message": f"{inferred:,} deals have a stage history inferred from created_at and closed_at "
                "(one snapshot of a current-stage export)",
            }
        )
    if result["missing_deals"]:
        deals, latest = sum(e["deals"] for e in result["missing_deals"]), result["missing_deals"][-1]["missing_since"]
        warnings.append(warning("deals_missing", deals=deals, date=latest))
    dated = [entry for entry in result["date_span"] if entry["dated_rows"]]
    if dated and not any(entry["rows_in_period"] for entry in dated):
        first = min(entry["first_date"] for entry in dated)
        last = max(entry["last_date"] for entry in dated)
        warnings.append(
            {
                "code": "period_outside_data",
                "message": f"no dated row falls in {result['period']['label']}; the data span {first}..{last}",
            }
        )
    return warnings


def quality(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    by: str | None = None,
) -> dict[str, Any]:
    """The data quality of the warehouse as a JSON-ready dict with the DESIGN.md keys.

    ``completeness`` (one entry per canonical column), ``rejects`` (per file and reason) and
    ``rejected_rows``, ``duplicate_ids`` (per table), ``date_span`` (per date/timestamp
    column; ``rows_in_period`` counts the period's dates, ``rows_after_as_of`` those after
    the as-of date), ``inferred_history`` (per origin), ``imports`` (per imported file),
    ``missing_inputs``, ``warnings``. Shares are fractions, None without a denominator; an
    empty warehouse gives zero counts and null shares and dates. ``by`` must be None.
    ``settings`` is accepted like every metric's and not used.
    """
    check_by(by, "quality", BREAKDOWNS)
    result: dict[str, Any] = {
        "period": period.as_dict(),
        "as_of": period.as_of.isoformat(),
        "completeness": _completeness(con),
        "rejects": _rejects(con),
        "duplicate_ids": _duplicate_ids(con),
        "date_span": _date_span(con, period),
        "inferred_history": _inferred_history(con),
        "missing_deals": _missing_deals(con),
        "imports": _imports(con),
    }
    result["rejected_rows"] = sum(entry["rows_rejected"] for entry in result["imports"])
    result["missing_inputs"] = _missing_inputs(result["completeness"])
    result["warnings"] = _warnings(result)
    return result


def _column_rows(result: dict[str, Any]) -> pd.DataFrame:
    spans = {(entry["table"], entry["column"]): entry for entry in result["date_span"]}
    records = []
    for entry in result["completeness"]:
        span = spans.get((entry["table"], entry["column"]), {})
        records.append(
            {
                **{key: entry[key] for key in ("table", "column", "rows", "non_null", "share_non_null")},
                **{key: span.get(key) for key in ("first_date", "last_date", "rows_in_period", "rows_after_as_of")},
            }
        )
    # object columns keep counts as integers beside the missing values of non-date columns
    frame = pd.DataFrame(records, columns=list(COLUMNS), dtype=object).replace({None: np.nan})
    return frame.astype({"rows": "int64", "non_null": "int64", "share_non_null": "float64"})


def rows(result: dict[str, Any]) -> pd.DataFrame:
    """One row per canonical column (completeness, and the date span of a date column): the
    ``--format table`` / csv body. Rejects, duplicates, inferred history and imports are in
    the summary lines and the JSON."""
    return stacked_rows(result, _column_rows)


def summary(result: dict[str, Any]) -> list[str]:
    """Plain-text lines for ``--format table``: the title, then imports, rejects, duplicate
    ids, inferred history and warnings."""
    period = result["period"]
    lines = [
        f"Data quality of the warehouse, as of {result['as_of']} "
        f"(period {period['label']}, {period['start']}..{period['end']}); share_non_null is a fraction"
    ]
    if not result["imports"]:
        lines.append("imports: none")
    for entry in result["imports"]:
        exported = entry["exported_at"] or "unknown"
        lines.append(
            f"import {entry['import_id']}: {entry['file']} -> {entry['table'] or '-'}, exported at {exported}: "
            f"{entry['rows_read']:,} rows read, {entry['rows_loaded']:,} loaded, {entry['rows_rejected']:,} rejected"
        )
    lines.append(f"rejected rows: {result['rejected_rows']:,}")
    for entry in result["rejects"]:
        lines.append(f"  {entry['file']}: {entry['rows']:,} rows, {entry['reason']}")
    duplicated = [entry for entry in result["duplicate_ids"] if entry["duplicates"]]
    lines.append(
        "duplicate ids: "
        + (
            "; ".join(
                f"{e['table']} ({e['key']}): {e['duplicates']:,} ids on {e['duplicates'] + e['extra_rows']:,} rows"
                for e in duplicated
            )
            or "none"
        )
    )
    lines.append(
        "deals with a built stage history: "
        + ", ".join(
            f"{e['origin']} {e['deals']:,} ({fmt(e['share_of_deals'], '.1%')})" for e in result["inferred_history"]
        )
    )
    if result["missing_inputs"]:
        lines.append(f"missing inputs: {', '.join(result['missing_inputs'])}")
    lines += [f"warning ({w['code']}): {w['message']}" for w in result["warnings"]]
    return lines
