"""The explore filters and command line, without a warehouse."""

from __future__ import annotations

import pytest

from crmreview.cli import main
from crmreview.explore import Selection
from crmreview.explore.serve import voila_command
from crmreview.scope import Scope, ScopeError

PERIOD = "2026Q3"


def test_selection_takes_one_dimension_and_a_rep_narrows_its_team():
    assert Selection(PERIOD).scope == (None, None)
    assert Selection(PERIOD, team="East").scope == ("team", "East")
    assert Selection(PERIOD, team="East", rep="R01").scope == ("rep", "R01")
    assert Selection(PERIOD, tier="A", pipeline="x").scope == ("tier", "A")
    with pytest.raises(ValueError, match="team/rep"):
        Selection(PERIOD, team="East", tier="A")
    with pytest.raises(ValueError, match="tier 'D'"):
        Selection(PERIOD, tier="D")
    with pytest.raises(ValueError, match="language"):
        Selection(PERIOD, lang="fr")


def test_a_team_rep_region_or_channel_filter_reads_a_scoped_connection_and_a_tier_does_not():
    assert Selection(PERIOD).read_scope is None
    assert Selection(PERIOD, team="East").read_scope == Scope(team="East")
    assert Selection(PERIOD, team="East", rep="R01").read_scope == Scope(rep="R01")
    assert Selection(PERIOD, channel="Web", pipeline="x").read_scope == Scope(channel="Web")
    assert Selection(PERIOD, region="North").read_scope == Scope(region="North")
    assert Selection(PERIOD, tier="A").read_scope is None
    with pytest.raises(ScopeError, match="not team and channel"):
        Scope(team="East", channel="Web")


def test_explore_command_serves_on_localhost_and_names_a_missing_warehouse(tmp_path, capsys):
    command = voila_command(8899)
    assert "--Voila.ip=127.0.0.1" in command and "--port=8899" in command
    assert any(part.endswith("explore.ipynb") for part in command)
    assert main(["explore", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "no warehouse at" in capsys.readouterr().err
