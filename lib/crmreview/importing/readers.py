"""Reading an export file into work tables of text, whatever its format: each file once.

An :class:`ExportFile` is one file of an import, opened once for the whole call. Its format,
encoding and first rows are read once: :meth:`ExportFile.layout` finds the header there (for
choosing which feeds take the file and for the load alike), and :meth:`ExportFile.scan` reads
the whole file into work tables of the given connection, one pass for any number of
tables the file feeds. CSV may be UTF-8 with or without BOM, GBK/GB18030 or UTF-16, plain or
gzip-compressed (``.csv.gz``), comma, semicolon, tab or pipe separated; Parquet files are read
by DuckDB (each value cast to text, so that it passes the same readers and checks as a CSV
value; row n of the file is line n + 1, as if a header line came first); XLSX sheets are read with
python-calamine (formulas give their cached values, a merged range gives its value to every
cell it covers, numbers that are whole print without ``.0`` and dates as
``YYYY-MM-DD[ HH:MM:SS]``).

A scan fills three temporary tables named by its slot (:func:`crmreview.importing.sql.scan_tables`):
``raw_<n>`` holds every value as text (``c1`` … ``cN``, by position, so that any header,
Chinese, duplicated or odd, is safe; nothing is typed here); ``line_map_<n>`` gives each row
its line as a spreadsheet numbers it (the first row of the file is line 1, a quoted value
spanning several physical lines stays one row); ``scan_refused_<n>`` holds the rows that
could not be split into the header's columns, with the reason.

Title rows above the header (``销售机会导出 2025-09-09``) are skipped: the header is the
first of the first rows that the caller's ``is_header`` accepts (by default the first
non-empty row), or the row the caller names.

Public names: :class:`ExportFile`, :class:`Layout`, :class:`Scan`, :class:`ReadError`,
:func:`column_name`, :func:`is_xlsx`, :func:`is_parquet`, ``HEADER_SEARCH_ROWS``.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import math
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import python_calamine

from .errors import ReadError
from .limits import DEFAULT_LIMITS, ReadLimits
from .nondata import skip_non_data
from .records import Records, blank_out, scan_records
from .sql import scan_tables
from .textfiles import as_utf8, detect_encoding, open_binary, unix_newlines
from .xlsxguard import check_workbook

__all__ = ["HEADER_SEARCH_ROWS", "ExportFile", "Layout", "ReadError", "Scan", "column_name", "is_parquet", "is_xlsx"]

#: how many rows from the top are searched for the header row
HEADER_SEARCH_ROWS = 30
_HEAD_BYTES = 256 * 1024
_SAMPLE_BYTES = 4 * 1024 * 1024
_DELIMITERS = (",", ";", "\t", "|")
_XLSX_BATCH = 50_000  # XLSX rows handed to DuckDB at a time
_SHOWN_CHARS = 200  # the start of a value over a limit that its reject shows

HeaderTest = Callable[[list[str]], bool]


@dataclass(frozen=True)
class Layout:
    """Where the table sits in a file: its header row, delimiter (CSV) or sheet (XLSX).

    Two feeds whose layouts are equal read the same rows: the file is scanned once for both.
    """

    header: tuple[str, ...]  # column names, a repeated name renamed "Name.1", "Name.2"
    raw_header: tuple[str, ...]  # the header as written, repeated names kept
    header_index: int  # the header's record (0-based; title rows above it are skipped)
    skip_lines: int = 0  # CSV: physical lines above the header
    delimiter: str | None = None  # CSV
    sheet: str | None = None  # XLSX: the sheet read
    # how the layout was asked for: read again if the encoding turns out other than guessed
    request: tuple = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Scan:
    """A file read into work tables: what was read, and where it is."""

    path: Path
    kind: str  # csv | xlsx | parquet
    encoding: str  # utf-8, utf-8-sig, gb18030, utf-16, xlsx or parquet
    header: tuple[str, ...]  # column names, a repeated name renamed "Name.1", "Name.2"
    raw_header: tuple[str, ...]  # the header as written, repeated names kept
    header_line: int  # the header's line (1 unless title rows sit above it)
    sheet: str | None  # XLSX: the sheet read
    rows: int  # rows in raw_table
    refused: int  # rows in refused_table
    raw_table: str  # every accepted row's values as text, c1 … cN
    line_table: str  # row_index (a rowid of raw_table) -> line
    refused_table: str  # line, column, value, reason of the rows that could not be split
    contiguous: bool = True  # CSV: rows sit on consecutive lines (no empty line, none refused)
    # a value may begin or end with a space (records.Records.spaced); when not, trim() would
    # change no value and the readers leave it out
    spaced: bool = True


def column_name(position: int) -> str:
    """The work-table name of the column at 1-based ``position``: c1, c2, …"""
    return f"c{int(position)}"


_PARQUET_MAGIC = b"PAR1"


def is_parquet(path: Path) -> bool:
    """A Parquet file: named ``.parquet`` or starting with Parquet's magic bytes."""
    if path.suffix.lower() in {".parquet", ".parq"}:
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == _PARQUET_MAGIC
    except OSError:
        return False


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


def _pick_header(records: list[list[str]], is_header: HeaderTest | None, header_row: int | None, where: str) -> int:
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


class ExportFile:
    """One export file of an import call: its bytes are read as few times as DuckDB allows.

    The content hash, the encoding, the first rows (CSV) and the sheets (XLSX) are read once
    and kept; a non-UTF-8 CSV is transcoded once, to a temporary UTF-8 copy that
    :meth:`close` removes. Use it as a context manager or call :meth:`close`.
    """

    def __init__(self, path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> None:
        self.path = Path(path)
        self.limits = limits
        self.kind = "parquet" if is_parquet(self.path) else "xlsx" if is_xlsx(self.path) else "csv"
        self._sha256: str | None = None
        self._encoding: str | None = None
        self._head_text: str | None = None
        self._utf8_path: Path | None = None
        self._copies = contextlib.ExitStack()
        self._workbook: python_calamine.CalamineWorkbook | None = None
        self._sheets: dict[str, python_calamine.CalamineSheet] = {}
        self._heads: dict[tuple[str, int], list[list[str | None]]] = {}

    def __enter__(self) -> ExportFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary UTF-8 copy, if one was made."""
        self._copies.close()
        self._utf8_path = None

    @property
    def sha256(self) -> str:
        """The hash of the file's bytes as stored (an unchanged file is not imported again)."""
        if self._sha256 is None:
            digest = hashlib.sha256()
            with open(self.path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            self._sha256 = digest.hexdigest()
        return self._sha256

    @property
    def encoding(self) -> str:
        """``xlsx``, or the CSV's encoding guessed from its first 4 MB (the scan confirms it)."""
        if self.kind in {"xlsx", "parquet"}:
            return self.kind
        if self._encoding is None:
            with open_binary(self.path) as handle:
                if not handle.read(_HEAD_BYTES).strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
                    raise ReadError(f"{self.path}: the file is empty; expected a header line with column names")
            self._encoding = detect_encoding(self.path, sample_bytes=_SAMPLE_BYTES)
        return self._encoding

    def layout(
        self,
        *,
        is_header: HeaderTest | None = None,
        header_row: int | None = None,
        sheet: str | int | None = None,
        delimiter: str | None = None,
    ) -> Layout:
        """Find the header from the first rows only (see the module docstring)."""
        request = (is_header, header_row, sheet, delimiter)
        if self.kind == "parquet":
            raw_header = self._parquet_columns()
            self._check_width(len(raw_header), str(self.path))
            return Layout(_dedupe(raw_header), tuple(raw_header), 0, request=request)
        if self.kind == "xlsx":
            chosen, grid = self._sheet(sheet, max(HEADER_SEARCH_ROWS, header_row or 0) + 1)
            index = _pick_header([[v or "" for v in row] for row in grid], is_header, header_row, self._where(chosen))
            raw_header = _clean_header(grid[index])
            self._check_width(len(raw_header), f"{self._where(chosen)}: row {index + 1}")
            return Layout(_dedupe(raw_header), tuple(raw_header), index, sheet=chosen, request=request)
        text = self._head()
        delim = delimiter or self._sniff_delimiter(text, is_header)
        records, ends = _records(text, delim)
        index = _pick_header(records, is_header, header_row, str(self.path))
        raw_header = _clean_header(records[index])
        self._check_width(len(raw_header), f"{self.path}: line {(ends[index - 1] if index else 0) + 1}")
        skip_lines = ends[index - 1] if index else 0
        return Layout(_dedupe(raw_header), tuple(raw_header), index, skip_lines, delim, request=request)

    def scan(self, con: duckdb.DuckDBPyConnection, layout: Layout, slot: int) -> Scan:
        """Read the rows below the header of ``layout`` into the work tables of ``slot``.

        Raises :class:`ReadError` for a file that holds no table and
        :class:`crmreview.importing.textfiles.EncodingError` for an unknown encoding.
        """
        if self.kind == "parquet":
            return self._scan_parquet(con, layout, slot)
        scan = self._scan_xlsx(con, layout, slot) if self.kind == "xlsx" else self._scan_csv(con, layout, slot)
        return skip_non_data(con, scan, layout.delimiter)  # totals rows, report footers: no records

    def _check_width(self, columns: int, where: str) -> None:
        """A header wider than ``max_columns`` is refused before any row is read."""
        if columns > self.limits.max_columns:
            raise ReadError(
                f"{where}: the header has {columns:,} columns, more than the limit of "
                f"{self.limits.max_columns:,} (setting max_columns); is this the right file?"
            )

    # ------------------------------------------------------------------------- CSV

    def _where(self, sheet: str | None = None) -> str:
        return f"{self.path} (sheet {sheet!r})" if sheet is not None else str(self.path)

    def _head(self) -> str:
        """The first 256 KB as text (a cut last line dropped)."""
        if self._head_text is None:
            encoding = self.encoding
            with open_binary(self.path) as handle:
                head = handle.read(_HEAD_BYTES)
            text = head.decode("utf-8-sig" if encoding in {"utf-8", "utf-8-sig"} else encoding, errors="replace")
            if len(head) == _HEAD_BYTES:
                text = text[: text.rfind("\n") + 1] or text
            self._head_text = text
        return self._head_text

    def _sniff_delimiter(self, text: str, is_header: HeaderTest | None) -> str:
        best, best_width = ",", 0
        for delimiter in _DELIMITERS:
            records, _ = _records(text, delimiter)
            if not records or not any(_clean_header(r) for r in records):
                continue
            try:
                index = _pick_header(records, is_header, None, str(self.path))
            except ReadError:
                continue
            width = len(_clean_header(records[index]))
            if is_header is not None and is_header(_clean_header(records[index])):
                width += 10_000  # a header the caller recognises beats a wider guess
            if width > best_width:
                best, best_width = delimiter, width
        return best

    def _utf8(self) -> Path:
        """The file as UTF-8: itself, or a temporary copy transcoded once."""
        if self._utf8_path is None:
            self._utf8_path, _ = self._copies.enter_context(as_utf8(self.path, self.encoding))
        return self._utf8_path

    def _scan_csv(self, con: duckdb.DuckDBPyConnection, layout: Layout, slot: int) -> Scan:
        raw, line_map, refused_table = scan_tables(slot)
        limit = self.limits.max_line_bytes
        for attempt in range(2):
            utf8_path = self._utf8()
            width = max(len(layout.raw_header), 1)
            with contextlib.ExitStack() as copies:
                source = utf8_path
                records = scan_records(source, limit, layout.delimiter)
                if records.mixed_line_ends or _mixed_line_ends(source):
                    source = copies.enter_context(unix_newlines(source))
                    records = scan_records(source, limit, layout.delimiter)
                header_line = layout.header_index + 1
                too_long = [span for span in records.long if span[0] > header_line]
                if len(too_long) < len(records.long):
                    line, begin, end = records.long[0]
                    raise ReadError(
                        f"{self.path}: line {line} (at or above the header) is {end - begin:,} bytes long, "
                        f"more than the limit of {limit:,} (setting max_line_bytes)"
                    )
                if records.stray and records.stray[0][0] <= header_line:
                    raise ReadError(
                        f"{self.path}: line {records.stray[0][0]} (at or above the header) holds a line break "
                        "(CR or LF) outside quotes that does not end the line; re-export the file or quote the value"
                    )
                long_lines = {span[0] for span in too_long}
                strays = [span for span in records.stray if span[0] not in long_lines]
                set_aside = sorted(too_long + strays, key=lambda span: span[1])
                set_aside_values = _long_values(source, set_aside)
                if set_aside:
                    source = copies.enter_context(blank_out(source, set_aside))
                _csv_scan(con, raw, source, layout.delimiter, layout.skip_lines, width, limit)
            bad_encoding = con.execute(
                "select count(*) from import_scan_errors where error_type = 'INVALID ENCODING'"
            ).fetchall()[0][0]
            if not bad_encoding:
                break
            if attempt == 0:
                full = detect_encoding(self.path)  # the sample looked like UTF-8; the rest is not
                if full in {"utf-8", "utf-8-sig"}:
                    break
                self._reset_encoding(full)
                is_header, header_row, sheet, delimiter = layout.request
                layout = self.layout(is_header=is_header, header_row=header_row, sheet=sheet, delimiter=delimiter)
        header_line = layout.header_index + 1
        con.execute(f"drop table if exists temp.{refused_table}")
        con.execute(
            f"""
            create temp table {refused_table} as
            select line,
                   coalesce($header[try_cast(substr(arg_min(column_name, coalesce(column_idx, 0)), 2) as integer)],
                            arg_min(column_name, coalesce(column_idx, 0))) as "column",
                   any_value(csv_line) as value,
                   arg_min(lower(error_type) || ': ' || coalesce(error_message, 'unreadable line'),
                           coalesce(column_idx, 0)) as reason
            from import_scan_errors group by line
            """,
            {"header": list(layout.header)},
        )
        for (line, begin, end), value in zip(set_aside, set_aside_values, strict=True):
            reason = (
                f"the line is {end - begin:,} bytes long, more than the limit of {limit:,} "
                "(setting max_line_bytes); its start is shown"
                if line in long_lines
                else "a line break (CR or LF) outside quotes inside the line; quote the value that holds it"
            )
            con.execute(
                f"insert into {refused_table} values ($line, null, $value, $reason)",
                {"line": line, "value": value, "reason": reason},
            )
        rows = con.execute(f"select count(*) from {raw}").fetchall()[0][0]
        refused = con.execute(f"select count(*) from {refused_table}").fetchall()[0][0]
        _csv_line_map(con, raw, line_map, refused_table, header_line, records)
        return Scan(
            path=self.path,
            kind="csv",
            encoding=self.encoding,
            header=layout.header,
            raw_header=layout.raw_header,
            header_line=header_line,
            sheet=None,
            rows=rows,
            refused=refused,
            raw_table=raw,
            line_table=line_map,
            refused_table=refused_table,
            contiguous=not refused and not records.empty[records.empty > header_line].size,
            spaced=records.spaced,
        )

    def _reset_encoding(self, encoding: str) -> None:
        self.close()
        self._encoding = encoding
        self._head_text = None

    # ------------------------------------------------------------------------- Parquet

    def _parquet_columns(self) -> list[str]:
        """The column names of a Parquet file, from its schema (no row is read)."""
        with duckdb.connect() as con:
            try:
                names = [
                    row[0]
                    for row in con.execute(
                        "select column_name from (describe select * from read_parquet($path))",
                        {"path": str(self.path)},
                    ).fetchall()
                ]
            except duckdb.Error as exc:
                raise ReadError(f"{self.path}: not a readable Parquet file ({_first_line(exc)})") from None
        if not names:
            raise ReadError(f"{self.path}: the Parquet file has no columns")
        return [str(name).replace("\ufeff", "").strip() for name in names]

    def _scan_parquet(self, con: duckdb.DuckDBPyConnection, layout: Layout, slot: int) -> Scan:
        """Every value as text, columns by position (``t(c1, c2, …)`` renames them, so no name
        from the file enters the SQL); rows keep the file's order. A row holding a value longer
        than ``max_cell_chars`` is refused with its line and a reason (its start is shown)."""
        raw, line_map, refused_table = scan_tables(slot)
        width = len(layout.raw_header)
        names = [column_name(i) for i in range(1, width + 1)]
        casts = ", ".join(f"{name}::varchar as {name}" for name in names)
        for name in (raw, line_map, refused_table):
            con.execute(f"drop table if exists temp.{name}")
        con.execute(
            f"create temp table {raw} as select {casts} from read_parquet($path) as t({', '.join(names)})",
            {"path": str(self.path)},
        )
        (first_rowid,) = con.execute(f"select coalesce(min(rowid), 0) from {raw}").fetchall()[0]
        con.execute(f'create temp table {refused_table} (line bigint, "column" varchar, value varchar, reason varchar)')
        # the first value of a row over the limit names the row's reject; the rowids of the
        # other rows stay as they are, so row n of the file stays line n + 1
        limit = self.limits.max_cell_chars
        over = " or ".join(f"length({name}) > $limit" for name in names)
        first_over = ", ".join(f"case when length({name}) > $limit then {i} end" for i, name in enumerate(names, 1))
        con.execute(
            f"""
            insert into {refused_table}
            select line, $header[k], left(cells[k], $shown) || '…',
                   'the value is ' || format('{{:,}}', length(cells[k])) || ' characters long, more than the limit of '
                   || format('{{:,}}', $limit) || ' (setting max_cell_chars); its start is shown'
            from (
                select rowid - $first + 2 as line, coalesce({first_over}) as k, [{", ".join(names)}] as cells
                from {raw} where {over}
            )
            """,
            {"header": list(layout.header), "limit": limit, "shown": _SHOWN_CHARS, "first": first_rowid},
        )
        (refused,) = con.execute(f"select count(*) from {refused_table}").fetchall()[0]
        if refused:
            con.execute(f"delete from {raw} where {over}", {"limit": limit})
        rows = con.execute(f"select count(*) from {raw}").fetchall()[0][0]
        con.execute(
            f"create temp table {line_map} as select rowid as row_index, rowid - $first + 2 as line from {raw}",
            {"first": first_rowid},
        )
        return Scan(
            path=self.path,
            kind="parquet",
            encoding="parquet",
            header=layout.header,
            raw_header=layout.raw_header,
            header_line=1,
            sheet=None,
            rows=rows,
            refused=refused,
            raw_table=raw,
            line_table=line_map,
            refused_table=refused_table,
        )

    # ------------------------------------------------------------------------- XLSX

    def sheet_names(self) -> list[str]:
        """The names of the workbook's sheets in their order (an XLSX file; [] for others)."""
        if self.kind != "xlsx":
            return []
        if self._workbook is None:
            check_workbook(self.path, self.limits)
            try:
                self._workbook = python_calamine.CalamineWorkbook.from_path(str(self.path))
            except (python_calamine.CalamineError, OSError, ValueError) as exc:  # a damaged or non-XLSX file
                raise ReadError(f"{self.path}: not a readable XLSX workbook ({exc})") from None
        return list(self._workbook.sheet_names)

    def _sheet(self, sheet: str | int | None, rows: int) -> tuple[str, list[list[str | None]]]:
        """The chosen sheet's name and the cells of its first ``rows`` rows as text (merged
        ranges filled), read once."""
        names = self.sheet_names()
        if sheet is None:
            chosen = names[0] if names else None
        elif isinstance(sheet, int):
            chosen = names[sheet - 1] if 1 <= sheet <= len(names) else None
        else:
            chosen = sheet if sheet in names else None
        if chosen is None:
            raise ReadError(f"{self.path}: no sheet {sheet!r}; the workbook has: {', '.join(names)}")
        if (chosen, rows) not in self._heads:
            head = [row for _, row in zip(range(rows), self._rows(chosen), strict=False)]
            if not any(any(v is not None for v in row) for row in head):
                raise ReadError(f"{self.path}: sheet {chosen!r} is empty; expected a header row with column names")
            self._heads[(chosen, rows)] = head
        return chosen, self._heads[(chosen, rows)]

    def _rows(self, chosen: str) -> Iterator[list[str | None]]:
        """The sheet's rows from the first (row 1), cells as text from column A, merged ranges
        filled with their first cell's value; one row at a time, so that Python holds no copy
        of the sheet (python-calamine's own is bounded by :func:`check_workbook`)."""
        if chosen not in self._sheets:
            try:
                self._sheets[chosen] = self._workbook.get_sheet_by_name(chosen)
            except (python_calamine.CalamineError, ValueError) as exc:  # damaged XML inside the zip
                raise ReadError(f"{self._where(chosen)}: the sheet cannot be read ({exc})") from None
        data = self._sheets[chosen]
        left = [None] * (data.start[1] if data.start else 0)  # iter_rows starts at the first used column
        merged = sorted(data.merged_cell_ranges or [])
        spans: dict[tuple[int, int], str | None] = {}  # (first row, first column) -> its value
        try:
            for r, cells in enumerate(data.iter_rows()):
                row = left + [_cell_text(v) for v in cells]
                for (r0, c0), (r1, c1) in merged:
                    if r0 > r:
                        break
                    if r > r1:
                        continue
                    if r == r0:
                        spans[(r0, c0)] = row[c0] if c0 < len(row) else None
                    value = spans.get((r0, c0))
                    for c in range(c0, min(c1, len(row) - 1) + 1):
                        if (r, c) != (r0, c0):
                            row[c] = value
                yield row
        except (python_calamine.CalamineError, ValueError) as exc:
            raise ReadError(f"{self._where(chosen)}: the sheet cannot be read ({exc})") from None

    def _scan_xlsx(self, con: duckdb.DuckDBPyConnection, layout: Layout, slot: int) -> Scan:
        """Stream the sheet's rows below the header into the work tables, ``_XLSX_BATCH`` rows
        at a time: memory does not grow with the sheet."""
        raw, line_map, refused_table = scan_tables(slot)
        index = layout.header_index
        width = max(len(layout.raw_header), 1)
        names = [column_name(i + 1) for i in range(width)]
        for name in (raw, line_map, refused_table):
            con.execute(f"drop table if exists temp.{name}")
        con.execute(f"create temp table {raw} ({', '.join(f'{n} varchar' for n in names)})")
        con.execute(f"create temp table {line_map} (row_index bigint, line bigint)")
        con.execute(f'create temp table {refused_table} (line bigint, "column" varchar, value varchar, reason varchar)')
        rows = refused = 0
        lines: list[int] = []
        batch: list[list[str | None]] = []

        def flush() -> None:
            if not batch:
                return
            frame = pd.DataFrame({n: pd.Series([row[i] for row in batch], dtype=object) for i, n in enumerate(names)})
            line_frame = pd.DataFrame(
                {"row_offset": np.arange(len(lines), dtype=np.int64), "line": np.asarray(lines, dtype=np.int64)}
            )
            con.register("xlsx_frame", frame)
            con.execute(f"insert into {raw} select {', '.join(f'{n}::varchar' for n in names)} from xlsx_frame")
            con.unregister("xlsx_frame")
            # rowids are consecutive in insertion order: the batch's rows are the last ones
            (start,) = con.execute(f"select max(rowid) - $n + 1 from {raw}", {"n": len(batch)}).fetchall()[0]
            con.register("line_map_frame", line_frame)
            con.execute(
                f"insert into {line_map} select $start + row_offset as row_index, line from line_map_frame",
                {"start": start},
            )
            con.unregister("line_map_frame")
            batch.clear()
            lines.clear()

        for r, row in enumerate(self._rows(layout.sheet)):
            if r <= index or not any(v is not None for v in row):
                continue  # the header and the rows above it; an empty spreadsheet row is no record
            extra = [c for c in range(width, len(row)) if row[c] is not None]
            if extra:
                refused += 1
                con.execute(
                    f"insert into {refused_table} values ($1, null, $2, $3)",
                    [
                        r + 1,
                        ",".join(v or "" for v in row),
                        f"too many columns: a value in column {extra[0] + 1}, which has no header",
                    ],
                )
                continue
            rows += 1
            lines.append(r + 1)
            batch.append(row[:width] + [None] * (width - len(row)))
            if len(batch) >= _XLSX_BATCH:
                flush()
        flush()
        return Scan(
            path=self.path,
            kind="xlsx",
            encoding="xlsx",
            header=layout.header,
            raw_header=layout.raw_header,
            header_line=index + 1,
            sheet=layout.sheet,
            rows=rows,
            refused=refused,
            raw_table=raw,
            line_table=line_map,
            refused_table=refused_table,
        )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _records(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """The first records of a CSV's head and the physical line each ends on."""
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


def _mixed_line_ends(path: Path) -> bool:
    """Whether rows end in CRLF but the header in LF, or the other way round.

    DuckDB's strict reader refuses such a file as a whole (a header written by one tool, the
    rows by another); its CRLFs are then made LFs first.
    """
    with open_binary(path) as handle:
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
    con: duckdb.DuckDBPyConnection, raw: str, source: Path, delimiter: str, skip_lines: int, width: int, limit: int
) -> None:
    """Read the rows of ``source`` below its header as text; no record is longer than ``limit``
    bytes (longer ones were blanked out), so DuckDB's own line limit is set above it."""
    columns = ", ".join(f"'{column_name(i)}': 'VARCHAR'" for i in range(1, width + 1))
    for name in (raw, "import_scan_errors", "import_scan_files"):
        con.execute(f"drop table if exists temp.{name}")
    con.execute(
        f"""
        create temp table {raw} as
        select * from read_csv(
            $path, header = true, skip = $skip, auto_detect = false, delim = $delim,
            quote = '"', escape = '"', strict_mode = true, null_padding = false,
            columns = {{{columns}}}, store_rejects = true, max_line_size = $max_line,
            buffer_size = $buffer, rejects_table = 'import_scan_errors', rejects_scan = 'import_scan_files'
        )
        """,
        {
            "path": str(source),
            "skip": skip_lines,
            "delim": delimiter,
            "max_line": limit + 1024,
            "buffer": max(4 * (limit + 1024), 32 * 1024 * 1024),
        },
    )


def _csv_line_map(
    con: duckdb.DuckDBPyConnection,
    raw: str,
    line_map: str,
    refused_table: str,
    header_line: int,
    records: Records,
) -> None:
    """Map the scan's accepted rows to their lines: the records below the header that are
    neither empty (DuckDB skips them) nor refused, in file order.

    Rows keep file order in the raw table; inside a transaction their rowids start at a large
    offset, so positions are taken relative to the smallest rowid. Row ``k`` (0-based) is on
    line ``first + k + s``, where ``s`` counts the skipped lines ``e_j`` (sorted, ``j``
    0-based) with ``e_j - j - first <= k``: an as-of join in DuckDB, so that memory does not
    grow with the file (only with its skipped lines).
    """
    con.execute(f"drop table if exists temp.{line_map}")
    first = header_line + 1
    empty = records.empty[records.empty >= first]
    (refused,) = con.execute(f"select count(*) from {refused_table}").fetchall()[0]
    if not refused and not empty.size:
        con.execute(
            f"create temp table {line_map} as select rowid as row_index, "
            f"rowid - (select min(rowid) from {raw}) + $first as line from {raw}",
            {"first": first},
        )
        return
    con.register("empty_lines_frame", pd.DataFrame({"line": empty.astype(np.int64)}))
    con.execute(
        f"""
        create temp table {line_map} as
        with skipped as (
            select line from empty_lines_frame
            union
            select line from {refused_table} where line >= $first
        ),
        ranked as (select line - (row_number() over (order by line) - 1) - $first as from_row, line from skipped),
        shifts as (select from_row, count(*) as n from ranked group by from_row),
        steps as (select from_row, sum(n) over (order by from_row) as shift from shifts),
        positions as (select rowid as row_index, rowid - (select min(rowid) from {raw}) as k from {raw})
        select p.row_index, $first + p.k + coalesce(s.shift, 0) as line
        from positions as p asof left join steps as s on p.k >= s.from_row
        """,
        {"first": first},
    )
    con.unregister("empty_lines_frame")


def _long_values(path: Path, spans: list[tuple[int, int, int]], shown: int = _SHOWN_CHARS) -> list[str]:
    """The first characters of each set-aside record (sorted by start), for its reject."""
    values = []
    with open_binary(path) as handle:
        position = 0
        for _, begin, end in spans:
            while position < begin:
                skipped = handle.read(min(1 << 20, begin - position))
                if not skipped:
                    break
                position += len(skipped)
            head = handle.read(min(shown * 4, end - begin))
            position += len(head)
            text = head.decode("utf-8", errors="replace")
            values.append(text[:shown] + "…" if len(text) > shown or len(head) < end - begin else text)
    return values


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
