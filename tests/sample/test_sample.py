"""The sample generator: determinism, layout, invariants, realism, and its known totals.

The manifest's funnel totals are checked here against an independent pandas computation
from the CSVs, following DESIGN.md (furthest-stage rule, as-of = the quarter's last day).
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from crmreview import config
from crmreview.sample import COLUMNS, generate
from crmreview.schema import MANAGED_COLUMNS

SIZE = 0.25
END = date(2026, 9, 30)
STAGE_RANK = {"lead": 0, "qualified": 1, "proposal": 2, "won": 3}
FUNNEL = ("lead", "qualified", "proposal", "won")
TS = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MONEY = re.compile(r"-?\d+\.\d{2}")


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    manifest = generate(out, seed=7, size=SIZE, end=END)
    return out, manifest


@pytest.fixture(scope="module")
def t(export):
    """The CSVs as text columns (an empty field is NaN), timestamps parsed alongside."""
    out, _ = export
    frames = {
        name: pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""]) for name in COLUMNS
    }
    deals = frames["deals"]
    deals["created"] = pd.to_datetime(deals.created_at, format="%Y-%m-%d %H:%M:%S")
    deals["closed"] = pd.to_datetime(deals.closed_at, format="%Y-%m-%d %H:%M:%S")
    history = frames["deal_stage_history"]
    history["entered"] = pd.to_datetime(history.entered_at, format="%Y-%m-%d %H:%M:%S")
    orders = frames["orders"]
    orders["value"] = orders.amount.astype(float)
    orders["day"] = pd.to_datetime(orders.order_date, format="%Y-%m-%d")
    activities = frames["activities"]
    activities["occurred"] = pd.to_datetime(activities.occurred_at, format="%Y-%m-%d %H:%M:%S")
    return frames


def _schema_columns() -> dict[str, list[str]]:
    con = duckdb.connect()
    for path in sorted((config.QUERIES_DIR / "schema").glob("*.sql")):  # every migration, in order
        con.execute(path.read_text(encoding="utf-8"))
    rows = con.execute(
        "select table_name, column_name from information_schema.columns order by table_name, ordinal_position"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        if column not in MANAGED_COLUMNS.get(table, ()):  # the import's own bookkeeping
            columns.setdefault(table, []).append(column)
    return columns


def _digest(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------- determinism ---------


def test_the_same_seed_gives_byte_identical_files(export, tmp_path):
    out, _ = export
    generate(tmp_path, seed=7, size=SIZE, end=END)
    first, again = _digest(out), _digest(tmp_path)
    assert set(first) == {f"{n}.csv" for n in COLUMNS} | {"manifest.json"}
    assert first == again


def test_a_different_seed_gives_different_data(export, tmp_path):
    out, _ = export
    manifest = generate(tmp_path, seed=8, size=SIZE, end=END)
    first, other = _digest(out), _digest(tmp_path)
    for name in ("customers.csv", "deals.csv", "deal_stage_history.csv", "orders.csv", "activities.csv"):
        assert first[name] != other[name], name
    assert manifest["seed"] == 8


def test_generate_returns_the_manifest_it_writes_and_prints_nothing(tmp_path, capsys):
    manifest = generate(tmp_path, seed=3, size=0.05)
    assert capsys.readouterr() == ("", "")
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8")) == manifest
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or p.name.endswith(".partial")]


@pytest.mark.parametrize(
    "kwargs", [{"seed": -1}, {"seed": 1.5}, {"size": 0}, {"size": float("nan")}, {"end": "2026-09-30"}]
)
def test_invalid_arguments_are_refused(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate(tmp_path, **kwargs)


# ---------------------------------------------------------------- layout --------------


def test_each_csv_header_is_the_canonical_column_list_of_the_schema(export):
    out, _ = export
    schema = _schema_columns()
    for table in COLUMNS:
        with open(out / f"{table}.csv", encoding="utf-8", newline="") as handle:
            header = handle.readline().rstrip("\n").split(",")
        assert header == schema[table], table


def test_the_csvs_load_into_the_canonical_tables_with_duckdb(export):
    out, manifest = export
    con = duckdb.connect()
    for path in sorted((config.QUERIES_DIR / "schema").glob("*.sql")):  # every migration, in order
        con.execute(path.read_text(encoding="utf-8"))
    for table in COLUMNS:
        path = (out / f"{table}.csv").as_posix()
        con.execute(f"insert into {table} by name select * from read_csv('{path}', header = true, all_varchar = true)")
        assert con.execute(f"select count(*) from {table}").fetchall()[0][0] == manifest["rows"][table]


def test_row_counts_in_the_manifest_match_the_files(export, t):
    _, manifest = export
    assert manifest["rows"] == {name: len(frame) for name, frame in t.items()}
    assert manifest["customers"] == len(t["customers"])
    assert manifest["end"] == "2026-09-30" and manifest["start"] == "2024-10-01"
    assert list(manifest["quarters"]) == [
        "2024Q4",
        "2025Q1",
        "2025Q2",
        "2025Q3",
        "2025Q4",
        "2026Q1",
        "2026Q2",
        "2026Q3",
    ]
    total = sum(Decimal(a) for a in t["orders"].amount)
    assert Decimal(manifest["orders_amount_total"]) == total


def test_values_are_written_in_the_canonical_formats(t):
    for frame, column, pattern in [
        (t["customers"], "created_at", TS),
        (t["deals"], "created_at", TS),
        (t["deals"], "closed_at", TS),
        (t["deals"], "amount", MONEY),
        (t["deal_stage_history"], "entered_at", TS),
        (t["orders"], "order_date", DAY),
        (t["orders"], "amount", MONEY),
        (t["activities"], "occurred_at", TS),
        (t["targets"], "period_start", DAY),
        (t["targets"], "target_amount", MONEY),
    ]:
        values = frame[column].dropna()
        assert values.str.fullmatch(pattern.pattern).all(), column
    for prefix, frame, column in [
        ("C", t["customers"], "customer_id"),
        ("D", t["deals"], "deal_id"),
        ("R", t["reps"], "rep_id"),
        ("O", t["orders"], "order_id"),
        ("A", t["activities"], "activity_id"),
    ]:
        assert frame[column].str.fullmatch(prefix + r"\d+").all(), column


# ---------------------------------------------------------------- invariants ----------


def test_ids_are_unique_and_every_reference_exists(t):
    for table, key in [
        ("customers", "customer_id"),
        ("reps", "rep_id"),
        ("deals", "deal_id"),
        ("orders", "order_id"),
        ("activities", "activity_id"),
    ]:
        assert t[table][key].is_unique, table
        assert t[table][key].notna().all(), table
    customers, reps, deals = set(t["customers"].customer_id), set(t["reps"].rep_id), set(t["deals"].deal_id)
    assert set(t["deals"].customer_id) <= customers
    assert set(t["orders"].customer_id) <= customers
    assert set(t["activities"].customer_id) <= customers
    assert set(t["activities"].deal_id.dropna()) <= deals
    assert set(t["deal_stage_history"].deal_id) <= deals
    assert set(t["customers"].owner_rep_id) <= reps
    assert set(t["deals"].owner_rep_id) <= reps
    assert set(t["activities"].rep_id) <= reps
    assert set(t["targets"].rep_id) == reps
    assert not t["targets"].duplicated(["rep_id", "period_start"]).any()
    assert len(t["targets"]) == len(reps) * 8


def test_stages_and_outcomes_are_canonical_and_agree(t):
    deals = t["deals"]
    assert set(deals.stage) <= {"lead", "qualified", "proposal", "won", "lost"}
    assert set(t["deal_stage_history"].stage) <= {"lead", "qualified", "proposal", "won", "lost"}
    assert set(deals.outcome) <= {"open", "won", "lost"}
    assert (deals.stage[deals.outcome == "won"] == "won").all()
    assert (deals.stage[deals.outcome == "lost"] == "lost").all()
    assert deals.stage[deals.outcome == "open"].isin(["lead", "qualified", "proposal"]).all()
    assert deals.lost_reason[deals.outcome != "lost"].isna().all()
    assert deals.lost_reason[deals.outcome == "lost"].notna().mean() > 0.9
    assert deals.amount[deals.outcome == "won"].notna().all()


def test_dates_stay_in_range_and_deals_close_after_they_open(t):
    end = pd.Timestamp("2026-09-30 23:59:59")
    start = pd.Timestamp("2024-10-01")
    deals, history = t["deals"], t["deal_stage_history"]
    open_ = deals.outcome == "open"
    assert deals.closed[open_].isna().all()
    assert deals.closed[~open_].notna().all()
    both = deals.created.notna() & deals.closed.notna()
    assert (deals.closed[both] >= deals.created[both]).all()
    # deals from before the window are in the export only when still open when it starts
    assert deals.created.dropna().between(start - pd.Timedelta(days=180), end).all()
    early = deals.created < start
    assert early.any() and not (deals.closed[early] < start).any()
    assert (deals.closed.dropna() <= end).all()
    joined = history.merge(deals[["deal_id", "created"]], on="deal_id")
    dated = joined.created.notna()
    assert (joined.entered[dated] >= joined.created[dated]).all()
    assert (history.entered <= end).all()
    assert t["orders"].day.between(start, end).all()
    assert t["activities"].occurred.between(start, end).all()
    customers_created = pd.to_datetime(t["customers"].created_at)
    assert (customers_created <= end).all()


def test_a_closed_deal_ends_its_history_with_a_won_or_lost_row_at_closed_at(t):
    deals, history = t["deals"], t["deal_stage_history"]
    last = history.sort_values(["deal_id", "entered"]).groupby("deal_id").tail(1).set_index("deal_id")
    closed = deals[deals.outcome != "open"].set_index("deal_id")
    closed = closed[closed.index.isin(last.index)]
    assert (last.loc[closed.index, "stage"] == closed.outcome).all()
    assert (last.loc[closed.index, "entered"] == closed.closed).all()
    first = history.sort_values(["deal_id", "entered"]).groupby("deal_id").head(1).set_index("deal_id")
    dated = deals.set_index("deal_id").created.dropna()
    dated = dated[dated.index.isin(first.index)]
    assert (first.loc[dated.index, "entered"] == dated).all()
    # an open deal's stage is its latest history row
    open_ = deals[deals.outcome == "open"].set_index("deal_id")
    open_ = open_[open_.index.isin(last.index)]
    assert (last.loc[open_.index, "stage"] == open_.stage).all()


def test_a_few_deals_lack_created_at_or_any_history(export, t):
    _, manifest = export
    deals = t["deals"]
    no_created = int(deals.created_at.isna().sum())
    no_history = int((~deals.deal_id.isin(t["deal_stage_history"].deal_id)).sum())
    assert 0 < no_created <= 0.02 * len(deals)
    assert 0 < no_history <= 0.03 * len(deals)
    assert manifest["deals_without_created_at"] == no_created
    assert manifest["deals_without_history"] == no_history


# ---------------------------------------------------------------- realism -------------


def test_customer_value_is_pareto_like(t):
    value = (
        t["orders"]
        .groupby("customer_id")
        .value.sum()
        .reindex(t["customers"].customer_id, fill_value=0.0)
        .clip(lower=0)
        .sort_values(ascending=False)
    )
    top = value.iloc[: math.ceil(0.2 * len(value))].sum() / value.sum()
    assert 0.6 <= top <= 0.9


def test_win_rate_depends_on_the_channel_and_the_rep(t):
    closed = t["deals"][t["deals"].outcome != "open"]
    by_channel = closed.groupby("source_channel").outcome.apply(lambda s: (s == "won").mean())
    assert by_channel.max() - by_channel.min() >= 0.10
    assert by_channel.idxmax() == "转介绍" and by_channel.idxmin() == "电话营销"
    counts = closed.owner_rep_id.value_counts()
    busy = closed[closed.owner_rep_id.isin(counts[counts >= 30].index)]
    by_rep = busy.groupby("owner_rep_id").outcome.apply(lambda s: (s == "won").mean())
    assert by_rep.max() - by_rep.min() >= 0.15


def test_deal_flow_dips_at_chinese_new_year_and_peaks_in_march(t):
    month = t["deals"].created.dropna().dt.month
    # the window holds two Februaries (28 days each) and two Marches
    assert (month == 3).sum() / 62 > 1.5 * (month == 2).sum() / 56


def test_names_are_chinese_and_english(t):
    for names in (t["customers"].name, t["reps"].name):
        assert names.str.isascii().any()
        assert (~names.str.isascii()).any()
    assert t["customers"].name.str.contains("有限公司").any()
    assert t["customers"].name.str.contains("Co., Ltd.", regex=False).any()
    assert t["reps"].team.str.endswith("组").all()


def test_some_deals_skip_a_stage_and_some_move_backwards(t):
    ranks = t["deal_stage_history"].sort_values(["deal_id", "entered"]).copy()
    ranks["rank"] = ranks.stage.map(STAGE_RANK)
    ranks = ranks.dropna(subset=["rank"])
    step = ranks.groupby("deal_id")["rank"].diff()
    assert (step >= 2).sum() > 0  # e.g. lead -> proposal
    assert (step < 0).sum() > 0  # proposal -> qualified
    back = ranks.loc[step < 0, "deal_id"]
    visits = ranks[ranks.deal_id.isin(back)].groupby("deal_id").stage
    again = visits.apply(lambda s: list(s).count("proposal"))
    assert (again >= 2).any()  # ... and forward to proposal again, each its own row


def test_some_open_deals_are_stale(t):
    deals, history = t["deals"], t["deal_stage_history"]
    last = history.groupby("deal_id").entered.max()
    open_ = deals[deals.outcome == "open"].deal_id
    idle = (pd.Timestamp("2026-09-30") - last.reindex(open_).dropna()).dt.days
    assert (idle > 30).sum() > 0
    assert idle.max() <= 200


def test_orders_show_returns_churn_and_reactivation(t):
    orders = t["orders"]
    assert (orders.value < 0).any()
    assert (orders.value == 0).any()
    purchases = orders[orders.value > 0].sort_values(["customer_id", "day", "order_id"])
    gap = purchases.groupby("customer_id").day.diff().dt.days
    assert (gap > 180).sum() > 0  # came back after more than 180 days
    last = purchases.groupby("customer_id").day.max()
    assert (last < pd.Timestamp("2026-09-30") - pd.Timedelta(days=180)).sum() > 0  # churned


def test_activities_come_mostly_from_the_owner_and_favour_valuable_customers(t):
    acts = t["activities"].merge(t["customers"][["customer_id", "owner_rep_id"]], on="customer_id")
    other = (acts.rep_id != acts.owner_rep_id).mean()
    assert 0.02 < other < 0.3
    assert set(t["activities"].kind) == {"call", "wechat", "visit", "email"}
    value = t["orders"].groupby("customer_id").value.sum().reindex(t["customers"].customer_id, fill_value=0)
    count = t["activities"].groupby("customer_id").size().reindex(t["customers"].customer_id, fill_value=0)
    top = value >= value.quantile(0.8)
    assert count[top].mean() > 1.5 * count[~top].mean()


# ---------------------------------------------------------------- known totals --------


def _funnel(t, start: pd.Timestamp, end: pd.Timestamp) -> dict:
    """DESIGN.md's funnel for the quarter [start, end] with as-of = end, from the CSVs."""
    deals, history = t["deals"], t["deal_stage_history"]
    as_of = end + pd.Timedelta(days=1)  # everything before the day after counts
    created_day = deals.created.dt.normalize()
    cohort = deals[created_day.between(start, end)].set_index("deal_id")
    won_by = (cohort.outcome == "won") & (cohort.closed < as_of)
    lost_by = (cohort.outcome == "lost") & (cohort.closed < as_of)
    open_at = ~won_by & ~lost_by
    rows = history[history.deal_id.isin(cohort.index) & (history.entered < as_of) & (history.stage != "lost")]
    furthest = rows.stage.map(STAGE_RANK).groupby(rows.deal_id).max().reindex(cohort.index)
    has_history = cohort.index.isin(history.deal_id)
    current = cohort.stage.map({**STAGE_RANK, "lost": 0})
    fallback = np.where(won_by, 3, np.where(lost_by, 0, current))
    furthest = pd.Series(np.where(has_history, furthest, fallback), index=cohort.index)
    assert furthest.notna().all()
    closed = deals[deals.closed.dt.normalize().between(start, end)]
    won = closed[closed.outcome == "won"]
    return {
        "cohort_deals": len(cohort),
        "reached": {s: int((furthest >= r).sum()) for s, r in STAGE_RANK.items()},
        "lost_at": {s: int((furthest[lost_by] == r).sum()) for s, r in STAGE_RANK.items()},
        "open_at": {s: int((furthest[open_at] == r).sum()) for s, r in STAGE_RANK.items()},
        "closed_won": len(won),
        "closed_lost": int((closed.outcome == "lost").sum()),
        "won_amount": str(sum((Decimal(a) for a in won.amount), Decimal("0.00"))),
    }


def test_the_manifest_funnel_totals_match_an_independent_count_from_the_csvs(export, t):
    _, manifest = export
    for label, expected in manifest["quarters"].items():
        year, q = int(label[:4]), int(label[-1])
        start = pd.Timestamp(year, 3 * q - 2, 1)
        end = start + pd.offsets.QuarterEnd(0)
        assert _funnel(t, start, end) == expected, label
    busy = manifest["quarters"]["2025Q4"]
    assert busy["cohort_deals"] > 50 and busy["closed_won"] > 10
    assert sum(busy["lost_at"].values()) > 0 and sum(busy["open_at"].values()) > 0


def test_the_last_quarter_has_open_deals_at_every_open_stage(export):
    _, manifest = export
    last = manifest["quarters"]["2026Q3"]
    assert all(last["open_at"][s] > 0 for s in ("lead", "qualified", "proposal"))
    assert last["open_at"]["won"] == 0 and last["lost_at"]["won"] == 0
    assert last["reached"]["lead"] == last["cohort_deals"]


def test_full_size_has_the_documented_shape(tmp_path):
    manifest = generate(tmp_path, seed=7)
    rows = manifest["rows"]
    assert rows["customers"] == 2000 and manifest["customers"] == 2000
    assert rows["reps"] == 24 and rows["targets"] == 24 * 8
    assert 6_000 <= rows["deals"] <= 11_000
    assert rows["deal_stage_history"] > 2 * rows["deals"]
    assert 15_000 <= rows["orders"] <= 30_000
    assert 30_000 <= rows["activities"] <= 60_000
    teams = pd.read_csv(tmp_path / "reps.csv", dtype=str).team
    assert teams.nunique() == 4
