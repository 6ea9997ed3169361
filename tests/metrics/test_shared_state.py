"""Per-snapshot shared state (crmreview.metrics.shared): the macros read the rows filled once
per connection and date, and those rows are exactly what the macros compute from the tables;
a scoped connection's rows are its scope's; nothing is shared where the data may change.
The report's lifecycle history (one query for every date) gives the lifecycle_states counts."""

from __future__ import annotations

from datetime import date

import pytest

from crmreview import queries
from crmreview.config import DEFAULT_SETTINGS as SETTINGS
from crmreview.metrics import shared
from crmreview.metrics.churn import lifecycle_history
from crmreview.periods import parse_period
from crmreview.scope import Scope
from crmreview.warehouse import connect_read

AS_OF, EARLIER = date(2026, 9, 30), date(2026, 6, 30)
TIERS = "select * from {}($as_of, 0.8, 0.95, 12) order by customer_id"
STATES = "select * from {}($as_of, $start, 90, 90, 180) order by customer_id"


@pytest.fixture(scope="module")
def sample_db(imported_sample):
    return imported_sample(seed=11, size=0.5).db


def _rows(con, sql: str, params: dict) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def test_shared_tiers_and_states_are_the_computed_rows_and_other_dates_still_compute(sample_db):
    with connect_read(sample_db) as con:
        assert shared.enabled(con)
        computed = _rows(con, TIERS.format("compute_customer_tiers"), {"as_of": AS_OF})
        states = _rows(con, STATES.format("compute_lifecycle_states"), {"as_of": AS_OF, "start": date(2026, 7, 1)})
        shared.customer_state(con, AS_OF, SETTINGS)
        shared.lifecycle_state(con, AS_OF, date(2026, 7, 1), SETTINGS)
        shared.customer_state(con, AS_OF, SETTINGS)  # a second fill adds nothing
        assert con.execute("select count(*) from shared_customer_tiers").fetchall()[0][0] == len(computed) == 1000
        assert _rows(con, TIERS.format("customer_tiers"), {"as_of": AS_OF}) == computed
        assert _rows(con, STATES.format("lifecycle_states"), {"as_of": AS_OF, "start": date(2026, 7, 1)}) == states
        # a date not shared is computed, not read from another date's rows
        assert _rows(con, TIERS.format("customer_tiers"), {"as_of": EARLIER}) == _rows(
            con, TIERS.format("compute_customer_tiers"), {"as_of": EARLIER}
        )
        assert _rows(con, TIERS.format("customer_tiers"), {"as_of": EARLIER}) != computed
        days = "select * from {} order by customer_id, purchase_date"
        before = _rows(con, days.format("compute_purchase_days"), {})
        shared.purchase_days(con)
        assert _rows(con, days.format("purchase_days"), {}) == before
        activities = "select * from {} order by activity_id"
        before = _rows(con, activities.format("compute_customer_activities"), {})
        shared.customer_activities(con)
        assert _rows(con, activities.format("customer_activities"), {}) == before


def test_a_scoped_connection_shares_only_its_scope_s_customers(sample_db):
    with connect_read(sample_db) as con:
        team = con.execute("select team from reps where team is not null order by team limit 1").fetchall()[0][0]
    with connect_read(sample_db, scope=Scope(team=team)) as con:
        shared.customer_state(con, AS_OF, SETTINGS)
        tiers = _rows(con, TIERS.format("customer_tiers"), {"as_of": AS_OF})
        assert tiers == _rows(con, TIERS.format("compute_customer_tiers"), {"as_of": AS_OF})
        scoped = {row[0] for row in con.execute("select customer_id from customers").fetchall()}
    with connect_read(sample_db) as con:
        everyone = con.execute("select count(*) from customers").fetchall()[0][0]
    assert {row[0] for row in tiers} <= scoped
    assert 0 < len(tiers) < everyone


def test_nothing_is_shared_on_a_connection_whose_data_may_change(empty_warehouse):
    assert not shared.enabled(empty_warehouse)
    shared.customer_state(empty_warehouse, AS_OF, SETTINGS)
    shared.purchase_days(empty_warehouse)
    assert empty_warehouse.execute("select count(*) from shared_customer_universe").fetchall() == [(0,)]
    assert empty_warehouse.execute("select getvariable('shared_state')").fetchall() == [(None,)]


def test_the_lifecycle_history_query_gives_the_lifecycle_states_counts_at_each_date(sample_db):
    period = parse_period("2026Q3")
    with connect_read(sample_db) as con:
        history = lifecycle_history(con, period, periods=4)
        chain = [period]
        for _ in range(3):
            chain.append(chain[-1].compare("prev"))
        expected = []
        for each in reversed(chain):
            frame = queries.run(
                con,
                "metrics/churn/lifecycle_states",
                {
                    "as_of": each.as_of,
                    "window_start": each.start,
                    "new_days": 90,
                    "active_days": 90,
                    "churn_days": 180,
                    "by": "all",
                    "tier_a_share": 0.8,
                    "tier_b_share": 0.95,
                    "value_window_months": 12,
                },
            )
            expected += [(each.label, r.lifecycle_state, int(r.count_customers)) for r in frame.itertuples()]
    got = [(r.period, r.state, int(r.customers)) for r in history.itertuples()]
    assert got == expected
    assert len(got) == 20 and sum(n for _, _, n in got[-5:]) > 100


def test_a_state_filled_on_a_connection_is_not_filled_again_but_another_connection_fills_its_own(
    sample_db, monkeypatch
):
    read = []
    real_sql_text = queries.sql_text
    monkeypatch.setattr(queries, "sql_text", lambda name: read.append(name) or real_sql_text(name))
    with connect_read(sample_db) as con:
        shared.customer_state(con, AS_OF, SETTINGS)
        filled = [name for name in read if name != "metrics/shared/share"]
        assert filled == [f"metrics/shared/customer_{s}" for s in ("universe", "values", "tiers")]
        read.clear()
        shared.customer_state(con, AS_OF, SETTINGS)  # listed already: nothing runs
        shared.customer_state(con, EARLIER, SETTINGS)  # another date fills
        assert read and all(
            name.endswith(("share", "customer_universe", "customer_values", "customer_tiers")) for name in read
        )
        assert len([name for name in read if name != "metrics/shared/share"]) == 3
        expected = _rows(con, TIERS.format("compute_customer_tiers"), {"as_of": AS_OF})
    with connect_read(sample_db) as other:  # a new connection has its own temporary tables
        shared.customer_state(other, AS_OF, SETTINGS)
        assert other.execute("select count(*) from shared_customer_tiers").fetchall()[0][0] == len(expected)
        assert _rows(other, TIERS.format("customer_tiers"), {"as_of": AS_OF}) == expected
