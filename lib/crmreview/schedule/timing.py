"""When a job runs and which period it reports on.

A job's cron expression is read in its time zone (``zoneinfo``; croniter keeps daylight
saving right). At a moment ``now`` the job's **latest run time** is the last cron time at or
before ``now``; its **period** is its period rule (``last-week``, ``last-month``,
``last-quarter``, ``month-to-date``) resolved on that run time's local date. A job is due
when that period has no good report yet, so a machine that was off on Monday still renders
last week's report when it comes back.

Public names: ``parse_now``, ``latest_run``, ``next_run``, ``period_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from ..periods import Period, relative_period
from .spec import Job, ScheduleError

__all__ = ["parse_now", "latest_run", "next_run", "period_at"]


def parse_now(text: str | None, zone: ZoneInfo) -> datetime:
    """``--now``: an ISO date and time (``2026-11-30 07:05``, ``2026-11-30T07:05+08:00``); one
    without an offset is read in ``zone`` (the schedule's time zone). ``None``: the clock."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ScheduleError(
            f"--now {text!r} is not a date and time (expected e.g. 2026-11-30T07:05 or 2026-11-30T07:05+08:00)"
        ) from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def latest_run(job: Job, now: datetime) -> datetime:
    """The job's last cron time at or before ``now``, in the job's time zone."""
    # croniter's previous time excludes the start itself: start one second later
    start = now.astimezone(job.zone) + timedelta(seconds=1)
    return croniter(job.spec.cron, start).get_prev(datetime)


def next_run(job: Job, now: datetime) -> datetime:
    """The job's first cron time after ``now``, in the job's time zone."""
    return croniter(job.spec.cron, now.astimezone(job.zone)).get_next(datetime)


def period_at(job: Job, run_time: datetime) -> Period:
    """The period the job reports on when it runs at ``run_time`` (its rule on the local date)."""
    return relative_period(job.spec.period, run_time.astimezone(job.zone).date())
