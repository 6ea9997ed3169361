"""An XLSX file checked before it is opened, so that a small hostile file cannot take the
machine's memory: python-calamine sizes a sheet from its declared dimension and copies a
shared text into every cell that uses it.

:func:`check_workbook` reads only the zip's directory, the start of each sheet and, as a
stream, the shared strings and the sheets' references to them. It refuses, naming the
setting to raise: a file that unpacks to more than ``xlsx_max_bytes``; a sheet declaring more
than ``xlsx_max_cells`` cells (``A1:XFD1048576``); a text longer than ``max_cell_chars``; and
sheets whose cells would hold more than ``xlsx_max_bytes`` of text in all. Broken XML or a
damaged zip is a :class:`ReadError` too.

Public names: :func:`check_workbook`.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path
from xml.etree.ElementTree import ParseError, XMLPullParser

from .errors import ReadError
from .limits import ReadLimits

__all__ = ["check_workbook"]

_CHUNK = 1 << 20
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*\bref=\"([A-Za-z]*)(\d*)(?::([A-Za-z]+)(\d+))?\"")
_SHARED_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\bt=\"s\"[^>]*>\s*<(?:\w+:)?v>(\d+)</")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + (letter - 64)
    return number


def check_workbook(path: Path, limits: ReadLimits) -> None:
    """Raise :class:`ReadError` when the workbook at ``path`` is over a bound or damaged."""
    try:
        book = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        return  # no zip at all: the workbook reader says so in its own words
    try:
        with book:
            _check(path, book, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ParseError) as exc:
        raise ReadError(f"{path}: not a readable XLSX workbook ({exc})") from None


def _check(path: Path, book: zipfile.ZipFile, limits: ReadLimits) -> None:
    unpacked = sum(info.file_size for info in book.infolist())
    if unpacked > limits.xlsx_max_bytes:
        raise ReadError(
            f"{path}: the workbook unpacks to {unpacked:,} bytes, more than the limit of "
            f"{limits.xlsx_max_bytes:,} (setting xlsx_max_bytes)"
        )
    sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    for name in sheets:
        with book.open(name) as handle:
            head = handle.read(64 * 1024)
        found = _DIMENSION.search(head)
        if found:
            first_col, first_row, last_col, last_row = found.groups()
            end_col, end_row = (last_col, last_row) if last_col else (first_col, first_row)
            cells = _column_number(end_col or b"A") * int(end_row or 1)
            if cells > limits.xlsx_max_cells:
                raise ReadError(
                    f"{path}: sheet {name.rsplit('/', 1)[-1]} declares {cells:,} cells "
                    f"({found.group(0).decode(errors='replace').split('ref=')[-1]}), more than the limit of "
                    f"{limits.xlsx_max_cells:,} (setting xlsx_max_cells)"
                )
    lengths = _shared_lengths(path, book, limits)
    if not lengths:
        return
    text = 0
    for name in sheets:
        with book.open(name) as handle:
            tail = b""
            while chunk := handle.read(_CHUNK):
                data = tail + chunk
                cut = data.rfind(b"</c>") + 4 if b"</c>" in data else 0
                for index in _SHARED_REF.findall(data[:cut]):
                    position = int(index)
                    text += lengths[position] if position < len(lengths) else 0
                tail = data[cut:][-256 * 1024 :]
                if text > limits.xlsx_max_bytes:
                    raise ReadError(
                        f"{path}: its cells repeat shared texts to more than {limits.xlsx_max_bytes:,} "
                        "characters in all (setting xlsx_max_bytes)"
                    )


def _shared_lengths(path: Path, book: zipfile.ZipFile, limits: ReadLimits) -> list[int]:
    """The length of each shared string, read as a stream; a text over ``max_cell_chars`` is refused."""
    try:
        info = book.getinfo("xl/sharedStrings.xml")
    except KeyError:
        return []
    lengths: list[int] = []
    parser = XMLPullParser(events=("end",))
    current = 0
    with book.open(info) as handle:
        while chunk := handle.read(_CHUNK):
            parser.feed(chunk)
            for _, element in parser.read_events():
                tag = element.tag.rsplit("}", 1)[-1]
                if tag == "t":
                    current += len(element.text or "")
                    if current > limits.max_cell_chars:
                        raise ReadError(
                            f"{path}: shared text {len(lengths) + 1:,} holds more than {limits.max_cell_chars:,} "
                            "characters (setting max_cell_chars)"
                        )
                elif tag == "si":
                    lengths.append(current)
                    current = 0
                    element.clear()
        parser.close()
    return lengths
