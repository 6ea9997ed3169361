"""Repurchase, retention and churn charts (the contract, not pixels) and report sections, on the
ten customers of tests/sql/retention_q3 and on the generated sample."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import plotly.graph_objects as go
import pytest

from crmreview import config
from crmreview.charts import (
    ChartContext,
    backtest_chart,
    cohort_heatmap,
    lifecycle_composition_chart,
    recency_chart,
    risk_table_html,
    state_flow_sankey,
)
from crmreview.importing import import_files
from crmreview.metrics.churn import churn, flows_frame, lifecycle_history, recency_frame, risk_frame
from crmreview.metrics.retention import cohort_frame, retention
from crmreview.periods import parse_period
from crmreview.report.render import network_references
from crmreview.report.review import quarterly_review
from crmreview.report.sections.churn import churn_sentences, model_sentences
from crmreview.report.sections.repurchase import repurchase_sentences
from crmreview.report.sections.retention import retention_sentences
from crmreview.warehouse import connect_read
from tests.paths import SQL_CASES

CASE = SQL_CASES / "retention_q3"
EN = ChartContext("2026Q3", "2026Q2", "2026-09-30", "en")
ZH = ChartContext("2026Q3", "2026Q2", "2026-09-30", "zh")


@pytest.fixture(scope="module")
def q3_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("retention_report") / "q3.duckdb"
    import_files([CASE / "customers.csv", CASE / "reps.csv", CASE / "orders.csv"], db)
    return db


@pytest.fixture(scope="module")
def q3(q3_db):
    period = parse_period("2026Q3")
    with connect_read(q3_db) as con:
        return {
            "retention": retention(con, period),
            "churn": churn(con, period),
            "history": lifecycle_history(con, period, periods=4),
            "recency": recency_frame(con, period),
        }


@pytest.fixture(scope="module")
def sample_db(imported_sample) -> Path:
    return imported_sample(seed=3, size=0.3).db


def _charts(q3):
    cells = cohort_frame(q3["retention"])
    by_frequency = pd.DataFrame(
        [
            {"frequency": "0", "customers": 5, "actual_mean": 0.4, "predicted_mean": 0.5},
            {"frequency": "1", "customers": 3, "actual_mean": 1.0, "predicted_mean": 0.8},
        ]
    )
    return {
        "cohort_heatmap": (cohort_heatmap, cells),
        "lifecycle_composition_chart": (lifecycle_composition_chart, q3["history"]),
        "state_flow_sankey": (state_flow_sankey, flows_frame(q3["churn"])),
        "recency_chart": (recency_chart, q3["recency"]),
        "backtest_chart": (backtest_chart, by_frequency),
    }


CHARTS = ("cohort_heatmap", "lifecycle_composition_chart", "state_flow_sankey", "recency_chart", "backtest_chart")


@pytest.mark.parametrize("name", CHARTS)
@pytest.mark.parametrize("ctx", [EN, ZH], ids=["en", "zh"])
def test_every_chart_is_a_figure_whose_subtitle_states_period_comparison_and_as_of(q3, name, ctx):
    chart, frame = _charts(q3)[name]
    fig = chart(frame, ctx)
    assert isinstance(fig, go.Figure)
    # the state flows compare the two periods; every other chart shows the period alone
    expected = ctx.subtitle if name == "state_flow_sankey" else ctx.single_subtitle
    assert fig.layout.title.text and fig.layout.title.subtitle.text == expected
    assert "2026Q3" in expected and "2026-09-30" in expected
    assert ("2026Q2" in expected) == (name == "state_flow_sankey")


@pytest.mark.parametrize("name", CHARTS)
def test_a_chart_raises_naming_the_missing_column_and_refuses_a_missing_context(q3, name):
    chart, frame = _charts(q3)[name]
    column = frame.columns[-1]
    with pytest.raises(ValueError, match=repr(column)):
        chart(frame.drop(columns=[column]), EN)
    with pytest.raises(TypeError, match="ChartContext"):
        chart(frame, None)
    with pytest.raises(TypeError, match="DataFrame"):
        chart(frame.to_dict("records"), EN)


def test_the_cohort_heatmap_shows_each_cohorts_share_by_month_and_stars_the_data_start(q3):
    cells = cohort_frame(q3["retention"])
    fig = cohort_heatmap(cells, EN)
    (heat,) = fig.data
    labels = list(heat.y)
    assert labels[0] == "2025-10* (1)" and "2026-05 (2)" in labels
    may = heat.z[labels.index("2026-05 (2)")]
    assert list(may[:5]) == [1.0, 0.0, 1.0, 0.0, 0.0] and may[5] is None  # months after 09-30 are not there
    assert heat.text[labels.index("2026-05 (2)")][2] == "100%"
    assert fig.layout.xaxis.title.text == "Months after the first purchase"
    assert "first month of the data" in fig.layout.annotations[0].text
    revenue = cohort_heatmap(cells, ZH, measure="revenue_share")
    june = revenue.data[0].z[list(revenue.data[0].y).index("2026-06 (1)")]
    assert list(june[:4]) == [1.0, 1.0, 0.0, 1.0]  # 300 % and 200 % of the first month, capped for the colour
    assert revenue.data[0].text[list(revenue.data[0].y).index("2026-06 (1)")][1] == "300%"
    assert revenue.layout.title.text == "同期群留存（收入相对首月）"
    with pytest.raises(ValueError, match="measure 'revenue'"):
        cohort_heatmap(cells, EN, measure="revenue")


def test_the_sankey_links_comparison_states_to_current_states_with_the_customer_counts(q3):
    fig = state_flow_sankey(flows_frame(q3["churn"]), EN)
    (sankey,) = fig.data
    labels = list(sankey.node.label)
    assert labels[0] == "Not yet a buyer · 2026Q2 (2)"
    assert "Reactivated · 2026Q3 (1)" in labels
    links = {
        (labels[s].split(" · ")[0], labels[t].split(" · ")[0]): v
        for s, t, v in zip(sankey.link.source, sankey.link.target, sankey.link.value)
    }
    assert links == {
        ("Not yet a buyer", "New"): 2,
        ("New", "Active"): 4,
        ("Active", "Dormant"): 1,
        ("Dormant", "Churned"): 1,
        ("Churned", "Reactivated"): 1,
    }


def test_the_recency_chart_stacks_states_per_bin_and_marks_the_thresholds(q3):
    fig = recency_chart(q3["recency"], ZH)
    names = [trace.name for trace in fig.data]
    assert names == ["新客户", "回流", "活跃", "沉睡", "流失"]
    active = fig.data[2]
    assert dict(zip(active.x, active.y)) == {15.0: 1, 45.0: 1, 75.0: 2}
    lines = [shape.x0 for shape in fig.layout.shapes]
    assert lines == [90.5, 180.5]


def test_the_lifecycle_composition_stacks_the_states_of_each_period(q3):
    fig = lifecycle_composition_chart(q3["history"], EN)
    assert list(fig.data[0].x) == ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    by_state = {trace.name: list(trace.y) for trace in fig.data}
    assert by_state["Active"][-1] == 4 and by_state["New"][-2] == 4 and by_state["Churned"][-1] == 1
    assert fig.layout.barmode == "stack"


def test_charts_of_nothing_say_so():
    empty_flows = pd.DataFrame(columns=["from", "to", "customers"])
    fig = state_flow_sankey(empty_flows, EN)
    assert "No purchases up to 2026-09-30" in fig.layout.annotations[0].text
    empty_cells = pd.DataFrame(
        columns=["cohort", "month", "cohort_customers", "customers", "revenue", "is_data_start", "share"]
    )
    assert "No first purchase" in cohort_heatmap(empty_cells, EN).layout.annotations[0].text


def test_the_risk_table_is_sortable_offline_in_value_order_with_tier_and_owner(q3):
    html = risk_table_html(risk_frame(q3["churn"]), EN)
    assert html.index("Regular Co (K1)") < html.index("Quiet Co (K8)")
    assert "Rep One (R1)" in html and 'data-sort="500.00"' in html and 'data-numeric="1"' in html
    assert re.search(r"<script>\s*\(function \(\) \{", html) and 'getElementById("crm-risk-table")' in html
    assert network_references(html) == []
    assert html.count("<tr>") == 3  # the header and two customers
    assert risk_table_html(risk_frame(q3["churn"]), ZH, limit=1).count("<tr>") == 2
    empty = risk_table_html(risk_frame({"risk_list": []}), ZH)
    assert "没有活跃或沉睡客户超出其通常的购买间隔" in empty
    with pytest.raises(ValueError, match="table_id"):
        risk_table_html(risk_frame(q3["churn"]), EN, table_id="x'); alert(1)//")


# -- narrative -------------------------------------------------------------------------------


def test_the_narrative_gives_the_hand_computed_numbers_in_english_and_chinese(q3_db, q3):
    with connect_read(q3_db) as con:
        from crmreview.metrics.repurchase import repurchase

        now, before = repurchase(con, parse_period("2026Q3")), repurchase(con, parse_period("2026Q2"))
        previous_churn = churn(con, parse_period("2026Q2"), model=False)
    said = repurchase_sentences(now, before, EN)
    assert (
        said[0] == "In 2026Q3, 7 customers made a purchase; 43% of them bought more than once (2026Q2: 20%)."
    )  # Q2: K1 of K1, K6, K7, K8, K10
    assert (
        said[1].startswith("71% (5) had bought before the period")
        and "90% of the period's net revenue of 1,330" in said[1]
    )
    assert said[2].startswith(
        "Customers buy again after a median of 59 days (over 11 gaps between consecutive purchase days"
    )
    said = retention_sentences(q3["retention"], EN)
    assert said[0] == (
        "Of the 4 customers who bought in 2026Q2 (net 1,000), 3 bought again in 2026Q3; together they "
        "kept 45% of that revenue without counting increases (gross revenue retention) and 85% "
        "counting them (net revenue retention)."
    )
    assert "2025-10 cohort begins with the data" in said[-1]
    said = churn_sentences(q3["churn"], previous_churn, ZH)
    assert said[0] == (
        "截至 2026-09-30，共有 9 个客户购买过：新客户 2 个，回流 1 个，活跃 4 个，沉睡 1 个，流失 1 个"
        "（2026Q2：新客户 4 个，回流 0 个，活跃 1 个，沉睡 1 个，流失 1 个）。"
    )
    assert said[1].startswith("2026-06-30 未流失的 6 个客户中，到 2026-09-30 有 1 个已流失，流失率为 17%")
    assert (
        "其中价值最高的是 Regular Co（K1，A 类，负责人 Rep One (R1)）：距上次购买已 51 天，而其通常间隔为 30.5 天。"
        in said[-1]
    )
    said = churn_sentences(q3["churn"], previous_churn, EN)
    assert said[2] == (
        "Since 2026Q2, 1 active or new customers fell dormant, 1 customers churned, and 1 came back "
        "after more than 180 days without buying."
    )
    assert model_sentences(q3["churn"]["purchase_model"], EN) == [
        "The purchase history (9 customers) is too short or too thin to fit the BG/NBD model."
    ]


# -- sections --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_sections_hold_headings_sentences_charts_and_the_risk_table(q3_db, lang):
    review = quarterly_review(str(q3_db), period="2026Q3", lang=lang)
    items = review.section("repurchase")
    assert [type(i).__name__ for i in items] == ["HtmlBlock"]
    heading = {"en": "Repurchase", "zh": "复购"}[lang]
    assert items[0].html.startswith(f'<h2 id="section-repurchase">{heading}</h2>')
    items = review.section("retention")
    assert [type(i).__name__ for i in items] == ["HtmlBlock", "Figure", "Figure"]
    items = review.section("churn")
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["HtmlBlock", "Figure", "HtmlBlock", "Figure", "Figure", "HtmlBlock", "HtmlBlock"]
    assert 'id="crm-risk-table"' in items[5].html and "K1" in items[5].html
    assert {"en": "too short or too thin", "zh": "太短或太少"}[lang] in items[6].html
    for item in items:
        if isinstance(item, go.Figure):
            assert item.layout.title.subtitle.text.startswith("2026Q3")


def test_the_sections_of_a_period_without_purchases_are_a_message_not_charts(q3_db):
    review = quarterly_review(str(q3_db), period="2025Q3", lang="en")
    (repurchase_block,) = review.section("repurchase")
    assert "Nobody made a purchase in 2025Q3." in repurchase_block.html
    (retention_block,) = review.section("retention")
    assert "No first purchase in the twelve months up to 2025-09-30" in retention_block.html
    (churn_block,) = review.section("churn")
    assert "Nobody has made a purchase up to 2025-09-30" in churn_block.html


def test_on_the_sample_the_churn_section_shows_the_fitted_model_next_to_its_backtest(sample_db):
    review = quarterly_review(str(sample_db), period="2026Q3", lang="en")
    items = review.section("churn")
    assert [type(i).__name__ for i in items][-2:] == ["HtmlBlock", "Figure"]
    model_block = items[-2].html
    assert "Back-test: fitted on purchases up to 2026-06-30" in model_block
    # the parameters and back-test figures are technical detail: in the appendix, not the body
    assert "Log-likelihood" not in model_block
    (appendix,) = review.section("appendix")
    assert "Predicted purchase days" in appendix.html and "Log-likelihood" in appendix.html
    for item in items:
        if isinstance(item, go.Figure):  # aggregates only, whatever the number of customers
            assert sum(len(getattr(t, "x", None) or getattr(t.link, "value", None) or []) for t in item.data) < 200
        else:
            assert item.html.count("<tr>") <= 51 + 20


@pytest.mark.slow
def test_the_quarterly_review_renders_offline_with_the_retention_cells_appended(q3_db, tmp_path, monkeypatch):
    from crmreview.report.render import render_report

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = nbformat.read(config.NOTEBOOKS_DIR / "quarterly_review.ipynb", as_version=4)
    existing = "".join("".join(cell.source) for cell in nb.cells)
    for name in ("repurchase", "retention", "churn"):
        if f'review.section("{name}")' not in existing:
            nb.cells.append(nbformat.v4.new_code_cell(f'display(*review.section("{name}"))'))
    nbformat.write(nb, notebooks / "quarterly_review.ipynb")
    monkeypatch.setattr(config, "NOTEBOOKS_DIR", notebooks)
    for lang, words in (
        ("en", ("Repurchase", "Cohort retention", "Churn-risk list")),
        ("zh", ("复购", "同期群留存", "流失预警名单")),
    ):
        html_path = render_report(period="2026Q3", db=q3_db, out_dir=tmp_path / "out", lang=lang, timeout=300)
        text = html_path.read_text(encoding="utf-8")
        for word in words:
            assert word in text or json.dumps(word)[1:-1] in text
        assert 'getElementById(\\"crm-risk-table\\")' in text or 'getElementById("crm-risk-table")' in text
        assert network_references(text) == []
