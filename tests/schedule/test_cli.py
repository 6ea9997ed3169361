"""`crm-review schedule init` and `list`, and user mistakes at the command line."""

from __future__ import annotations

from crmreview import cli
from crmreview.schedule.spec import load_schedule


def test_init_writes_a_commented_schedule_that_loads_and_lists(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["schedule", "init", "--db", "data/crm.duckdb"]) == 0
    path = tmp_path / "crm-review-schedule.yml"
    text = path.read_text(encoding="utf-8")
    assert "password_env" in text and text.count("\n#") > 10
    schedule = load_schedule(path)
    assert [(j.name, j.spec.period, j.spec.cron) for j in schedule.jobs] == [
        ("weekly", "last-week", "0 7 * * MON"),
        ("monthly", "last-month", "0 7 1 * *"),
        ("quarterly", "last-quarter", "0 7 1 1,4,7,10 *"),
    ]
    assert schedule.db == tmp_path / "data" / "crm.duckdb" and schedule.archive == tmp_path / "archive"
    # a second init does not overwrite
    assert cli.main(["schedule", "init"]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    capsys.readouterr()
    assert cli.main(["schedule", "list", "--now", "2026-11-30T07:30"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["job", "kind", "period", "cron", "latest_period", "status", "last_run", "next_run"]
    assert lines[1].split()[:1] + lines[1].split()[-4:] == [
        "weekly",
        "2026-11-23..2026-11-29",
        "due",
        "never",
        "2026-12-07T07:00+08:00",
    ]
    assert lines[3].split()[-4:] == ["2026Q3", "due", "never", "2027-01-01T07:00+08:00"]


def test_a_broken_schedule_file_exits_2_with_the_located_problem_and_no_traceback(tmp_path, capsys):
    path = tmp_path / "s.yml"
    path.write_text("jobs:\n  - name: weekly\n    period: last-week\n    cron: every monday\n", encoding="utf-8")
    assert cli.main(["schedule", "due", "--schedule", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"crm-review: error: {path}: jobs[0].cron (line 4): 'every monday' is not a cron expression")
    assert "Traceback" not in err
    assert cli.main(["schedule", "list", "--schedule", str(tmp_path / "none.yml")]) == 2
    assert "no schedule file" in capsys.readouterr().err
