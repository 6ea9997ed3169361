"""Text encodings of exported files.

Rule (held on every sample we have): a BOM decides (UTF-8 or UTF-16); otherwise a file that
decodes as UTF-8 is UTF-8; otherwise GB18030, the superset of GBK that Windows Excel in
China writes. DuckDB reads UTF-8 only, so other encodings are transcoded to a temporary
UTF-8 copy first.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "DAMAGED",
    "EncodingError",
    "as_utf8",
    "detect_encoding",
    "is_gzip",
    "open_binary",
    "remove_stale_work_files",
    "unix_newlines",
    "work_file",
]

_CHUNK = 16 * 1024 * 1024
#: temporary copies of an export (transcoded, line ends fixed) are named for the process
_WORK_PREFIX = "crm-review-"
#: a work file (crm-review-<pid>-….csv) or a read connection's spill folder
#: (crm-review-spill-<pid>-…, crmreview.warehouse.connect_read) of process <pid>
_WORK_NAME = re.compile(r"crm-review-(?:spill-)?(\d+)-[^/]*")


#: what reading a damaged compressed file (``.csv.gz`` cut short or corrupted) raises
DAMAGED = (EOFError, zlib.error, gzip.BadGzipFile)


class EncodingError(ValueError):
    """A file in none of the encodings crm-review reads."""


def is_gzip(path: str | os.PathLike) -> bool:
    """A gzip-compressed file (``.csv.gz``), recognised by its magic bytes."""
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def open_binary(path: str | os.PathLike):
    """The file's bytes, decompressed when it is gzip-compressed."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def _decodes(path: Path, encoding: str, limit: int | None = None) -> int | None:
    """None when the file (or its first ``limit`` bytes) decodes; else the offset of the first bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open_binary(path) as handle:
        while chunk := handle.read(_CHUNK if limit is None else min(_CHUNK, limit - offset)):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            offset += len(chunk)
            if limit is not None and offset >= limit:
                return None  # a character cut at the limit is not an error
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return offset + exc.start
    return None


def detect_encoding(path: str | os.PathLike, *, sample_bytes: int | None = None) -> str:
    """``utf-8``, ``utf-8-sig``, ``utf-16`` or ``gb18030``; raises EncodingError otherwise.

    With ``sample_bytes`` only the file's beginning is checked: a quick guess for large
    files, which the caller confirms (DuckDB reports any later byte that is not UTF-8).
    """
    path = Path(path)
    with open_binary(path) as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    bad_utf8 = _decodes(path, "utf-8", sample_bytes)
    if bad_utf8 is None:
        return "utf-8"
    if _decodes(path, "gb18030", sample_bytes) is None:
        return "gb18030"
    raise EncodingError(
        f"{path}: byte {bad_utf8} is neither UTF-8 nor GB18030/GBK; save the export as UTF-8 CSV and import it again"
    )


@contextlib.contextmanager
def work_file() -> Iterator[tuple[int, Path]]:
    """Yield (an open descriptor, the path) of a new private temporary file, removed on exit.

    It is named for this process (``crm-review-<pid>-….csv``, owner-only): a copy left by a
    killed process holds an export's text, and :func:`remove_stale_work_files` removes it.
    """
    fd, tmp = tempfile.mkstemp(prefix=f"{_WORK_PREFIX}{os.getpid()}-", suffix=".csv")
    try:
        yield fd, Path(tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_work_files(folder: str | os.PathLike | None = None) -> list[Path]:
    """Remove the temporary copies of exports and the spill folders of read connections left by
    crm-review processes that no longer run."""
    removed = []
    for entry in Path(folder or tempfile.gettempdir()).glob(f"{_WORK_PREFIX}*"):
        match = _WORK_NAME.fullmatch(entry.name)
        if match and int(match[1]) != os.getpid() and not _alive(int(match[1])):
            with contextlib.suppress(OSError):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                removed.append(entry)
    return removed


@contextlib.contextmanager
def as_utf8(path: str | os.PathLike, encoding: str | None = None) -> Iterator[tuple[Path, str]]:
    """Yield (a UTF-8 path with the file's content, the detected encoding).

    A UTF-8 file is used in place (DuckDB reads it, gzip-compressed or not); any other
    encoding is transcoded to a temporary, uncompressed UTF-8 copy.
    """
    path = Path(path)
    encoding = encoding or detect_encoding(path)
    if encoding in {"utf-8", "utf-8-sig"}:
        yield path, encoding
        return
    with work_file() as (fd, tmp):
        with (
            open_binary(path) as binary,
            codecs.getreader(encoding)(binary) as src,
            os.fdopen(fd, "w", encoding="utf-8", newline="") as dst,
        ):
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
        yield tmp, encoding


@contextlib.contextmanager
def unix_newlines(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary copy of a UTF-8 file whose CRLF line ends are LF.

    For exports that mix CRLF and LF line ends (a header saved by one tool, rows by
    another), which DuckDB's strict CSV reader refuses as a whole.
    """
    with work_file() as (fd, tmp):
        with open_binary(path) as src, os.fdopen(fd, "wb") as dst:
            carry = b""
            while chunk := src.read(_CHUNK):
                chunk = carry + chunk
                carry = b"\r" if chunk.endswith(b"\r") else b""
                if carry:
                    chunk = chunk[:-1]
                dst.write(chunk.replace(b"\r\n", b"\n"))
            dst.write(carry)
        yield tmp
