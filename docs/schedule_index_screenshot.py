"""Regenerate docs/schedule-index.png: the archive index of a schedule run on the sample data.

    .venv/bin/python docs/schedule_index_screenshot.py

Generates the sample export (100 customers, data to 2026-09-30) in a temporary folder,
imports it through a job's ``import_first``, runs ``crm-review schedule due`` at three
moments (a quarterly report, two weeks of follow-up reminders, and a monthly job whose
export folder is missing, so it fails), then photographs ``archive/index.html`` with the
system Chromium. Takes a minute or two: the quarterly report is a real render.
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
from pathlib import Path

from crmreview import cli
from crmreview.browser import chromium
from crmreview.sample import generate

OUT = Path(__file__).resolve().with_name("schedule-index.png")
SCHEDULE = """
timezone: Asia/Shanghai
db: crm.duckdb
archive: archive
jobs:
  - name: quarterly
    period: last-quarter
    cron: "0 7 1 1,4,7,10 *"
    lang: zh
    import_first: {folder: exports}
  - name: reminders
    kind: digest
    period: last-week
    cron: "30 7 * * MON"
  - name: monthly
    period: last-month
    cron: "0 7 1 * *"
    import_first: {folder: exports-monthly}
"""


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="crm-review-schedule-shot-") as work:
        folder = Path(work)
        generate(folder / "exports", seed=7, size=0.05)
        (folder / "exports" / "manifest.json").unlink()
        schedule = folder / "crm-review-schedule.yml"
        schedule.write_text(textwrap.dedent(SCHEDULE).lstrip(), encoding="utf-8")
        for now in ("2026-10-01T08:00", "2026-09-28T08:00", "2026-10-05T08:00"):
            cli.main(["schedule", "due", "--schedule", str(schedule), "--now", now])
        index = folder / "archive" / "index.html"
        with chromium() as browser:
            page = browser.new_page()
            page.set_viewport_size({"width": 1000, "height": 700})
            page.goto(index.as_uri())
            page.screenshot(path=str(OUT), full_page=True)
    print(f"{OUT} ({OUT.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
