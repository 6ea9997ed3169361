"""The tier and follow-up SQL against an independent pandas implementation
(tests/reference/tiers_pandas.py) on the generated sample and on Online Retail II.

Online Retail II (real UK invoice lines, see ../shared/validation-data/): lines without a
Customer ID are dropped; Quantity x Price summed per invoice is one order (cancellations,
invoices starting with C, are negative orders: returns). The warehouse orders are built here
in DuckDB from the parquet, the pandas orders separately from the raw lines. The data hold no
reps, activities or targets: follow-up finds every customer never contacted and unowned.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from crmreview import queries, warehouse
from crmreview.config import DEFAULT_SETTINGS
from crmreview.metrics.followup import followup
from crmreview.metrics.tiers import scorecard_json, tiers
from crmreview.periods import parse_period
from tests.conftest import ONLINE_RETAIL
from tests.reference import tiers_pandas as ref

S = DEFAULT_SETTINGS
TABLES = ("customers", "orders", "deals", "activities", "reps", "targets")


def _frames(con) -> dict[str, pd.DataFrame]:
    frames = {table: con.execute(f"select * from {table}").df() for table in TABLES}
    for table, column in (("orders", "amount"), ("deals", "amount"), ("targets", "target_amount")):
        frames[table][column] = frames[table][column].astype(float)
    frames["orders"]["order_date"] = pd.to_datetime(frames["orders"]["order_date"])
    frames["targets"]["period_start"] = pd.to_datetime(frames["targets"]["period_start"])
    frames["targets"]["period_end"] = pd.to_datetime(frames["targets"]["period_end"])
    for table, column in (
        ("customers", "created_at"),
        ("deals", "closed_at"),
        ("deals", "created_at"),
        ("activities", "occurred_at"),
    ):
        frames[table][column] = pd.to_datetime(frames[table][column])
    return frames


@pytest.fixture(scope="module")
def sample(imported_sample):
    with warehouse.connect_read(imported_sample(seed=7, size=1.0).db) as con:
        yield con, _frames(con)


def _online_retail_orders_in_pandas(path: Path) -> pd.DataFrame:
    """Orders from the raw invoice lines, in pandas: exact mills (prices have at most three
    decimals), rounded half away from zero to cents."""
    with duckdb.connect() as raw:
        lines = raw.execute(
            'select "Invoice", "Quantity", "Price", "InvoiceDate", "Customer ID" from read_parquet($path)',
            {"path": str(path)},
        ).df()
    lines = lines[lines["Customer ID"].notna()].copy()
    lines["customer_id"] = lines["Customer ID"].astype("int64").astype(str)
    lines["mills"] = lines["Quantity"].astype("int64") * (lines["Price"] * 1000).round().astype("int64")
    lines["when"] = pd.to_datetime(lines["InvoiceDate"])
    orders = lines.groupby(["Invoice", "customer_id"], as_index=False).agg(mills=("mills", "sum"), when=("when", "min"))
    rounded = (orders["mills"].abs() + 5) // 10 * np.sign(orders["mills"])
    return pd.DataFrame(
        {
            "order_id": orders["Invoice"],
            "customer_id": orders["customer_id"],
            "order_date": orders["when"].dt.normalize(),
            "amount": rounded / 100,
        }
    )


@pytest.fixture(scope="module")
def online_retail(online_retail_warehouse):
    con = online_retail_warehouse
    frames = _frames(con)
    frames["orders"] = _online_retail_orders_in_pandas(ONLINE_RETAIL)
    frames["customers"] = pd.DataFrame(
        {
            "customer_id": sorted(frames["orders"]["customer_id"].unique()),
            "owner_rep_id": None,
            "created_at": pd.NaT,
            "size_band": None,
        }
    )
    return con, frames


def _tiered(frames, as_of) -> pd.DataFrame:
    value = ref.values(
        frames["customers"], frames["orders"], frames["deals"], frames["activities"], as_of, S.value_window_months
    )
    return ref.abc(value, S.tier_a_share, S.tier_b_share)


def _check_tiers(con, frames, label: str) -> dict:
    period = parse_period(label)
    previous = period.compare("prev")
    got = tiers(con, period, list_limit=None)
    want = _tiered(frames, period.as_of)
    before = _tiered(frames, previous.as_of)
    # every customer's tier
    sql_tiers = queries.run(
        con,
        "metrics/tiers/customer_tiers",
        {
            "as_of": period.as_of,
            "tier_a_share": S.tier_a_share,
            "tier_b_share": S.tier_b_share,
            "value_window_months": S.value_window_months,
        },
    )
    assert sql_tiers["customer_id"].tolist() == want["customer_id"].tolist(), label
    assert sql_tiers["tier"].tolist() == want["tier"].tolist(), label
    assert ref.cents(sql_tiers["value"]).tolist() == want["value"].tolist(), label
    # distribution, concentration, curve
    assert got["customers"] == len(want), label
    assert got["total_value"] == pytest.approx(want["value"].sum() / 100, abs=0.005)
    for have, expected in zip(got["tiers"], ref.distribution(want)):
        assert have["customers"] == expected["customers"], (label, have)
        assert have["value"] == pytest.approx(expected["value"], abs=0.005), (label, have)
        for key in ("share_of_customers", "share_of_value"):
            assert have[key] == pytest.approx(expected[key], rel=1e-12), (label, key)
    assert got["top20_value_share"] == pytest.approx(ref.top20_value_share(want), rel=1e-12), label
    assert got["gini"] == pytest.approx(ref.gini(want["value"]), rel=1e-9), label
    for point in got["pareto_curve"]:
        assert point["share_of_value"] == pytest.approx(ref.pareto_point(want, point["customers"]), rel=1e-12)
    assert [p["customers"] for p in got["pareto_curve"]] == sorted({-(-p * len(want) // 100) for p in range(101)})
    # migration and movers
    cells = {(c["from"], c["to"]): c["customers"] for c in got["migration"] if c["customers"]}
    assert cells == ref.migration(before, want), label
    moved = {(m["customer_id"], m["from_tier"], m["to_tier"]) for m in got["movers"]}
    merged = before.merge(want, on="customer_id", suffixes=("_from", "_to"))
    merged = merged[merged["tier_from"] != merged["tier_to"]]
    assert moved == set(zip(merged["customer_id"], merged["tier_from"], merged["tier_to"])), label
    # scorecard
    card = ref.scorecard(
        frames["customers"], frames["orders"], frames["deals"], frames["activities"], period.as_of, S.scorecard
    )
    sql_card = (
        queries.run(
            con,
            "metrics/tiers/customer_scorecard",
            {
                "as_of": period.as_of,
                "value_window_months": S.value_window_months,
                "dimensions": scorecard_json(S.scorecard),
                "cutoff_a": S.scorecard["cutoffs"]["A"],
                "cutoff_b": S.scorecard["cutoffs"]["B"],
            },
        )
        .sort_values("customer_id")
        .reset_index(drop=True)
    )
    card = card.sort_values("customer_id").reset_index(drop=True)
    assert sql_card["customer_id"].tolist() == card["customer_id"].tolist(), label
    assert sql_card["score"].to_numpy() == pytest.approx(card["score"].to_numpy(), abs=1e-6), label
    assert sql_card["tier"].tolist() == card["tier"].tolist(), label
    assert [t["customers"] for t in got["scorecard"]["tiers"]] == [int((card["tier"] == t).sum()) for t in ref.TIERS], (
        label
    )
    same = card.merge(want, on="customer_id")
    if len(same):
        assert got["scorecard"]["agreement_with_abc"] == pytest.approx(
            (same["tier_x"] == same["tier_y"]).mean(), rel=1e-12
        )
    return {"got": got, "tiered": want}


def _check_followup(con, frames, label: str, tiered: pd.DataFrame) -> dict:
    period = parse_period(label)
    got = followup(con, period, list_limit=None)
    state = ref.followup_state(
        frames["customers"],
        frames["orders"],
        frames["deals"],
        frames["activities"],
        tiered,
        period.as_of,
        S.followup_cadence_days,
        S.pool_days,
    )
    assert (got["customers"], got["overdue"], got["never_contacted"], got["pool_candidates"]) == (
        len(state),
        int(state["overdue"].sum()),
        int(state["never"].sum()),
        int(state["pool"].sum()),
    ), label
    if len(state):
        assert got["compliance"] == pytest.approx(1 - state["overdue"].mean(), rel=1e-12)
        days = state["days"].dropna()
        assert got["median_days_since_activity"] == (float(days.median()) if len(days) else None)
    for entry in got["tiers"]:
        rows = state[state["tier"] == entry["tier"]]
        assert (entry["customers"], entry["overdue"], entry["pool_candidates"]) == (
            len(rows),
            int(rows["overdue"].sum()),
            int(rows["pool"].sum()),
        ), (label, entry["tier"])
    # compliance per rep and tier
    cells = state.groupby(["owner", "tier"]).agg(customers=("overdue", "size"), overdue=("overdue", "sum"))
    for rep in got["reps"]:
        for entry in rep["tiers"]:
            key = (rep["rep_id"], entry["tier"])
            expected = cells.loc[key] if key in cells.index else pd.Series({"customers": 0, "overdue": 0})
            assert (entry["customers"], entry["overdue"]) == (int(expected["customers"]), int(expected["overdue"])), key
    # pool candidates and ownership conflicts, all of them
    assert {c["customer_id"] for c in got["pool_candidate_list"]} == set(state.loc[state["pool"], "customer_id"])
    clash = ref.conflicts(
        frames["activities"], frames["deals"], tiered["customer_id"], period.start, period.end, period.as_of
    )
    assert got["ownership_conflicts"] == len(clash), label
    listed = {c["customer_id"]: (c["reps"], c["activities"]) for c in got["ownership_conflict_list"]}
    assert listed == {r.customer_id: (r.reps, r.activities) for r in clash.itertuples()}, label
    # workload and attainment
    load = ref.workload(
        frames["reps"],
        frames["customers"],
        frames["deals"],
        frames["targets"],
        tiered,
        period.start,
        period.end,
        period.as_of,
    ).set_index("rep_id")
    assert [r["rep_id"] for r in got["reps"]] == load.index.tolist(), label
    for rep in got["reps"]:
        expected = load.loc[rep["rep_id"]]
        assert (rep["customers"], rep["a_customers"]) == (expected["customers"], expected["a_customers"]), rep["rep_id"]
        assert rep["won_amount"] == pytest.approx(expected["won_amount"], abs=0.005)
        for key in ("target_amount", "target_won_amount"):
            if pd.isna(expected[key]):
                assert rep[key] is None
            else:
                assert rep[key] == pytest.approx(expected[key], abs=0.005), (rep["rep_id"], key)
    return got


@pytest.mark.parametrize("label", ["2026Q3", "2026Q1", "2025-11", "2025Q1"])
def test_sql_and_pandas_agree_on_the_generated_sample(sample, label):
    con, frames = sample
    checked = _check_tiers(con, frames, label)
    got = _check_followup(con, frames, label, checked["tiered"])
    assert got["customers"] > 100 and got["ownership_conflicts"] > 0 and got["pool_candidates"] > 0


def test_the_sample_tiers_look_like_a_pareto_split(sample):
    con, frames = sample
    got = _check_tiers(con, frames, "2026Q3")["got"]
    a = got["tiers"][0]
    assert 0.08 < a["share_of_customers"] < 0.30 and a["share_of_value"] == pytest.approx(0.80, abs=0.01)
    assert 0.6 < got["gini"] < 0.95


@pytest.mark.parametrize("label", ["2010Q4", "2010-06", "2010", "2010-02-01..2010-03-15"])
def test_sql_and_pandas_agree_on_online_retail_ii(online_retail, label):
    con, frames = online_retail
    warehouse_orders = con.execute(
        "select order_id, customer_id, order_date, amount from orders order by order_id"
    ).df()
    pandas_orders = frames["orders"].sort_values("order_id").reset_index(drop=True)
    assert warehouse_orders["order_id"].tolist() == pandas_orders["order_id"].tolist()
    assert ref.cents(warehouse_orders["amount"]).tolist() == ref.cents(pandas_orders["amount"]).tolist()
    checked = _check_tiers(con, frames, label)
    got = _check_followup(con, frames, label, checked["tiered"])
    assert got["never_contacted"] == got["customers"] == got["overdue"]
    assert got["pool_candidates"] == 0 and got["unowned_customers"] == got["customers"]


def test_online_retail_ii_values_are_concentrated_as_a_wholesale_business(online_retail):
    con, _ = online_retail
    got = tiers(con, parse_period("2010Q4"))
    assert got["customers"] == 4383  # every customer with an ID has a first invoice by 2010-12-09
    assert got["tiers"][0]["share_of_value"] == pytest.approx(0.80, abs=0.005)
    assert got["top20_value_share"] > 0.7 and got["gini"] > 0.7
