"""The archive: reports by job and period, their status, the run log, the lock and the index.

Layout, under the schedule's ``archive`` folder::

    index.html                      every job and period: status, rendered-at, links (static, offline)
    run.log                         one entry per run of a job, with the traceback of a failure
    .locks/<job>.lock               held while the job runs (flock): one run of a job at a time
    <job folder>/<period label>/    the period's files (report HTML and PDF, or digest pages)
                  status.json       status (ok | failed), rendered_at, files, the last error

A failed run rewrites ``status.json`` to ``failed`` but keeps the files and ``rendered_at``
of the last good run, so the index still links the previous report.

Public names: ``Status``, ``read_status``, ``write_status``, ``all_statuses``, ``log_run``,
``job_lock``, ``JobBusy``, ``write_index``, ``write_text``, ``period_folder``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import html
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..i18n import t
from ..periods import Period
from .spec import Job

__all__ = [
    "Status",
    "JobBusy",
    "period_folder",
    "read_status",
    "write_status",
    "all_statuses",
    "log_run",
    "job_lock",
    "write_index",
    "write_text",
]

STATUS_FILE = "status.json"
RUN_LOG = "run.log"
INDEX = "index.html"


class JobBusy(RuntimeError):
    """Another run holds the job's lock."""


@dataclass
class Status:
    """What the archive knows of one job and period."""

    job: str
    kind: str
    period: dict[str, str]
    status: str  # ok | failed
    attempted_at: str  # ISO time of the last run, in the job's time zone
    rendered_at: str | None = None  # ISO time of the last good run
    files: list[str] = field(default_factory=list)  # relative to the period folder, main file first
    error: str | None = None  # the last failure's one-line message
    notes: list[str] = field(default_factory=list)  # e.g. reps without an e-mail address


def period_folder(job: Job, period: Period) -> Path:
    return job.folder / period.label


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (UTF-8) under a temporary name, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_status(folder: Path) -> Status | None:
    """The status in ``folder`` (a period folder), or None when the period never ran."""
    try:
        data = json.loads((folder / STATUS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return Status(**data)


def write_status(folder: Path, status: Status) -> None:
    write_text(folder / STATUS_FILE, json.dumps(asdict(status), ensure_ascii=False, indent=2) + "\n")


def all_statuses(archive: Path) -> list[tuple[Path, Status]]:
    """Every period folder of the archive with its status, by job, then period start (latest first)."""
    found = []
    for path in archive.glob(f"*/*/{STATUS_FILE}"):
        with contextlib.suppress(ValueError, TypeError, OSError):
            found.append((path.parent, read_status(path.parent)))
    found.sort(key=lambda item: (item[1].job, item[1].period.get("start", "")), reverse=False)
    by_job: dict[str, list[tuple[Path, Status]]] = {}
    for item in found:
        by_job.setdefault(item[1].job, []).append(item)
    return [item for job in sorted(by_job) for item in reversed(by_job[job])]


def log_run(
    archive: Path, job: str, period: str, status: str, moment: datetime, message: str, details: str = ""
) -> None:
    """Append one entry to ``run.log``: a header line, then ``details`` (a traceback) indented."""
    archive.mkdir(parents=True, exist_ok=True)
    text = f"{moment.isoformat(timespec='seconds')} {job} {period} {status.upper()}: {message}\n"
    if details:
        text += "".join(f"    {line}\n" for line in details.rstrip("\n").splitlines())
    # one write on an O_APPEND descriptor: entries of concurrent runs never interleave
    fd = os.open(archive / RUN_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


@contextlib.contextmanager
def job_lock(archive: Path, job: str) -> Iterator[None]:
    """Hold the job's lock while it runs; raises :class:`JobBusy` at once when another
    process holds it. The lock is an ``flock`` on ``.locks/<job>.lock``: the system releases
    it when its process ends, so a killed run leaves no stale lock behind."""
    folder = archive / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{job}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise JobBusy(f"job {job} is running in another process") from None
            raise
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------- index.html

_STYLE = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1f2937; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { font-size: 1.2em; margin-top: 1.8em; }
.sub { color: #6b7280; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: .95em; }
th, td { text-align: left; padding: .45em .6em; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
.ok { color: #047857; font-weight: 600; } .failed { color: #b91c1c; font-weight: 600; }
.error { color: #b91c1c; font-size: .85em; } .note { color: #92400e; font-size: .85em; }
a { color: #1d4ed8; }
"""


def _both(key: str, **fmt: Any) -> str:
    """A message in Chinese and English, for the bilingual index."""
    zh, en = t(key, "zh", **fmt), t(key, "en", **fmt)
    return html.escape(zh if zh == en else f"{zh} · {en}")


def _file_kind(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return {".html": "HTML", ".pdf": "PDF"}.get(suffix, suffix.lstrip(".").upper())


def _row(folder: Path, archive: Path, status: Status) -> str:
    label = html.escape(status.period.get("label", "?"))
    span = f"{status.period.get('start', '')} – {status.period.get('end', '')}"
    mark = _both(f"schedule.index.status.{status.status}")
    links = []
    for name in status.files:
        target = folder / name
        if target.is_file():
            href = html.escape(target.relative_to(archive).as_posix(), quote=True)
            links.append(f'<a href="{href}">{html.escape(_file_kind(name))}</a>')
    extra = ""
    if status.status == "failed":
        failed_at = status.attempted_at.replace("T", " ")
        extra += f'<div class="error">{_both("schedule.index.failed_at", at=failed_at)}: {html.escape(status.error or "")}</div>'
        if status.files:
            extra += f'<div class="note">{_both("schedule.index.previous_kept")}</div>'
    for note in status.notes:
        extra += f'<div class="note">{html.escape(note)}</div>'
    rendered = html.escape((status.rendered_at or "–").replace("T", " "))
    return (
        f"<tr><td>{label}<br><small>{html.escape(span)}</small></td>"
        f'<td class="{html.escape(status.status)}">{mark}{extra}</td>'
        f"<td>{rendered}</td><td>{' '.join(links) or '–'}</td></tr>"
    )


def write_index(archive: Path, jobs: tuple[Job, ...], now: datetime) -> Path:
    """Write ``index.html``: one table per job (the schedule's jobs first, then any other job
    found in the archive), one row per period, latest first. Static, inline CSS, no script."""
    statuses = all_statuses(archive)
    names = [job.name for job in jobs] + sorted({s.job for _, s in statuses} - {job.name for job in jobs})
    described = {job.name: job for job in jobs}
    head = "".join(
        f"<th>{_both(key)}</th>"
        for key in (
            "schedule.index.period",
            "schedule.index.status",
            "schedule.index.rendered_at",
            "schedule.index.files",
        )
    )
    sections = []
    for name in names:
        rows = [_row(folder, archive, status) for folder, status in statuses if status.job == name]
        job = described.get(name)
        about = ""
        if job is not None:
            words = {
                lang: t(
                    "schedule.index.job_about",
                    lang,
                    kind=t(f"schedule.kind.{job.kind}", lang),
                    period=t(f"schedule.rule.{job.spec.period}", lang),
                )
                for lang in ("zh", "en")
            }
            about = (
                f'<p class="sub">{html.escape(words["zh"])} · {html.escape(words["en"])} '
                f"· cron <code>{html.escape(job.spec.cron)}</code> ({html.escape(str(job.zone))})</p>"
            )
        body = "".join(rows) or f'<tr><td colspan="4">{_both("schedule.index.no_runs")}</td></tr>'
        sections.append(
            f"<h2>{html.escape(name)}</h2>{about}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )
    page = (
        '<!DOCTYPE html>\n<html lang="zh"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_both('schedule.index.title')}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_both('schedule.index.title')}</h1>"
        f'<p class="sub">{_both("schedule.index.updated", at=now.isoformat(timespec="minutes").replace("T", " "))}</p>'
        + "".join(sections)
        + "</body></html>\n"
    )
    path = archive / INDEX
    write_text(path, page)
    return path
