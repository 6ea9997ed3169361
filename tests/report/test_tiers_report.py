"""Tier and follow-up charts (the contract, not pixels), narrative and report sections.

The section builds run on the hand-computed case tests/sql/followup_q2; the notebook render
(marked slow) appends the two section cells to a copy of the quarterly review.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import pytest

from crmreview import config
from crmreview.charts import (
    ChartContext,
    attainment_chart,
    compliance_heatmap,
    migration_chart,
    pareto_chart,
    tier_distribution_chart,
)
from crmreview.importing import import_files
from crmreview.metrics.followup import compliance_frame, followup, reps_frame
from crmreview.metrics.tiers import curve_frame, migration_frame, tiers, tiers_frame
from crmreview.periods import parse_period
from crmreview.report.html import HtmlBlock
from crmreview.report.review import quarterly_review
from crmreview.report.sections.followup import followup_sentences
from crmreview.report.sections.tiers import tier_sentences
from crmreview.warehouse import connect_read
from tests.paths import SQL_CASES

CASE = SQL_CASES / "followup_q2"
TABLES = ("reps", "customers", "orders", "deals", "activities", "targets")
EN = ChartContext("2026Q2", "2026Q1", "2026-06-30", "en")
ZH = ChartContext("2026Q2", "2026Q1", "2026-06-30", "zh")


@pytest.fixture(scope="module")
def case_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("report") / "w.duckdb"
    import_files([CASE / f"{table}.csv" for table in TABLES], db)
    return db


@pytest.fixture(scope="module")
def results(case_db) -> dict:
    with connect_read(case_db) as con:
        period = parse_period("2026Q2")
        return {
            "tiers": tiers(con, period),
            "tiers_before": tiers(con, period.compare("prev")),
            "followup": followup(con, period),
            "followup_before": followup(con, period.compare("prev")),
        }


def _charts(results):
    t, f = results["tiers"], results["followup"]
    return {
        "pareto_chart": (
            pareto_chart,
            (curve_frame(t), tiers_frame(t)),
            "Revenue concentration (Pareto curve)",
            "Share of customers, highest value first",
            "Cumulative share of value",
        ),
        "tier_distribution_chart": (
            tier_distribution_chart,
            (tiers_frame(t),),
            "Customers and value per tier (ABC)",
            "Tier",
            "Customers",
        ),
        "migration_chart": (
            migration_chart,
            (migration_frame(t),),
            "Tier migration",
            "Tier at the end of 2026Q2",
            "Tier at the end of 2026Q1",
        ),
        "compliance_heatmap": (
            compliance_heatmap,
            (compliance_frame(f),),
            "Follow-up compliance by rep and tier",
            "Tier",
            "Owner rep",
        ),
        "attainment_chart": (
            attainment_chart,
            (reps_frame(f),),
            "Target attainment by rep",
            "Won amount / target",
            "Rep",
        ),
    }


@pytest.mark.parametrize(
    "name", ["pareto_chart", "tier_distribution_chart", "migration_chart", "compliance_heatmap", "attainment_chart"]
)
def test_every_chart_is_a_figure_titled_with_period_comparison_as_of_and_axis_labels(results, name):
    chart, frames, title, x_title, y_title = _charts(results)[name]
    fig = chart(*frames, EN)
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text == title
    # only the migration compares two periods; the others show the period alone
    compared = name == "migration_chart"
    expected = "2026Q2 vs 2026Q1 · as of 2026-06-30" if compared else "2026Q2 · as of 2026-06-30"
    assert fig.layout.title.subtitle.text == expected
    assert fig.layout.xaxis.title.text == x_title
    assert fig.layout.yaxis.title.text == y_title
    zh = chart(*frames, ZH)
    expected_zh = "2026Q2 对比 2026Q1 · 数据截至 2026-06-30" if compared else "2026Q2 · 数据截至 2026-06-30"
    assert zh.layout.title.subtitle.text == expected_zh
    assert zh.layout.title.text != title


@pytest.mark.parametrize(
    "name", ["pareto_chart", "tier_distribution_chart", "migration_chart", "compliance_heatmap", "attainment_chart"]
)
def test_every_chart_refuses_a_frame_without_its_columns_a_non_frame_and_a_missing_context(results, name):
    chart, frames, *_ = _charts(results)[name]
    first = frames[0]
    column = {
        "pareto_chart": "share_of_value",
        "tier_distribution_chart": "share_of_value",
        "migration_chart": "customers",
        "compliance_heatmap": "compliance",
        "attainment_chart": "attainment",
    }[name]
    with pytest.raises(ValueError, match=repr(column)):
        chart(first.drop(columns=[column]), *frames[1:], EN)
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        chart(first.to_dict("records"), *frames[1:], EN)
    with pytest.raises(TypeError, match="ctx must be a ChartContext"):
        chart(*frames, "en")


def test_the_pareto_chart_shades_one_band_per_tier_with_its_shares(results):
    fig = pareto_chart(curve_frame(results["tiers"]), tiers_frame(results["tiers"]), EN)
    bands = [s for s in fig.layout.shapes if s.type == "rect"]
    # F1 is A (1 of 7 customers), F2 B (1 of 7), the other five C
    assert [(round(b.x0, 4), round(b.x1, 4)) for b in bands] == [
        (0, round(1 / 7, 4)),
        (round(1 / 7, 4), round(2 / 7, 4)),
        (round(2 / 7, 4), 1),
    ]
    labels = [a.text for a in fig.layout.annotations]
    assert labels[:3] == [
        "A: 14% of customers<br>80% of value",
        "B: 14% of customers<br>15% of value",
        "C: 71% of customers<br>5% of value",
    ]
    curve = fig.data[1]
    assert list(curve.x)[:3] == pytest.approx([0, 1 / 7, 2 / 7]) and list(curve.y)[:3] == pytest.approx([0, 0.8, 0.95])


def test_the_distribution_chart_puts_counts_and_value_side_by_side(results):
    fig = tier_distribution_chart(tiers_frame(results["tiers"]), EN)
    counts, values = fig.data
    assert list(counts.y) == [1, 1, 5] and list(values.y) == [800.0, 150.0, 50.0]
    assert list(values.text) == ["80%", "15%", "5%"]
    assert fig.layout.yaxis2.title.text == "Value"


def test_the_migration_heatmap_has_tiers_then_new_as_rows_and_shares_of_each_row(results):
    fig = migration_chart(migration_frame(results["tiers"]), EN)
    heat = fig.data[0]
    assert list(heat.y) == ["A", "B", "C", "new"] and list(heat.x) == ["A", "B", "C"]
    # as of 2026-03-31 (window 2025-04-01..): no orders yet, so the six known customers were C
    assert [list(r) for r in heat.z] == [[0, 0, 0], [0, 0, 0], [1, 1, 4], [0, 0, 1]]
    assert heat.text[2][0] == "1<br>17%"
    assert list(migration_chart(migration_frame(results["tiers"]), ZH).data[0].y)[-1] == "新增"


def test_the_compliance_heatmap_leaves_cells_without_customers_empty(results):
    fig = compliance_heatmap(compliance_frame(results["followup"]), EN)
    heat = fig.data[0]
    assert list(heat.y) == ["Rep One (R1)", "Rep Two (R2)", "Rep Three (R3)"]
    assert [list(r) for r in heat.z] == [[1.0, 0.0, 0.0], [None, None, pytest.approx(1 / 3)], [None, None, None]]
    assert heat.text[0][1] == "0% · 1/1 overdue"  # one line: legible at the fixed cell text size
    assert heat.textfont.size == 12


def test_the_attainment_chart_sorts_reps_and_draws_the_target_line(results):
    fig = attainment_chart(reps_frame(results["followup"]), EN)
    bar = fig.data[0]
    assert list(bar.y) == ["Rep Two (R2)", "Rep One (R1)", "Rep Three (R3)"]  # best at the top
    assert list(bar.x) == [0.0, 0.65, 1.0] and list(bar.text) == ["0%", "65%", "100%"]
    assert any(s.x0 == 1.0 and s.x1 == 1.0 for s in fig.layout.shapes)


def test_charts_of_an_empty_period_say_so(case_db):
    with connect_read(case_db) as con:
        empty_tiers = tiers(con, parse_period("2024Q4"))
        empty_followup = followup(con, parse_period("2024Q4"))
    ctx = ChartContext("2024Q4", "2024Q3", "2024-12-31", "en")
    figures = [
        pareto_chart(curve_frame(empty_tiers), tiers_frame(empty_tiers), ctx),
        tier_distribution_chart(tiers_frame(empty_tiers), ctx),
        migration_chart(migration_frame(empty_tiers), ctx),
        compliance_heatmap(compliance_frame(empty_followup), ctx),
    ]
    for fig in figures:
        assert "No customers known at 2024-12-31" in [a.text for a in fig.layout.annotations]
    no_targets = attainment_chart(reps_frame(empty_followup), ctx)
    assert "No targets overlap 2024Q4" in [a.text for a in no_targets.layout.annotations]


# -- narrative -------------------------------------------------------------------------------


def test_the_tier_narrative_states_concentration_migration_and_the_scorecard(results):
    # values 800, 150, 50 and four zeros: the top ceil(1.4) = 2 hold 950 of 1000; Gini: ascending
    # with weights 2i - 8 = -6 .. 6: (2 x 50 + 4 x 150 + 6 x 800) / (7 x 1000) = 0.7857
    sentences = tier_sentences(results["tiers"], results["tiers_before"], EN)
    assert sentences[0] == (
        "In the 12 months up to 2026-06-30, tier A (1 of 7 customers, 14%) brought 80% of customer value; the "
        "top 20% of customers brought 95% and the Gini coefficient is 0.79."
    )
    assert sentences[1] == (
        "Since the end of 2026Q1 (2026-03-31), customers moving up a tier: 2; moving down: 0 (0 of them out of "
        "A); new customers: 1."
    )
    assert sentences[2].startswith("Scorecard (4 dimensions): ")
    zh = tier_sentences(results["tiers"], results["tiers_before"], ZH)
    assert zh[0].startswith("截至 2026-06-30 的 12 个月内，A 类客户（7 个客户中的 1 个，占 14%）贡献了 80% 的客户价值")


def test_the_tier_narrative_compares_concentration_and_names_the_biggest_drop_from_a():
    current = {
        "customers": 10,
        "total_value": 1000.0,
        "window_months": 12,
        "top20_value_share": 0.7,
        "gini": 0.61,
        "tiers": [{"tier": "A", "customers": 2, "share_of_customers": 0.2, "share_of_value": 0.7}],
        "migration_from": {"period": "2026Q1", "as_of": "2026-03-31"},
        "migration": [{"from": "A", "to": "B", "customers": 1}, {"from": "A", "to": "C", "customers": 1}],
        "movers_up": 3,
        "movers_down": 2,
        "new_customers": 4,
        "movers": [
            {
                "customer_id": "X9",
                "name": None,
                "owner_rep_id": None,
                "from_tier": "A",
                "to_tier": "C",
                "direction": "down",
                "previous_value": 50.0,
                "value": 0.0,
            },
            {
                "customer_id": "X2",
                "name": "Big Co",
                "owner_rep_id": "R7",
                "from_tier": "A",
                "to_tier": "B",
                "direction": "down",
                "previous_value": 400.0,
                "value": 90.0,
            },
        ],
    }
    previous = {"customers": 8, "top20_value_share": 0.75, "gini": 0.654}
    sentences = tier_sentences(current, previous, EN)
    assert sentences[0].endswith("is 0.61 (2026Q1: top 20% 75%, Gini 0.65).")
    assert sentences[1] == (
        "Since the end of 2026Q1 (2026-03-31), customers moving up a tier: 3; moving down: 2 "
        "(2 of them out of A); new customers: 4."
    )
    assert sentences[2] == (
        "The largest customer to leave A is Big Co (X2), owner R7: now B, its value down from 400 to 90."
    )


def _one_drop(previous_value, value, name="Anna Snelling", customer_id="C1"):
    mover = {
        "customer_id": customer_id,
        "name": name,
        "owner_rep_id": "R1",
        "from_tier": "A",
        "to_tier": "B",
        "direction": "down",
        "previous_value": previous_value,
        "value": value,
    }
    return {
        "customers": 5,
        "total_value": 5000.0,
        "window_months": 12,
        "top20_value_share": 0.5,
        "gini": 0.4,
        "tiers": [{"tier": "A", "customers": 1, "share_of_customers": 0.2, "share_of_value": 0.5}],
        "migration_from": {"period": "2026Q1", "as_of": "2026-03-31"},
        "migration": [{"from": "A", "to": "B", "customers": 1}],
        "movers_up": 0,
        "movers_down": 1,
        "new_customers": 0,
        "movers": [mover],
    }


def test_a_customer_leaving_a_with_an_unchanged_value_is_explained_by_the_threshold():
    (sentence,) = [s for s in tier_sentences(_one_drop(1268.0, 1268.0), None, EN) if "leave A" in s]
    assert "down from" not in sentence
    assert sentence == (
        "The largest customer to leave A is Anna Snelling (C1), owner R1: now B although its value held at 1,268; "
        "the A threshold rose because other customers grew."
    )


def test_a_customer_leaving_a_while_its_value_rose_never_reads_as_down():
    (sentence,) = [s for s in tier_sentences(_one_drop(51852.0, 60671.0), None, EN) if "leave A" in s]
    assert "down from" not in sentence and "rose from 51,852 to 60,671" in sentence
    zh = next(s for s in tier_sentences(_one_drop(51852.0, 60671.0), None, ZH) if "跌出 A 类的最大客户" in s)
    assert "降至" not in zh and "升至" in zh


def test_a_customer_whose_id_is_its_name_is_named_once():
    (sentence,) = [
        s for s in tier_sentences(_one_drop(900.0, 100.0, "Anna Snelling", "Anna Snelling"), None, EN) if "leave A" in s
    ]
    assert "Anna Snelling (Anna Snelling)" not in sentence and sentence.count("Anna Snelling") == 1


def test_the_moved_down_table_explains_values_that_rose():
    from crmreview.report.sections.tiers import _movers_table

    html = _movers_table(_one_drop(51852.0, 60671.0), EN, "down", {})
    assert "thresholds move when other customers grow" in html
    assert "thresholds move" not in _movers_table(_one_drop(900.0, 100.0), EN, "down", {})


def test_no_movers_gives_no_drop_sentence():
    empty = {**_one_drop(1.0, 0.0), "movers": [], "movers_down": 0, "migration": []}
    assert not [s for s in tier_sentences(empty, None, EN) if "leave A" in s]


def test_the_tier_narrative_of_no_customers_or_no_value_is_one_plain_sentence():
    assert tier_sentences({"customers": 0}, None, EN) == [
        "No customers are known at 2026-06-30, so there are no tiers to show."
    ]
    zero = {
        "customers": 3,
        "total_value": 0.0,
        "gini": None,
        "window_months": 12,
        "migration": [],
        "movers_up": 0,
        "movers_down": 0,
        "new_customers": 0,
        "migration_from": {"period": "2026Q1", "as_of": "2026-03-31"},
    }
    said = tier_sentences(zero, None, ZH)
    assert said[0] == "截至 2026-06-30 的 3 个客户在此前 12 个月内均无价值，因此全部为 C 类。"
    assert said[1] == "自 2026Q1 末（2026-03-31）以来没有客户改变层级；新增客户 0 个。"
    with pytest.raises(TypeError, match="ctx must be a ChartContext"):
        tier_sentences(zero, None, "en")


def test_the_followup_narrative_states_compliance_the_weakest_rep_pool_conflicts_and_attainment(results):
    sentences = followup_sentences(results["followup"], results["followup_before"], EN)
    assert sentences == [
        (
            "As of 2026-06-30, 29% of customers (7 in all) had been followed up within their tier's cadence (A, "
            "every 7 days: 100%; B, every 14 days: 0%; C, every 30 days: 20%)."
        ),
        "Lowest A-tier compliance: Rep One (R1), 100% followed up in time (0 overdue of 1).",
        "Customers never contacted: 2.",
        "Owned customers without activity for more than 90 days, candidates to go back to the pool: 2.",
        "Customers worked by more than one rep in 2026Q2: 1.",
        (
            "Target attainment in 2026Q2: 50% (850 won of a 1,700 target); 1 of 3 reps reached their target; best "
            "team T2 (100%), lowest T1 (43%)."
        ),
    ]
    zh = followup_sentences(results["followup"], results["followup_before"], ZH)
    assert zh[0] == (
        "截至 2026-06-30，7 个客户中有 29% 在所属层级的跟进周期内得到跟进（A 类每 7 天：100%；B 类每 14 天：0%；"
        "C 类每 30 天：20%）。"
    )
    assert zh[-1].startswith("2026Q2 目标达成率 50%（目标 1,700，赢单 850）")


def test_the_followup_narrative_of_an_empty_period_says_so_and_that_there_are_no_targets():
    empty = {"customers": 0, "attainment": None, "reps": [], "teams": []}
    assert followup_sentences(empty, None, EN) == [
        "No customers are known at 2026-06-30, so there is no follow-up to check.",
        "No sales targets overlap 2026Q2.",
    ]


# -- sections --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_sections_hold_a_heading_with_sentences_the_charts_and_tables(case_db, lang):
    review = quarterly_review(str(case_db), period="2026Q2", lang=lang)
    tier_items = review.section("tiers")
    assert [type(i).__name__ for i in tier_items] == ["HtmlBlock", "Figure", "Figure", "Figure", "HtmlBlock"]
    heading = {"en": '<h2 id="section-tiers">Customer tiers</h2>', "zh": '<h2 id="section-tiers">客户分层</h2>'}[lang]
    assert tier_items[0].html.startswith(heading)
    assert {"en": "Scorecard tiers", "zh": "评分卡分层"}[lang] in tier_items[4].html
    follow_items = review.section("followup")
    assert [type(i).__name__ for i in follow_items] == ["HtmlBlock", "Figure", "Figure", "HtmlBlock"]
    assert "Foxtrot Four (F4)" in follow_items[3].html  # the largest pool candidate
    assert "Foxtrot One (F1)" in follow_items[3].html  # the ownership conflict
    for item in tier_items + follow_items:
        if isinstance(item, go.Figure):
            assert item.layout.title.subtitle.text.startswith("2026Q2")


def test_the_sections_of_an_empty_period_are_a_message_not_charts(case_db):
    review = quarterly_review(str(case_db), period="2024Q4", lang="en")
    tier_items = review.section("tiers")
    follow_items = review.section("followup")
    assert len(tier_items) == 1 and isinstance(tier_items[0], HtmlBlock)
    assert "No customers are known at 2024-12-31" in tier_items[0].html
    assert len(follow_items) == 1 and "no follow-up to check" in follow_items[0].html


def test_a_section_holds_aggregates_only_whatever_the_number_of_customers(case_db):
    review = quarterly_review(str(case_db), period="2026Q2", lang="en")
    for item in review.section("tiers") + review.section("followup"):
        if isinstance(item, go.Figure):
            points = sum(len(getattr(trace, "x", None) or []) for trace in item.data)
            assert points <= 101 + 2 + 3 * 10  # curve points, the diagonal, bars or heatmap columns


@pytest.mark.slow
def test_the_quarterly_review_renders_with_the_tier_and_followup_cells_appended(case_db, tmp_path, monkeypatch):
    from crmreview.report.render import network_references, render_report

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = nbformat.read(config.NOTEBOOKS_DIR / "quarterly_review.ipynb", as_version=4)
    existing = "".join("".join(cell.source) for cell in nb.cells)
    for name in ("tiers", "followup"):
        if f'review.section("{name}")' not in existing:
            nb.cells.append(nbformat.v4.new_code_cell(f'display(*review.section("{name}"))'))
    nbformat.write(nb, notebooks / "quarterly_review.ipynb")
    monkeypatch.setattr(config, "NOTEBOOKS_DIR", notebooks)
    for lang, words in (
        ("en", ("Customer tiers", "Follow-up and allocation", "Tier migration")),
        ("zh", ("客户分层", "客户跟进与分配", "客户层级迁移")),
    ):
        html_path = render_report(period="2026Q2", db=case_db, out_dir=tmp_path / "out", lang=lang, timeout=300)
        text = html_path.read_text(encoding="utf-8")
        for word in words:
            assert word in text or json.dumps(word)[1:-1] in text
        assert network_references(text) == []
