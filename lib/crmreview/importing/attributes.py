"""Custom fields travel: the columns of an export that no canonical column takes.

A customers or deals export carries more than the canonical model names: 合同类型, 客户标签,
a product line, a deal type. Those columns are kept per record in the record's
``attributes`` (a ``MAP(VARCHAR, VARCHAR)``, migration 004): header -> value as written
(trimmed; an empty cell or a null marker is no entry). Metrics break down by them
(``--by attr:合同类型``, ``--by tag:客户标签``: :mod:`crmreview.metrics.common`).

Which columns are kept: in a mapped import, every column of the file that no feed of the
mapping taking this file mentions (a source column, an alternative, an operand, a
``requires``/``skip_if_empty`` name, an unpivoted column); in a canonical file, every column
that is not a canonical column of its table (a name close to one, such as ``creatd_at``,
stays an error: :func:`crmreview.importing.canonical.check_header`).

Header names travel as bound parameters, never as SQL text.

Public names: :func:`attributes_sql`, :func:`unmapped_positions`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from ..schema import ATTRIBUTE_TABLES
from .errors import MappingError
from .expressions import parse_expression
from .mapping import Feed, Mapping, find_header
from .patterns import match_headers
from .sql import Params

__all__ = ["attributes_sql", "unmapped_positions"]


def attributes_sql(columns: list[tuple[str, str]], params: Params) -> str | None:
    """SQL giving the attributes map of a row from ``(header, value SQL)`` pairs (a value
    SQL gives null for an empty cell); None when there is no such column."""
    if not columns:
        return None
    entries = ", ".join(f"{{'key': {params.add(name)}::varchar, 'value': {value}}}" for name, value in columns)
    return f"map_from_entries(list_filter([{entries}], lambda e: e.value is not null))"


def _mentioned(feed: Feed, header: tuple[str, ...]) -> set[int]:
    """1-based positions of ``header`` that ``feed`` reads or names, whatever their role."""
    names: list[str] = [n for group in feed.requires for n in group]
    names += list(feed.skip_if_empty)
    for source in feed.columns.values():
        if source.kind in {"column", "auto"}:
            names += [source.text, *source.alternatives]
        if source.kind in {"expr", "auto"}:
            with contextlib.suppress(MappingError):  # an auto source may be a plain header
                names += parse_expression(source.text).names()
        names += list(source.of)
    found = {find_header(header, n) for n in names}
    if feed.unpivot:
        found |= {m.position for m in match_headers(feed.unpivot.headers, header)}
    return {p for p in found if p}


def unmapped_positions(table: str, path: Path, header: tuple[str, ...], mapping: Mapping) -> list[int]:
    """The 1-based positions of the columns of ``header`` kept as attributes of ``table``'s
    records: those no feed of ``mapping`` that takes the file at ``path`` mentions (none for
    a table that keeps no attributes; columns without a header name aside)."""
    if table not in ATTRIBUTE_TABLES:
        return []
    used: set[int] = set()
    for feed in mapping.feeds_for(path):
        used |= _mentioned(feed, header)
    return [p for p, name in enumerate(header, start=1) if p not in used and name.strip()]
