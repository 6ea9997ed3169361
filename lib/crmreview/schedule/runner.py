"""Running a schedule: which jobs are due, running one job, the foreground loop, the job list.

:func:`due` runs every job whose latest period (:mod:`~crmreview.schedule.timing`) has no
good report in the archive yet, each under its lock, so two runs at once never render the
same job twice; a job that fails keeps its previous files, is logged with its traceback and
marked failed, and the other jobs still run. :func:`run_forever` calls :func:`due` at every
job's cron time. :func:`job_rows` is what ``crm-review schedule list`` shows.

Public names: ``Outcome``, ``due``, ``run_job``, ``run_forever``, ``job_rows``, ``import_new_exports``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import config, queries, warehouse
from ..i18n import t
from ..importing import ImportFileError, MappingError, import_files
from ..periods import Period, PeriodError
from ..scope import ScopeError
from . import archive, mail
from .archive import JobBusy, Status
from .digest import compute_digest, rep_page, summary_page, team_page
from .reports import RenderFailed, render_job, report_title
from .spec import Job, Schedule, ScheduleError, load_schedule
from .timing import latest_run, next_run, period_at

__all__ = ["Outcome", "due", "run_job", "run_forever", "job_rows", "import_new_exports"]

_UNSAFE = re.compile(r"[^\w.-]+")
#: errors whose message says what went wrong without their class name
_KNOWN = (
    RenderFailed,
    ScheduleError,
    mail.MailError,
    ImportFileError,
    MappingError,
    warehouse.WarehouseError,
    config.SettingsError,
    PeriodError,
    ScopeError,
)


@dataclass(frozen=True)
class Outcome:
    """What became of one job in one run: ``rendered``, ``failed``, ``up-to-date`` or ``busy``."""

    job: str
    period: str
    result: str
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.result == "failed"


def _slug(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("_") or "_"


def _settings(schedule: Schedule) -> Any:
    return config.load_settings(schedule.config) if schedule.config else config.load_settings()


def _db(schedule: Schedule) -> Path:
    return schedule.db or config.default_db_path()


def import_new_exports(schedule: Schedule, job: Job) -> list[Path]:
    """Import the files of the job's export folder whose content (sha256) the warehouse's
    import log does not hold yet; returns the files imported (none: nothing happens)."""
    spec = job.spec.import_first
    if spec is None or job.import_folder is None:
        return []
    if not job.import_folder.is_dir():
        raise ScheduleError(f"job {job.name}: import_first folder {job.import_folder} does not exist")
    files = sorted({p for pattern in spec.patterns for p in job.import_folder.glob(pattern) if p.is_file()})
    digests = {}
    for path in files:
        with open(path, "rb") as handle:
            digests[path] = hashlib.file_digest(handle, "sha256").hexdigest()
    db = _db(schedule)
    known: set[str] = set()
    if db.exists() and digests:
        with warehouse.connect_read(db) as con:
            known = set(
                queries.run(con, "schedule/imported_files", {"sha256s": sorted(set(digests.values()))})["sha256"]
            )
    new = [path for path in files if digests[path] not in known]
    if new:
        import_files(new, db, settings=_settings(schedule), mapping=job.mapping, source=spec.source)
    return new


def _report(schedule: Schedule, job: Job, period: Period, folder: Path) -> tuple[list[Path], list[Any], list[str]]:
    files = render_job(job, period, db=schedule.db, config_path=schedule.config, out_dir=folder)
    messages = []
    if job.spec.email is not None and job.spec.email.to:
        assert schedule.spec.smtp is not None
        lang = job.langs[0]
        subject = job.spec.email.subject or report_title(files[0]) or t("report.title", lang, period=period.label)
        body = files[0].read_text(encoding="utf-8")
        attachments = [p for p in files if p.suffix == ".pdf"]
        messages.append(mail.message(schedule.spec.smtp, job.spec.email.to, subject, body, attachments=attachments))
    return files, messages, []


def _digest(schedule: Schedule, job: Job, period: Period, folder: Path) -> tuple[list[Path], list[Any], list[str]]:
    with warehouse.connect_read(_db(schedule)) as con:
        digest = compute_digest(con, period, _settings(schedule))
    langs = job.langs
    smtp, email = schedule.spec.smtp, job.spec.email
    leads = job.spec.leads or {}
    messages, notes, files = [], [], []
    no_address = []
    for rep in digest.reps:
        subject, page = rep_page(digest, rep, langs)
        path = folder / "reps" / f"{_slug(rep.rep_id)}.html"
        archive.write_text(path, page)
        if email is not None and smtp is not None:
            if rep.email:
                messages.append(mail.message(smtp, [rep.email], subject, page))
            else:
                no_address.append(rep.label)
    for team, reps in digest.teams().items():
        subject, page = team_page(digest, team, reps, langs)
        archive.write_text(folder / "teams" / f"{_slug(team or 'no-team')}.html", page)
        if email is not None and smtp is not None and team in leads:
            messages.append(mail.message(smtp, [leads[team]], subject, page))
    missing_leads = sorted(set(leads) - set(digest.teams()))
    summary = folder / "summary.html"
    subject, page = summary_page(digest, langs)
    archive.write_text(summary, page)
    files.append(summary)
    if email is not None and smtp is not None and email.to:
        messages.append(mail.message(smtp, email.to, email.subject or subject, page))
    if no_address:
        notes.append(f"reps without an e-mail address (no reminder sent): {', '.join(no_address)}")
    if missing_leads:
        notes.append(f"leads of teams the warehouse does not have: {', '.join(missing_leads)}")
    return files, messages, notes


def run_job(schedule: Schedule, job: Job, period: Period, *, say: Callable[[str], None] = print) -> Outcome:
    """Run ``job`` for ``period`` now (the caller holds its lock): import, render, e-mail,
    then record the status and a run-log entry. A failure is recorded, never raised."""
    folder = archive.period_folder(job, period)
    previous = archive.read_status(folder)
    started = datetime.now(job.zone)
    imported: list[Path] = []
    try:
        imported = import_new_exports(schedule, job)
        if imported:
            say(f"{job.name}: imported {len(imported)} new export file(s): {', '.join(p.name for p in imported)}")
        folder.mkdir(parents=True, exist_ok=True)
        make = _report if job.kind == "report" else _digest
        files, messages, notes = make(schedule, job, period, folder)
        if messages:
            assert schedule.spec.smtp is not None
            mail.send(schedule.spec.smtp, messages)
    except Exception as exc:  # a job's failure is recorded and reported, the other jobs still run
        message = str(exc) if isinstance(exc, _KNOWN) else f"{type(exc).__name__}: {exc}"
        details = exc.traceback if isinstance(exc, RenderFailed) and exc.traceback else traceback.format_exc()
        status = Status(
            job=job.name,
            kind=job.kind,
            period=period.as_dict(),
            status="failed",
            attempted_at=started.isoformat(timespec="seconds"),
            rendered_at=previous.rendered_at if previous else None,
            files=previous.files if previous else [],
            error=message.splitlines()[0] if message else type(exc).__name__,
        )
        archive.write_status(folder, status)
        archive.log_run(schedule.archive, job.name, period.label, "failed", started, message, details)
        return Outcome(job.name, period.label, "failed", message)
    finished = datetime.now(job.zone)
    status = Status(
        job=job.name,
        kind=job.kind,
        period=period.as_dict(),
        status="ok",
        attempted_at=started.isoformat(timespec="seconds"),
        rendered_at=finished.isoformat(timespec="seconds"),
        files=[p.relative_to(folder).as_posix() for p in files],
        notes=notes,
    )
    archive.write_status(folder, status)
    sent = f"; e-mailed {len(messages)} message(s)" if messages else ""
    text = f"rendered {', '.join(status.files)}{sent}"
    archive.log_run(schedule.archive, job.name, period.label, "ok", finished, text, "\n".join(notes))
    for note in notes:
        say(f"{job.name}: {note}")
    return Outcome(job.name, period.label, "rendered", text)


def due(
    schedule: Schedule,
    now: datetime,
    *,
    force: bool = False,
    only: tuple[str, ...] = (),
    say: Callable[[str], None] = print,
) -> list[Outcome]:
    """Run every job (of ``only``, when given) whose latest period at ``now`` has no good
    report yet (``force``: re-render it anyway), then rewrite the archive index (when a job
    ran, or there is none yet): a run with nothing to do writes nothing."""
    jobs = [schedule.job(name) for name in only] if only else list(schedule.jobs)
    outcomes = []
    for job in jobs:
        period = period_at(job, latest_run(job, now))
        folder = archive.period_folder(job, period)
        current = archive.read_status(folder)
        if current is not None and current.status == "ok" and not force:
            outcomes.append(Outcome(job.name, period.label, "up-to-date"))
            continue
        try:
            with archive.job_lock(schedule.archive, job.name):
                current = archive.read_status(folder)  # another run may have finished it meanwhile
                if current is not None and current.status == "ok" and not force:
                    outcomes.append(Outcome(job.name, period.label, "up-to-date"))
                    continue
                say(f"{job.name}: running for {period.label}")
                outcomes.append(run_job(schedule, job, period, say=say))
        except JobBusy as exc:
            outcomes.append(Outcome(job.name, period.label, "busy", str(exc)))
    ran = any(o.result in ("rendered", "failed") for o in outcomes)
    if ran or not (schedule.archive / archive.INDEX).is_file():
        with _index_lock(schedule.archive):
            archive.write_index(schedule.archive, schedule.jobs, datetime.now(schedule.zone))
    return outcomes


@contextlib.contextmanager
def _index_lock(folder: Path):
    (folder / ".locks").mkdir(parents=True, exist_ok=True)
    with open(folder / ".locks" / "index.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def job_rows(schedule: Schedule, now: datetime) -> list[dict[str, Any]]:
    """One row per job: its rule and cron, its latest period and that period's status, when it
    last ran and when it runs next."""
    rows = []
    for job in schedule.jobs:
        period = period_at(job, latest_run(job, now))
        current = archive.read_status(archive.period_folder(job, period))
        runs = [s for _, s in archive.all_statuses(schedule.archive) if s.job == job.name]
        last = max(runs, key=lambda s: s.attempted_at, default=None)
        rows.append(
            {
                "job": job.name,
                "kind": job.kind,
                "period": job.spec.period,
                "cron": f"{job.spec.cron} ({job.zone})",
                "latest_period": period.label,
                "status": current.status if current else "due",
                "last_run": f"{last.period['label']} {last.status} {last.attempted_at}" if last else "never",
                "next_run": next_run(job, now).isoformat(timespec="minutes"),
            }
        )
    return rows


def run_forever(
    path: Path,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    cycles: int | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Stay in the foreground: run what is due now, then sleep until the next cron time of any
    job, and again. The schedule file is read again before every round (a broken edit keeps
    the previous version and is reported). ``cycles`` bounds the rounds (tests)."""
    schedule = load_schedule(path)
    failures = 0
    done = 0
    while cycles is None or done < cycles:
        try:
            schedule = load_schedule(path)
        except ScheduleError as exc:
            say(f"crm-review: schedule file not reloaded, keeping the previous one: {exc}")
        now = clock()
        failures += sum(o.failed for o in due(schedule, now, say=say))
        done += 1
        if cycles is not None and done >= cycles:
            break
        wake = min(next_run(job, now) for job in schedule.jobs)
        say(f"next run at {wake.isoformat(timespec='minutes')}")
        while (left := (wake - clock()).total_seconds()) > 0:
            sleep(min(left, 300.0))  # wake regularly: a suspended machine or a clock change is caught up
    return 1 if failures else 0
