"""Reports: the notebook's contract, the charts' contract, the narrative, and rendering.

The end-to-end renders are marked slow (papermill starts a kernel: about 15-20 s each).
"""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import plotly.graph_objects as go
import pytest

from crmreview import config, queries, warehouse
from crmreview.charts import ChartContext, funnel_chart, funnel_compare_chart, leakage_chart
from crmreview.i18n import LANGS, MESSAGES, t
from crmreview.periods import PeriodError, parse_period
from crmreview.report import render
from crmreview.report.render import ReportError, network_references, render_report
from crmreview.report.results import definitions
from crmreview.report.review import QuarterlyReview, parse_as_of
from crmreview.report.sections.funnel import funnel_sentences
from crmreview.report.sections.kpis import kpi_frame, kpi_table_html

NOTEBOOK = config.NOTEBOOKS_DIR / "quarterly_review.ipynb"
EN = ChartContext("2026Q3", "2026Q2", "2026-09-30", "en")
ZH = ChartContext("2026Q3", "2026Q2", "2026-09-30", "zh")


def stage(name, reached, conversion, share_of_first, lost_at=0, open_at=0):
    return {
        "stage": name,
        "reached": reached,
        "conversion": conversion,
        "share_of_first": share_of_first,
        "leakage_rate": None if conversion is None else 1 - conversion,
        "lost_at": lost_at,
        "open_at": open_at,
        "median_days_in_stage": None,
        "p75_days_in_stage": None,
    }


def empty_stages():
    return [stage(name, 0, None, None) for name in config.DEFAULT_SETTINGS.stages]


# Two funnel results written out by hand (the shape crmreview.funnel.funnel returns).
CURRENT = {
    "rule": "furthest",
    "as_of": "2026-09-30",
    "cohort_deals": 300,
    "excluded_no_created_at": 2,
    "skipped_stage_deals": 3,
    "backward_move_deals": 1,
    "stages": [
        stage("lead", 300, 0.6, 1.0, lost_at=100, open_at=20),
        stage("qualified", 180, 0.33, 0.6, lost_at=58, open_at=40),
        stage("proposal", 60, 0.5, 0.2, lost_at=54, open_at=10),
        stage("won", 30, None, 0.1),
    ],
    "biggest_leak": "lead",
    "deals_closed": 150,
    "won": 48,
    "lost": 102,
    "win_rate": 0.32,
    "avg_won_amount": 12500.0,
    "median_cycle_days": 41.0,
    "open_deals": 70,
    "pipeline_velocity": 6829.27,
}
PREVIOUS = {
    **CURRENT,
    "cohort_deals": 250,
    "stages": [
        stage("lead", 250, 0.62, 1.0),
        stage("qualified", 155, 0.41, 0.62),
        stage("proposal", 64, 0.5, 0.256),
        stage("won", 32, None, 0.128),
    ],
    "win_rate": 0.28,
    "avg_won_amount": 10000.0,
    "median_cycle_days": None,
    "pipeline_velocity": None,
}


def stages_frame(result):
    return pd.DataFrame(result["stages"])


# -- the notebook ---------------------------------------------------------------------------


def test_the_notebook_parameters_are_pinned_with_types_defaults_and_help():
    params = papermill.inspect_notebook(str(NOTEBOOK))
    assert {name: (p["inferred_type_name"], p["default"]) for name, p in params.items()} == {
        "db_path": ("str", '""'),
        "period": ("str", '"last-quarter"'),
        "compare": ("str", '"prev"'),
        "lang": ("str", '"en"'),
        "as_of": ("str", '""'),
        "config_path": ("str", '""'),
        "team": ("str", '""'),
        "region": ("str", '""'),
        "rep": ("str", '""'),
        "pipeline": ("str", '""'),
        "mask_pii": ("bool", "False"),
        "by": ("str", '""'),
    }
    assert all(p["help"] for p in params.values()), "every parameter needs a help comment"
    assert set(render.REPORT_PARAMETERS) < set(params)


def test_the_parameters_cell_holds_only_typed_literals():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    for statement in ast.parse(cells[0].source).body:
        assert isinstance(statement, ast.AnnAssign), ast.unparse(statement)
        assert isinstance(statement.value, ast.Constant), ast.unparse(statement)


def test_the_notebook_is_committed_without_outputs_or_execution_counts():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert "papermill" not in nb.metadata and "widgets" not in nb.metadata
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_the_notebook_code_defines_nothing_and_holds_no_sql_or_paths():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Lambda)), cell.source
            # strings only as names (a section name such as "funnel_detail"): no SQL, no paths
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value.isidentifier(), cell.source


# -- i18n and the chart context --------------------------------------------------------------


def test_every_message_exists_in_every_language():
    assert all(set(texts) == set(LANGS) for texts in MESSAGES.values())


def test_an_unknown_language_raises():
    with pytest.raises(ValueError, match="'fr'"):
        t("funnel.title", "fr")
    with pytest.raises(ValueError, match="'fr'"):
        ChartContext("2026Q3", "2026Q2", "2026-09-30", "fr")


def test_the_subtitle_states_period_comparison_and_as_of_in_both_languages():
    assert EN.subtitle == "2026Q3 vs 2026Q2 · as of 2026-09-30"
    assert ZH.subtitle == "2026Q3 对比 2026Q2 · 数据截至 2026-09-30"
    assert EN.single_subtitle == "2026Q3 · as of 2026-09-30"
    assert ZH.single_subtitle == "2026Q3 · 数据截至 2026-09-30"


def test_a_chart_context_is_made_from_two_periods_with_the_as_of_override():
    period = parse_period("2026Q3", as_of=date(2026, 10, 15))
    ctx = ChartContext.for_periods(period, period.compare("yoy"), "zh")
    assert (ctx.period_label, ctx.compare_label, ctx.as_of) == ("2026Q3", "2025Q3", "2026-10-15")


# -- charts ------------------------------------------------------------------------------------

CHARTS = {
    "funnel": lambda frame, ctx: funnel_chart(frame, ctx),
    "leakage": lambda frame, ctx: leakage_chart(frame, ctx),
    "compare": lambda frame, ctx: funnel_compare_chart(frame, stages_frame(PREVIOUS), ctx),
}


@pytest.mark.parametrize("chart", CHARTS)
@pytest.mark.parametrize("ctx", [EN, ZH], ids=["en", "zh"])
def test_every_chart_is_a_figure_whose_title_states_period_comparison_and_as_of(chart, ctx):
    fig = CHARTS[chart](stages_frame(CURRENT), ctx)
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text == t(f"{chart}.title", ctx.lang)
    subtitle = fig.layout.title.subtitle.text
    assert "2026Q3" in subtitle and "2026-09-30" in subtitle
    # only the comparison chart names the comparison period
    assert ("2026Q2" in subtitle) == (chart == "compare")
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def test_the_funnel_chart_shows_counts_share_of_previous_and_of_first():
    fig = funnel_chart(stages_frame(CURRENT), EN)
    (trace,) = fig.data
    assert trace.type == "funnel"
    assert list(trace.y) == ["Lead", "Qualified", "Proposal", "Won"]
    assert list(trace.x) == [300, 180, 60, 30]
    assert trace.text[0] == "300"
    assert trace.text[2] == "60<br>33% of previous · 20% of first"
    assert fig.layout.xaxis.title.text == "Deals reaching the stage"
    assert fig.layout.yaxis.title.text == "Stage"


def test_the_funnel_chart_translates_stage_names_into_chinese():
    fig = funnel_chart(stages_frame(CURRENT), ZH)
    assert list(fig.data[0].y) == ["线索", "意向", "报价", "成交"]
    assert fig.data[0].text[1] == "180<br>占上一阶段 60% · 占首阶段 60%"
    assert fig.layout.yaxis.title.text == "阶段"


def test_the_leakage_chart_stacks_lost_and_open_deals_per_stage_before_won():
    fig = leakage_chart(stages_frame(CURRENT), EN)
    assert fig.layout.barmode == "stack"
    lost, still_open = fig.data
    assert lost.type == still_open.type == "bar"
    assert (lost.name, still_open.name) == ("Lost at this stage", "Still open at this stage")
    assert list(lost.x) == ["Lead", "Qualified", "Proposal"]
    assert (list(lost.y), list(still_open.y)) == ([100, 58, 54], [20, 40, 10])
    assert fig.layout.xaxis.title.text == "Furthest stage reached"
    assert fig.layout.yaxis.title.text == "Deals"


def test_the_comparison_chart_groups_this_period_next_to_the_comparison():
    fig = funnel_compare_chart(stages_frame(CURRENT), stages_frame(PREVIOUS), EN)
    assert fig.layout.barmode == "group"
    now, before = fig.data
    assert (now.name, before.name) == ("2026Q3", "2026Q2")
    assert (list(now.y), list(before.y)) == ([300, 180, 60, 30], [250, 155, 64, 32])
    assert fig.layout.yaxis.title.text == "Deals reaching the stage"


@pytest.mark.parametrize(
    ("chart", "column"),
    [
        ("funnel", "reached"),
        ("funnel", "share_of_first"),
        ("leakage", "lost_at"),
        ("leakage", "open_at"),
        ("compare", "reached"),
    ],
)
def test_a_chart_raises_naming_the_missing_column(chart, column):
    frame = stages_frame(CURRENT).drop(columns=[column])
    with pytest.raises(ValueError, match=f"no column '{column}'"):
        CHARTS[chart](frame, EN)


def test_the_comparison_chart_says_which_frame_misses_a_column():
    with pytest.raises(ValueError, match="previous frame has no column 'reached'"):
        funnel_compare_chart(stages_frame(CURRENT), stages_frame(PREVIOUS).drop(columns=["reached"]), EN)


def test_a_chart_refuses_data_that_is_not_a_frame_and_a_missing_context():
    with pytest.raises(TypeError, match="DataFrame"):
        funnel_chart(CURRENT["stages"], EN)
    with pytest.raises(TypeError, match="ChartContext"):
        leakage_chart(stages_frame(CURRENT), "2026Q3")


def test_a_chart_of_an_empty_period_says_there_is_no_data():
    empty = pd.DataFrame(columns=list(CURRENT["stages"][0]))
    fig = funnel_chart(empty, ZH)
    assert [a.text for a in fig.layout.annotations] == ["2026Q3 没有商机"]


# -- narrative and KPI table -----------------------------------------------------------------


def test_the_narrative_names_the_biggest_conversion_change_the_biggest_leak_and_the_win_rate():
    assert funnel_sentences(CURRENT, PREVIOUS, EN) == [
        "Qualified → Proposal conversion fell from 41% in 2026Q2 to 33% in 2026Q3.",
        "100 of the 212 deals created in 2026Q3 and lost by 2026-09-30 were lost at the Lead stage, the biggest leak.",
        "Deals closed in 2026Q3 (whenever created): 150, of which 48 won, a win rate of 32% (2026Q2: 28%).",
    ]


def test_the_narrative_reads_in_chinese():
    assert funnel_sentences(CURRENT, PREVIOUS, ZH) == [
        "意向 → 报价 的转化率从 2026Q2 的 41% 降至 2026Q3 的 33%。",
        "2026Q3 新建、截至 2026-09-30 已输单的 212 个商机中，有 100 个输在线索阶段，是流失最多的环节。",
        "2026Q3 结单（不论何时创建）150 个，其中赢单 48 个，赢单率 32%（2026Q2：28%）。",
    ]


def test_the_narrative_says_rose_and_held():
    rising = {
        **PREVIOUS,
        "stages": [
            stage("lead", 10, 0.5, 1.0),
            stage("qualified", 5, 0.2, 0.5),
            stage("proposal", 1, 0.5, 0.1),
            stage("won", 0, None, 0.0),
        ],
    }
    assert funnel_sentences(CURRENT, rising, EN)[0] == (
        "Qualified → Proposal conversion rose from 20% in 2026Q2 to 33% in 2026Q3."
    )
    assert funnel_sentences(CURRENT, CURRENT, EN)[0] == (
        "Lead → Qualified conversion held at 60% in 2026Q3, as in 2026Q2."
    )


def test_a_change_that_rounds_away_is_said_as_held_never_as_fell_from_60_to_60():
    # every step moved by under half a point: shown as the same percentage, so it "held"
    nearly = {
        **PREVIOUS,
        "stages": [
            stage("lead", 300, 0.6004, 1.0),
            stage("qualified", 180, 0.3302, 0.6),
            stage("proposal", 60, 0.5004, 0.2),
            stage("won", 48, None, 0.16),
        ],
    }
    said = funnel_sentences(CURRENT, nearly, EN)[0]
    assert "held at" in said and "fell" not in said and "rose" not in said


def test_with_nothing_to_compare_the_narrative_names_the_weakest_step():
    empty_before = {"cohort_deals": 0, "stages": empty_stages()}
    assert funnel_sentences(CURRENT, empty_before, EN)[0] == (
        "The weakest step in 2026Q3 was Qualified → Proposal: 33% of deals moved on."
    )
    assert funnel_sentences(CURRENT, None, ZH)[0] == (
        "2026Q3 最薄弱的环节是 意向 → 报价：只有 33% 的商机进入下一阶段。"
    )


def test_the_narrative_handles_one_loss_no_losses_and_no_closed_deals():
    one_loss = {
        **CURRENT,
        "stages": [stage("lead", 3, 0.5, 1.0, lost_at=1), stage("won", 1, None, 0.3)],
        "win_rate": None,
    }
    assert funnel_sentences(one_loss, None, EN)[1:] == [
        "The one deal created in 2026Q3 and lost by 2026-09-30 was lost at the Lead stage.",
        "No deals were closed (won or lost) in 2026Q3.",
    ]
    no_losses = {**CURRENT, "stages": [stage("lead", 3, 0.5, 1.0), stage("won", 1, None, 0.3)]}
    assert funnel_sentences(no_losses, None, ZH)[1] == "2026Q3 新建的商机截至 2026-09-30 均未输单。"


def test_a_tie_for_the_biggest_leak_goes_to_the_earlier_stage_when_not_given():
    tied = {
        **CURRENT,
        "biggest_leak": None,
        "stages": [
            stage("lead", 9, 0.5, 1.0, lost_at=2),
            stage("qualified", 4, 0.5, 0.4, lost_at=2),
            stage("won", 2, None, 0.2),
        ],
    }
    assert funnel_sentences(tied, None, EN)[1] == (
        "2 of the 4 deals created in 2026Q3 and lost by 2026-09-30 were lost at the Lead stage, the biggest leak."
    )


def test_an_empty_cohort_gets_only_the_win_rate_sentence():
    empty = {**CURRENT, "cohort_deals": 0, "stages": empty_stages()}
    assert funnel_sentences(empty, PREVIOUS, EN) == [
        "Deals closed in 2026Q3 (whenever created): 150, of which 48 won, a win rate of 32% (2026Q2: 28%)."
    ]


def test_the_kpi_table_shows_this_period_the_comparison_and_the_change():
    frame = kpi_frame(CURRENT, PREVIOUS)
    assert list(frame["metric"]) == [
        "cohort_deals",
        "win_rate",
        "avg_won_amount",
        "median_cycle_days",
        "pipeline_velocity",
    ]
    html = kpi_table_html(frame, EN)
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in rows]
    assert cells == [
        ["Metric", "2026Q3", "2026Q2", "Change"],
        ["Deals created", "300", "250", "+20%"],
        ["Win rate", "32%", "28%", "+4.0 pp"],
        ["Average won amount", "12,500", "10,000", "+25%"],
        ["Median sales cycle (days)", "41", "–", "–"],
        ["Pipeline velocity (per day)", "6,829", "–", "–"],
    ]
    assert "个百分点" in kpi_table_html(frame, ZH) and "赢单率" in kpi_table_html(frame, ZH)


def test_data_loaded_through_is_the_latest_deal_stage_or_order_date(empty_warehouse):
    def loaded():
        return queries.run(empty_warehouse, "report/data_loaded_through", {}).iloc[0, 0]

    assert pd.isna(loaded())
    empty_warehouse.execute(
        "insert into deals (deal_id, stage, outcome, created_at, closed_at) values (?, ?, ?, ?, ?)",
        ["D1", "won", "won", "2026-09-01 09:00:00", "2026-09-10 17:00:00"],
    )
    assert loaded() == pd.Timestamp("2026-09-10")
    empty_warehouse.execute("insert into deal_stage_history values (?, ?, ?)", ["D1", "won", "2026-09-12 08:00:00"])
    assert loaded() == pd.Timestamp("2026-09-12")
    empty_warehouse.execute("insert into orders values (?, ?, ?, ?)", ["O1", "C1", "2026-09-20", 10])
    assert loaded() == pd.Timestamp("2026-09-20")


def review(current=CURRENT, previous=PREVIOUS, lang="en", loaded_through=date(2026, 9, 30)):
    period = parse_period("2026Q3")
    return QuarterlyReview(
        ctx=ChartContext.for_periods(period, period.compare("prev"), lang),
        period=period,
        comparison=period.compare("prev"),
        compare_mode="prev",
        current=current,
        previous=previous,
        loaded_through=loaded_through,
    )


def test_the_header_states_period_comparison_as_of_and_data_loaded_through():
    html = review().header().html
    assert "Sales review 2026Q3" in html
    assert "2026Q3 (2026-07-01 – 2026-09-30)" in html and "2026Q2 (2026-04-01 – 2026-06-30)" in html
    assert "Data as of</strong>: 2026-09-30" in html and "Data loaded through 2026-09-30." in html
    assert "crm-warning" not in html
    late = review(lang="zh", loaded_through=date(2026, 9, 20)).header().html
    assert "已导入数据截至 2026-09-20" in late and "crm-warning" in late
    assert "还没有" in review(lang="zh", loaded_through=None).header().html


def test_the_funnel_section_of_an_empty_period_is_a_message_not_charts():
    empty = {**CURRENT, "cohort_deals": 0, "win_rate": None, "stages": empty_stages()}
    (block,) = review(current=empty, lang="zh").funnel_section()
    assert "2026Q3 没有新建商机" in block.html and "没有结单" in block.html


def test_the_funnel_section_holds_sentences_three_figures_and_hands_the_rule_to_the_appendix():
    shown = review()
    items = shown.funnel_section()
    kinds = [type(item).__name__ for item in items]
    assert kinds == ["HtmlBlock", "Figure", "Figure", "Figure"]
    assert 'id="section-funnel"' in items[0].html and "This section answers: how many deals" in items[0].html
    (rule,) = definitions(shown)["funnel"]
    assert "3 skipped a stage, 1 moved backwards, 2 without a creation date" in rule


# -- render_report: arguments and offline checks --------------------------------------------


def test_an_invalid_period_fails_fast_with_the_accepted_forms(tmp_path):
    with pytest.raises(PeriodError, match=r"invalid period '2026Q5'.*accepted forms"):
        render_report(period="2026Q5", db=tmp_path / "none.duckdb", out_dir=tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"lang": "fr"}, ValueError, "language 'fr'"),
        ({"compare": "mom"}, PeriodError, "comparison 'mom'"),
        ({"as_of": "30/09/2026"}, ValueError, "as-of date '30/09/2026'"),
        ({"timeout": 0}, ReportError, "timeout"),
        ({"name": "../etc"}, ReportError, "report name"),
        ({"name": "nope"}, ReportError, "no report 'nope'.*quarterly_review"),
    ],
)
def test_bad_arguments_fail_before_anything_runs(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        render_report(**{"period": "2026Q3", "db": tmp_path / "none.duckdb", "out_dir": tmp_path, **kwargs})
    assert list(tmp_path.iterdir()) == []


def test_a_missing_warehouse_fails_before_the_kernel_starts(tmp_path):
    with pytest.raises(warehouse.WarehouseError, match="no warehouse"):
        render_report(period="2026Q3", db=tmp_path / "none.duckdb", out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_parameter_names_are_refused():
    render.check_parameters("quarterly_review", render.REPORT_PARAMETERS)
    with pytest.raises(ReportError, match="no parameter 'territory'"):
        render.check_parameters("quarterly_review", ["period", "territory"])


def test_the_as_of_override_is_empty_or_an_iso_date():
    assert parse_as_of("") is None and parse_as_of("2026-09-15") == date(2026, 9, 15)


def test_the_report_file_is_named_by_report_period_scope_and_language():
    assert render.report_stem("quarterly_review", "2026Q3", "zh") == "quarterly_review_2026Q3_all_zh"


@pytest.mark.parametrize(
    "html",
    [
        '<script src="https://cdn.example.com/x.js"></script>',
        "<link rel=stylesheet href='http://example.com/a.css'>",
        '<img src="//example.com/a.png">',
        "<style>@import url(https://fonts.example.com/a.css);</style>",
        "<style>body { background: url('https://example.com/bg.png') }</style>",
        '<script>import("https://example.com/m.mjs")</script>',
        "<script>var u = 'jsdelivr-cdn-mirror';</script>",
    ],
)
def test_network_references_are_found(html):
    assert network_references(html)


def test_a_page_that_only_embeds_plotly_has_no_network_references():
    from plotly.offline import get_plotlyjs

    page = f'<html><head><script>{get_plotlyjs()}</script></head><body><a href="#top">top</a></body></html>'
    assert network_references(page) == []


# -- render_report: end to end (slow) -----------------------------------------------------------

DEALS = [
    # deal_id, current stage, outcome, amount, created_at, closed_at
    ("Q1", "won", "won", 1000, "2026-07-01 09:00:00", "2026-08-01 10:00:00"),
    ("Q2", "lost", "lost", 500, "2026-07-03 09:00:00", "2026-08-20 10:00:00"),
    ("Q3", "lost", "lost", 300, "2026-07-10 09:00:00", "2026-08-05 10:00:00"),
    ("Q4", "proposal", "open", 800, "2026-08-01 09:00:00", None),
    ("Q5", "lead", "open", 100, "2026-09-01 09:00:00", None),
    ("Q6", "won", "won", 3000, "2026-07-15 09:00:00", "2026-09-10 10:00:00"),
    ("P1", "won", "won", 2000, "2026-04-02 09:00:00", "2026-05-01 10:00:00"),
    ("P2", "lost", "lost", 700, "2026-04-05 09:00:00", "2026-05-10 10:00:00"),
    ("P3", "won", "won", 1500, "2026-04-10 09:00:00", "2026-06-01 10:00:00"),
    ("P4", "lost", "lost", 200, "2026-04-12 09:00:00", "2026-04-20 10:00:00"),
]
HISTORY = {  # deal_id: [(stage, month-day entered)]
    "Q1": [("lead", "07-01"), ("qualified", "07-05"), ("proposal", "07-15"), ("won", "08-01")],
    "Q2": [("lead", "07-03"), ("qualified", "07-08"), ("proposal", "07-20"), ("lost", "08-20")],
    "Q3": [("lead", "07-10"), ("qualified", "07-20"), ("lost", "08-05")],
    "Q4": [("lead", "08-01"), ("qualified", "08-10"), ("proposal", "09-01")],
    "Q5": [("lead", "09-01")],
    "Q6": [("lead", "07-15"), ("qualified", "07-25"), ("proposal", "08-10"), ("won", "09-10")],
    "P1": [("lead", "04-02"), ("qualified", "04-08"), ("proposal", "04-15"), ("won", "05-01")],
    "P2": [("lead", "04-05"), ("qualified", "04-10"), ("lost", "05-10")],
    "P3": [("lead", "04-10"), ("qualified", "04-20"), ("proposal", "05-05"), ("won", "06-01")],
    "P4": [("lead", "04-12"), ("lost", "04-20")],
}


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory) -> Path:
    """Six deals created in 2026Q3, four in 2026Q2, one order on 2026-09-29."""
    path = tmp_path_factory.mktemp("warehouse") / "crm.duckdb"
    with warehouse.write_session(path) as con:
        con.executemany(
            "insert into deals (deal_id, customer_id, stage, outcome, amount, created_at, closed_at) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            [(deal, f"C{deal}", *rest) for deal, *rest in DEALS],
        )
        con.executemany(
            "insert into deal_stage_history (deal_id, stage, entered_at) values (?, ?, ?)",
            [(deal, s, f"2026-{day} 09:00:00") for deal, rows in HISTORY.items() for s, day in rows],
        )
        con.execute(
            "insert into orders (order_id, customer_id, order_date, amount) values (?, ?, ?, ?)",
            ["O1", "CQ1", date(2026, 9, 29), 1000],
        )
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".part")


def visible_text(html: str) -> str:
    main = html[html.index("<main>") :]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.mark.slow
def test_the_quarterly_review_renders_to_one_offline_html_without_code(small_warehouse, tmp_path):
    out = tmp_path / "reports"
    path = render_report(period="2026Q3", db=small_warehouse, out_dir=out, lang="en")

    assert path == out / "quarterly_review_2026Q3_all_en.html"
    assert sorted(p.name for p in out.iterdir()) == ["audit", "quarterly_review_2026Q3_all_en.html"]
    assert [p.name for p in (out / "audit").iterdir()] == ["quarterly_review_2026Q3_all_en.ipynb"]
    html = path.read_text(encoding="utf-8")
    assert html.count('class="plotly-graph-div"') >= 3
    from plotly.offline import get_plotlyjs

    assert html.count(get_plotlyjs()) == 1, "plotly.js is embedded exactly once"
    # offline: no script/link/img loads from the network and no CDN is named (the embedded
    # plotly.js library aside: its map-tile addresses are used only by map traces)
    assert network_references(html) == []
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", html)
    assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", html)
    assert "cdn" not in html.replace(get_plotlyjs(), "").lower()
    # no code: no input areas, no source
    assert 'class="jp-InputArea' not in html and "input_area" not in html
    for code in ("review.section", "quarterly_review(", "db_path"):
        assert code not in html
    text = visible_text(html)
    assert "Sales review 2026Q3" in text
    assert "2026Q2 (2026-04-01 – 2026-06-30)" in text
    assert "Data as of : 2026-09-30" in text
    assert "Data loaded through 2026-09-29." in text
    assert "Deals closed in 2026Q3 (whenever created): 4, of which 2 won, a win rate of 50% (2026Q2: 50%)." in text
    assert "2026Q3 vs 2026Q2 \\u00b7 as of 2026-09-30" in html  # figure subtitles, JSON-escaped


@pytest.mark.slow
def test_an_empty_period_renders_a_message_in_chinese(small_warehouse, tmp_path):
    path = render_report(period="2025Q3", db=small_warehouse, out_dir=tmp_path, lang="zh")
    assert path.name == "quarterly_review_2025Q3_all_zh.html"
    html = path.read_text(encoding="utf-8")
    assert '<html lang="zh">' in html
    assert "2025Q3 没有新建商机，因此没有漏斗可展示。" in visible_text(html)
    assert 'class="plotly-graph-div"' not in html
    assert network_references(html) == []
    assert leftovers(tmp_path) == []


def write_notebook(folder: Path, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = "\n".join(f'{name}: str = ""  # {name}' for name in render.REPORT_PARAMETERS)
    nb.cells = [
        nbformat.v4.new_code_cell(params, id="parameters", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("x = 1", id="fine"),
        nbformat.v4.new_code_cell(body, id="broken"),
    ]
    nbformat.write(nb, folder / "broken.ipynb")


@pytest.mark.slow
def test_a_failing_notebook_names_the_cell_and_the_exception_and_keeps_the_old_report(
    small_warehouse, tmp_path, monkeypatch
):
    notebooks, out = tmp_path / "notebooks", tmp_path / "out"
    notebooks.mkdir()
    out.mkdir()
    write_notebook(notebooks, "raise ValueError('no funnel for you')")
    monkeypatch.setattr(config, "NOTEBOOKS_DIR", notebooks)
    (out / "broken_2026Q3_all_en.html").write_text("the previous report")

    with pytest.raises(ReportError) as caught:
        render_report("broken", period="2026Q3", db=small_warehouse, out_dir=out)

    message = str(caught.value)
    assert "broken.ipynb, cell 'broken' (raise ValueError('no funnel for you'))" in message
    assert "ValueError: no funnel for you" in message
    assert "audit/broken_2026Q3_all_en.failed.ipynb" in message
    assert (out / "broken_2026Q3_all_en.html").read_text() == "the previous report"
    assert sorted(p.name for p in out.iterdir()) == ["audit", "broken_2026Q3_all_en.html"]
    assert [p.name for p in (out / "audit").iterdir()] == ["broken_2026Q3_all_en.failed.ipynb"]


@pytest.mark.slow
def test_a_cell_that_runs_too_long_fails_with_the_timeout(small_warehouse, tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks, "import time\ntime.sleep(60)")
    monkeypatch.setattr(config, "NOTEBOOKS_DIR", notebooks)
    expected = r"cell 'broken' \(import time\) did not finish within the 3 s"
    with pytest.raises(ReportError, match=expected):
        render_report("broken", period="2026Q3", db=small_warehouse, out_dir=tmp_path / "out", timeout=3)
    assert not (tmp_path / "out" / "broken_2026Q3_all_en.html").exists()
