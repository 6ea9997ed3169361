"""The tiers metric and its settings, on the hand-computed case tests/sql/tiers_ties_zero.

Every number below is worked out in that case's case.yaml (values, ABC with a tie on the A/B
boundary and zero-value customers, scorecard with a score on the cut-off, migration).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from crmreview import metrics
from crmreview.cli import main
from crmreview.config import DEFAULT_SETTINGS, Settings, SettingsError, check_scorecard, load_settings
from crmreview.importing import import_files
from crmreview.metrics import MetricError, change
from crmreview.metrics.tiers import curve_frame, migration_frame, movers_frame, rows, summary, tiers, tiers_frame
from crmreview.periods import parse_period
from crmreview.warehouse import connect_read
from tests.paths import SQL_CASES

CASE = SQL_CASES / "tiers_ties_zero"
#: the case's comparison as-of date is 2025-12-31: the range 2026-01-01..2026-06-30 has it as "prev"
PERIOD = parse_period("2026-01-01..2026-06-30")
CASE_SCORECARD = {
    "dimensions": [
        {"name": "amount", "measure": "amount", "weight": 2},
        {"name": "frequency", "measure": "frequency", "weight": 1, "bands": [[1, 50], [2, 100]]},
        {"name": "recency", "measure": "recency", "weight": 1, "bands": [[30, 100], [90, 60], [365, 20]]},
        {"name": "size", "field": "size_band", "weight": 1, "default_points": 10, "points": {"big": 100, "small": 40}},
    ],
    "cutoffs": {"A": 58, "B": 40},
}
SETTINGS = Settings(scorecard=CASE_SCORECARD)


@pytest.fixture(scope="module")
def case_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("tiers") / "w.duckdb"
    import_files([CASE / "customers.csv", CASE / "orders.csv"], db)
    return db


@pytest.fixture(scope="module")
def result(case_db) -> dict:
    with connect_read(case_db) as con:
        return tiers(con, PERIOD, settings=SETTINGS, by="rep")


def test_the_tiers_are_the_hand_computed_abc_split_with_the_tie_across_the_a_b_boundary(result):
    assert result["as_of"] == "2026-06-30"
    assert (result["customers"], result["total_value"], result["value_basis"]) == (6, 100.0, "orders")
    assert result["tiers"] == [
        {
            "tier": "A",
            "customers": 2,
            "share_of_customers": pytest.approx(1 / 3),
            "value": 80.0,
            "share_of_value": pytest.approx(0.8),
        },
        {
            "tier": "B",
            "customers": 2,
            "share_of_customers": pytest.approx(1 / 3),
            "value": 20.0,
            "share_of_value": pytest.approx(0.2),
        },
        {"tier": "C", "customers": 2, "share_of_customers": pytest.approx(1 / 3), "value": 0.0, "share_of_value": 0.0},
    ]
    assert result["top20_value_share"] == pytest.approx(0.8)
    assert result["gini"] == pytest.approx(380 / 600)
    assert (result["a_share"], result["b_share"], result["window_months"]) == (0.8, 0.95, 12)


def test_the_pareto_curve_has_one_point_per_distinct_percent_of_customers(result):
    # 6 customers: ceil(p x 6 / 100) for p = 0..100 gives k = 0..6; cumulative 70, 80, 90, 100, 100, 100
    curve = curve_frame(result)
    assert curve["customers"].tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert curve["share_of_customers"].tolist() == pytest.approx([k / 6 for k in range(7)])
    assert curve["share_of_value"].tolist() == pytest.approx([0, 0.7, 0.8, 0.9, 1, 1, 1])


def test_migration_counts_every_cell_and_lists_the_movers_down_first(result):
    assert result["migration_from"] == {"period": "2025-07-04..2025-12-31", "as_of": "2025-12-31"}
    cells = {(c["from"], c["to"]): c["customers"] for c in result["migration"]}
    assert len(cells) == 12
    assert {k: v for k, v in cells.items() if v} == {
        ("A", "A"): 1,
        ("A", "C"): 1,
        ("C", "A"): 1,
        ("C", "B"): 1,
        ("C", "C"): 1,
        ("new", "B"): 1,
    }
    assert (result["movers_up"], result["movers_down"], result["new_customers"]) == (2, 1, 1)
    movers = movers_frame(result)
    assert movers[["customer_id", "from_tier", "to_tier", "direction"]].values.tolist() == [
        ["K6", "A", "C", "down"],
        ["K1", "C", "A", "up"],
        ["K3", "C", "B", "up"],
    ]
    assert movers["previous_value"].tolist() == [300.0, 0.0, 0.0]
    assert migration_frame(result).set_index(["from", "to"]).loc[("A", "A"), "previous_value"] == 510.0


def test_the_scorecard_gives_the_hand_computed_tiers_and_agreement_with_abc(result):
    card = result["scorecard"]
    assert card["cutoffs"] == {"A": 58, "B": 40}
    assert [d["name"] for d in card["dimensions"]] == ["amount", "frequency", "recency", "size"]
    frame = tiers_frame(result, method="scorecard")
    assert frame["customers"].tolist() == [2, 1, 3]
    assert frame["value"].tolist() == [80.0, 10.0, 10.0]
    assert [t["mean_score"] for t in card["tiers"]] == pytest.approx([79, 48, 62 / 3])
    assert card["agreement_with_abc"] == pytest.approx(4 / 6)


def test_by_rep_repeats_distribution_and_concentration_per_owner(result):
    groups = {g["group"]: g for g in result["groups"]}
    assert list(groups) == ["R1", "R2", "R3"]
    assert [t["customers"] for t in groups["R1"]["tiers"]] == [2, 0, 1]
    assert groups["R1"]["top20_value_share"] == pytest.approx(0.875)
    assert groups["R1"]["gini"] == pytest.approx(140 / 240)
    assert (groups["R2"]["gini"], groups["R2"]["top20_value_share"]) == (0.0, 0.5)
    assert groups["R3"]["customers"] == 1 and groups["R3"]["gini"] is None
    assert groups["R3"]["tiers"][2]["share_of_value"] is None
    assert [t["customers"] for t in groups["R1"]["scorecard_tiers"]] == [1, 0, 2]  # K1 A; K2, K6 C


def test_an_empty_period_gives_zero_counts_and_no_rates(case_db):
    with connect_read(case_db) as con:
        empty = tiers(con, parse_period("2024Q1"), settings=SETTINGS)
    assert empty["customers"] == 0 and empty["total_value"] == 0.0
    assert [(t["customers"], t["share_of_customers"], t["share_of_value"]) for t in empty["tiers"]] == [
        (0, None, None)
    ] * 3
    assert (empty["top20_value_share"], empty["gini"], empty["pareto_curve"]) == (None, None, [])
    assert sum(c["customers"] for c in empty["migration"]) == 0 and empty["movers"] == []
    assert empty["scorecard"]["agreement_with_abc"] is None


def test_a_customer_known_only_through_its_first_order_joins_the_universe_then(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "customers.csv").write_text("customer_id,name\nN1,No Date\nN2,Never Ordered\n", encoding="utf-8")
    (folder / "orders.csv").write_text(
        "order_id,customer_id,order_date,amount\nX1,N1,2026-05-01,10\n", encoding="utf-8"
    )
    db = tmp_path / "w.duckdb"
    import_files([folder / "customers.csv", folder / "orders.csv"], db)
    with connect_read(db) as con:
        before = tiers(con, parse_period("2026-04"))
        after = tiers(con, parse_period("2026-05"))
    assert (before["customers"], after["customers"]) == (0, 1)
    assert after["tiers"][0]["customers"] == 1  # N1 alone holds all value: A
    assert after["new_customers"] == 1


def test_compare_through_the_registry_takes_the_migration_from_the_comparison_period(case_db):
    with connect_read(case_db) as con:
        result = metrics.compute(con, "tiers", parse_period("2026Q2"), compare="yoy", settings=SETTINGS)
    assert result["migration_from"] == {"period": "2025Q2", "as_of": "2025-06-30"}
    assert result["comparison"]["period"]["label"] == "2025Q2"
    delta = result["change"]
    assert delta["customers"] == 6 - 5  # K4 (created 2026-03-01) is the one not known at 2025-06-30
    assert "movers" not in delta  # a list of customers has no change
    assert {(c["from"], c["to"]) for c in delta["migration"]} >= {("A", "A"), ("new", "B")}


def test_unknown_breakdowns_and_list_limits_are_refused(case_db):
    with connect_read(case_db) as con:
        with pytest.raises(ValueError, match="tiers breakdown 'tier'"):
            tiers(con, PERIOD, by="tier")
        with pytest.raises(MetricError, match="cannot be broken down by 'tier'"):
            metrics.compute(con, "tiers", PERIOD, by="tier")
        with pytest.raises(ValueError, match="list_limit"):
            tiers(con, PERIOD, list_limit=-1)


def test_rows_and_summary_give_one_row_per_period_group_and_tier(result):
    frame = rows(result)
    assert frame.columns.tolist() == [
        "period",
        "rep",
        "tier",
        "customers",
        "share_of_customers",
        "value",
        "share_of_value",
    ]
    assert len(frame) == 3 * 4
    assert frame.iloc[0][["rep", "tier", "customers"]].tolist() == ["(all)", "A", 2]
    lines = summary(result)
    assert "A to 80%, B to 95%" in lines[0]
    assert "6 customers" in lines[1] and "Gini 0.633" in lines[1] and "1 moved down" in lines[1]


def test_the_cli_prints_the_design_keys_as_json_and_a_table(case_db, capsys, tmp_path):
    config = tmp_path / "crm-review.yml"
    config.write_text(yaml.safe_dump({"scorecard": CASE_SCORECARD}), encoding="utf-8")
    args = ["metrics", "tiers", "--period", "2026-01-01..2026-06-30", "--db", str(case_db)]
    assert main([*args, "--format", "json", "--config", str(config)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"tiers", "top20_value_share", "gini", "migration", "pareto_curve", "movers", "scorecard"} <= set(out)
    assert out["tiers"][0] == {
        "tier": "A",
        "customers": 2,
        "share_of_customers": pytest.approx(1 / 3),
        "value": 80.0,
        "share_of_value": 0.8,
    }
    assert {"from": "new", "to": "B", "customers": 1, "value": 10.0, "previous_value": 0.0} in out["migration"]
    assert out["scorecard"]["agreement_with_abc"] == pytest.approx(4 / 6)
    assert main([*args, "--format", "csv", "--by", "team"]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0] == "period,team,tier,customers,share_of_customers,value,share_of_value"
    assert main(args) == 0
    assert "Customer tiers 2026-01-01..2026-06-30 as of 2026-06-30" in capsys.readouterr().out


def test_change_leaves_out_lists_whose_rows_cannot_be_told_apart():
    current = {"rows": [{"tier": "A", "n": 3}, {"tier": "A", "n": 5}], "cells": [{"from": "A", "to": "B", "n": 2}]}
    previous = {
        "rows": [{"tier": "A", "n": 1}],
        "cells": [{"from": "A", "to": "B", "n": 1}, {"from": "A", "to": "C", "n": 4}],
    }
    assert change(current, previous) == {"cells": [{"from": "A", "to": "B", "n": 1}]}


# -- settings ------------------------------------------------------------------------------


def test_the_default_scorecard_is_the_four_dimension_evaluation():
    card = DEFAULT_SETTINGS.scorecard
    assert [d["name"] for d in card["dimensions"]] == ["amount", "frequency", "recency", "size"]
    assert sum(d["weight"] for d in card["dimensions"]) == pytest.approx(1.0)
    assert card["cutoffs"] == {"A": 80, "B": 60}
    check_scorecard(card)


@pytest.mark.parametrize(
    ("change_to", "message"),
    [
        ({"cutoffs": {"A": 50, "B": 60}}, "cutoffs needs numbers A > B"),
        ({"cutoffs": {"A": 80}}, "cutoffs needs numbers A > B"),
        ({"dimensions": []}, "non-empty list"),
        ({"dimensions": [{"name": "x", "measure": "margin", "weight": 1}]}, "measure 'margin' is not one of"),
        ({"dimensions": [{"name": "x", "field": "owner_rep_id", "weight": 1, "points": {}}]}, "field 'owner_rep_id'"),
        ({"dimensions": [{"name": "x", "measure": "amount", "field": "region", "weight": 1}]}, "exactly one of"),
        ({"dimensions": [{"name": "x", "measure": "amount", "weight": 0}]}, "weight > 0"),
        ({"dimensions": [{"name": "x", "measure": "amount", "weight": 1, "bands": [[1, 2, 3]]}]}, "bound, points"),
        ({"dimensions": [{"name": "x", "measure": "amount", "weight": 1, "bands": [[1, 2], [1, 5]]}]}, "same bound"),
        ({"dimensions": [{"name": "x", "measure": "amount", "weight": 1, "points": {"a": 1}}]}, "a measure uses bands"),
        ({"dimensions": [{"name": "x", "field": "region", "weight": 1}]}, "points must map"),
        (
            {
                "dimensions": [
                    {"name": "x", "measure": "amount", "weight": 1},
                    {"name": "x", "measure": "recency", "weight": 1},
                ]
            },
            "unique non-empty name",
        ),
        ({"dimensions": [{"name": "x", "measure": "amount", "weight": 1, "colour": "red"}]}, "unknown key"),
        ({"extra": 1}, "unknown key"),
    ],
)
def test_a_malformed_scorecard_is_refused_with_a_message_naming_the_problem(change_to, message):
    with pytest.raises(ValueError, match=message):
        Settings(scorecard={**DEFAULT_SETTINGS.scorecard, **change_to})


def test_a_settings_file_may_change_only_the_cut_offs_and_keeps_the_dimensions(tmp_path):
    path = tmp_path / "s.yml"
    path.write_text("scorecard:\n  cutoffs: {A: 70, B: 45}\nfollowup_cadence_days: {A: 5}\n", encoding="utf-8")
    settings = load_settings(path)
    assert settings.scorecard["cutoffs"] == {"A": 70, "B": 45}
    assert settings.scorecard["dimensions"] == DEFAULT_SETTINGS.scorecard["dimensions"]
    assert settings.followup_cadence_days == {"A": 5, "B": 14, "C": 30}
    path.write_text("followup_cadence_days: {A: 0}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="followup_cadence_days"):
        load_settings(path)
    path.write_text("pool_days: -3\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="pool_days"):
        load_settings(path)


def test_the_movers_list_keeps_the_largest_of_each_direction(case_db):
    with connect_read(case_db) as con:
        short = tiers(con, PERIOD, settings=SETTINGS, list_limit=1)
    assert [(m["customer_id"], m["direction"]) for m in short["movers"]] == [("K6", "down"), ("K1", "up")]
    assert (short["movers_up"], short["movers_down"]) == (2, 1)  # all are still counted
