"""A report job's rendering: the one adapter between schedules and the report renderer.

:func:`render_job` calls :func:`crmreview.report.render.render_report` (the path of
``crm-review report``) with a job's template, period, language and output folder, and
returns the files it wrote. When the notebook fails, :func:`failed_traceback` reads the
failing cell's traceback from the executed copy the renderer keeps (``*.failed.ipynb``).

Public names: ``render_job``, ``failed_traceback``, ``RenderFailed``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from ..periods import Period
from ..report.render import ReportError, render_report
from .spec import Job, ScheduleError

__all__ = ["render_job", "failed_traceback", "RenderFailed"]

#: the template of a report job that names none
DEFAULT_TEMPLATE = "quarterly_review"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class RenderFailed(RuntimeError):
    """The renderer failed; ``traceback`` holds the failing cell's traceback when there is one."""

    def __init__(self, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback


def render_job(job: Job, period: Period, *, db: Path | None, config_path: Path | None, out_dir: Path) -> list[Path]:
    """Render the report of ``job`` for ``period`` into ``out_dir``; returns the HTML file
    (and the PDF when the job asks for one). Raises :class:`RenderFailed` when the notebook
    fails (the previous files stay as they were) and :class:`ScheduleError` when the job asks
    for something this renderer cannot do."""
    spec = job.spec
    unsupported = [key for key in ("pdf", "mask_pii") if getattr(spec, key)]
    if spec.scope is not None:
        unsupported.append("scope")
    if unsupported:
        raise ScheduleError(
            f"job {job.name}: this release's report renderer has no {', '.join(unsupported)}; "
            "remove the key(s) from the job"
        )
    started = time.time()
    try:
        html = render_report(
            spec.template or DEFAULT_TEMPLATE,
            period=period.label,
            compare=spec.compare,
            db=db,
            out_dir=out_dir,
            lang=job.langs[0],
            config_path=config_path,
        )
    except ReportError as exc:
        raise RenderFailed(str(exc), failed_traceback(out_dir, since=started)) from None
    return [html]


def failed_traceback(folder: Path, *, since: float) -> str:
    """The traceback of the failing cell in the newest ``*.failed.ipynb`` of ``folder``
    written after ``since`` (a ``time.time()``), without terminal colours; "" when none."""
    import nbformat

    candidates = [p for p in folder.glob("*.failed.ipynb") if p.stat().st_mtime >= since - 1]
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
