import json
from pathlib import Path

import pytest

from crmreview.cli import build_parser, main

FIXTURE = Path(__file__).parent / "sql" / "funnel_q3"
SUBCOMMANDS = ["demo", "generate", "import", "metrics", "report", "upgrade", "check", "explore", "targets"]


@pytest.mark.parametrize("command", [[], *[[c] for c in SUBCOMMANDS]])
def test_help_explains_every_option(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    parser = build_parser()
    assert out.startswith("usage: crm-review")
    if not command:
        for name in SUBCOMMANDS:
            assert name in out
        return
    sub = parser._subparsers._group_actions[0].choices[command[0]]
    for action in sub._actions:
        if action.option_strings and action.dest != "help":
            assert action.help, f"{command[0]} {action.option_strings} has no help"
            assert action.option_strings[-1] in out


@pytest.fixture
def fixture_db(tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    assert main(["import", str(FIXTURE / "deals.csv"), str(FIXTURE / "deal_stage_history.csv"), "--db", str(db)]) == 0
    capsys.readouterr()
    return db


def test_metrics_funnel_json_uses_the_design_keys_and_hand_computed_numbers(fixture_db, capsys):
    assert (
        main(
            [
                "metrics",
                "funnel",
                "--period",
                "2026Q3",
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
    assert result["period"] == {
        "label": "2026Q3",
        "kind": "quarter",
        "start": "2026-07-01",
        "end": "2026-09-30",
        "as_of": "2026-09-30",
    }
    stages = {s["stage"]: s for s in result["stages"]}
    assert [s["stage"] for s in result["stages"]] == ["lead", "qualified", "proposal", "won"]
    assert [stages[s]["reached"] for s in stages] == [7, 5, 3, 1]
    assert [stages[s]["lost_at"] for s in stages] == [1, 0, 1, 0]
    assert [stages[s]["open_at"] for s in stages] == [1, 2, 1, 0]
    assert stages["lead"]["conversion"] == pytest.approx(5 / 7)
    assert stages["qualified"]["conversion"] == pytest.approx(0.6)
    assert stages["qualified"]["leakage_rate"] == pytest.approx(0.4)
    assert stages["proposal"]["share_of_first"] == pytest.approx(3 / 7)
    assert stages["won"]["conversion"] is None
    assert stages["lead"]["median_days_in_stage"] == 6.5
    assert result["biggest_leak"] == "lead"
    assert (result["cohort_deals"], result["excluded_no_created_at"]) == (7, 1)
    assert (result["skipped_stage_deals"], result["backward_move_deals"]) == (1, 1)
    assert result["win_rate"] == 0.25 and result["avg_won_amount"] == 1000.0
    assert result["median_cycle_days"] == 31.0
    assert result["pipeline_velocity"] == pytest.approx(4 * 0.25 * 1000 / 31)
    assert result["comparison"]["period"]["label"] == "2026Q2"
    assert result["comparison"]["cohort_deals"] == 1  # D6, created 2026-06-15


def test_metrics_funnel_csv_has_one_row_per_stage(fixture_db, capsys):
    assert main(["metrics", "funnel", "--period", "2026Q3", "--format", "csv", "--db", str(fixture_db)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("period,stage,reached,conversion")
    assert [line.split(",")[1:3] for line in lines[1:]] == [
        ["lead", "7"],
        ["qualified", "5"],
        ["proposal", "3"],
        ["won", "1"],
    ]


def test_strict_rule_counts_only_deals_with_every_stage_in_history(fixture_db, capsys):
    assert (
        main(
            ["metrics", "funnel", "--period", "2026Q3", "--rule", "strict", "--format", "json", "--db", str(fixture_db)]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["rule"] == "strict"
    assert [s["reached"] for s in result["stages"]] == [6, 3, 2, 1]


def test_an_invalid_period_is_a_clear_error(fixture_db, capsys):
    assert main(["metrics", "funnel", "--period", "Q3", "--db", str(fixture_db)]) == 2
    err = capsys.readouterr().err
    assert "invalid period 'Q3'" in err and "last-quarter" in err


def test_import_show_rejects_lists_refused_rows(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,order_date,amount\nO1,C1,2026-07-01,10\nO2,,2026-07-02,5\n")
    assert main(["import", str(path), "--db", str(tmp_path / "w.duckdb"), "--show-rejects"]) == 0
    out = capsys.readouterr().out
    assert f"{path}: 1 row rejected\n" in out
    assert "       1  customer_id: missing required value\n" in out
    assert "    line 3, customer_id: (empty): missing required value\n" in out


def test_a_settings_file_adds_a_stage_for_import_and_metrics(tmp_path, capsys):
    settings = tmp_path / "team.yml"
    settings.write_text("stages: [lead, qualified, proposal, negotiation, won]\n", encoding="utf-8")
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "deal_id,stage,outcome,created_at\nN1,negotiation,open,2026-07-02\nN2,lead,open,2026-07-03\n",
        encoding="utf-8",
    )
    history = tmp_path / "deal_stage_history.csv"
    history.write_text(
        "deal_id,stage,entered_at\nN1,lead,2026-07-02\nN1,negotiation,2026-07-20\nN2,lead,2026-07-03\n",
        encoding="utf-8",
    )
    default_db, team_db = tmp_path / "default.duckdb", tmp_path / "team.duckdb"
    # without the settings file the stage is not in the funnel: the import fails, naming the key
    assert main(["import", str(deals), str(history), "--db", str(default_db)]) == 2
    assert "'stages' key of the settings file" in capsys.readouterr().err
    assert not default_db.exists()
    assert main(["import", str(deals), str(history), "--db", str(team_db), "--config", str(settings)]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "metrics",
                "funnel",
                "--period",
                "2026Q3",
                "--format",
                "json",
                "--db",
                str(team_db),
                "--config",
                str(settings),
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    # the data use lead and negotiation only: qualified and proposal are not drawn
    assert [(s["stage"], s["reached"]) for s in result["stages"]] == [("lead", 2), ("negotiation", 1), ("won", 0)]
    assert result["unused_stages"] == ["qualified", "proposal"]


def test_a_bad_settings_file_is_a_clear_error(tmp_path, fixture_db, capsys):
    settings = tmp_path / "bad.yml"
    settings.write_text("stagez: [lead, won]\n", encoding="utf-8")
    assert main(["metrics", "funnel", "--period", "2026Q3", "--db", str(fixture_db), "--config", str(settings)]) == 2
    err = capsys.readouterr().err
    assert "bad.yml: unknown setting stagez" in err and "stages" in err


def test_metrics_help_lists_every_registered_metric_with_what_it_takes(capsys):
    from crmreview.metrics import REGISTRY

    with pytest.raises(SystemExit):
        main(["metrics", "--help"])
    out = capsys.readouterr().out
    for entry in REGISTRY.values():
        assert f"  {entry.name} " in out
    assert (
        "(--by rep|team|channel|region|tier|industry|size_band|pipeline|attr:NAME|tag:NAME; "
        "--rule furthest|strict; --pipeline NAME)" in " ".join(out.split())
    )
    # tiers: no breakdown by tier
    assert "(--by rep|team|channel|region|industry|size_band|attr:NAME|tag:NAME)" in " ".join(out.split())
    assert "(no --by; no --compare)" in out  # quality
    assert "funnel only; default furthest" in " ".join(out.split())  # --rule, wrapped to the terminal


def test_an_option_given_to_a_metric_that_does_not_take_it_is_a_clear_error(fixture_db, capsys):
    assert main(["metrics", "tiers", "--period", "2026Q3", "--rule", "strict", "--db", str(fixture_db)]) == 2
    assert capsys.readouterr().err == "crm-review: error: --rule applies to funnel, not to tiers\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--by", "rep"], "metric 'quality' has no breakdowns; leave out --by"),
        (["--compare", "prev"], "metric 'quality' takes no --compare: it has no comparison period"),
    ],
)
def test_quality_with_a_breakdown_or_a_comparison_is_a_clear_error(fixture_db, capsys, extra, message):
    assert main(["metrics", "quality", "--period", "2026Q3", *extra, "--db", str(fixture_db)]) == 2
    assert capsys.readouterr().err == f"crm-review: error: {message}\n"


def test_metrics_quality_reports_the_fixture_import_in_json_csv_and_table(fixture_db, capsys):
    assert main(["metrics", "quality", "--period", "2026Q3", "--format", "json", "--db", str(fixture_db)]) == 0
    result = json.loads(capsys.readouterr().out)
    deals = {e["column"]: e for e in result["completeness"] if e["table"] == "deals"}
    assert (deals["deal_id"]["rows"], deals["created_at"]["non_null"]) == (9, 8)  # D7 has no created_at
    assert [(e["table"], e["rows_loaded"], e["rows_rejected"]) for e in result["imports"]] == [
        ("deals", 9, 0),
        ("deal_stage_history", 20, 0),
    ]
    assert result["rejects"] == [] and result["rejected_rows"] == 0

    assert main(["metrics", "quality", "--period", "2026Q3", "--format", "csv", "--db", str(fixture_db)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == (
        "period,table,column,rows,non_null,share_non_null,first_date,last_date,rows_in_period,rows_after_as_of"
    )
    assert len(lines) == 1 + len(result["completeness"])
    # created_at from D6 (2026-06-15) to D8 (2026-09-30); in 2026Q3 all but D6 and D7
    assert "2026Q3,deals,created_at,9,8,0.8888888888888888,2026-06-15,2026-09-30,7,0" in lines

    assert main(["metrics", "quality", "--period", "2026Q3", "--db", str(fixture_db)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Data quality of the warehouse, as of 2026-09-30")
    assert "rejected rows: 0" in out and "duplicate ids: none" in out
