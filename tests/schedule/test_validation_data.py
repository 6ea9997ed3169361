"""Follow-up reminders on a real export: Maven CRM's deals-only pipeline (no activities, no
orders), read-only from the shared validation data."""

from __future__ import annotations

import pytest

from crmreview import warehouse
from crmreview.config import ADAPTERS_DIR, DEFAULT_SETTINGS
from crmreview.metrics.funnel import funnel
from crmreview.periods import parse_period
from crmreview.schedule import archive
from crmreview.schedule.runner import due
from crmreview.schedule.spec import load_schedule
from crmreview.schedule.timing import parse_now
from tests.conftest import VALIDATION_DATA

MAVEN = VALIDATION_DATA / "maven_crm_sales_opportunities"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MAVEN.is_dir(), reason=f"validation data not found at {MAVEN}"),
]


def test_maven_reminders_list_stale_deals_per_agent_and_say_what_is_missing(write_schedule, tmp_path):
    db = tmp_path / "maven.duckdb"
    path = write_schedule(
        f"""
        timezone: UTC
        db: {db}
        jobs:
          - name: reminders
            kind: digest
            period: last-quarter
            cron: "0 8 1 1,4,7,10 *"
            lang: en
            import_first:
              folder: {MAVEN}
              pattern: [sales_pipeline.csv, accounts.csv, sales_teams.csv]
              mapping: {ADAPTERS_DIR / "examples" / "maven_crm.yml"}
        """
    )
    schedule = load_schedule(path)
    (outcome,) = due(schedule, parse_now("2017-10-01T09:00", schedule.zone), say=lambda line: None)
    assert (outcome.period, outcome.result) == ("2017Q3", "rendered")
    folder = tmp_path / "archive" / "reminders" / "2017Q3"
    summary = (folder / "summary.html").read_text(encoding="utf-8")
    # no activities and no orders: those lists are not shown as empty, they are said missing
    assert summary.count("Not available: the warehouse holds no activities.") == 2 * summary.count("<h1>")
    assert "Not available: the warehouse holds no orders." in summary
    with warehouse.connect_read(db) as con:
        stale = funnel(con, parse_period("2017Q3"), settings=DEFAULT_SETTINGS)["stale_deals"]
        agents = con.execute("select count(*) from reps").fetchall()[0][0]
    pages = list((folder / "reps").iterdir())
    assert len(pages) == agents
    listed = sum(
        int(page.read_text(encoding="utf-8").split("no stage change for 30 days or more (")[1].split(")")[0])
        for page in pages
    )
    assert stale > 0 and listed == stale
    assert archive.read_status(folder).status == "ok"
