"""Reading an export file into a work table of text, whatever its format.

:func:`scan_file` reads a CSV (UTF-8 with or without BOM, GBK/GB18030, UTF-16, plain or
gzip-compressed, comma, semicolon, tab or pipe separated) or an XLSX sheet into the temporary
table ``raw`` of the given connection. Every value stays text (``c1`` … ``cN``, by position,
so that any header, Chinese, duplicated or odd, is safe); nothing is typed here.
``line_map`` gives each row of ``raw`` its line as a spreadsheet numbers it (the first row
of the file is line 1, a quoted value spanning several physical lines stays one row), and
``scan_refused`` holds the rows that could not be split into the header's columns, with the
reason.

Title rows above the header (``销售机会导出 2025-09-09``) are skipped: the header is the
first of the first rows that the caller's ``is_header`` accepts (by default the first
non-empty row), or the row the caller names. XLSX cells are read with python-calamine:
formulas give their cached values, a merged range gives its value to every cell it covers,
numbers that are whole print without ``.0`` and dates as ``YYYY-MM-DD[ HH:MM:SS]``.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from . import textfiles

__all__ = ["HEADER_SEARCH_ROWS", "ReadError", "Scan", "column_name", "is_xlsx", "peek_header", "scan_file"]

#: how many rows from the top are searched for the header row
HEADER_SEARCH_ROWS = 30
_HEAD_BYTES = 256 * 1024
_SAMPLE_BYTES = 4 * 1024 * 1024
_DELIMITERS = (",", ";", "\t", "|")


class ReadError(ValueError):
    """A file that cannot be read as a table at all."""


@dataclass(frozen=True)
class Scan:
    path: Path
    kind: str  # csv | xlsx
    encoding: str  # utf-8, utf-8-sig, gb18030, utf-16, or xlsx
    header: tuple[str, ...]  # column names, a repeated name renamed "Name.1", "Name.2"
    header_line: int  # the header's line (1 unless title rows sit above it)
    rows: int  # rows in raw
    refused: int  # rows in scan_refused
    raw_header: tuple[str, ...] = ()  # the header as written, repeated names kept
    sheet: str | None = None


def column_name(position: int) -> str:
    """The work-table name of the column at 1-based ``position``: c1, c2, …"""
    return f"c{int(position)}"


def is_xlsx(path: Path) -> bool:
    return path.suffix.lower() in {".xlsx", ".xlsm"} or (
        path.suffix.lower() not in {".csv", ".txt", ".gz", ".tsv"} and zipfile.is_zipfile(path)
    )


def _dedupe(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            candidate = f"{name}.{seen[name]}"
            while candidate in seen:
                seen[name] += 1
                candidate = f"{name}.{seen[name]}"
            seen[candidate] = 0
            out.append(candidate)
        else:
            seen[name] = 0
            out.append(name)
    return tuple(out)


def _clean_header(cells: list) -> list[str]:
    names = [("" if c is None else str(c)).replace("\ufeff", "").strip() for c in cells]
    while names and not names[-1]:
        names.pop()
    return names


def _pick_header(
    records: list[list[str]], is_header: Callable[[list[str]], bool] | None, header_row: int | None, where: str
) -> int:
    """Index (0-based) of the header among ``records``."""
    if header_row is not None:
        if header_row < 1 or header_row > len(records):
            raise ReadError(f"{where}: header_row {header_row} is past the end of the file")
        return header_row - 1
    non_empty = [i for i, r in enumerate(records[:HEADER_SEARCH_ROWS]) if any(_clean_header(r))]
    if not non_empty:
        raise ReadError(f"{where}: the file is empty; expected a header line with column names")
    if is_header is not None:
        for i in non_empty:
            if is_header(_clean_header(records[i])):
                return i
    # no row qualifies: the widest of the first rows (a title row is narrower)
    widest = max(len(_clean_header(records[i])) for i in non_empty)
    return next(i for i in non_empty if len(_clean_header(records[i])) == widest)


# ----------------------------------------------------------------------------- CSV


def _head_records(path: Path, encoding: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """The first records of a CSV and the physical line each ends on."""
    with textfiles.open_binary(path) as handle:
        head = handle.read(_HEAD_BYTES)
    text = head.decode(encoding, errors="replace")
    if len(head) == _HEAD_BYTES:
        text = text[: text.rfind("\n") + 1] or text  # drop a cut last line
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records, ends = [], []
    try:
        for record in reader:
            records.append(record)
            ends.append(reader.line_num)
            if len(records) >= HEADER_SEARCH_ROWS + 1:
                break
    except csv.Error:
        pass
    return records, ends


def _sniff_delimiter(path: Path, encoding: str, is_header) -> str:
    best, best_width = ",", 0
    for delimiter in _DELIMITERS:
        records, _ = _head_records(path, encoding, delimiter)
        if not records or not any(_clean_header(r) for r in records):
            continue
        try:
            index = _pick_header(records, is_header, None, str(path))
        except ReadError:
            continue
        width = len(_clean_header(records[index]))
        if is_header is not None and is_header(_clean_header(records[index])):
            width += 10_000  # a header the caller recognises beats a wider guess
        if width > best_width:
            best, best_width = delimiter, width
    return best


def _mixed_line_ends(path: Path) -> bool:
    """Whether rows end in CRLF but the header in LF, or the other way round.

    DuckDB's strict reader refuses such a file as a whole (a header written by one tool, the
    rows by another); its CRLFs are then made LFs first.
    """
    with textfiles.open_binary(path) as handle:
        head = handle.read(_HEAD_BYTES)
    first = head.find(b"\n")
    if first < 0:
        return False
    header_crlf = head[first - 1 : first] == b"\r"
    body = head[first + 1 :]
    crlf = body.count(b"\r\n")
    lone_lf = body.count(b"\n") - crlf
    return (not header_crlf and crlf > 0) or (header_crlf and lone_lf > crlf)


def _csv_scan(
    con: duckdb.DuckDBPyConnection, source: Path, encoding: str, delimiter: str, skip_lines: int, width: int
) -> None:
    columns = ", ".join(f"'{column_name(i)}': 'VARCHAR'" for i in range(1, width + 1))
    for name in ("raw", "import_scan_errors", "import_scan_files"):
        con.execute(f"drop table if exists temp.{name}")
    con.execute(
        f"""
        create temp table raw as
        select * from read_csv(
            $path, header = true, skip = $skip, auto_detect = false, delim = $delim,
            quote = '"', escape = '"', strict_mode = true, null_padding = false,
            columns = {{{columns}}}, store_rejects = true,
            rejects_table = 'import_scan_errors', rejects_scan = 'import_scan_files'
        )
        """,
        {"path": str(source), "skip": skip_lines, "delim": delimiter},
    )


def _scan_csv(con, path, *, is_header, header_row, delimiter) -> tuple[Scan, list[str]]:
    with textfiles.open_binary(path) as handle:
        if not handle.read(_HEAD_BYTES).strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
            raise ReadError(f"{path}: the file is empty; expected a header line with column names")
    encoding = textfiles.detect_encoding(path, sample_bytes=_SAMPLE_BYTES)
    for attempt in range(2):
        with textfiles.as_utf8(path, encoding) as (utf8_path, encoding):
            read_as = "utf-8-sig" if encoding in {"utf-8", "utf-8-sig"} else "utf-8"
            delim = delimiter or _sniff_delimiter(utf8_path, read_as, is_header)
            records, ends = _head_records(utf8_path, read_as, delim)
            index = _pick_header(records, is_header, header_row, str(path))
            raw_header = _clean_header(records[index])
            width = max(len(raw_header), 1)
            skip_lines = ends[index - 1] if index else 0
            if _mixed_line_ends(utf8_path):
                with textfiles.unix_newlines(utf8_path) as lf_path:
                    _csv_scan(con, lf_path, encoding, delim, skip_lines, width)
            else:
                _csv_scan(con, utf8_path, encoding, delim, skip_lines, width)
        bad_encoding = con.execute(
            "select count(*) from import_scan_errors where error_type = 'INVALID ENCODING'"
        ).fetchall()[0][0]
        if not bad_encoding:
            break
        if attempt == 0:
            full = textfiles.detect_encoding(path)  # the sample looked like UTF-8; the rest is not
            if full in {"utf-8", "utf-8-sig"}:
                break
            encoding = full
    header_line = index + 1
    header = _dedupe(raw_header)
    con.execute("drop table if exists temp.scan_refused")
    con.execute(
        """
        create temp table scan_refused as
        select line,
               coalesce($header[try_cast(substr(arg_min(column_name, column_idx), 2) as integer)],
                        arg_min(column_name, column_idx)) as "column",
               any_value(csv_line) as value,
               arg_min(lower(error_type) || ': ' || error_message, column_idx) as reason
        from import_scan_errors group by line
        """,
        {"header": list(header)},
    )
    rows = con.execute("select count(*) from raw").fetchall()[0][0]
    refused = con.execute("select count(*) from scan_refused").fetchall()[0][0]
    _csv_line_map(con, rows, header_line)
    return Scan(path, "csv", encoding, header, header_line, rows, refused, tuple(raw_header)), raw_header


def _csv_line_map(con: duckdb.DuckDBPyConnection, rows: int, header_line: int) -> None:
    """Map the scan's accepted rows to their lines, skipping lines DuckDB refused.

    Rows keep file order in ``raw``; inside a transaction their rowids start at a large
    offset, so positions are taken relative to the smallest rowid.
    """
    con.execute("drop table if exists temp.line_map")
    refused = [r[0] for r in con.execute("select line from scan_refused order by line").fetchall()]
    if not refused:
        con.execute(
            "create temp table line_map as select rowid as row_index, "
            "rowid - (select min(rowid) from raw) + $first as line from raw",
            {"first": header_line + 1},
        )
        return
    first = header_line + 1
    candidates = np.arange(first, first + rows + len(refused), dtype=np.int64)
    lines = np.setdiff1d(candidates, np.asarray(refused, dtype=np.int64))[:rows]
    frame = pd.DataFrame({"row_offset": np.arange(rows, dtype=np.int64), "line": lines})
    con.register("line_map_frame", frame)
    con.execute(
        "create temp table line_map as select row_offset + (select min(rowid) from raw) "
        "as row_index, line from line_map_frame"
    )
    con.unregister("line_map_frame")


# ----------------------------------------------------------------------------- XLSX


def _cell_text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _open_sheet(path: Path, sheet):
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except (python_calamine.CalamineError, OSError, ValueError) as exc:  # a damaged or non-XLSX file
        raise ReadError(f"{path}: not a readable XLSX workbook ({exc})") from None
    names = workbook.sheet_names
    if sheet is None:
        chosen = names[0] if names else None
    elif isinstance(sheet, int):
        chosen = names[sheet - 1] if 1 <= sheet <= len(names) else None
    else:
        chosen = sheet if sheet in names else None
    if chosen is None:
        raise ReadError(f"{path}: no sheet {sheet!r}; the workbook has: {', '.join(names)}")
    return workbook.get_sheet_by_name(chosen), chosen


def _scan_xlsx(con, path, *, is_header, header_row, sheet) -> tuple[Scan, list[str]]:
    data, chosen = _open_sheet(path, sheet)
    grid = [list(r) for r in data.to_python(skip_empty_area=False)]
    for (r0, c0), (r1, c1) in data.merged_cell_ranges or []:
        value = grid[r0][c0] if r0 < len(grid) and c0 < len(grid[r0]) else None
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            row = grid[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                if (r, c) != (r0, c0):
                    row[c] = value
    texts = [[_cell_text(v) for v in row] for row in grid]
    if not any(any(v is not None for v in row) for row in texts):
        raise ReadError(f"{path}: sheet {chosen!r} is empty; expected a header row with column names")
    index = _pick_header([[v or "" for v in row] for row in texts], is_header, header_row, f"{path} (sheet {chosen!r})")
    raw_header = _clean_header(texts[index])
    width = max(len(raw_header), 1)
    lines, rows, refused = [], [], []
    for r in range(index + 1, len(texts)):
        row = texts[r]
        if not any(v is not None for v in row):
            continue  # an empty spreadsheet row is no record
        extra = [c for c in range(width, len(row)) if row[c] is not None]
        if extra:
            refused.append(
                (
                    r + 1,
                    None,
                    ",".join(v or "" for v in row),
                    f"too many columns: a value in column {extra[0] + 1}, which has no header",
                )
            )
            continue
        lines.append(r + 1)
        rows.append(row[:width] + [None] * (width - len(row)))
    frame = pd.DataFrame({column_name(i + 1): pd.Series([row[i] for row in rows], dtype=object) for i in range(width)})
    for name in ("raw", "line_map", "scan_refused"):
        con.execute(f"drop table if exists temp.{name}")
    con.register("xlsx_frame", frame)
    casts = ", ".join(f"{column_name(i + 1)}::varchar as {column_name(i + 1)}" for i in range(width))
    con.execute(f"create temp table raw as select {casts} from xlsx_frame")
    con.unregister("xlsx_frame")
    line_frame = pd.DataFrame(
        {"row_offset": np.arange(len(lines), dtype=np.int64), "line": np.asarray(lines, dtype=np.int64)}
    )
    con.register("line_map_frame", line_frame)
    con.execute(
        "create temp table line_map as select row_offset + coalesce((select min(rowid) from raw), 0) "
        "as row_index, line from line_map_frame"
    )
    con.unregister("line_map_frame")
    con.execute('create temp table scan_refused (line bigint, "column" varchar, value varchar, reason varchar)')
    for record in refused:
        con.execute("insert into scan_refused values ($1, $2, $3, $4)", list(record))
    header = _dedupe(raw_header)
    return Scan(path, "xlsx", "xlsx", header, index + 1, len(rows), len(refused), tuple(raw_header), chosen), raw_header


def scan_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    is_header: Callable[[list[str]], bool] | None = None,
    header_row: int | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
) -> Scan:
    """Read ``path`` into the temporary tables ``raw``, ``line_map`` and ``scan_refused``.

    Raises :class:`ReadError` for a file that holds no table (empty, no header, unreadable
    workbook) and :class:`crmreview.textfiles.EncodingError` for an unknown encoding.
    """
    if is_xlsx(path):
        scan, _ = _scan_xlsx(con, path, is_header=is_header, header_row=header_row, sheet=sheet)
    else:
        scan, _ = _scan_csv(con, path, is_header=is_header, header_row=header_row, delimiter=delimiter)
    return scan


def peek_header(
    path: Path,
    *,
    is_header: Callable[[list[str]], bool] | None = None,
    header_row: int | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
) -> tuple[str, ...]:
    """The header :func:`scan_file` would use, read from the first rows only."""
    if is_xlsx(path):
        data, chosen = _open_sheet(path, sheet)
        rows = [
            [_cell_text(v) or "" for v in row]
            for row in data.to_python(skip_empty_area=False, nrows=HEADER_SEARCH_ROWS + 1)
        ]
        if not any(any(row) for row in rows):
            raise ReadError(f"{path}: sheet {chosen!r} is empty; expected a header row with column names")
        index = _pick_header(rows, is_header, header_row, f"{path} (sheet {chosen!r})")
        return _dedupe(_clean_header(rows[index]))
    with textfiles.open_binary(path) as handle:
        if not handle.read(_HEAD_BYTES).strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
            raise ReadError(f"{path}: the file is empty; expected a header line with column names")
    encoding = textfiles.detect_encoding(path, sample_bytes=_HEAD_BYTES)
    read_as = "utf-8-sig" if encoding in {"utf-8", "utf-8-sig"} else encoding
    if encoding == "utf-16":
        with textfiles.as_utf8(path, encoding) as (utf8_path, _):
            return peek_header(utf8_path, is_header=is_header, header_row=header_row, delimiter=delimiter)
    delim = delimiter or _sniff_delimiter(path, read_as, is_header)
    records, _ = _head_records(path, read_as, delim)
    index = _pick_header(records, is_header, header_row, str(path))
    return _dedupe(_clean_header(records[index]))
