"""Header patterns (a mapping's ``unpivot.headers``) matched in linear time.

Python's ``re`` backtracks: a pattern such as ``(a+)+$`` takes exponential time on a header
of a few dozen characters, so a mapping file could hang an import. Patterns are matched with
RE2 (DuckDB's regular expressions), whose time grows linearly with the text; the pattern is
still written in the usual syntax, without look-around or back-references.

Public names: :func:`match_headers`, :class:`HeaderMatch`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from .errors import MappingError

__all__ = ["HeaderMatch", "match_headers"]


@dataclass(frozen=True)
class HeaderMatch:
    position: int  # 1-based column position
    header: str
    groups: dict[str, str | None]  # the pattern's named groups


def match_headers(pattern: str, headers: list[str] | tuple[str, ...]) -> list[HeaderMatch]:
    """The headers ``pattern`` matches (anywhere in the header), with its named groups taken
    from a match of the whole header when there is one."""
    names = list(re.compile(pattern).groupindex)
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(
            """
            select position, header,
                   case when regexp_full_match(header, $pattern)
                        then regexp_extract(header, '^(?:' || $pattern || ')$', $names)
                        else regexp_extract(header, $pattern, $names) end as groups
            from unnest($headers) with ordinality as h(header, position)
            where regexp_matches(header, $pattern)
            order by position
            """
            if names
            else "select position, header, null as groups from unnest($headers) with ordinality as h(header, position) "
            "where regexp_matches(header, $pattern) order by position",
            {"pattern": pattern, "headers": list(headers), **({"names": names} if names else {})},
        ).fetchall()
    except duckdb.Error as exc:
        raise MappingError(f"the header pattern {pattern!r} cannot be used: {exc}") from None
    finally:
        con.close()
    return [
        HeaderMatch(int(position), header, {n: (groups or {}).get(n) or None for n in names})
        for position, header, groups in rows
    ]
