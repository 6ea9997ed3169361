"""Shared report fixtures: a small warehouse of two teams."""

from __future__ import annotations

import pytest

from crmreview import warehouse

DEALS = [
    # deal_id, customer, owner, outcome, amount, created (2026-), closed (2026-)
    ("D1", "C1", "R1", "won", 1000, "07-01", "07-31"),
    ("D2", "C2", "R1", "lost", 500, "07-02", "08-01"),
    ("D3", "C3", "R2", "won", 3000, "07-03", "08-02"),
    ("D4", "C4", "R2", "won", 2000, "07-04", "08-03"),
    ("D5", "C5", "R2", "open", 100, "07-05", None),
    ("D6", "C6", "R3", "won", 9000, "07-06", "08-04"),
]


@pytest.fixture(scope="module")
def teams_db(tmp_path_factory):
    """Team A: R1 (Alice Able) and R2 (Bob Baker); team B: R3 (Carol Chen). Six deals of 2026Q3."""
    path = tmp_path_factory.mktemp("teams") / "w.duckdb"
    with warehouse.write_session(path) as con:
        con.execute(
            "insert into reps (rep_id, name, team, region) values ('R1', 'Alice Able', 'A', 'North'), ('R2', 'Bob Baker', 'A', 'North'), "
            "('R3', 'Carol Chen', 'B', 'South')"
        )
        con.executemany(
            "insert into customers (customer_id, name, owner_rep_id) values (?, ?, ?)",
            [(customer, f"Customer {customer} Ltd", owner) for _, customer, owner, *_ in DEALS],
        )
        con.executemany(
            "insert into deals (deal_id, customer_id, owner_rep_id, pipeline, stage, outcome, amount, "
            "created_at, closed_at) values (?, ?, ?, 'main', ?, ?, ?, ?, ?)",
            [
                (
                    deal,
                    customer,
                    owner,
                    "lead" if outcome == "open" else outcome,
                    outcome,
                    amount,
                    f"2026-{made}",
                    f"2026-{closed}" if closed else None,
                )
                for deal, customer, owner, outcome, amount, made, closed in DEALS
            ],
        )
        con.execute(
            "insert into targets values ('R1', '2026-07-01', '2026-09-30', 2000), "
            "('R2', '2026-07-01', '2026-09-30', 5000), ('R3', '2026-07-01', '2026-09-30', 9000)"
        )
        con.execute(
            "insert into activities values ('a1', 'C1', null, 'R1', 'call', '2026-09-28'), "
            "('a2', 'C3', null, 'R2', 'call', '2026-09-29')"
        )
    return path
