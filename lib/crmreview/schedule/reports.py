"""A report job's rendering: the one adapter between schedules and the report renderer.

:func:`render_job` calls :func:`crmreview.report.render.render_report` (the path of
``crm-review report``) with a job's template, period, language, scope, masking and PDF, and
returns the files it wrote. When the notebook fails, :func:`failed_traceback` reads the
failing cell's traceback from the executed copy the renderer keeps (``*.failed.ipynb``).

Public names: ``render_job``, ``report_title``, ``failed_traceback``, ``RenderFailed``.
"""

from __future__ import annotations

import re
import time
from html import unescape
from pathlib import Path

from ..periods import Period
from ..report.render import ReportError, render_report
from ..scope import ScopeError
from .spec import Job, ScopeSpec

__all__ = ["render_job", "report_title", "failed_traceback", "RenderFailed"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)


class RenderFailed(RuntimeError):
    """The renderer failed; ``traceback`` holds the failing cell's traceback when there is one."""

    def __init__(self, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback


def render_job(job: Job, period: Period, *, db: Path | None, config_path: Path | None, out_dir: Path) -> list[Path]:
    """Render the report of ``job`` for ``period`` into ``out_dir`` with the job's template
    (none: the renderer's default for the period), language, scope, masking and PDF; returns
    the HTML file, then the PDF when the job asks for one. Raises :class:`RenderFailed` when
    the renderer fails (a notebook cell, a missing Chromium for the PDF, a template that does
    not fit the period or scope); the previous files of the period stay as they were."""
    spec = job.spec
    scope = spec.scope or ScopeSpec()
    started = time.time()
    try:
        html = render_report(
            spec.template,
            period=period.label,
            compare=spec.compare,
            db=db,
            out_dir=out_dir,
            lang=job.langs[0],
            config_path=config_path,
            team=scope.team or "",
            region=scope.region or "",
            rep=scope.rep or "",
            pipeline=scope.pipeline or "",
            mask_pii=spec.mask_pii,
            pdf=spec.pdf,
        )
    except (ReportError, ScopeError) as exc:
        raise RenderFailed(str(exc), failed_traceback(out_dir, since=started)) from None
    return [html, html.with_suffix(".pdf")] if spec.pdf else [html]


def report_title(html: Path) -> str:
    """The ``<title>`` of a rendered report ("" when it has none)."""
    found = _TITLE.search(html.read_text(encoding="utf-8"))
    return unescape(found.group(1)).strip() if found else ""


def failed_traceback(folder: Path, *, since: float) -> str:
    """The traceback of the failing cell in the newest ``*.failed.ipynb`` in ``folder`` (or
    below it) written after ``since`` (a ``time.time()``), without terminal colours; "" when none."""
    import nbformat

    # the renderer keeps it beside the report or in a subfolder of it (audit/)
    candidates = [p for p in folder.rglob("*.failed.ipynb") if p.stat().st_mtime >= since - 1]
    if not candidates:
        return ""
    newest = max(candidates, key=lambda p: p.stat().st_mtime)
    try:
        nb = nbformat.read(newest, as_version=4)
    except (OSError, ValueError):
        return ""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                lines = [_ANSI.sub("", entry) for entry in out.get("traceback", [])]
                source = "\n".join(f"> {line}" for line in cell.source.splitlines())
                return f"cell {cell.get('id', '?')}:\n{source}\n" + "\n".join(lines)
    return ""
