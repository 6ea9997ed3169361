"""The invariants written next to the metric queries, as checks.

A metric file states what holds for its result in lines of the form

    -- invariant: count_closed_deals = count_won_deals + count_lost_deals

(an indented ``--   `` line right after continues it). The expression is SQL over the
query's output columns, evaluated on every row; it may use the query's own ``$params`` and
window functions (``sum(share_of_lost) over () = 1`` is a whole-result check,
``... over (partition by group_key)`` a per-group one). A row violates it when the expression
is false; null means "does not apply" (e.g. ``grr between 0 and 1`` on an empty base).
Invariants that need another query's result are written ``-- invariant (not checked):``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from crmreview import config

_START = re.compile(r"^--\s*invariant:\s*(?P<expr>\S.*)$")
_CONTINUED = re.compile(r"^--\s{3,}(?P<more>\S.*)$")


@dataclass(frozen=True)
class Invariant:
    query: str  # e.g. metrics/funnel/closed
    expression: str


def invariants_of(path: Path, queries_dir: Path = config.QUERIES_DIR) -> list[Invariant]:
    """The machine-checkable invariants of one query file, in the order written."""
    name = path.relative_to(queries_dir).with_suffix("").as_posix()
    found: list[str] = []
    continuing = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if start := _START.match(line):
            found.append(start["expr"].strip())
            continuing = True
        elif continuing and (more := _CONTINUED.match(line)):
            found[-1] += " " + more["more"].strip()
        else:
            continuing = False
    return [Invariant(name, expression) for expression in found]


def all_invariants(queries_dir: Path = config.QUERIES_DIR) -> list[Invariant]:
    """Every machine-checkable invariant under ``queries/metrics/``."""
    return [
        invariant
        for path in sorted((queries_dir / "metrics").rglob("*.sql"))
        for invariant in invariants_of(path, queries_dir)
    ]


def first_violation(
    con: duckdb.DuckDBPyConnection, sql: str, expression: str, params: dict[str, Any]
) -> dict[str, Any] | None:
    """The first row of ``sql`` (run with ``params``) for which ``expression`` is false, or None."""
    body = sql.strip().rstrip(";")
    check = (
        f"select * exclude (invariant_holds) from (\n"
        f"    select *, ({expression}) as invariant_holds from (\n{body}\n) as result\n"
        f") where not invariant_holds limit 1"
    )
    frame = con.execute(check, params).df()
    return None if frame.empty else frame.iloc[0].to_dict()


def describe(invariant: Invariant, row: dict[str, Any], where: str) -> str:
    return f"queries/{invariant.query}.sql: invariant `{invariant.expression}` fails on {where}; a violating row: {row}"
