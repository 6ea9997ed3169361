"""What ``notebooks/import.ipynb`` shows: run an import, then the summary per file, the
rejected rows by reason with examples, and the data-quality table of the warehouse.

Public names: ``export_files``, ``run_import``, ``ImportOutcome``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import metrics, warehouse
from ..config import load_settings, notebook_db_path
from ..i18n import check_lang, t
from ..importing import ImportFileError, import_files
from ..importing.rejects import summarise_rejects
from ..periods import parse_period
from ..report.html import HtmlBlock, esc, fmt_count, fmt_pct, table

__all__ = ["export_files", "run_import", "ImportOutcome"]

_SUFFIXES = (".csv", ".xlsx", ".xls", ".txt", ".tsv")


def export_files(files: str | os.PathLike | list[str | os.PathLike]) -> list[Path]:
    """The files to import: a folder (its CSV and XLSX files, sorted), a file, or a list of
    them. ``ImportFileError`` names a path that does not exist or a folder without exports."""
    items = [files] if isinstance(files, (str, os.PathLike)) else list(files)
    found: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _SUFFIXES)
            if not inside:
                raise ImportFileError(f"{path}: the folder holds no CSV or XLSX exports")
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            raise ImportFileError(f"{path}: no such file or folder")
    if not found:
        raise ImportFileError("no files given to import")
    return found


@dataclass(frozen=True)
class ImportOutcome:
    """The import's per-file results, its rejects summary and the warehouse's quality."""

    results: list[Any]
    rejects: list[Any]
    quality: dict[str, Any]
    lang: str

    def summary(self) -> HtmlBlock:
        lang = self.lang
        loaded = sum(r.rows_loaded for r in self.results)
        rejected = sum(r.rows_rejected for r in self.results)
        headers = [
            t(f"import.col.{k}", lang)
            for k in ("file", "table", "status", "read", "loaded", "rejected", "encoding", "exported_at")
        ]
        rows = [
            [
                Path(r.file).name,
                r.table,
                r.status,
                fmt_count(r.rows_read),
                fmt_count(r.rows_loaded),
                fmt_count(r.rows_rejected),
                r.encoding or "",
                "" if r.exported_at is None else str(r.exported_at)[:16],
            ]
            for r in self.results
        ]
        said = t(
            "import.summary",
            lang,
            files=len({r.file for r in self.results}),
            loaded=f"{loaded:,}",
            rejected=f"{rejected:,}",
        )
        return HtmlBlock(
            f"<h2>{esc(t('import.heading', lang))}</h2><p>{esc(said)}</p>" + table(headers, rows, numeric=(3, 4, 5))
        )

    def rejects_by_reason(self) -> HtmlBlock:
        lang = self.lang
        parts = [f"<h3>{esc(t('import.rejects_heading', lang))}</h3>"]
        if not self.rejects:
            parts.append(f"<p>{esc(t('import.no_rejects', lang))}</p>")
        for s in self.rejects:
            parts.append(f"<h4>{esc(t('import.rejects_file', lang, file=Path(s.file).name, rows=f'{s.rows:,}'))}</h4>")
            headers = [t(f"import.col.{k}", lang) for k in ("count", "column", "reason")]
            parts.append(table(headers, [[f"{n:,}", c or "(row)", reason] for c, reason, n in s.reasons], numeric=(0,)))
            parts.append(f"<p>{esc(t('import.examples', lang))}</p>")
            headers = [t(f"import.col.{k}", lang) for k in ("line", "column", "value", "reason")]
            rows = [
                [line, c or "(row)", "(empty)" if v is None else repr(v), reason] for line, c, v, reason in s.examples
            ]
            parts.append(table(headers, rows, numeric=(0,)))
        return HtmlBlock("\n".join(parts))

    def quality_table(self) -> HtmlBlock:
        lang = self.lang
        frame = metrics.load("quality").rows(self.quality)
        headers = ["table", "column", "rows", "non_null", "share_non_null", "first_date", "last_date"]
        rows = [
            [
                r.table,
                r.column,
                fmt_count(r.rows),
                fmt_count(r.non_null),
                fmt_pct(r.share_non_null),
                "" if r.first_date is None or r.first_date != r.first_date else str(r.first_date)[:10],
                "" if r.last_date is None or r.last_date != r.last_date else str(r.last_date)[:10],
            ]
            for r in frame.itertuples(index=False)
        ]
        return HtmlBlock(f"<h3>{esc(t('import.quality_heading', lang))}</h3>" + table(headers, rows, numeric=(2, 3, 4)))


def run_import(
    files: str | os.PathLike | list[str | os.PathLike],
    *,
    db_path: str = "",
    source: str = "",
    mapping: str = "",
    lang: str = "en",
    config_path: str = "",
) -> ImportOutcome:
    """Import ``files`` (see :func:`export_files`) into the warehouse at ``db_path`` ("" = the
    default) all-or-nothing, with a built-in ``source`` or a ``mapping`` file ("" = canonical
    files), then read back the rejects of this import and the warehouse's data quality."""
    check_lang(lang)
    db = notebook_db_path(db_path) if db_path else None
    results = import_files(
        export_files(files),
        db,
        settings=load_settings(config_path or None),
        mapping=mapping or None,
        source=source or None,
    )
    ids = [r.import_id for r in results if r.status == "loaded"]
    with warehouse.connect_read(db) as con:
        rejects = summarise_rejects(con, ids)
        quality = metrics.compute(con, "quality", parse_period("last-quarter"))
    return ImportOutcome(results, rejects, quality, lang)
