"""Text encodings of exported files.

Rule (held on every sample we have): a BOM decides (UTF-8 or UTF-16); otherwise a file that
decodes as UTF-8 is UTF-8; otherwise GB18030, the superset of GBK that Windows Excel in
China writes. DuckDB reads UTF-8 only, so other encodings are transcoded to a temporary
UTF-8 copy first.
"""
from __future__ import annotations

import codecs
import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

__all__ = ["EncodingError", "detect_encoding", "as_utf8"]

_CHUNK = 16 * 1024 * 1024


class EncodingError(ValueError):
    """A file in none of the encodings crm-review reads."""


def _decodes(path: Path, encoding: str, skip: int = 0) -> int | None:
    """None when the whole file decodes; else the byte offset of the first bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = skip
    with open(path, "rb") as handle:
        handle.seek(skip)
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return offset + exc.start
    return None


def detect_encoding(path: str | os.PathLike) -> str:
    """``utf-8``, ``utf-8-sig``, ``utf-16`` or ``gb18030``; raises EncodingError otherwise."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    bad_utf8 = _decodes(path, "utf-8")
    if bad_utf8 is None:
        return "utf-8"
    if _decodes(path, "gb18030") is None:
        return "gb18030"
    raise EncodingError(
        f"{path}: byte {bad_utf8} is neither UTF-8 nor GB18030/GBK; "
        "save the export as UTF-8 CSV and import it again"
    )


@contextlib.contextmanager
def as_utf8(path: str | os.PathLike) -> Iterator[tuple[Path, str]]:
    """Yield (a UTF-8 path with the file's content, the detected encoding)."""
    path = Path(path)
    encoding = detect_encoding(path)
    if encoding in {"utf-8", "utf-8-sig"}:
        yield path, encoding
        return
    fd, tmp = tempfile.mkstemp(prefix="crm-review-", suffix=".csv")
    try:
        with open(path, encoding=encoding, newline="") as src, os.fdopen(
            fd, "w", encoding="utf-8", newline=""
        ) as dst:
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
        yield Path(tmp), encoding
    finally:
        os.unlink(tmp)
