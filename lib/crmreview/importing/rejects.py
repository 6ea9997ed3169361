"""The rejects of an import, told back to the user: a summary per file, or the full list as CSV.

:func:`summarise_rejects` gives, per file, how many rows each (column, reason) refused and
the first few examples (line, column, value, reason), each line shown once: a row refused
for several values is one example. :func:`write_rejects_csv` writes every reject (file,
line, column, value, reason) as UTF-8 CSV with a byte-order mark, so that Excel shows
Chinese text as written (values that start like a formula are neutralised: :mod:`crmreview.csvout`).

Public names: :class:`FileRejects`, :func:`summarise_rejects`, :func:`write_rejects_csv`,
``EXAMPLES``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb

from ..csvout import write_csv

__all__ = ["EXAMPLES", "FileRejects", "summarise_rejects", "write_rejects_csv"]

#: examples shown per file
EXAMPLES = 5


@dataclass(frozen=True)
class FileRejects:
    """The rejects of one file: counts by (column, reason), most common first, and examples."""

    file: str
    rows: int  # rows refused (a row refused for two values counts once)
    reasons: list[tuple[str | None, str, int]]  # (column, reason, rows)
    examples: list[tuple[int, str | None, str | None, str]]  # (line, column, value, reason)


def summarise_rejects(
    con: duckdb.DuckDBPyConnection, import_ids: list[int], examples: int = EXAMPLES
) -> list[FileRejects]:
    """The rejects of the imports ``import_ids``, per file in file order."""
    reasons = con.execute(
        """
        select file, "column", reason, count(distinct line) as n
        from rejects where list_contains($ids, import_id)
        group by all order by file, n desc, min(line), "column"
        """,
        {"ids": import_ids},
    ).fetchall()
    rows = dict(
        con.execute(
            "select file, count(distinct line) from rejects where list_contains($ids, import_id) group by file",
            {"ids": import_ids},
        ).fetchall()
    )
    shown = con.execute(
        """
        select file, line, "column", value, reason from (
            select *, row_number() over (partition by file, line order by "column" nulls first, reason) as nth
            from rejects where list_contains($ids, import_id)
        )
        where nth = 1
        qualify row_number() over (partition by file order by line) <= $examples
        order by file, line
        """,
        {"ids": import_ids, "examples": examples},
    ).fetchall()
    out = []
    for file in sorted(rows):
        out.append(
            FileRejects(
                file,
                rows[file],
                [(column, reason, n) for f, column, reason, n in reasons if f == file],
                [tuple(r[1:]) for r in shown if r[0] == file],
            )
        )
    return out


def write_rejects_csv(con: duckdb.DuckDBPyConnection, import_ids: list[int], path: str | os.PathLike) -> int:
    """Write every reject of ``import_ids`` to ``path`` (UTF-8 with BOM); returns how many."""
    rows = con.execute(
        'select file, line, "column", value, reason from rejects '
        'where list_contains($ids, import_id) order by file, line, "column"',
        {"ids": import_ids},
    ).fetchall()
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        return write_csv(handle, ["file", "line", "column", "value", "reason"], rows)
