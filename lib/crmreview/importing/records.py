"""Where a CSV's records are, counted the way DuckDB numbers lines, and the bounds on them.

DuckDB's CSV reader numbers a record by its position in the file (the first record is line
1, a quoted value spanning several physical lines is one record, an empty line counts) but
skips empty lines without a word, and refuses a record longer than its ``max_line_size``
with a reject whose column is unknown (or, past its buffer, silently). So that every record
is loaded or rejected with a reason, and each row keeps its true line, the file's record
boundaries are found first, in one vectorised pass over its bytes: a line end outside
quotes ends a record (the quote is ``"``, escaped by doubling, so "inside quotes" is an odd
number of quotes since the record began).

A carriage return outside quotes that is not part of the file's line end (a lone CR inside
an unquoted value of an LF file, or an LF in a file whose lines end in CR) is a line end to
DuckDB but not to a spreadsheet: the record holding it is a *stray* record, set aside like a
long one and rejected with a reason, so that the line numbers of both agree.

:func:`scan_records` gives the empty records (skipped by DuckDB, no row) and the records
longer than the limit; :func:`blank_out` writes a copy of the file in which those long
records are empty lines, so that DuckDB skips them while its line numbers stay those of the
original, and the caller rejects them with a reason.

Public names: :class:`Records`, :func:`scan_records`, :func:`blank_out`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .textfiles import open_binary, work_file

__all__ = ["Records", "blank_out", "scan_records"]

_CHUNK = 4 * 1024 * 1024  # bytes read at a time: the scan holds a few times this
_QUOTE = ord('"')
_CR = ord("\r")
_LF = ord("\n")
_SPACE = ord(" ")


@dataclass(frozen=True)
class Records:
    """The records of a CSV file (lines numbered from 1 at the file's first byte)."""

    count: int  # records in the file, empty ones included
    empty: np.ndarray  # line numbers of empty records ("" or a lone CR)
    long: list[tuple[int, int, int]] = field(default_factory=list)  # (line, start byte, end byte) over the limit
    longest: int = 0  # bytes of the longest record (line end excluded)
    mixed_line_ends: bool = False  # some records end in CRLF, others in LF
    # (line, start byte, end byte) of records holding a line-end byte outside quotes that does
    # not end them (a lone CR in an LF file): DuckDB would split them
    stray: list[tuple[int, int, int]] = field(default_factory=list)
    # some value may begin or end with a space that DuckDB's trim() removes (Unicode class Zs):
    # False only when no such space touches a delimiter, a quote or a line end and none but
    # the ASCII space occurs at all, so that trimming the file's values changes none of them
    spaced: bool = True


#: the other spaces trim() removes, by their first UTF-8 byte: the bytes that follow it
#: (U+00A0; U+1680; U+2000-U+200A, U+202F, U+205F; U+3000)
_WIDE_SPACES = {
    0xC2: [(0xA0,)],
    0xE1: [(0x9A, 0x80)],
    0xE2: [(0x80, b) for b in [*range(0x80, 0x8B), 0xAF]] + [(0x81, 0x9F)],
    0xE3: [(0x80, 0x80)],
}


def _spaced(
    chunk: bytes, data: np.ndarray, padded: np.ndarray, delimiter: int, quote_at: np.ndarray, inside: int
) -> bool:
    """Whether a chunk may hold a value beginning or ending with a space (``Records.spaced``):
    an ASCII space next to a delimiter or a line end outside quotes, or next to a quote, or
    any of the other spaces trim() removes anywhere. ``chunk`` and ``data`` are its bytes,
    ``padded`` the chunk with the byte before and after it, ``quote_at`` the quotes that
    count and ``inside`` their parity before the chunk."""
    for lead, follows in _WIDE_SPACES.items():
        if bytes([lead]) not in chunk:  # a byte search (memchr) rules out most chunks
            continue
        at = np.flatnonzero(data == lead)
        if at[-1] >= data.size - 2:
            return True  # it may straddle two chunks: assume the worst
        for rest in follows:
            hit = np.ones(at.size, dtype=bool)
            for offset, byte in enumerate(rest, start=1):
                hit &= data[at + offset] == byte
            if hit.any():
                return True
    space_at = np.flatnonzero(data == _SPACE)
    if not space_at.size:
        return False
    before, after = padded[space_at], padded[space_at + 2]
    if ((before == _QUOTE) | (after == _QUOTE)).any():
        return True
    edge = space_at[
        (before == delimiter)
        | (before == _LF)
        | (before == _CR)
        | (after == delimiter)
        | (after == _LF)
        | (after == _CR)
    ]
    return bool(edge.size) and bool((((np.searchsorted(quote_at, edge) + inside) & 1) == 0).any())


def _newline_byte(path: Path) -> int:
    """``\\n``, or ``\\r`` for a file whose lines end in a lone CR (old Mac exports)."""
    with open_binary(path) as handle:
        head = handle.read(1 << 20)
    return ord("\r") if b"\n" not in head and b"\r" in head else ord("\n")


def scan_records(path: str | os.PathLike, limit: int, delimiter: str = ",") -> Records:
    """Find the records of the UTF-8 CSV at ``path``: the empty ones and those over ``limit`` bytes.

    One pass, 16 MB at a time, with numpy: the memory used does not grow with the file. A
    quote counts as DuckDB reads it: one that opens a value (after a delimiter or a line end),
    closes one (before a delimiter or a line end) or is doubled; a quote inside an unquoted
    value (``12"``) is a character like any other.
    """
    path = Path(path)
    newline = _newline_byte(path)
    other = _CR if newline == _LF else _LF  # the line-end byte that ends no record here
    separators = np.asarray(sorted({ord(delimiter), ord("\n"), _CR}), dtype=np.uint8)
    offset = 0  # bytes of the file before ``data``
    inside = 0  # parity of the counted quotes so far
    start = 0  # where the current record starts
    count = crlf = lf = longest = 0
    empty: list[np.ndarray] = []
    long: list[tuple[int, int, int]] = []
    stray: list[tuple[int, int, int]] = []
    stray_open = False  # the record not yet ended holds a stray line-end byte
    before = -1  # the byte before ``data`` (-1: the start of the file, which opens a value)
    carry = b""
    spaced = False
    with open_binary(path) as handle:
        while True:
            chunk = handle.read(_CHUNK)
            data_bytes = carry + chunk
            if not data_bytes:
                break
            final = not chunk
            # the last byte waits for the next chunk, so that every byte sees the one after it
            data_bytes, carry = (data_bytes, b"") if final else (data_bytes[:-1], data_bytes[-1:])
            data = np.frombuffer(data_bytes, dtype=np.uint8)
            if not data.size:
                continue
            # the bytes around each quote (quotes are few: look only there)
            edges = np.asarray([10 if before < 0 else before, 10 if final else carry[0]], dtype=np.uint8)
            padded = np.concatenate((edges[:1], data, edges[1:]))
            quote_at = np.flatnonzero(data == _QUOTE)
            prev, nxt = padded[quote_at], padded[quote_at + 2]
            counts = np.isin(prev, separators) | np.isin(nxt, separators) | (prev == _QUOTE) | (nxt == _QUOTE)
            quote_at = quote_at[counts]
            if not spaced:
                spaced = _spaced(data_bytes, data, padded, ord(delimiter), quote_at, inside)
            ends = np.flatnonzero(data == newline)
            if ends.size:
                parity = (np.searchsorted(quote_at, ends) + inside) & 1
                ends = ends[parity == 0]  # line ends outside quotes end a record
            strays = np.flatnonzero(data == other)
            if strays.size:
                # a CR before the LF that ends a record is part of that line end
                lone = padded[strays + 2] != _LF if other == _CR else np.ones(strays.size, dtype=bool)
                strays = strays[lone]
                strays = strays[((np.searchsorted(quote_at, strays) + inside) & 1) == 0]
            if ends.size:
                absolute = ends.astype(np.int64) + offset
                starts = np.empty_like(absolute)
                starts[0] = start
                starts[1:] = absolute[:-1] + 1
                lengths = absolute - starts
                after_cr = padded[ends] == _CR  # the byte before each line end
                crlf += int(after_cr.sum())
                lf += int(ends.size - after_cr.sum())
                is_empty = (lengths == 0) | ((lengths == 1) & after_cr)
                numbers = np.arange(count + 1, count + 1 + absolute.size, dtype=np.int64)
                if is_empty.any():
                    empty.append(numbers[is_empty])
                long += [(int(numbers[i]), int(starts[i]), int(absolute[i])) for i in np.flatnonzero(lengths > limit)]
                holding = set(np.searchsorted(ends, strays).tolist()) if strays.size else set()
                if stray_open:
                    holding.add(0)
                stray += [(int(numbers[i]), int(starts[i]), int(absolute[i])) for i in sorted(holding) if i < ends.size]
                stray_open = bool(strays.size) and int(strays[-1]) > int(ends[-1])
                longest = max(longest, int(lengths.max()))
                count += absolute.size
                start = int(absolute[-1]) + 1
            elif strays.size:
                stray_open = True
            inside = (inside + quote_at.size) & 1
            before = int(data[-1])
            offset += data.size
    if offset > start:  # a last record without a line end
        count += 1
        length = offset - start
        longest = max(longest, length)
        if length > limit:
            long.append((count, start, offset))
        elif length == 1 and before == _CR:
            empty.append(np.asarray([count], dtype=np.int64))
        if stray_open:
            stray.append((count, start, offset))
    return Records(
        count,
        np.concatenate(empty) if empty else np.zeros(0, dtype=np.int64),
        long,
        longest,
        stray=stray,
        mixed_line_ends=newline == ord("\n") and crlf > 0 and lf > 0,
        spaced=spaced,
    )


@contextlib.contextmanager
def blank_out(path: str | os.PathLike, spans: list[tuple[int, int, int]]) -> Iterator[Path]:
    """Yield a temporary copy of ``path`` in which each (line, start, end) byte span is empty.

    The line end after each span stays, so every later record keeps its line number.
    """
    with work_file() as (fd, tmp):
        with open_binary(path) as src, os.fdopen(fd, "wb") as dst:
            position = 0
            for _, begin, end in sorted(spans, key=lambda s: s[1]):
                _copy(src, dst, begin - position)
                _skip(src, end - begin)
                position = end
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
        yield tmp


def _copy(src, dst, size: int) -> None:
    while size > 0:
        chunk = src.read(min(_CHUNK, size))
        if not chunk:
            return
        dst.write(chunk)
        size -= len(chunk)


def _skip(src, size: int) -> None:
    while size > 0:
        chunk = src.read(min(_CHUNK, size))
        if not chunk:
            return
        size -= len(chunk)
