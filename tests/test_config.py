"""The settings file: every key declared (crmreview.settings_schema), and errors that name
the file, the key and its line, the value and what was expected."""

import dataclasses

import pytest

from crmreview.cli import main
from crmreview.config import DEFAULT_SETTINGS, Settings, SettingsError, load_settings
from crmreview.settings_schema import SettingsFile


def _settings_file(tmp_path, text):
    path = tmp_path / "crm-review.yml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path, text):
    with pytest.raises(SettingsError) as info:
        load_settings(_settings_file(tmp_path, text))
    return str(info.value)


def test_every_field_of_settings_is_a_declared_key_of_the_settings_file():
    assert list(SettingsFile.model_fields) == [f.name for f in dataclasses.fields(Settings)]


def test_a_valid_settings_file_loads_as_before(tmp_path):
    path = _settings_file(
        tmp_path,
        "stages: [lead, qualified, proposal, negotiation, won]\n"
        "stage_labels: {negotiation: {en: Talks}}\n"
        "stale_days: 45\n"
        "min_group_deals: 10\n"
        "tier_a_share: 0.7\n"
        "tier_b_share: 1\n"
        "value_window_months: 6\n"
        "followup_cadence_days: {A: 5}\n"
        "pool_days: 60\n"
        "scorecard:\n"
        "  cutoffs: {A: 70, B: 45}\n"
        "new_days: 30\n"
        "active_days: 60\n"
        "churn_days: 120\n"
        "risk_gap_factor: 2\n",
    )
    assert load_settings(path) == dataclasses.replace(
        DEFAULT_SETTINGS,
        stages=("lead", "qualified", "proposal", "negotiation", "won"),
        stage_labels={**DEFAULT_SETTINGS.stage_labels, "negotiation": {"en": "Talks"}},
        stale_days=45,
        min_group_deals=10,
        tier_a_share=0.7,
        tier_b_share=1,
        value_window_months=6,
        followup_cadence_days={"A": 5, "B": 14, "C": 30},
        pool_days=60,
        scorecard={**DEFAULT_SETTINGS.scorecard, "cutoffs": {"A": 70, "B": 45}},
        new_days=30,
        active_days=60,
        churn_days=120,
        risk_gap_factor=2,
    )


def test_an_empty_settings_file_gives_the_defaults(tmp_path):
    assert load_settings(_settings_file(tmp_path, "# nothing changed yet\n")) == DEFAULT_SETTINGS


@pytest.mark.parametrize("size", ["4GB", "512 MiB", "512mb", "1.5GiB", "50%"])
def test_memory_limit_takes_the_sizes_the_command_line_option_takes(tmp_path, size):
    assert load_settings(_settings_file(tmp_path, f"memory_limit: {size}\n")).memory_limit == size


def test_a_memory_limit_without_a_unit_is_refused_with_an_example(tmp_path):
    assert _error(tmp_path, "memory_limit: '512'\n").endswith(
        "memory_limit (line 1): '512' is not in the expected form "
        "(expected memory for DuckDB, a size such as 2GB, 512MiB or 50%)"
    )


def test_stale_days_that_is_no_number_names_the_file_the_key_its_line_and_what_was_expected(tmp_path):
    path = tmp_path / "crm-review.yml"
    assert _error(tmp_path, "# team settings\nstale_days: abc\n") == (
        f"{path}: stale_days (line 2): 'abc' is not a whole number (expected days, e.g. 30)"
    )


def test_a_share_written_as_a_percentage_is_refused_with_the_share_expected(tmp_path):
    path = tmp_path / "crm-review.yml"
    assert _error(tmp_path, "tier_a_share: 80%\n") == (
        f"{path}: tier_a_share (line 1): '80%' is not a number (expected a share between 0 and 1, e.g. 0.8 for 80 %)"
    )


def test_a_share_above_one_is_refused(tmp_path):
    assert "tier_b_share (line 1): 95 must be at most 1" in _error(tmp_path, "tier_b_share: 95\n")


def test_an_unknown_setting_suggests_the_closest_known_one(tmp_path):
    message = _error(tmp_path, "stale_day: 10\n")
    assert message.startswith(f"{tmp_path / 'crm-review.yml'}: unknown setting stale_day (line 1); ")
    assert "did you mean stale_days?" in message
    assert "known settings: stages, stage_labels, stale_days," in message


def test_an_unknown_setting_far_from_every_known_one_gets_no_suggestion(tmp_path):
    assert "did you mean" not in _error(tmp_path, "colour: red\n")


def test_every_problem_of_a_file_is_listed_in_the_order_of_the_file(tmp_path):
    message = _error(tmp_path, "pool_days: -3\nstale_day: 10\nfollowup_cadence_days: {A: 0, D: 3}\n")
    assert [line.split(": ", 1)[1] for line in message.splitlines()] == [
        "pool_days (line 1): -3 must be greater than 0 (expected days, e.g. 90)",
        "unknown setting stale_day (line 2); did you mean stale_days? known settings: "
        + ", ".join(SettingsFile.model_fields),
        "followup_cadence_days.A (line 3): 0 must be greater than 0 (expected days for tier A, e.g. 7)",
        "unknown tier followup_cadence_days.D (line 3); known tiers: A, B, C",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stale_days: true\n", "stale_days (line 1): True is not a whole number"),
        ("new_days: 1.5\n", "new_days (line 1): 1.5 is not a whole number"),
        ("stale_days:\n", "stale_days (line 1): has no value (expected days, e.g. 30)"),
        ("stages: [lead]\n", "stages (line 1): needs at least 2 items"),
        ("stages: [lead, won, won]\n", "['lead', 'won', 'won'] names won twice"),
        ("stages: [lead, lost, won]\n", "must not contain 'lost'"),
        ("stage_labels: {won: {en: 5}}\n", "stage_labels.won.en (line 1): 5 is not a text"),
        ("scorecard:\n  cutof: {A: 1}\n", "unknown key scorecard.cutof (line 2); did you mean cutoffs?"),
        ("scorecard:\n  cutoffs: {A: 1, B: 2}\n", "settings.scorecard.cutoffs needs numbers A > B"),
        ("tier_a_share: 0.96\n", "settings need 0 < tier_a_share < tier_b_share <= 1, got 0.96 and 0.95"),
        ("active_days: 200\n", "settings need new_days > 0 and 0 < active_days < churn_days"),
        ("- stale_days\n", "(line 1): ['stale_days'] is not a mapping (key: value)"),
    ],
)
def test_a_bad_value_is_refused_with_a_message_naming_it(tmp_path, text, message):
    error = _error(tmp_path, text)
    assert error.startswith(str(tmp_path / "crm-review.yml"))
    assert message in error


def test_the_command_line_shows_a_bad_settings_file_without_a_traceback(tmp_path, capsys):
    path = _settings_file(tmp_path, "stale_days: abc\n")
    code = main(["metrics", "funnel", "--period", "2026Q3", "--db", str(tmp_path / "w.duckdb"), "--config", str(path)])
    assert code == 2
    err = capsys.readouterr().err
    assert (
        err == f"crm-review: error: {path}: stale_days (line 1): 'abc' is not a whole number (expected days, e.g. 30)\n"
    )
