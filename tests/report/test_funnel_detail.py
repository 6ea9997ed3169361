"""Funnel detail: breakdown charts, time in stage, trend, narrative and the CLI's --by."""

import json

import pandas as pd
import plotly.graph_objects as go
import pytest

from crmreview.charts import ChartContext, conversion_heatmap, conversion_trend_chart, days_in_stage_chart
from crmreview.cli import main
from crmreview.metrics.funnel import funnel, groups_frame, stages_frame, trend
from crmreview.periods import parse_period
from crmreview.report.sections.funnel_detail import detail_sentences
from crmreview.warehouse import connect_read

EN = ChartContext("2026Q3", "2026Q2", "2026-09-30", "en")
ZH = ChartContext("2026Q3", "2026Q2", "2026-09-30", "zh")


@pytest.fixture(scope="module")
def fixture_db(funnel_q3_db):
    return funnel_q3_db


@pytest.fixture(scope="module")
def results(fixture_db):
    period = parse_period("2026Q3")
    with connect_read(fixture_db) as con:
        return {
            "all": funnel(con, period),
            "rep": funnel(con, period, by="rep"),
            "trend": trend(con, period, periods=4),
        }


def test_the_by_rep_result_repeats_the_funnel_per_rep_and_flags_small_groups(results):
    groups = {g["group"]: g for g in results["rep"]["groups"]}
    assert sorted(groups) == ["R1", "R2", "R3"]
    assert [s["reached"] for s in groups["R1"]["stages"]] == [4, 3, 2, 1]
    assert groups["R3"]["cohort_deals"] == 1 and groups["R3"]["small_group"] is True
    assert groups["R1"]["win_rate"] == pytest.approx(1 / 3)
    assert results["rep"]["by"] == "rep"


def test_the_trend_holds_one_row_per_period_and_stage_oldest_first(results):
    frame = results["trend"]
    # 2025Q4 and 2026Q1 come before the first deal (D6, created 2026-06-15): left out
    assert list(dict.fromkeys(frame["period"])) == ["2026Q2", "2026Q3"]
    q3 = frame[frame["period"] == "2026Q3"].set_index("stage")
    assert q3.loc["lead", "reached"] == 7 and q3.loc["lead", "conversion"] == pytest.approx(5 / 7)
    assert q3.loc["lead", "win_rate"] == 0.25
    q2 = frame[frame["period"] == "2026Q2"]
    assert set(q2["cohort_deals"]) == {1}  # D6


def test_lost_reasons_and_stale_deals_are_in_the_result(results):
    result = results["all"]
    assert result["lost_reasons"] == [
        {"lost_reason": "Price", "deals": 2, "share": pytest.approx(2 / 3)},
        {"lost_reason": "Competitor", "deals": 1, "share": pytest.approx(1 / 3)},
    ]
    assert (result["stale_deals"], result["stale_amount"]) == (2, 2300.0)
    assert [d["deal_id"] for d in result["stale_deal_list"]] == ["D4", "D3"]


def test_the_heatmap_has_a_row_per_group_a_column_per_step_and_marks_small_groups(results):
    fig = conversion_heatmap(groups_frame(results["rep"]), EN, by="rep", labels={"R1": "Ann (R1)"})
    assert isinstance(fig, go.Figure)
    heat = fig.data[0]
    assert list(heat.x) == ["Lead → Qualified", "Qualified → Proposal", "Proposal → Won"]
    assert list(heat.y) == ["Ann (R1) * (4)", "R2 * (2)", "R3 * (1)"]  # all under 20 deals
    assert heat.z[0][0] == pytest.approx(0.75) and heat.z[0][2] == pytest.approx(0.5)
    assert fig.layout.title.text == "Conversion by step and rep"
    assert fig.layout.title.subtitle.text == "2026Q3 · as of 2026-09-30"  # one period: no "vs"
    assert "fewer than 20 deals" in fig.layout.xaxis.title.text


def test_days_in_stage_boxes_come_from_quantiles_without_the_won_stage(results):
    fig = days_in_stage_chart(stages_frame(results["all"]), ZH)
    box = fig.data[0]
    assert list(box.x) == ["线索", "意向", "报价"]
    assert list(box.median) == [6.5, 23.0, 12.0]
    assert list(box.q1) == [1.75, 10.0, 11.0] and list(box.upperfence) == [10.0, 59.6, 23.2]
    assert fig.layout.title.text == "各阶段停留天数"
    assert "数据截至 2026-09-30" in fig.layout.title.subtitle.text


def test_the_trend_chart_has_a_line_per_step_and_the_win_rate(results):
    fig = conversion_trend_chart(results["trend"], EN)
    assert [trace.name for trace in fig.data] == [
        "Lead → Qualified",
        "Qualified → Proposal",
        "Proposal → Won",
        "Win rate (deals closed)",
    ]
    assert list(fig.data[-1].x) == ["2026Q2", "2026Q3"]  # the trend starts with the data
    assert fig.layout.yaxis.tickformat == ".0%"


@pytest.mark.parametrize(
    ("chart", "frame", "column"),
    [
        (conversion_heatmap, pd.DataFrame({"group": [], "stage": []}), "small_group"),
        (days_in_stage_chart, pd.DataFrame({"stage": []}), "visits"),
        (conversion_trend_chart, pd.DataFrame({"period": [], "stage": [], "conversion": []}), "win_rate"),
    ],
)
def test_a_detail_chart_names_the_missing_column(chart, frame, column):
    with pytest.raises(ValueError, match=repr(column)):
        chart(frame, EN)


def test_the_detail_sentences_name_the_top_reason_the_channels_and_stale_deals(results):
    by_channel = {
        "groups": [
            {"group": "Referral", "small_group": False, "stages": [{"share_of_first": 1.0}, {"share_of_first": 0.3}]},
            {"group": "Cold call", "small_group": False, "stages": [{"share_of_first": 1.0}, {"share_of_first": 0.05}]},
            {"group": "Tiny", "small_group": True, "stages": [{"share_of_first": 1.0}, {"share_of_first": 0.9}]},
        ]
    }
    en = detail_sentences(results["all"], by_channel, "en", not_set="(not set)")
    assert en == [
        'The most common reason for losing a deal in 2026Q3 was "Price" (67% of 3 lost deals).',
        "Of the deals created in 2026Q3, those from Referral were won 30% of the time, those from Cold call 5%.",
        "2 open deals worth 2,300 in total have had no stage change for 30 days or more as of 2026-09-30.",
    ]
    zh = detail_sentences(results["all"], by_channel, "zh", not_set="（未填写）")
    assert zh[0] == '2026Q3 最常见的输单原因是"Price"（占 3 个输单的 67%）。'


def test_lost_deals_without_any_recorded_reason_say_so_instead_of_naming_not_set():
    current = {
        "period": {"label": "2026Q3"},
        "lost_reasons": [{"lost_reason": None, "deals": 12, "share": 1.0}],
        "stale_deals": 0,
    }
    en = detail_sentences(current, {"groups": []}, "en", not_set="(not set)")
    assert en[0] == "No lost reason is recorded for the 12 deals lost in 2026Q3."
    assert "(not set)" not in " ".join(en) and "100%" not in " ".join(en)
    mixed = {
        **current,
        "lost_reasons": [
            {"lost_reason": None, "deals": 8, "share": 0.8},
            {"lost_reason": "Price", "deals": 2, "share": 0.2},
        ],
    }
    assert detail_sentences(mixed, {"groups": []}, "en", not_set="(not set)")[0] == (
        'The most common reason for losing a deal in 2026Q3 was "Price" (20% of 10 lost deals).'
    )


def test_metrics_funnel_by_rep_json_repeats_the_design_keys_per_group(fixture_db, capsys):
    assert (
        main(
            [
                "metrics",
                "funnel",
                "--period",
                "2026Q3",
                "--by",
                "rep",
                "--compare",
                "prev",
                "--format",
                "json",
                "--db",
                str(fixture_db),
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["by"] == "rep"
    for group in result["groups"]:
        assert {
            "group",
            "small_group",
            "stages",
            "win_rate",
            "avg_won_amount",
            "median_cycle_days",
            "pipeline_velocity",
        } <= set(group)
        assert {
            "stage",
            "reached",
            "conversion",
            "share_of_first",
            "lost_at",
            "open_at",
            "median_days_in_stage",
        } <= set(group["stages"][0])
    assert result["change"]["cohort_deals"] == 7 - 1
    # 2026Q2 holds D6 only: as of 06-30 it is open at lead (its qualified row is 07-02)
    lead = result["change"]["stages"][0]
    assert (lead["stage"], lead["reached"], lead["lost_at"], lead["open_at"], lead["visits"]) == ("lead", 6, 1, 0, 5)


def test_an_unsupported_breakdown_is_a_clear_error(fixture_db):
    from crmreview import metrics

    with (
        connect_read(fixture_db) as con,
        pytest.raises(metrics.MetricError, match="cannot be broken down by 'product'"),
    ):
        metrics.compute(con, "funnel", parse_period("2026Q3"), by="product")
