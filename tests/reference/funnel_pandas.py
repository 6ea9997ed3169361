"""An independent pandas implementation of DESIGN.md "Funnel leakage", for tests only.

Written from the definitions, deal by deal, without looking at the SQL: when both agree on
real data, both read the definitions the same way.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pandas as pd


def _quantile(values: list[float], q: float) -> float | None:
    return float(np.quantile(values, q)) if values else None


def stages_used(deals: pd.DataFrame, history: pd.DataFrame, stages: list[str]) -> list[str]:
    """The configured stages the data reach (a deal's current stage or a history row), plus
    the won stage (the last), in the configured order."""
    seen = set(deals["stage"].dropna()) | set(history["stage"].dropna())
    return [s for s in stages if s in seen or s == stages[-1]]


def deal_states(deals: pd.DataFrame, history: pd.DataFrame, as_of: date, stages: list[str]) -> pd.DataFrame:
    """Per deal existing at the as-of date: status, furthest rank, path ranks, flags."""
    cutoff = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    rank = {s: i + 1 for i, s in enumerate(stages)}
    won_rank = len(stages)
    by_deal: dict[str, list[tuple[pd.Timestamp, str]]] = {}
    for deal_id, stage, entered in zip(history["deal_id"], history["stage"], history["entered_at"]):
        by_deal.setdefault(deal_id, []).append((entered, stage))
    out = []
    for deal in deals.itertuples(index=False):
        if pd.isna(deal.created_at) or not deal.created_at < cutoff:
            continue
        if deal.outcome == "open":
            status = "open"
        elif pd.isna(deal.closed_at) or deal.closed_at < cutoff:
            status = deal.outcome
        else:
            status = "open"
        rows = by_deal.get(deal.deal_id)
        ranked = sorted((entered, rank[stage]) for entered, stage in rows or [] if entered < cutoff and stage in rank)
        ranks = [r for _, r in ranked]
        if status == "won":
            furthest = won_rank
        else:
            if ranks:
                furthest = max(ranks)
            elif rows is None and deal.stage in rank:
                furthest = rank[deal.stage]
            else:
                furthest = 1
            furthest = min(furthest, won_rank - 1)
        path = set(ranks) | ({won_rank} if status == "won" else set())
        strict = 0
        while strict + 1 in path:
            strict += 1
        out.append(
            {
                "deal_id": deal.deal_id,
                "status": status,
                "furthest": furthest,
                "strict": strict,
                "skipped": bool(ranks) and len(path) < furthest,
                "backward": any(b < a for a, b in zip(ranks, ranks[1:])),
            }
        )
    return pd.DataFrame(out, columns=["deal_id", "status", "furthest", "strict", "skipped", "backward"])


def funnel(
    deals: pd.DataFrame,
    history: pd.DataFrame,
    start: date,
    end: date,
    as_of: date,
    stages: list[str],
    *,
    strict: bool = False,
    stale_days: int = 30,
) -> dict:
    """The funnel numbers of DESIGN.md for deals (canonical columns, timestamps parsed)."""
    cutoff = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    states = deal_states(deals, history, as_of, stages)
    created = dict(zip(deals["deal_id"], deals["created_at"]))
    in_period = [start <= created[d].date() <= end for d in states["deal_id"]]
    cohort = states[in_period] if len(states) else states
    column = "strict" if strict else "furthest"
    reached = [int((cohort[column] >= i + 1).sum()) for i in range(len(stages))]
    stage_rows = []
    for i, stage in enumerate(stages):
        conversion = reached[i + 1] / reached[i] if i + 1 < len(stages) and reached[i] else None
        stage_rows.append(
            {
                "stage": stage,
                "reached": reached[i],
                "conversion": conversion,
                "share_of_first": reached[i] / reached[0] if reached[0] else None,
                "lost_at": int(((cohort["status"] == "lost") & (cohort["furthest"] == i + 1)).sum()),
                "open_at": int(((cohort["status"] == "open") & (cohort["furthest"] == i + 1)).sum()),
            }
        )
    # days in stage: visits begun in the period, to the next history row, else the close, else as-of
    rank = {s: i + 1 for i, s in enumerate(stages)}
    closing = {d: (o, c) for d, o, c in zip(deals["deal_id"], deals["outcome"], deals["closed_at"])}
    days: dict[str, list[int]] = {s: [] for s in stages}
    visits_by_deal: dict[str, list[tuple[pd.Timestamp, int, str]]] = {}
    for deal_id, stage, entered in zip(history["deal_id"], history["stage"], history["entered_at"]):
        visits_by_deal.setdefault(deal_id, []).append((entered, rank.get(stage, 0), stage))
    for deal_id, visits in visits_by_deal.items():
        visits.sort(key=lambda v: (v[0], v[1]))
        outcome, closed_at = closing.get(deal_id, (None, pd.NaT))
        for k, (at, _, stage) in enumerate(visits):
            if not (start <= at.date() <= end and at < cutoff) or stage not in days:
                continue
            nxt = visits[k + 1][0] if k + 1 < len(visits) else None
            if nxt is not None and nxt < cutoff:
                finish = nxt.date()
            elif outcome in ("won", "lost") and not pd.isna(closed_at) and at <= closed_at < cutoff:
                finish = closed_at.date()
            else:
                finish = as_of
            days[stage].append((finish - at.date()).days)
    for row in stage_rows:
        values = days[row["stage"]] if row["stage"] != stages[-1] else []
        row["median_days_in_stage"] = _quantile(values, 0.5)
        row["p75_days_in_stage"] = _quantile(values, 0.75)
    closed = deals[
        deals["outcome"].isin(["won", "lost"])
        & deals["closed_at"].notna()
        & deals["closed_at"].map(lambda t: not pd.isna(t) and start <= t.date() <= end)
        & (deals["closed_at"] < cutoff)
    ]
    won = closed[closed["outcome"] == "won"]
    win_rate = len(won) / len(closed) if len(closed) else None
    avg_won = float(won["amount"].astype(float).mean()) if won["amount"].notna().any() else None
    cycles = [(c.date() - s.date()).days for s, c in zip(won["created_at"], won["closed_at"]) if not pd.isna(s)]
    median_cycle = _quantile(cycles, 0.5)
    open_deals = int((states["status"] == "open").sum())
    velocity = (
        open_deals * win_rate * avg_won / median_cycle
        if None not in (win_rate, avg_won, median_cycle) and median_cycle > 0
        else None
    )
    lost = closed[closed["outcome"] == "lost"]
    reasons = [None if pd.isna(r) or not str(r).strip() else str(r).strip() for r in lost["lost_reason"]]
    # stale: open at as-of, last history row (or creation) at least stale_days before as-of
    stale = 0
    last_change = history[history["entered_at"] < cutoff].groupby("deal_id")["entered_at"].max()
    for deal_id in states.loc[states["status"] == "open", "deal_id"]:
        changed = last_change.get(deal_id, created[deal_id])
        if (as_of - changed.date()).days >= stale_days:
            stale += 1
    losses = [(r["lost_at"], -i, r["stage"]) for i, r in enumerate(stage_rows) if r["lost_at"]]
    return {
        "cohort_deals": len(cohort),
        "skipped_stage_deals": int(cohort["skipped"].sum()),
        "backward_move_deals": int(cohort["backward"].sum()),
        "stages": stage_rows,
        "biggest_leak": max(losses)[2] if losses else None,
        "deals_closed": len(closed),
        "won": len(won),
        "lost": len(lost),
        "win_rate": win_rate,
        "avg_won_amount": avg_won,
        "median_cycle_days": median_cycle,
        "open_deals": open_deals,
        "pipeline_velocity": velocity,
        "lost_reasons": dict(Counter(reasons)),
        "stale_deals": stale,
    }
