"""Report templates: quarterly_review, monthly_review and rep_scorecard share the sections'
code and list; their parameters stay visible to papermill; the scorecard's numbers."""

from __future__ import annotations

import ast
import re

import nbformat
import papermill
import pytest

from crmreview import config
from crmreview.cli import main
from crmreview.periods import parse_period
from crmreview.report import render
from crmreview.report.render import ReportError, default_template, render_report
from crmreview.report.review import REVIEW_SECTIONS, SCORECARD_SECTIONS, rep_scorecard
from crmreview.scope import ScopeError

TEMPLATES = ("monthly_review", "quarterly_review", "rep_scorecard")


def test_the_templates_are_the_notebooks_and_each_declares_the_report_parameters_for_papermill():
    assert render.templates() == list(TEMPLATES)
    for name in TEMPLATES:
        params = papermill.inspect_notebook(str(config.NOTEBOOKS_DIR / f"{name}.ipynb"))
        assert set(render.REPORT_PARAMETERS) <= set(params), name
        assert {"pipeline", "mask_pii"} <= set(params), name
        assert all(p["help"] for p in params.values()), name
    monthly = papermill.inspect_notebook(str(config.NOTEBOOKS_DIR / "monthly_review.ipynb"))
    assert monthly["period"]["default"] == '"last-month"'
    scorecard = papermill.inspect_notebook(str(config.NOTEBOOKS_DIR / "rep_scorecard.ipynb"))
    assert scorecard["rep"]["default"] == '""' and "team" not in scorecard


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_template_lays_out_the_shared_section_list_and_carries_no_outputs(name):
    nb = nbformat.read(config.NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    (params,) = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    for statement in ast.parse(params.source).body:
        assert isinstance(statement, ast.AnnAssign) and isinstance(statement.value, ast.Constant)
    # no section is named in a notebook: they come from the review's shared list
    (sections,) = [c for c in code if "sections" in c.metadata.get("tags", [])]
    assert sections.source == "for name in review.sections:\n    display(*review.section(name))"
    assert not any(re.search(r"review\.section\(\s*['\"]", c.source) for c in code)


def test_the_list_shows_every_template_with_its_parameters(capsys):
    assert main(["report", "--list"]) == 0
    out = capsys.readouterr().out
    for name in TEMPLATES:
        assert re.search(rf"^{name}$", out, re.M)
    assert re.search(r"^  --rep +str +default \"\" +the rep \(rep_id\)", out, re.M)
    assert re.search(r"^  --period +str +default \"last-month\" +a month", out, re.M)


def test_a_month_gets_the_monthly_review_and_anything_else_the_quarterly_one():
    assert default_template(parse_period("2026-08")) == "monthly_review"
    assert default_template(parse_period("2026Q3")) == "quarterly_review"
    assert default_template(parse_period("2026-07-01..2026-07-15")) == "quarterly_review"


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        (
            "monthly_review",
            {"period": "2026Q3"},
            r"monthly_review reports on a month, not on quarter 2026Q3; .*quarterly_review",
        ),
        ("quarterly_review", {"period": "2026-08"}, r"for 2026-08 use monthly_review"),
        ("rep_scorecard", {"period": "2026Q3"}, r"rep_scorecard needs --rep"),
    ],
)
def test_a_template_refuses_what_it_cannot_report_before_anything_runs(tmp_path, name, kwargs, message):
    with pytest.raises(ReportError, match=message):
        render_report(name, db=tmp_path / "none.duckdb", out_dir=tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_the_report_command_needs_a_period_unless_listing(capsys):
    assert main(["report"]) == 2
    assert "--period is required" in capsys.readouterr().err


# -- the rep scorecard ---------------------------------------------------------------------


def test_the_scorecard_sets_the_rep_next_to_the_team_with_hand_computed_numbers(teams_db):
    with rep_scorecard(str(teams_db), rep="R1", period="2026Q3") as review:
        assert review.sections == SCORECARD_SECTIONS
        assert review.title == "Rep scorecard 2026Q3 · rep R1"
        # the reused sections are restricted to R1: 2 deals created, 1 won, 1 lost
        assert (review.current["cohort_deals"], review.current["won"], review.current["lost"]) == (2, 1, 1)
        (block,) = review.section("scorecard")
    rows = {
        cells[0]: cells[1:]
        for cells in (re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", block.html))
        if cells
    }
    assert "Alice Able (R1) in 2026Q3, next to team A (2 reps, Alice Able (R1) included)." in block.html
    # R1: D1 won, D2 lost; team A: D1, D3, D4 won, D2 lost, D5 open; R3's D6 is left out
    assert rows["Deals created"] == ["2", "5"]
    assert rows["Deals won (closed in the period)"] == ["1", "3"]
    assert rows["Win rate"] == ["50%", "75%"]  # 1 / 2 and 3 / 4
    assert rows["Average won amount"] == ["1,000", "2,000"]  # (1000 + 3000 + 2000) / 3
    assert rows["Open deals at the as-of date"] == ["0", "1"]
    assert rows["Target attainment"] == ["50%", "86%"]  # 1000 / 2000 and 6000 / 7000


def test_a_scorecard_of_an_unknown_rep_names_the_reps_there_are(teams_db):
    with pytest.raises(ScopeError, match=r"no rep 'R9'; its reps are: 'R1', 'R2', 'R3'"):
        rep_scorecard(str(teams_db), rep="R9", period="2026Q3")
    with pytest.raises(ValueError, match="about one rep"):
        rep_scorecard(str(teams_db), rep="", period="2026Q3")


@pytest.mark.slow
def test_the_scorecard_renders_named_after_the_rep_with_names_masked(teams_db, tmp_path):
    path = render_report("rep_scorecard", period="2026Q3", rep="R2", mask_pii=True, db=teams_db, out_dir=tmp_path)
    assert path == tmp_path / "rep_scorecard_2026Q3_rep-r2-masked_en.html"
    html = path.read_text(encoding="utf-8")
    assert "<title>Rep scorecard 2026Q3 · rep R2 · names masked</title>" in html
    for name in ("Alice Able", "Bob Baker", "Carol Chen", "Customer C3 Ltd"):
        assert name not in html
    assert html.count("<h2>") >= len(SCORECARD_SECTIONS) - 1
    assert (tmp_path / "audit" / "rep_scorecard_2026Q3_rep-r2-masked_en.ipynb").is_file()


def test_the_review_and_the_scorecard_lists_are_sections_that_exist():
    from importlib import import_module

    for name in {*REVIEW_SECTIONS, *SCORECARD_SECTIONS}:
        assert callable(import_module(f"crmreview.report.sections.{name}").build), name
