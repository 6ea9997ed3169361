"""`schedule due` on digest jobs (no notebook, so fast): once per period, failures kept
harmless and loud, the lock, the index, and imports of new exports only."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from crmreview import cli, warehouse
from crmreview.config import DEFAULT_SETTINGS
from crmreview.metrics.churn import churn
from crmreview.metrics.followup import followup
from crmreview.metrics.funnel import funnel
from crmreview.periods import parse_period
from crmreview.schedule import archive
from crmreview.schedule.runner import due, run_forever
from crmreview.schedule.spec import load_schedule
from crmreview.schedule.timing import parse_now

# the sample's data end on 2026-09-30; Monday 5 October 2026 07:30 in Shanghai is after the
# weekly run time, so the week of 28 September - 4 October is due
NOW = "2026-10-05T07:45"
WEEK = "2026-09-28..2026-10-04"

DIGEST = """
timezone: Asia/Shanghai
db: {db}
archive: archive
jobs:
  - name: reminders
    kind: digest
    period: last-week
    cron: "30 7 * * MON"
"""


def _log_entries(folder: Path) -> list[str]:
    path = folder / "run.log"
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith(" ")]


def _quiet(line: str) -> None:
    pass


def test_a_due_job_renders_once_and_a_second_due_does_nothing(sample_db, write_schedule, tmp_path):
    schedule = load_schedule(write_schedule(DIGEST.format(db=sample_db)))
    now = parse_now(NOW, schedule.zone)
    first = due(schedule, now, say=_quiet)
    assert [(o.job, o.period, o.result) for o in first] == [("reminders", WEEK, "rendered")]
    folder = tmp_path / "archive" / "reminders" / WEEK
    status = archive.read_status(folder)
    assert (status.status, status.files) == ("ok", ["summary.html"])
    assert sorted(p.name for p in (folder / "reps").iterdir()) == [f"R0{i}.html" for i in range(1, 9)]
    summary = (folder / "summary.html").read_bytes()
    written = {p: p.stat().st_mtime_ns for p in (tmp_path / "archive").rglob("*") if p.is_file()}
    # an hour later, and again: nothing is rendered, nothing is written
    for later in ("2026-10-05T08:45", "2026-10-11T23:59"):
        again = due(schedule, parse_now(later, schedule.zone), say=_quiet)
        assert [(o.period, o.result) for o in again] == [(WEEK, "up-to-date")]
    assert archive.read_status(folder) == status
    assert (folder / "summary.html").read_bytes() == summary
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "archive").rglob("*") if p.is_file()} == written
    assert len(_log_entries(tmp_path / "archive")) == 1
    # --force renders the same period again
    forced = due(schedule, now, force=True, say=_quiet)
    assert [o.result for o in forced] == ["rendered"]
    assert len(_log_entries(tmp_path / "archive")) == 2


def test_each_reps_reminders_agree_with_the_metrics(sample_db, write_schedule, tmp_path):
    """The digest splits the metrics' own lists by rep: its counts must add up to the
    metrics' per-rep and overall numbers, computed by the metric functions."""
    schedule = load_schedule(write_schedule(DIGEST.format(db=sample_db)))
    due(schedule, parse_now(NOW, schedule.zone), say=_quiet)
    pages = tmp_path / "archive" / "reminders" / WEEK / "reps"
    counts = {}
    for page in pages.iterdir():
        text = page.read_text(encoding="utf-8")
        english = text[text.index('lang="en"') :]
        counts[page.stem] = {
            key: int(re.search(pattern, english)[1])
            for key, pattern in {
                "overdue": r"Overdue for their tier&#x27;s follow-up cadence \((\d+)\)",
                "stale": r"no stage change for 30 days or more \((\d+)\)",
                "at_risk": r"at risk of churning \((\d+)\)",
                "pool": r"Pool candidates: no activity for too long \((\d+)\)",
            }.items()
        }
    week = parse_period(WEEK)
    with warehouse.connect_read(sample_db) as con:
        follow = followup(con, week, settings=DEFAULT_SETTINGS, list_limit=None)
        stale = funnel(con, week, settings=DEFAULT_SETTINGS)
        risk = churn(con, week, settings=DEFAULT_SETTINGS, risk_list_length=10_000, model=False)
        unowned_deals = con.execute("select count(*) from deals where owner_rep_id is null").fetchall()[0][0]
    assert unowned_deals == 0  # so every stale deal is some rep's
    for rep in follow["reps"]:
        assert counts[rep["rep_id"]]["overdue"] == rep["overdue"], rep["rep_id"]
        assert counts[rep["rep_id"]]["pool"] == rep["pool_candidates"], rep["rep_id"]
    assert sum(c["stale"] for c in counts.values()) == stale["stale_deals"]
    owned_risk = [r for r in risk["risk_list"] if r.get("owner_rep_id")]
    assert sum(c["at_risk"] for c in counts.values()) == len(owned_risk)
    assert sum(c["overdue"] for c in counts.values()) > 0 and sum(c["at_risk"] for c in counts.values()) > 0


def test_a_failing_job_keeps_the_previous_report_logs_the_traceback_and_exits_non_zero(
    sample_db, write_schedule, tmp_path, capsys
):
    path = write_schedule(DIGEST.format(db=sample_db))
    assert cli.main(["schedule", "due", "--schedule", str(path), "--now", NOW]) == 0
    folder = tmp_path / "archive" / "reminders" / WEEK
    good = archive.read_status(folder)
    summary = (folder / "summary.html").read_bytes()
    # the warehouse is replaced by a file that is no DuckDB database: the re-render fails
    broken = tmp_path / "broken.duckdb"
    broken.write_text("not a database", encoding="utf-8")
    write_schedule(DIGEST.format(db=broken))
    capsys.readouterr()
    assert cli.main(["schedule", "due", "--schedule", str(path), "--now", NOW, "--force"]) == 1
    err = capsys.readouterr().err
    assert f"reminders {WEEK}: failed: " in err and "1 job(s) failed; see" in err
    status = archive.read_status(folder)
    assert (status.status, status.rendered_at, status.files) == ("failed", good.rendered_at, ["summary.html"])
    assert "broken.duckdb" in status.error
    assert (folder / "summary.html").read_bytes() == summary
    log = (tmp_path / "archive" / "run.log").read_text(encoding="utf-8")
    failed_entry = log[log.index(" FAILED: ") :]
    assert "Traceback (most recent call last):" in failed_entry and "connect_read" in failed_entry
    index = (tmp_path / "archive" / "index.html").read_text(encoding="utf-8")
    assert 'class="failed">失败 · Failed' in index
    assert f'href="reminders/{WEEK}/summary.html"' in index  # the previous report stays linked


def test_the_index_lists_every_job_and_period_with_status_time_and_links(sample_db, write_schedule, tmp_path):
    text = DIGEST.format(db=sample_db) + (
        "  - {name: monthly-reminders, kind: digest, period: last-month, cron: '0 8 1 * *', lang: en}\n"
        "  - {name: never-yet, kind: digest, period: last-quarter, cron: '0 8 1 1 *', import_first: {folder: missing}}\n"
    )
    schedule = load_schedule(write_schedule(text))
    for now in ("2026-09-28T08:00", "2026-10-05T08:00"):
        due(schedule, parse_now(now, schedule.zone), say=_quiet)
    index = (tmp_path / "archive" / "index.html").read_text(encoding="utf-8")
    assert "<script" not in index and "http" not in index  # static and offline
    assert "报告归档 · Report archive" in index
    rows = re.findall(r'<tr><td>([^<]+)<br>.*?class="(ok|failed)".*?</td><td>([^<]+)</td><td>(.*?)</td></tr>', index)
    found = {(label, state) for label, state, _, _ in rows}
    assert found == {
        ("2026-09-21..2026-09-27", "ok"),
        ("2026-09-28..2026-10-04", "ok"),
        ("2026-08", "ok"),
        ("2026-09", "ok"),
        ("2025Q4", "failed"),
    }
    for label, state, rendered, links in rows:
        if state == "ok":
            assert re.fullmatch(r"2\d{3}-\d\d-\d\d \d\d:\d\d:\d\d\+08:00", rendered)
            href = re.search(r'href="([^"]+)"', links)[1]
            assert (tmp_path / "archive" / href).is_file() and label in href
        else:
            assert rendered == "–" and links == "–"
    # the schedule's order, latest period first
    assert index.index("2026-09-28..2026-10-04") < index.index("2026-09-21..2026-09-27") < index.index("2026-09<")
    assert "import_first folder" in index


def test_a_job_whose_lock_is_held_by_another_run_is_skipped(sample_db, write_schedule, tmp_path):
    schedule = load_schedule(write_schedule(DIGEST.format(db=sample_db)))
    with archive.job_lock(schedule.archive, "reminders"):
        outcomes = due(schedule, parse_now(NOW, schedule.zone), say=_quiet)
    assert [(o.result, o.message) for o in outcomes] == [("busy", "job reminders is running in another process")]
    assert not (tmp_path / "archive" / "reminders").exists()


@pytest.mark.slow
def test_two_concurrent_due_runs_render_the_job_once(sample_db, write_schedule, tmp_path):
    path = write_schedule(DIGEST.format(db=sample_db))
    command = [sys.executable, "-m", "crmreview.cli", "schedule", "due", "--schedule", str(path), "--now", NOW]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    lines = sorted(out.strip().splitlines()[-1] for out, _ in results)
    assert lines[0].startswith(f"reminders {WEEK}: ") and lines[1].startswith(f"reminders {WEEK}: ")
    assert sum(f"reminders {WEEK}: rendered" in out for out, _ in results) == 1
    assert any(re.search(r": (busy|up-to-date)", out) for out, _ in results)
    assert len(_log_entries(tmp_path / "archive")) == 1


def test_import_first_imports_new_export_files_only(write_schedule, tmp_path, imported_sample):
    exports = tmp_path / "exports"
    shutil.copytree(imported_sample(7, 0.05).folder, exports, ignore=shutil.ignore_patterns("*.duckdb*", "*.json"))
    text = DIGEST.format(db=tmp_path / "fresh.duckdb") + "    import_first: {folder: exports}\n"
    schedule = load_schedule(write_schedule(text))
    now = parse_now(NOW, schedule.zone)
    said: list[str] = []
    assert [o.result for o in due(schedule, now, say=said.append)] == ["rendered"]
    assert any("imported 7 new export file(s)" in line for line in said)

    def imported() -> list[str]:
        with duckdb.connect(str(tmp_path / "fresh.duckdb"), read_only=True) as con:
            return [Path(row[0]).name for row in con.execute("select file from imports order by import_id").fetchall()]

    assert len(imported()) == 7
    said.clear()
    due(schedule, now, force=True, say=said.append)
    assert not any("imported" in line for line in said) and len(imported()) == 7
    # a changed export is new content: only it is imported
    with open(exports / "activities.csv", "a", encoding="utf-8") as handle:
        handle.write("A9999999,C000008,,R07,call,2026-09-30 10:00:00\n")
    due(schedule, now, force=True, say=said.append)
    assert any("imported 1 new export file(s): activities.csv" in line for line in said)
    assert imported()[-1] == "activities.csv" and len(imported()) == 8


def test_run_sleeps_until_the_next_cron_time_and_renders_the_new_period(sample_db, write_schedule, tmp_path):
    path = write_schedule(DIGEST.format(db=sample_db))
    zone = load_schedule(path).zone
    clock = [parse_now(NOW, zone)]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += timedelta(seconds=seconds)

    assert run_forever(path, clock=lambda: clock[0], sleep=sleep, cycles=2, say=_quiet) == 0
    # from Monday 5 October 07:45 to Monday 12 October 07:30, in steps of at most 5 minutes
    assert sum(slept) == (7 * 24 * 60 - 15) * 60 and max(slept) == 300
    statuses = [s for _, s in archive.all_statuses(tmp_path / "archive")]
    assert [(s.period["label"], s.status) for s in statuses] == [
        ("2026-10-05..2026-10-11", "ok"),
        (WEEK, "ok"),
    ]
