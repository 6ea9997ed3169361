"""What a render leaves behind: files named <template>_<period>_<scope>_<lang>, the executed
notebook with its parameters under audit/, and progress lines while it runs."""

from __future__ import annotations

import re

import nbformat
import pytest

from crmreview.cli import main
from crmreview.report import render
from crmreview.report.review import PROGRESS_PREFIX, REVIEW_SECTIONS
from crmreview.scope import Scope


@pytest.mark.parametrize(
    ("scope", "mask", "stem"),
    [
        (None, False, "quarterly_review_2026Q3_all_en"),
        (Scope(), True, "quarterly_review_2026Q3_all-masked_en"),
        (Scope(team="East"), False, "quarterly_review_2026Q3_team-east_en"),
        (Scope(rep="R07", pipeline="Enterprise"), False, "quarterly_review_2026Q3_rep-r07_pipeline-enterprise_en"),
        (Scope(team="华东 一组"), True, "quarterly_review_2026Q3_team-华东-一组-masked_en"),
    ],
)
def test_the_file_name_says_template_period_scope_masking_and_language(scope, mask, stem):
    assert render.report_stem("quarterly_review", "2026Q3", "en", scope, mask_pii=mask) == stem


@pytest.mark.parametrize(
    ("by", "stem"),
    [
        ("", "quarterly_review_2026Q3_all_zh"),
        ("industry", "quarterly_review_2026Q3_all_by-industry_zh"),
        ("attr:合同类型", "quarterly_review_2026Q3_all_by-attr-合同类型_zh"),
        ("tag:Customer Tags", "quarterly_review_2026Q3_all_by-tag-customer-tags_zh"),
    ],
)
def test_a_breakdown_is_part_of_the_file_name_so_it_never_overwrites_the_plain_report(by, stem):
    assert render.report_stem("quarterly_review", "2026Q3", "zh", by=by) == stem


def test_progress_lines_are_read_from_the_kernels_stderr_as_they_come_in_any_chunks():
    seen = []
    stream = render._ProgressLines(lambda name, seconds: seen.append((name, seconds)))
    stream.write(f"a warning\n{PROGRESS_PREFIX} funnel 1.5\n{PROGRESS_PREFIX} fun")
    assert seen == [("funnel", 1.5)]
    stream.write(f"nel_detail 12.0\n{PROGRESS_PREFIX} broken x\n")
    assert seen == [("funnel", 1.5), ("funnel_detail", 12.0)]


@pytest.mark.slow
def test_a_team_month_renders_with_its_audit_notebook_and_section_progress(teams_db, tmp_path, capsys):
    out = tmp_path / "reports"
    argv = ["report", "--period", "2026-08", "--team", "A", "--db", str(teams_db), "--out", str(out)]
    mode = teams_db.stat().st_mode
    teams_db.chmod(0o600)  # an owner-only warehouse makes owner-only reports, whatever the umask
    try:
        assert main(argv) == 0
    finally:
        teams_db.chmod(mode)
    stem = "monthly_review_2026-08_team-a_en"  # a month: the monthly review by default
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [str(out / f"{stem}.html")]
    assert sorted(p.name for p in out.iterdir()) == ["audit", f"{stem}.html"]
    assert (out / f"{stem}.html").stat().st_mode & 0o777 == 0o600
    assert (out / "audit" / f"{stem}.ipynb").stat().st_mode & 0o777 == 0o600

    # progress on stderr: the review, then every section in order, each with its time
    timed = re.findall(r"^crm-review:   (\w+) +(\d+\.\d) s$", captured.err, re.M)
    assert [name for name, _ in timed] == ["review", *REVIEW_SECTIONS]
    assert f"crm-review: wrote {out / stem}.html" in captured.err

    # the audit trail: the executed notebook with the parameters it ran with
    audit = nbformat.read(out / "audit" / f"{stem}.ipynb", as_version=4)
    parameters = audit.metadata["papermill"]["parameters"]
    assert parameters["period"] == "2026-08" and parameters["team"] == "A"
    assert parameters["db_path"] == str(teams_db.resolve())
    injected = [c for c in audit.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'team = "A"' in injected[0].source

    html = (out / f"{stem}.html").read_text(encoding="utf-8")
    assert "<title>Sales review 2026-08 · team A</title>" in html
    assert "<h1>Sales review 2026-08 · team A</h1>" in html
    # team B's rep and customer are outside the scope; team A's rep is in it
    assert "Carol Chen" not in html and "Customer C6 Ltd" not in html
    assert "Bob Baker" in html
    assert "@media print" in html  # the print stylesheet travels with the report
