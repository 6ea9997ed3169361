"""An independent pandas implementation of DESIGN.md "Customer tiers" and "Follow-up and
allocation", for tests only.

Written from the definitions, customer by customer, without the SQL: money in integer cents
and thresholds as fractions, so tier boundaries are exact; the Gini coefficient from its
pairwise definition. Inputs are the canonical tables as plain frames (``orders.amount`` and
``deals.amount`` as floats, timestamps as datetime64).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

TIERS = ("A", "B", "C")


def day(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def cents(amounts: pd.Series) -> pd.Series:
    return (amounts.astype(float) * 100).round().astype("int64")


def window_start(as_of, months: int) -> pd.Timestamp:
    return day(as_of) - pd.DateOffset(months=months) + pd.Timedelta(days=1)


def known_since(customers, orders, deals, activities, as_of) -> pd.Series:
    """The customers known at the as-of date and since when: created_at's day when it is on or
    before the as-of date; without created_at, the earliest day on or before it of an order, a
    deal (created_at, else closed_at) or an activity (of the customer, or of one of its deals).
    Index customer_id, in the order of ``customers``."""
    as_of = day(as_of)
    acts = activity_customers(activities, deals)
    seen = pd.concat(
        [
            pd.DataFrame({"customer_id": orders["customer_id"], "day": pd.to_datetime(orders["order_date"])}),
            pd.DataFrame({"customer_id": deals["customer_id"], "day": deals["created_at"].fillna(deals["closed_at"])}),
            pd.DataFrame({"customer_id": acts["customer_id"], "day": acts["occurred_at"]}),
        ],
        ignore_index=True,
    )
    seen["day"] = pd.to_datetime(seen["day"]).dt.normalize()
    seen = seen[seen["day"].notna() & (seen["day"] <= as_of)]
    first_seen = seen.groupby("customer_id")["day"].min()
    since = {}
    for c in customers.itertuples(index=False):
        if pd.notna(c.created_at):
            if day(c.created_at) <= as_of:
                since[c.customer_id] = day(c.created_at)
        elif c.customer_id in first_seen.index:
            since[c.customer_id] = first_seen[c.customer_id]
    return pd.Series(since, dtype="datetime64[ns]").rename_axis("customer_id")


def values(customers, orders, deals, activities, as_of, months: int = 12) -> pd.Series:
    """Value in cents per customer of the universe: net orders in the window, or won deals
    closed in it when there are no orders at all; below zero is zero."""
    start, end = window_start(as_of, months), day(as_of)
    if len(orders):
        rows = orders[(orders["order_date"] >= start) & (orders["order_date"] <= end)]
        net = cents(rows["amount"]).groupby(rows["customer_id"]).sum()
    else:
        won = deals[(deals["outcome"] == "won") & deals["closed_at"].notna()]
        won = won[(won["closed_at"].dt.normalize() >= start) & (won["closed_at"].dt.normalize() <= end)]
        net = cents(won["amount"].fillna(0)).groupby(won["customer_id"]).sum()
    index = known_since(customers, orders, deals, activities, as_of).index
    return net.reindex(index).fillna(0).astype("int64").clip(lower=0)


def abc(value_cents: pd.Series, a_share: float, b_share: float) -> pd.DataFrame:
    """customer_id, value (cents), tier, in ABC order (value descending, id ascending)."""
    frame = pd.DataFrame({"customer_id": value_cents.index, "value": value_cents.to_numpy()})
    frame = frame.sort_values(["value", "customer_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
    total = int(frame["value"].sum())
    before = frame["value"].cumsum() - frame["value"]
    a, b = Fraction(str(a_share)), Fraction(str(b_share))
    tiers = []
    for prior in before:
        if total > 0 and prior * a.denominator < a.numerator * total:
            tiers.append("A")
        elif total > 0 and prior * b.denominator < b.numerator * total:
            tiers.append("B")
        else:
            tiers.append("C")
    frame["tier"] = tiers
    return frame


def distribution(tiered: pd.DataFrame, tier_column: str = "tier") -> list[dict]:
    n, total = len(tiered), int(tiered["value"].sum())
    out = []
    for tier in TIERS:
        rows = tiered[tiered[tier_column] == tier]
        value = int(rows["value"].sum())
        out.append(
            {
                "tier": tier,
                "customers": len(rows),
                "share_of_customers": len(rows) / n if n else None,
                "value": value / 100,
                "share_of_value": value / total if total else None,
            }
        )
    return out


def top20_value_share(tiered: pd.DataFrame) -> float | None:
    total = int(tiered["value"].sum())
    if not total:
        return None
    first = -(-len(tiered) // 5)  # ceil(0.2 n), exactly
    return int(tiered["value"].iloc[:first].sum()) / total


def gini(value_cents) -> float | None:
    """sum_i sum_j |x_i - x_j| / (2 n^2 mean), pair by pair (in row blocks to bound memory)."""
    x = np.asarray(value_cents, dtype=np.float64) / 100
    n = len(x)
    if n == 0 or x.sum() == 0:
        return None
    pairs = 0.0
    for lo in range(0, n, 1000):
        pairs += float(np.abs(x[lo : lo + 1000, None] - x[None, :]).sum())
    return pairs / (2 * n * n * x.mean())


def pareto_point(tiered: pd.DataFrame, k: int) -> float | None:
    total = int(tiered["value"].sum())
    return int(tiered["value"].iloc[:k].sum()) / total if total else None


def migration(before: pd.DataFrame, now: pd.DataFrame) -> dict[tuple[str, str], int]:
    """(from, to) -> customers over both universes; 'new' / 'gone' for a missing side."""
    merged = before[["customer_id", "tier"]].merge(
        now[["customer_id", "tier"]], on="customer_id", how="outer", suffixes=("_from", "_to")
    )
    merged["tier_from"] = merged["tier_from"].fillna("new")
    merged["tier_to"] = merged["tier_to"].fillna("gone")
    return {k: int(v) for k, v in merged.groupby(["tier_from", "tier_to"]).size().items()}


# -- scorecard -------------------------------------------------------------------------------


def _purchases(orders, deals) -> pd.DataFrame:
    if len(orders):
        bought = orders[orders["amount"] > 0]
        return pd.DataFrame({"customer_id": bought["customer_id"], "date": bought["order_date"]})
    won = deals[(deals["outcome"] == "won") & (deals["amount"] > 0) & deals["closed_at"].notna()]
    return pd.DataFrame({"customer_id": won["customer_id"], "date": won["closed_at"].dt.normalize()})


def scorecard(customers, orders, deals, activities, as_of, scorecard_settings: dict, months: int = 12) -> pd.DataFrame:
    """customer_id, value (cents), score, tier for every customer of the universe."""
    as_of = day(as_of)
    value = values(customers, orders, deals, activities, as_of, months)
    ids = value.index
    bought = _purchases(orders, deals)
    in_window = bought[(bought["date"] >= window_start(as_of, months)) & (bought["date"] <= as_of)]
    frequency = in_window.groupby("customer_id").size().reindex(ids).fillna(0)
    last = bought[bought["date"] <= as_of].groupby("customer_id")["date"].max().reindex(ids)
    recency = (as_of - last).dt.days
    fields = customers.set_index("customer_id").reindex(ids)
    measures = {"amount": value.astype(float), "frequency": frequency.astype(float), "recency": recency.astype(float)}
    n = len(ids)
    weighted = pd.Series(0.0, index=ids)
    weights = 0.0
    for dim in scorecard_settings["dimensions"]:
        default = float(dim.get("default_points", 0))
        if "field" in dim:
            table = {k: float(v) for k, v in dim["points"].items()}
            points = fields[dim["field"]].map(
                lambda v, table=table, default=default: table.get(v, default) if pd.notna(v) else default
            )
        else:
            m = measures[dim["measure"]]
            lower_is_better = dim["measure"] == "recency"
            bands = dim.get("bands") or []
            if bands:

                def band_points(v, bands=bands, lower_is_better=lower_is_better, default=default):
                    if pd.isna(v):
                        return default
                    reached = [(b, p) for b, p in bands if (v <= b if lower_is_better else v >= b)]
                    if not reached:
                        return default
                    return float((min if lower_is_better else max)(reached)[1])

                points = m.map(band_points)
            else:
                key = (-m if lower_is_better else m).fillna(-np.inf)
                ranks = key.rank(method="min")
                points = 100 * (ranks - 1) / (n - 1) if n > 1 else pd.Series(0.0, index=ids)
        weighted += float(dim["weight"]) * points.astype(float)
        weights += float(dim["weight"])
    score = (weighted / weights).round(6)
    cut_a, cut_b = scorecard_settings["cutoffs"]["A"], scorecard_settings["cutoffs"]["B"]
    tier = np.where(score >= cut_a, "A", np.where(score >= cut_b, "B", "C"))
    return pd.DataFrame({"customer_id": ids, "value": value.to_numpy(), "score": score.to_numpy(), "tier": tier})


# -- follow-up -------------------------------------------------------------------------------


def activity_customers(activities: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    deal_customer = deals.set_index("deal_id")["customer_id"]
    out = activities.copy()
    out["customer_id"] = out["customer_id"].fillna(out["deal_id"].map(deal_customer))
    return out[out["customer_id"].notna()]


def followup_state(
    customers, orders, deals, activities, tiered: pd.DataFrame, as_of, cadence: dict[str, int], pool_days: int
) -> pd.DataFrame:
    """One row per customer of ``tiered``: owner, tier, days_since_activity, overdue, pool."""
    as_of = day(as_of)
    acts = activity_customers(activities, deals)
    acts = acts[acts["occurred_at"] < as_of + pd.Timedelta(days=1)]
    last = acts.groupby("customer_id", as_index=False)["occurred_at"].max()
    info = customers.set_index("customer_id")
    state = tiered[["customer_id", "tier", "value"]].merge(last, on="customer_id", how="left")
    state["owner"] = state["customer_id"].map(info["owner_rep_id"])
    state["days"] = (as_of - pd.to_datetime(state["occurred_at"]).dt.normalize()).dt.days
    state["overdue"] = [pd.isna(d) or d > cadence[t] for d, t in zip(state["days"], state["tier"])]
    known = state["customer_id"].map(known_since(customers, orders, deals, activities, as_of))
    silent = [
        (d > pool_days) if pd.notna(d) else (pd.isna(k) or (as_of - k).days > pool_days)
        for d, k in zip(state["days"], known)
    ]
    state["pool"] = state["owner"].notna() & pd.Series(silent, index=state.index)
    state["never"] = state["days"].isna()
    return state


def conflicts(activities, deals, customers_in_universe, start, end, as_of) -> pd.DataFrame:
    """customer_id, reps (distinct), activities: customers with more than one rep in the period."""
    acts = activity_customers(activities, deals)
    acts = acts[acts["rep_id"].notna()]
    dates = acts["occurred_at"].dt.normalize()
    acts = acts[(dates >= day(start)) & (dates <= min(day(end), day(as_of)))]
    acts = acts[acts["customer_id"].isin(set(customers_in_universe))]
    per = acts.groupby("customer_id").agg(reps=("rep_id", "nunique"), activities=("rep_id", "size"))
    return per[per["reps"] > 1].reset_index()


def workload(reps, customers, deals, targets, tiered, start, end, as_of) -> pd.DataFrame:
    """One row per rep: customers, a_customers, won_amount, target_amount, target_won_amount."""
    start, end, as_of = day(start), day(end), day(as_of)
    owned = customers.set_index("customer_id").reindex(tiered["customer_id"])["owner_rep_id"]
    owned = pd.DataFrame({"owner": owned.to_numpy(), "tier": tiered["tier"].to_numpy()})
    overlap = targets[(targets["period_start"] <= end) & (targets["period_end"] >= start)]
    ids = sorted(set(reps["rep_id"]) | set(owned["owner"].dropna()) | set(overlap["rep_id"]))
    won = deals[
        (deals["outcome"] == "won")
        & deals["closed_at"].notna()
        & (deals["closed_at"] < as_of + pd.Timedelta(days=1))
        & deals["owner_rep_id"].notna()
    ].copy()
    won["closed"] = won["closed_at"].dt.normalize()
    won["cents"] = cents(won["amount"].fillna(0))
    rows = []
    for rep in ids:
        mine = won[won["owner_rep_id"] == rep]
        rep_targets = overlap[overlap["rep_id"] == rep]
        target_won = sum(
            int(mine[(mine["closed"] >= t.period_start) & (mine["closed"] <= t.period_end)]["cents"].sum())
            for t in rep_targets.itertuples()
        )
        rows.append(
            {
                "rep_id": rep,
                "customers": int((owned["owner"] == rep).sum()),
                "a_customers": int(((owned["owner"] == rep) & (owned["tier"] == "A")).sum()),
                "won_amount": int(mine[(mine["closed"] >= start) & (mine["closed"] <= end)]["cents"].sum()) / 100,
                "target_amount": float(cents(rep_targets["target_amount"]).sum()) / 100 if len(rep_targets) else None,
                "target_won_amount": target_won / 100 if len(rep_targets) else None,
            }
        )
    return pd.DataFrame(
        rows, columns=["rep_id", "customers", "a_customers", "won_amount", "target_amount", "target_won_amount"]
    )
