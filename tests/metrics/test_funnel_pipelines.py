"""The funnel draws only the stages its data can reach, per pipeline (DESIGN "Canonical model").

Data: tests/sql/funnel_pipelines (pipeline A uses every stage, pipeline B has no proposal).
"""

from __future__ import annotations

import pytest

from crmreview.metrics import MetricError, compute
from crmreview.metrics.funnel import pipeline_stages
from crmreview.periods import parse_period
from tests.metrics.test_sql_cases import CASES_DIR, _load_inputs

Q3 = parse_period("2026Q3")


@pytest.fixture
def two_pipelines(empty_warehouse):
    _load_inputs(empty_warehouse, CASES_DIR / "funnel_pipelines")
    return empty_warehouse


def _stages(obj):
    return [(s["stage"], s["reached"]) for s in obj["stages"]]


def test_each_pipeline_shows_the_stages_its_deals_use_and_won(two_pipelines):
    assert pipeline_stages(two_pipelines) == {
        "A": ("lead", "qualified", "proposal", "won"),
        "B": ("lead", "qualified", "won"),
    }


def test_one_pipeline_without_proposal_has_no_proposal_step_and_warns(two_pipelines):
    result = compute(two_pipelines, "funnel", Q3, pipeline="B")
    assert _stages(result) == [("lead", 3), ("qualified", 2), ("won", 1)]
    assert [s["conversion"] for s in result["stages"]] == [2 / 3, 1 / 2, None]
    assert result["unused_stages"] == ["proposal"]
    unused = [w for w in result["warnings"] if w["code"] == "stage_unused"]
    assert [w["params"] for w in unused] == [{"stages": "proposal"}]
    assert "proposal" in unused[0]["message"]
    assert (result["won"], result["lost"], result["open_deals"]) == (1, 1, 1)


def test_all_pipelines_together_show_every_stage_some_pipeline_uses_without_warning(two_pipelines):
    result = compute(two_pipelines, "funnel", Q3)
    # the stages any pipeline uses; a won deal passed them all: qualified A1 A3 B1 B2,
    # proposal A1 B2, won A1 B2 (which is why pipelines that differ are read --by pipeline)
    assert _stages(result) == [("lead", 6), ("qualified", 4), ("proposal", 2), ("won", 2)]
    assert result["unused_stages"] == []
    assert "stage_unused" not in {w["code"] for w in result["warnings"]}


def test_by_pipeline_gives_each_group_its_own_pipelines_stages(two_pipelines):
    result = compute(two_pipelines, "funnel", Q3, by="pipeline")
    groups = {g["group"]: _stages(g) for g in result["groups"]}
    assert groups == {
        "A": [("lead", 3), ("qualified", 2), ("proposal", 1), ("won", 1)],
        "B": [("lead", 3), ("qualified", 2), ("won", 1)],
    }
    assert [(g["group"], g["win_rate"], g["pipeline_velocity"]) for g in result["groups"]] == [
        ("A", 0.5, 25.0),
        ("B", 0.5, 20.0),
    ]


def test_deals_without_a_pipeline_form_the_default_pipeline(two_pipelines):
    two_pipelines.execute(
        "insert into deals (deal_id, stage, outcome, created_at) values ('D1', 'lead', 'open', '2026-07-09')"
    )
    assert pipeline_stages(two_pipelines)[""] == ("lead", "won")
    result = compute(two_pipelines, "funnel", Q3, pipeline="")
    assert _stages(result) == [("lead", 1), ("won", 0)]
    assert result["unused_stages"] == ["qualified", "proposal"]


def test_an_unknown_pipeline_is_an_error_listing_the_pipelines(two_pipelines):
    with pytest.raises(MetricError, match=r"funnel pipeline 'C' is not in the data; its pipelines are: 'A', 'B'"):
        compute(two_pipelines, "funnel", Q3, pipeline="C")


def test_an_empty_warehouse_shows_the_configured_stages_without_a_stage_warning(empty_warehouse):
    result = compute(empty_warehouse, "funnel", Q3)
    assert [s["stage"] for s in result["stages"]] == ["lead", "qualified", "proposal", "won"]
    assert result["unused_stages"] == []
    assert "stage_unused" not in {w["code"] for w in result["warnings"]}
