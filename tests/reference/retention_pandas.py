"""An independent pandas implementation of DESIGN.md "Repurchase" and "Churn and lifecycle",
for tests only.

Written from the definitions, customer by customer, without looking at the SQL: when both
agree on real data, both read the definitions the same way. Inputs are plain frames:
``orders`` (order_id, customer_id, order_date as datetime64, amount as float) and, for the
risk list, ``customers`` (customer_id, name, owner_rep_id, created_at) and ``reps``.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd

STATES = ("new", "reactivated", "active", "dormant", "churned")


def _day(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _purchases(orders: pd.DataFrame) -> pd.DataFrame:
    bought = orders[orders["amount"] > 0]
    return bought.sort_values(["customer_id", "order_date", "order_id"], kind="stable")


def _purchase_days(orders: pd.DataFrame, as_of) -> pd.DataFrame:
    """One row per customer and day with a purchase up to the as-of date (several orders on a
    day are one purchase day): ``orders`` (purchases that day) and ``gap_days`` since the
    customer's previous purchase day (NaN for the first, never 0)."""
    bought = _purchases(orders)
    bought = bought[bought["order_date"] <= _day(as_of)]
    days = bought.groupby(["customer_id", "order_date"], as_index=False).agg(orders=("order_id", "size"))
    days = days.sort_values(["customer_id", "order_date"], kind="stable").reset_index(drop=True)
    previous = days.groupby("customer_id", sort=False)["order_date"].shift(1)
    days["gap_days"] = (days["order_date"] - previous).dt.days
    return days


def _median(values) -> float | None:
    values = list(values)
    return float(np.median(values)) if values else None


def repurchase(orders: pd.DataFrame, start, end, as_of) -> dict:
    start, end, as_of = _day(start), _day(end), _day(as_of)
    last = min(end, as_of)
    in_period = orders[(orders["order_date"] >= start) & (orders["order_date"] <= last)]
    bought = in_period[in_period["amount"] > 0]
    counts = bought.groupby("customer_id").size()
    earlier = set(orders[(orders["amount"] > 0) & (orders["order_date"] < start)]["customer_id"])
    purchasing = set(counts.index)
    returning = purchasing & earlier
    net = float(in_period["amount"].sum())
    returning_net = float(in_period[in_period["customer_id"].isin(returning)]["amount"].sum())
    gaps = _purchase_days(orders, as_of)["gap_days"].dropna().tolist()
    n = len(purchasing)
    return {
        "customers_purchasing": n,
        "repeat_customers": int((counts >= 2).sum()),
        "returning_customers": len(returning),
        "repeat_rate": (counts >= 2).sum() / n if n else None,
        "returning_rate": len(returning) / n if n else None,
        "net_revenue": net,
        "returning_revenue": returning_net,
        "returning_revenue_share": returning_net / net if net > 0 else None,
        "median_gap_days": _median(gaps),
        "purchase_gaps": len(gaps),
    }


def lifecycle(orders: pd.DataFrame, as_of, window_start, new_days=90, active_days=90, churn_days=180) -> pd.DataFrame:
    """One row per customer with a purchase by ``as_of``: state, recency, purchases, purchase
    days and the median gap between purchase days."""
    as_of, window_start = _day(as_of), _day(window_start)
    days = _purchase_days(orders, as_of)
    days["came_back"] = (days["gap_days"] > churn_days) & (days["order_date"] >= window_start)
    per = days.groupby("customer_id", sort=True).agg(
        first=("order_date", "min"),
        last_purchase_date=("order_date", "max"),
        purchases=("orders", "sum"),
        purchase_days=("order_date", "size"),
        median_gap_days=("gap_days", "median"),
        came_back=("came_back", "any"),
    )
    recency = (as_of - per["last_purchase_date"]).dt.days
    age = (as_of - per["first"]).dt.days
    state = np.select(
        [age <= new_days, per["came_back"], recency <= active_days, recency <= churn_days],
        ["new", "reactivated", "active", "dormant"],
        default="churned",
    )
    out = pd.DataFrame(
        {
            "customer_id": per.index,
            "state": state,
            "recency_days": recency.to_numpy(),
            "purchases": per["purchases"].to_numpy(),
            "purchase_days": per["purchase_days"].to_numpy(),
            "median_gap_days": per["median_gap_days"].to_numpy(),
            "last_purchase_date": per["last_purchase_date"].to_numpy(),
        }
    )
    return out.reset_index(drop=True)


def state_counts(states: pd.DataFrame) -> dict[str, int]:
    counts = states["state"].value_counts()
    return {state: int(counts.get(state, 0)) for state in STATES}


def churn_rate(orders, period_start, previous_start, as_of, **thresholds) -> tuple[int, int, float | None]:
    day_before = _day(period_start) - pd.Timedelta(days=1)
    before = lifecycle(orders, day_before, previous_start, **thresholds).set_index("customer_id")["state"]
    now = lifecycle(orders, as_of, period_start, **thresholds).set_index("customer_id")["state"]
    start = [c for c, s in before.items() if s != "churned"]
    churned = [c for c in start if now[c] == "churned"]
    return len(start), len(churned), (len(churned) / len(start) if start else None)


def flows(orders, as_of, window_start, comparison_as_of, comparison_start, **thresholds) -> dict[tuple[str, str], int]:
    now = lifecycle(orders, as_of, window_start, **thresholds).set_index("customer_id")["state"]
    before = lifecycle(orders, comparison_as_of, comparison_start, **thresholds).set_index("customer_id")["state"]
    out: dict[tuple[str, str], int] = {}
    for customer, state in now.items():
        key = (before.get(customer, "none"), state)
        out[key] = out.get(key, 0) + 1
    return out


def revenue_retention(orders, comparison_start, comparison_end, start, end, as_of) -> dict:
    def net(a, b):
        b = min(_day(b), _day(as_of))
        part = orders[(orders["order_date"] >= _day(a)) & (orders["order_date"] <= b)]
        return part.groupby("customer_id")["amount"].sum()

    previous = net(comparison_start, comparison_end)
    previous = previous[previous > 0]
    current = net(start, end)
    this = {c: max(float(current.get(c, 0.0)), 0.0) for c in previous.index}
    total = float(previous.sum())
    kept = sum(min(this[c], float(previous[c])) for c in previous.index)
    return {
        "base_customers": len(previous),
        "retained_customers": sum(1 for v in this.values() if v > 0),
        "base_revenue": total,
        "retained_revenue": kept,
        "current_revenue": sum(this.values()),
        "grr": kept / total if total else None,
        "nrr": sum(this.values()) / total if total else None,
    }


def cohorts(orders: pd.DataFrame, as_of, first_cohort) -> pd.DataFrame:
    """One row per cohort month and month index k: cohort size, buyers in month k, net revenue."""
    as_of = _day(as_of)
    seen = orders[orders["order_date"] <= as_of]
    bought = seen[seen["amount"] > 0]
    first = bought.groupby("customer_id")["order_date"].min().dt.to_period("M")
    last_month = as_of.to_period("M")
    first_month = pd.Timestamp(first_cohort).to_period("M")
    month_of = seen["order_date"].dt.to_period("M")
    rows = []
    for cohort in sorted(set(first[(first >= first_month) & (first <= last_month)])):
        members = set(first[first == cohort].index)
        mine = seen[seen["customer_id"].isin(members)]
        mine_month = month_of[mine.index]
        for k in range((last_month - cohort).n + 1):
            month = cohort + k
            in_month = mine[mine_month == month]
            rows.append(
                {
                    "cohort": str(cohort),
                    "month": k,
                    "cohort_customers": len(members),
                    "customers": in_month[in_month["amount"] > 0]["customer_id"].nunique(),
                    "revenue": float(in_month["amount"].sum()),
                }
            )
    return pd.DataFrame(rows, columns=["cohort", "month", "cohort_customers", "customers", "revenue"])


def values_and_tiers(orders, customers, as_of, a_share=0.8, b_share=0.95, window_months=12) -> pd.DataFrame:
    """Value and ABC tier of every customer known at the as-of date (DESIGN.md "Customer tiers"),
    known here through created_at or an order: a customer known only through a deal or an
    activity has no order, so value 0 and tier C, and leaves every other tier as it is."""
    as_of = _day(as_of)
    window_start = (as_of - pd.DateOffset(months=window_months) + pd.Timedelta(days=1)).normalize()
    first_order = orders.groupby("customer_id")["order_date"].min()
    known = []
    for c in customers.itertuples(index=False):
        created = c.created_at
        if (pd.notna(created) and _day(created) <= as_of) or (
            pd.isna(created) and c.customer_id in first_order.index and first_order[c.customer_id] <= as_of
        ):
            known.append(c.customer_id)
    window = orders[(orders["order_date"] >= window_start) & (orders["order_date"] <= as_of)]
    net = window.groupby("customer_id")["amount"].sum()
    frame = pd.DataFrame({"customer_id": known})
    frame["value"] = [round(max(float(net.get(c, 0.0)), 0.0), 2) for c in known]
    frame = frame.sort_values(["value", "customer_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
    total = frame["value"].sum()
    before = frame["value"].cumsum() - frame["value"]
    frame["tier"] = np.where(
        (total > 0) & (before < a_share * total), "A", np.where((total > 0) & (before < b_share * total), "B", "C")
    )
    return frame


def risk_list(orders, customers, as_of, window_start, factor=1.5, **thresholds) -> pd.DataFrame:
    states = lifecycle(orders, as_of, window_start, **thresholds)
    at_risk = states[
        states["state"].isin(["active", "dormant"])
        & (states["purchase_days"] >= 2)
        & (states["recency_days"] > factor * states["median_gap_days"])
    ]
    tiers = values_and_tiers(orders, customers, as_of).set_index("customer_id")
    out = at_risk.copy()
    out["value"] = [float(tiers["value"].get(c, 0.0)) for c in out["customer_id"]]
    out["tier"] = [tiers["tier"].get(c, "C") for c in out["customer_id"]]
    return out.sort_values(["value", "customer_id"], ascending=[False, True], kind="stable").reset_index(drop=True)


def rfm(orders: pd.DataFrame, calibration_end, holdout_end) -> pd.DataFrame:
    """Per customer with a purchase by the calibration end: purchase days, in days."""
    calibration_end, holdout_end = _day(calibration_end), _day(holdout_end)
    days = _purchases(orders)[["customer_id", "order_date"]].drop_duplicates()
    early = days[days["order_date"] <= calibration_end].groupby("customer_id")["order_date"]
    frame = pd.DataFrame(
        {
            "frequency": early.size() - 1,
            "recency_days": (early.max() - early.min()).dt.days,
            "age_days": (calibration_end - early.min()).dt.days,
        }
    )
    later = days[(days["order_date"] > calibration_end) & (days["order_date"] <= holdout_end)]
    frame["holdout_purchases"] = later.groupby("customer_id").size().reindex(frame.index, fill_value=0)
    frame = frame.sort_index().rename_axis("customer_id").reset_index()
    return frame[["customer_id", "frequency", "recency_days", "age_days", "holdout_purchases"]]


def close(a, b, tol=1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=tol)


def month_start(d: date, back: int) -> date:
    index = d.year * 12 + d.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def previous_day(d: date) -> date:
    return d - timedelta(days=1)
