"""Helpers the import tests share: a text file written as UTF-8, rows read back from a warehouse."""

from __future__ import annotations

from pathlib import Path

from crmreview.warehouse import connect_read


def write(path: Path, text: str) -> Path:
    """``text`` written to ``path`` as UTF-8; the path."""
    path.write_text(text, encoding="utf-8")
    return path


def rows(db, sql: str) -> list[tuple]:
    """The rows of ``sql`` on the published warehouse ``db``."""
    with connect_read(db) as con:
        return con.execute(sql).fetchall()
