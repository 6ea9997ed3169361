"""The forecast chart (the contract, not pixels) and the "Will we make it?" section, built on
the hand-computed case tests/sql/forecast_q3 seen from 2026-09-10, in English and Chinese: the
numbers its sentences say are the ones its tables show."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from crmreview.charts import ChartContext, forecast_chart
from crmreview.importing import import_files
from crmreview.report.html import HtmlBlock
from crmreview.report.review import quarterly_review
from tests.paths import SQL_CASES

CASE = SQL_CASES / "forecast_q3"
TABLES = ("reps", "customers", "targets", "deals", "deal_stage_history")
EN = ChartContext("2026Q3", "2026Q2", "2026-09-10", "en")


@pytest.fixture(scope="module")
def case_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("forecast") / "w.duckdb"
    import_files([CASE / f"{table}.csv" for table in TABLES], db)
    return db


def _section(db: Path, lang: str) -> list:
    review = quarterly_review(str(db), period="2026Q3", as_of="2026-09-10", lang=lang)
    return review.section("forecast")


def _text(block) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(block)))


def _groups() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": ["R1", "R2"],
            "won_to_date": [700.0, 0.0],
            "expected_won": [1350.0, 50.0],
            "low": [700.0, 0.0],
            "high": [2300.0, 200.0],
            "target": [2000.0, None],
        }
    )


def test_the_forecast_chart_stacks_won_and_expected_with_range_and_target():
    fig = forecast_chart(_groups(), EN, labels={"R1": "Rep One (R1)"})
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text == "Won so far, expected and target per rep"
    assert fig.layout.title.subtitle.text == "2026Q3 · as of 2026-09-10"
    assert fig.layout.xaxis.title.text == "Amount" and fig.layout.yaxis.title.text == "Rep"
    won, expected, target = fig.data
    assert list(won.x) == [700, 0] and list(won.y) == ["Rep One (R1)", "R2"]
    assert list(expected.x) == [650, 50] and list(expected.base) == [700, 0]
    assert list(expected.error_x.array) == [950, 150] and list(expected.error_x.arrayminus) == [650, 50]
    assert list(target.x) == [2000, None]


def test_the_forecast_chart_refuses_a_frame_without_its_columns_and_a_missing_context():
    with pytest.raises(ValueError, match="no column 'target'"):
        forecast_chart(_groups().drop(columns="target"), EN)
    with pytest.raises(TypeError, match="ChartContext"):
        forecast_chart(_groups(), None)


def test_the_section_says_won_forecast_gap_and_backtest_and_shows_the_same_numbers(case_db):
    blocks = _section(case_db, "en")
    assert isinstance(blocks[0], HtmlBlock) and isinstance(blocks[1], go.Figure) and isinstance(blocks[2], HtmlBlock)
    said, shown = _text(blocks[0]), _text(blocks[2])
    assert "Will we make it?" in said
    assert "As of 2026-09-10, 700 has been won in 2026Q3 (1 deals), with 20 days left." in said
    assert "Expected by the end of 2026Q3: 1,400, likely between 700 and 2,300; 700 of it from 5 open deals" in said
    assert "Against a target of 2,920, that leaves a gap of 1,520 (48% of the target expected)." in said
    assert "The open pipeline covers 2.2× the 2,220 still to be won." in said
    # R1: 2000 - 1350 = 650; R2: 920 - 50 = 870, the largest
    assert "2 of 2 reps are expected to miss their target; the largest gap: Rep Two (R2), 870." in said
    assert "were off from the final won amount by 503% on average (MAPE, 2 forecasts" in said
    assert "⚠" in said  # the amount imputed for O4, the deal without basis
    # the per-rep table shows the numbers the sentences say
    assert "Rep One (R1) 700 2 1,350 700 – 2,300 2,000 650 1.2" in shown  # 1600 / 1300
    assert "Rep Two (R2) 0 3 50 0 – 200 920 870 3.5" in shown
    # the deals that matter most: O2 (2/3 of 600), O1 (1/4 of 1000), O4 (200, imputed)
    assert shown.index(" O2 ") < shown.index(" O1 ") < shown.index(" O4 ")
    assert "200 (mean won)" in shown and "67%" in shown


def test_the_section_in_chinese_says_the_same_numbers(case_db):
    blocks = _section(case_db, "zh")
    said, shown = _text(blocks[0]), _text(blocks[2])
    assert "能完成目标吗？" in said
    assert "截至 2026-09-10，2026Q3 已赢单 700（1 单），还剩 20 天。" in said
    assert "预计到 2026Q3 末赢单 1,400，大概率在 700 到 2,300 之间" in said
    assert "对照目标 2,920，预计还差 1,520" in said
    assert "差距最大的是 Rep Two (R2)，还差 870" in said
    assert "Rep Two (R2) 0 3 50 0 – 200 920 870 3.5" in shown and "平均赢单额" in shown


def test_a_shop_without_deals_gets_a_notice_instead_of_the_section(tmp_path):
    db = tmp_path / "w.duckdb"
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,order_date,amount\nA1,C1,2026-07-01,10\n", encoding="utf-8"
    )
    import_files([tmp_path / "orders.csv"], db)
    (notice,) = quarterly_review(str(db), period="2026Q3").section("forecast")
    assert "Will we make it?: not shown, because the imported data hold no deals" in _text(notice)


@pytest.mark.slow
def test_the_quarterly_review_renders_its_forecast_section(case_db, tmp_path):
    from crmreview.report.render import render_report
    from crmreview.report.review import REVIEW_SECTIONS, SCORECARD_SECTIONS

    assert "forecast" in REVIEW_SECTIONS and "forecast" in SCORECARD_SECTIONS
    for lang, words in (
        ("en", ("Will we make it?", "Expected by the end of 2026Q3: 1,400", "Forecast per rep")),
        ("zh", ("能完成目标吗？", "预计到 2026Q3 末赢单 1,400", "各销售预测")),
    ):
        html_path = render_report(
            period="2026Q3", as_of="2026-09-10", db=case_db, out_dir=tmp_path / "out", lang=lang, timeout=300
        )
        text = _text(html_path.read_text(encoding="utf-8"))
        for word in words:
            assert word in text, (lang, word)
