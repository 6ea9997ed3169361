"""Cron times in a job's time zone, and the period a run reports on."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from crmreview.schedule.spec import ScheduleError, load_schedule
from crmreview.schedule.timing import latest_run, next_run, parse_now, period_at

SHANGHAI = ZoneInfo("Asia/Shanghai")

SCHEDULE = """
timezone: Asia/Shanghai
jobs:
  - {name: weekly, period: last-week, cron: "0 7 * * MON"}
  - {name: quarterly, period: last-quarter, cron: "0 7 1 1,4,7,10 *"}
  - {name: mtd, period: month-to-date, cron: "0 6 * * *", timezone: Europe/Berlin}
"""


@pytest.fixture
def jobs(write_schedule):
    return {job.name: job for job in load_schedule(write_schedule(SCHEDULE)).jobs}


def test_the_latest_run_is_the_last_cron_time_at_or_before_now_in_the_jobs_zone(jobs):
    weekly = jobs["weekly"]
    # Monday 30 November 2026, 06:59 in Shanghai: this Monday's 07:00 has not come yet
    before = latest_run(weekly, datetime(2026, 11, 30, 6, 59, tzinfo=SHANGHAI))
    assert before == datetime(2026, 11, 23, 7, 0, tzinfo=SHANGHAI)
    assert period_at(weekly, before).label == "2026-11-16..2026-11-22"
    at = latest_run(weekly, datetime(2026, 11, 30, 7, 0, tzinfo=SHANGHAI))
    assert at == datetime(2026, 11, 30, 7, 0, tzinfo=SHANGHAI)
    assert period_at(weekly, at).label == "2026-11-23..2026-11-29"
    # Sunday 23:30 UTC is Monday 07:30 in Shanghai: the new week is due
    utc = parse_now("2026-11-29T23:30+00:00", SHANGHAI)
    assert period_at(weekly, latest_run(weekly, utc)).label == "2026-11-23..2026-11-29"
    assert next_run(weekly, utc) == datetime(2026, 12, 7, 7, 0, tzinfo=SHANGHAI)


def test_a_quarterly_job_reports_on_the_quarter_before_its_run(jobs):
    quarterly = jobs["quarterly"]
    run = latest_run(quarterly, parse_now("2026-11-30 12:00", SHANGHAI))
    assert run == datetime(2026, 10, 1, 7, 0, tzinfo=SHANGHAI)
    assert period_at(quarterly, run).label == "2026Q3"
    assert next_run(quarterly, run).date() == date(2027, 1, 1)


def test_daylight_saving_is_kept_in_the_jobs_own_zone(jobs):
    mtd = jobs["mtd"]
    berlin = ZoneInfo("Europe/Berlin")
    # 06:00 Berlin is 05:00 UTC in winter and 04:00 UTC in summer (clocks changed on 29 March 2026)
    winter = latest_run(mtd, datetime(2026, 3, 28, 5, 30, tzinfo=ZoneInfo("UTC")))
    summer = latest_run(mtd, datetime(2026, 3, 30, 4, 30, tzinfo=ZoneInfo("UTC")))
    assert (winter, winter.utcoffset().total_seconds()) == (datetime(2026, 3, 28, 6, 0, tzinfo=berlin), 3600)
    assert (summer, summer.utcoffset().total_seconds()) == (datetime(2026, 3, 30, 6, 0, tzinfo=berlin), 7200)
    assert period_at(mtd, summer).label == "2026-03-01..2026-03-30"


def test_now_without_an_offset_is_read_in_the_schedules_zone_and_bad_text_is_named():
    assert parse_now("2026-11-30T07:05", SHANGHAI) == datetime(2026, 11, 30, 7, 5, tzinfo=SHANGHAI)
    with pytest.raises(ScheduleError, match="--now 'monday' is not a date and time"):
        parse_now("monday", SHANGHAI)
