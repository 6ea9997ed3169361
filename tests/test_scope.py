"""Restricted read connections: a scope shows only its rows; masking hides every name."""

from __future__ import annotations

import pytest

from crmreview import warehouse
from crmreview.metrics import compute
from crmreview.periods import parse_period
from crmreview.schema import DATA_TABLES
from crmreview.scope import Scope, ScopeError

NAMES = ["Alice Wong", "Bob", "Carol Li", "Dan Wu", "Acme 甲", "Beta Ltd", "Zed Corp"]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Two teams: A (R1, R2) and B (R3, and 'Dan Wu', whose id is his name)."""
    db = tmp_path_factory.mktemp("scope") / "w.duckdb"
    with warehouse.write_session(db) as con:
        con.execute(
            "insert into reps (rep_id, name, team, region) values ('R1', 'Alice Wong', 'A', 'North'), ('R2', 'Bob', 'A', 'North'), "
            "('R3', 'Carol Li', 'B', 'South'), ('Dan Wu', 'Dan Wu', 'B', 'South')"
        )
        con.execute(
            "insert into customers (customer_id, name, region, owner_rep_id) values "
            "('C1', 'Acme 甲', null, 'R1'), ('C2', 'Beta Ltd', 'North', 'R3'), ('Zed Corp', 'Zed Corp', null, 'Dan Wu')"
        )
        con.execute(
            "insert into targets values ('R1', '2026-07-01', '2026-09-30', 100), ('R3', '2026-07-01', '2026-09-30', 50)"
        )
        con.execute(
            "insert into deals (deal_id, customer_id, owner_rep_id, pipeline, stage, outcome, amount, created_at) "
            "values ('D1', 'C1', 'R1', 'P1', 'lead', 'open', 10, '2026-07-02'), "
            "('D2', 'C2', 'R3', null, 'lead', 'open', 20, '2026-07-03'), "
            "('D3', 'Zed Corp', 'Dan Wu', 'P1', 'lead', 'open', 30, '2026-07-04')"
        )
        con.execute(
            "insert into deal_stage_history values ('D1', 'lead', '2026-07-02'), ('D2', 'lead', '2026-07-03'), "
            "('D3', 'lead', '2026-07-04')"
        )
        con.execute(
            "insert into orders values ('O1', 'C1', '2026-07-05', 5), ('O2', 'C2', '2026-07-06', 6), "
            "('O3', 'Zed Corp', '2026-07-07', 7)"
        )
        con.execute(
            "insert into activities values ('a1', 'C1', null, 'R1', 'call', '2026-07-08'), "
            "('a2', 'C2', null, 'R3', 'call', '2026-07-08'), ('a3', null, 'D3', 'Dan Wu', 'call', '2026-07-08'), "
            "('a4', 'C2', null, 'R1', 'visit', '2026-07-09')"
        )
    return db


def _ids(con, table: str, column: str) -> list[str]:
    return sorted(r[0] for r in con.execute(f"select {column} from {table}").fetchall())


def test_a_team_scope_keeps_the_teams_reps_customers_deals_orders_and_activities(small):
    with warehouse.connect_read(small, scope=Scope(team="A")) as con:
        assert _ids(con, "reps", "rep_id") == ["R1", "R2"]
        assert _ids(con, "targets", "rep_id") == ["R1"]
        assert _ids(con, "customers", "customer_id") == ["C1"]
        assert _ids(con, "deals", "deal_id") == ["D1"]
        assert _ids(con, "deal_stage_history", "deal_id") == ["D1"]
        assert _ids(con, "orders", "order_id") == ["O1"]
        # a1 on the team's customer; a4 by the team's rep on another team's customer
        assert _ids(con, "activities", "activity_id") == ["a1", "a4"]
        # the shared definitions read the scoped rows too
        assert _ids(con, "deal_dimensions", "deal_id") == ["D1"]


def test_a_region_scope_uses_the_customers_region_else_the_owners(small):
    with warehouse.connect_read(small, scope=Scope(region="North")) as con:
        # C1 has no region and a North owner; C2 is in the North with a South owner
        assert _ids(con, "customers", "customer_id") == ["C1", "C2"]
        assert _ids(con, "deals", "deal_id") == ["D1", "D2"]
        assert _ids(con, "reps", "rep_id") == ["R1", "R2"]


def test_a_pipeline_scope_restricts_deals_and_their_activities_only(small):
    with warehouse.connect_read(small, scope=Scope(pipeline="P1")) as con:
        assert _ids(con, "deals", "deal_id") == ["D1", "D3"]
        assert _ids(con, "customers", "customer_id") == ["C1", "C2", "Zed Corp"]
        assert _ids(con, "activities", "activity_id") == ["a1", "a2", "a3", "a4"]
    with warehouse.connect_read(small, scope=Scope(pipeline="")) as con:
        assert _ids(con, "deals", "deal_id") == ["D2"]
        assert _ids(con, "activities", "activity_id") == ["a1", "a2", "a4"]


def test_a_rep_scope_and_a_pipeline_combine(small):
    with warehouse.connect_read(small, scope=Scope(rep="Dan Wu", pipeline="P1")) as con:
        assert _ids(con, "deals", "deal_id") == ["D3"]
        assert _ids(con, "customers", "customer_id") == ["Zed Corp"]


def test_an_unknown_scope_value_is_a_clear_error_listing_the_known_ones(small):
    with (
        pytest.raises(ScopeError, match=r"no team 'C'; its teams are: 'A', 'B'"),
        warehouse.connect_read(small, scope=Scope(team="C")),
    ):
        pass
    with pytest.raises(ScopeError, match="choose one of --team, --region and --rep"):
        Scope(team="A", rep="R1")


def test_masking_leaves_no_name_in_any_table_and_keeps_ids(small):
    with warehouse.connect_read(small, mask_pii=True) as con:
        text = " ".join(
            str(value)
            for table in DATA_TABLES
            for row in con.execute(f"select * from {table}").fetchall()
            for value in row
        )
        assert not [name for name in NAMES if name in text]
        assert _ids(con, "customers", "customer_id")[:2] == ["C1", "C2"]
        names = dict(con.execute("select rep_id, name from reps").fetchall())
        assert names["R1"].startswith("Rep ") and len(set(names.values())) == 4
        # an id that is the name is shown as the pseudonym, the same in every table
        zed = con.execute("select customer_id from customers where customer_id not in ('C1', 'C2')").fetchall()[0][0]
        assert zed.startswith("Customer ")
        assert _ids(con, "orders", "customer_id") == sorted(["C1", "C2", zed])
        dan = con.execute("select owner_rep_id from deals where deal_id = 'D3'").fetchall()[0][0]
        assert dan == names[dan] and dan.startswith("Rep ")


def test_pseudonyms_are_stable_across_connections_and_scopes(small):
    def pseudonyms(**kwargs):
        with warehouse.connect_read(small, mask_pii=True, **kwargs) as con:
            return dict(con.execute("select customer_id, name from customers").fetchall())

    everyone = pseudonyms()
    assert pseudonyms() == everyone
    assert pseudonyms(scope=Scope(team="A")) == {"C1": everyone["C1"]}
    chinese = pseudonyms(lang="zh")
    assert chinese["C1"] == everyone["C1"].replace("Customer", "客户")


def test_a_team_scope_gives_the_teams_group_of_the_unscoped_breakdown(imported_sample):
    """Independent route: the funnel of a team-scoped connection equals the team's group of
    the whole warehouse's funnel --by team."""
    db = imported_sample(seed=7, size=0.5).db
    period = parse_period("2025Q3")
    with warehouse.connect_read(db) as con:
        groups = {g["group"]: g for g in compute(con, "funnel", period, by="team")["groups"]}
    team = sorted(groups)[0]
    with warehouse.connect_read(db, scope=Scope(team=team)) as con:
        scoped = compute(con, "funnel", period)
    assert scoped["cohort_deals"] == groups[team]["cohort_deals"] > 0
    assert [s["reached"] for s in scoped["stages"]] == [s["reached"] for s in groups[team]["stages"]]
    assert scoped["won"] == groups[team]["won"]
