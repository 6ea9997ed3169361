"""``crm-review schedule init|list|due|run``: the command line of schedules.

:func:`add_parser` adds the ``schedule`` command to the main parser, :func:`command` runs it.
Exit status: 0 when every job ran or was up to date, 1 when a job failed (its error is in the
archive's ``run.log``), 2 for a mistake in the command or the schedule file.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources
from pathlib import Path

from . import DEFAULT_SCHEDULE

__all__ = ["add_parser", "command"]

_EPILOG = """\
examples:
  crm-review schedule init --db data/crm.duckdb          # writes crm-review-schedule.yml
  crm-review schedule list
  crm-review schedule due                                # from cron or a systemd timer
  crm-review schedule due --now 2026-10-01T08:00 --job quarterly --force
  crm-review schedule run                                # stays in the foreground
"""


def add_parser(sub: argparse._SubParsersAction, formatter: type[argparse.HelpFormatter]) -> None:
    """Add ``schedule`` and its subcommands to the main parser's subcommands ``sub``."""
    schedule = sub.add_parser(
        "schedule",
        formatter_class=formatter,
        help="render reports and reminders on a schedule (cron jobs, an archive with an index)",
        description=(
            "Jobs of a schedule file (YAML) render a report or the follow-up reminders for a "
            "period (last-week, last-month, last-quarter, month-to-date) at cron times in a "
            "time zone, into an archive with index.html, optionally e-mailing them."
        ),
        epilog=_EPILOG,
    )
    commands = schedule.add_subparsers(dest="schedule_command", required=True, metavar="SUBCOMMAND")

    def with_file(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--schedule", type=Path, default=Path(DEFAULT_SCHEDULE), metavar="FILE", help="the schedule file"
        )

    def with_now(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--now",
            default=None,
            metavar="DATETIME",
            help="act as if it were this time (ISO, e.g. 2026-11-30T07:05; without an offset in the "
            "schedule's time zone): for tests and catching up",
        )

    init = commands.add_parser("init", formatter_class=formatter, help="write a commented example schedule file")
    init.add_argument("--db", type=Path, default=None, help="the warehouse the jobs read (default: data/crm.duckdb)")
    init.add_argument("--out", type=Path, default=Path(DEFAULT_SCHEDULE), metavar="FILE", help="the file to write")
    init.add_argument("--overwrite", action="store_true", help="replace an existing file")

    listing = commands.add_parser(
        "list", formatter_class=formatter, help="each job, its last run and status, and its next run time"
    )
    with_file(listing)
    with_now(listing)

    due = commands.add_parser(
        "due", formatter_class=formatter, help="run every job that is due and not yet rendered for its period"
    )
    with_file(due)
    with_now(due)
    due.add_argument("--force", action="store_true", help="render the jobs' latest periods again")
    due.add_argument("--job", action="append", default=[], metavar="NAME", help="only this job (repeatable)")

    run = commands.add_parser(
        "run", formatter_class=formatter, help="stay in the foreground and run the jobs at their times"
    )
    with_file(run)


def _init(args: argparse.Namespace) -> int:
    from .. import config

    out: Path = args.out
    if out.exists() and not args.overwrite:
        print(f"crm-review: error: {out} exists; pass --overwrite to replace it", file=sys.stderr)
        return 2
    base = out.resolve().parent
    db = (args.db or config.default_db_path()).resolve()
    archive = out.resolve().parent / "archive"
    text = resources.files("crmreview.schedule").joinpath("example.yml").read_text(encoding="utf-8")
    text = text.format(
        schedule=out.name,
        db=os.path.relpath(db, base),
        archive=os.path.relpath(archive, base),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(out)
    return 0


def _print_rows(rows: list[dict[str, str]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())


def command(args: argparse.Namespace) -> int:
    """Run ``crm-review schedule SUBCOMMAND``."""
    from ..config import SettingsError
    from ..periods import PeriodError
    from ..warehouse import WarehouseError
    from .runner import due, job_rows, run_forever
    from .spec import ScheduleError, load_schedule
    from .timing import parse_now

    if args.schedule_command == "init":
        return _init(args)
    try:
        if args.schedule_command == "run":
            return run_forever(args.schedule, say=lambda line: print(line, flush=True))
        schedule = load_schedule(args.schedule)
        now = parse_now(args.now, schedule.zone)
        if args.schedule_command == "list":
            _print_rows(job_rows(schedule, now))
            return 0
        outcomes = due(schedule, now, force=args.force, only=tuple(args.job), say=lambda line: print(line, flush=True))
    except (ScheduleError, SettingsError, PeriodError, WarehouseError) as exc:
        print(f"crm-review: error: {exc}", file=sys.stderr)
        return 2
    for outcome in outcomes:
        detail = f": {outcome.message}" if outcome.message else ""
        print(
            f"{outcome.job} {outcome.period}: {outcome.result}{detail}",
            file=sys.stderr if outcome.failed else sys.stdout,
        )
    failed = [o for o in outcomes if o.failed]
    if failed:
        print(
            f"crm-review: {len(failed)} job(s) failed; see {schedule.archive / 'run.log'}",
            file=sys.stderr,
        )
        return 1
    return 0
