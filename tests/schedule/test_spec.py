"""The schedule file: what it may hold, and errors that name the file, the key and its line."""

from __future__ import annotations

import pytest

from crmreview.schedule.spec import ScheduleError, load_schedule

GOOD = """
timezone: Asia/Shanghai
db: data/crm.duckdb
archive: out/archive
jobs:
  - name: weekly
    period: last-week
    cron: "0 7 * * MON"
  - name: reminders
    kind: digest
    period: month-to-date
    cron: "30 7 * * *"
    timezone: Europe/Berlin
    import_first: {folder: exports, mapping: my_crm.yml}
"""


def test_a_good_file_resolves_paths_next_to_itself_and_time_zones_per_job(write_schedule, tmp_path):
    schedule = load_schedule(write_schedule(GOOD))
    assert schedule.db == tmp_path / "data" / "crm.duckdb"
    assert schedule.archive == tmp_path / "out" / "archive"
    weekly, reminders = schedule.jobs
    assert (weekly.name, weekly.kind, str(weekly.zone), weekly.langs) == ("weekly", "report", "Asia/Shanghai", ("en",))
    assert weekly.folder == tmp_path / "out" / "archive" / "weekly"
    assert (reminders.kind, str(reminders.zone), reminders.langs) == ("digest", "Europe/Berlin", ("zh", "en"))
    assert reminders.import_folder == tmp_path / "exports"
    assert reminders.mapping == tmp_path / "my_crm.yml"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('cron: "0 7 * * MON"', 'cron: "0 7 * MON"'),
            r"jobs\[0\]\.cron \(line 7\): '0 7 \* MON' is not a cron expression \(expected five fields",
        ),
        (
            ("timezone: Europe/Berlin", "timezone: Europe/Berlni"),
            r"jobs\[1\]\.timezone \(line 12\): 'Europe/Berlni' is not a time zone .*did you mean Europe/Berlin\?",
        ),
        (
            ("period: last-week", "period: last-weak"),
            r"jobs\[0\]\.period \(line 6\): 'last-weak' is not one of last-week, last-month, last-quarter, "
            r"month-to-date; did you mean last-week\?",
        ),
        (
            ('    cron: "0 7 * * MON"', '    cron: "0 7 * * MON"\n    crom: x'),
            r"unknown job key jobs\[0\]\.crom \(line 8\); did you mean cron\?",
        ),
        (("name: reminders", "name: weekly"), r"jobs\[1\]\.name \(line 8\): 'weekly' is the name of jobs\[0\] too"),
        (("name: weekly", "name: Weekly Report"), r"jobs\[0\]\.name \(line 5\): 'Weekly Report'"),
        (
            ("kind: digest", "kind: digest\n    template: quarterly_review"),
            r"jobs\[1\] \(line 8\): a digest job takes no template",
        ),
        (
            ("mapping: my_crm.yml}", "mapping: my_crm.yml, source: zoho}"),
            r"jobs\[1\]\.import_first \(line 13\): give source or mapping, not both",
        ),
    ],
)
def test_a_mistake_is_one_line_naming_the_file_key_and_line(write_schedule, change, message):
    old, new = change
    path = write_schedule(GOOD.replace(old, new, 1))
    with pytest.raises(ScheduleError, match=message) as caught:
        load_schedule(path)
    assert str(caught.value).startswith(str(path))
    assert "Traceback" not in str(caught.value)


def test_email_needs_an_smtp_block_and_the_password_comes_from_an_environment_variable(write_schedule):
    with pytest.raises(ScheduleError, match=r"jobs\[0\]\.email \(line 8\): e-mail needs an smtp block"):
        load_schedule(
            write_schedule(GOOD.replace('cron: "0 7 * * MON"', 'cron: "0 7 * * MON"\n    email: {to: [a@example.com]}'))
        )
    smtp = "smtp: {host: mail.example.com, sender: r@example.com, username: r@example.com, password: hunter2}\n"
    with pytest.raises(ScheduleError, match=r"unknown key smtp\.password \(line 1\); did you mean password_env\?"):
        load_schedule(write_schedule(smtp + GOOD))


def test_a_missing_or_empty_file_says_how_to_make_one(write_schedule, tmp_path):
    with pytest.raises(ScheduleError, match=r"no schedule file .*crm-review schedule init"):
        load_schedule(tmp_path / "absent.yml")
    with pytest.raises(ScheduleError, match="the file is empty"):
        load_schedule(write_schedule(""))
