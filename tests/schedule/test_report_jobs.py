"""Report jobs through the real renderer (papermill, a kernel, nbconvert, Chromium for the
PDF): rendered once per period with the job's scope and masking, e-mailed with the PDF
attached, and a failing notebook cell that keeps the previous report."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from crmreview import cli, config, warehouse
from crmreview.schedule import archive
from crmreview.schedule.reports import report_title

from .conftest import SMTP_PASSWORD, SMTP_USER

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

# 1 October 2026, 08:00 in Shanghai: the quarterly job's 07:00 run has passed, 2026Q3 is due
NOW = "2026-10-01T08:00"
SCHEDULE = """
timezone: Asia/Shanghai
db: {db}
archive: archive
smtp: {{host: 127.0.0.1, port: {port}, security: none, username: {user},
        password_env: CRM_REVIEW_TEST_SMTP_PASSWORD, sender: {user}}}
jobs:
  - name: quarterly
    period: last-quarter
    cron: "0 7 1 1,4,7,10 *"
    lang: zh
    scope: {{rep: R01}}
    mask_pii: true
    pdf: true
    email: {{to: [sales-leads@example.com]}}
"""


def _break(notebook) -> None:
    """Insert a failing cell right after the parameters cell of ``notebook``."""
    nb = nbformat.read(notebook, as_version=4)
    index = next(i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", []))
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell('raise RuntimeError("the CRM export folder went away")'))
    nbformat.write(nb, notebook)


def test_a_report_job_renders_once_is_mailed_and_a_failing_cell_keeps_the_previous_report(
    sample_db, smtp_server, write_schedule, monkeypatch, tmp_path, capsys
):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(config.NOTEBOOKS_DIR / "quarterly_review.ipynb", notebooks)
    monkeypatch.setattr(config, "NOTEBOOKS_DIR", notebooks)
    monkeypatch.setenv("CRM_REVIEW_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    path = write_schedule(SCHEDULE.format(db=sample_db, port=smtp_server.port, user=SMTP_USER))
    due = ["schedule", "due", "--schedule", str(path), "--now", NOW]

    assert cli.main(due) == 0
    folder = tmp_path / "archive" / "quarterly" / "2026Q3"
    status = archive.read_status(folder)
    stem = "quarterly_review_2026Q3_rep-r01-masked_zh"  # the job's template, period, scope, masking, language
    assert (status.status, status.files) == ("ok", [f"{stem}.html", f"{stem}.pdf"])
    report, pdf = folder / f"{stem}.html", folder / f"{stem}.pdf"
    html = report.read_text(encoding="utf-8")
    assert "2026Q3" in report_title(report)
    assert pdf.read_bytes().startswith(b"%PDF")
    # masked: R01's name (in the warehouse) appears nowhere in the report
    with warehouse.connect_read(sample_db) as con:
        (name,) = con.execute("select name from reps where rep_id = 'R01'").fetchall()[0]
    assert name and name not in html
    # the report arrived as the HTML body of a mail to the job's recipients, its PDF attached
    (message,) = smtp_server.to("sales-leads@example.com")
    assert message["Subject"] == report_title(report)
    assert message.get_body(("html",)).get_content().replace("\r\n", "\n").strip() == html.strip()
    (attachment,) = list(message.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content_type()) == (pdf.name, "application/pdf")
    assert attachment.get_content() == pdf.read_bytes()
    index = (tmp_path / "archive" / "index.html").read_text(encoding="utf-8")
    assert f'href="quarterly/2026Q3/{stem}.html">HTML</a>' in index
    assert f'href="quarterly/2026Q3/{stem}.pdf">PDF</a>' in index

    # a second run renders nothing and sends nothing
    capsys.readouterr()
    assert cli.main(due) == 0
    assert "quarterly 2026Q3: up-to-date" in capsys.readouterr().out
    assert len(smtp_server.received) == 1
    assert archive.read_status(folder) == status

    # the notebook breaks: a forced re-render fails, the previous report stays, the failing
    # cell's traceback is in the run log, the index says failed, the command exits 1
    _break(notebooks / "quarterly_review.ipynb")
    assert cli.main([*due, "--force"]) == 1
    assert report.read_text(encoding="utf-8") == html
    failed = archive.read_status(folder)
    assert (failed.status, failed.rendered_at, failed.files) == ("failed", status.rendered_at, status.files)
    assert "RuntimeError: the CRM export folder went away" in failed.error
    log = (tmp_path / "archive" / "run.log").read_text(encoding="utf-8")
    entry = log[log.index("quarterly 2026Q3 FAILED") :]
    assert '    > raise RuntimeError("the CRM export folder went away")' in entry
    assert "RuntimeError: the CRM export folder went away" in entry.splitlines()[-1]
    index = (tmp_path / "archive" / "index.html").read_text(encoding="utf-8")
    assert 'class="failed">失败 · Failed' in index and f'href="quarterly/2026Q3/{report.name}"' in index
    assert len(smtp_server.received) == 1
