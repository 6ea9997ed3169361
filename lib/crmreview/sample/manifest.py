"""The sample's manifest: the totals the generator knows, so that the importer and the metric
SQL can be checked against them.

Owns ``Totals`` (accumulated block by block from the generator's own arrays, never by
re-reading the CSVs), ``manifest`` (the dictionary written as ``manifest.json``),
``write_manifest`` (written to a partial file and renamed into place) and ``money`` (cents as
text with two decimals).

Funnel totals follow DESIGN.md with the default (furthest-stage) rule and as-of date = the
quarter's last day (a row entered on that day counts). A deal without history rows uses its
current stage (its stage at ``end``); when that stage is ``lost`` it counts as ``lead``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .calendar import DAY, QUARTERS, Calendar
from .generator import Block, Reps
from .vocabulary import LEAD, LOST, O_LOST, O_WON, STAGES, WON


def money(cents: int) -> str:
    """``-12.05`` for -1205 cents."""
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}{cents // 100}.{cents % 100:02d}"


class Totals:
    """Known totals, accumulated block by block from the event arrays.

    Per quarter ``k``: ``cohort`` (deals created in it), ``reached``/``lost_at``/``open_at``
    (per funnel stage, as of the quarter's last day), ``closed_won``, ``closed_lost``,
    ``won_cents``; ``won_by_rep`` (yuan, rep x quarter) sets the targets. Over the export:
    ``customers``, ``orders_cents``, ``no_created``, ``no_history``."""

    def __init__(self, cal: Calendar, reps: Reps):
        self.cal = cal
        self.cohort = np.zeros(QUARTERS, dtype=np.int64)
        self.reached = np.zeros((QUARTERS, 4), dtype=np.int64)
        self.lost_at = np.zeros((QUARTERS, 4), dtype=np.int64)
        self.open_at = np.zeros((QUARTERS, 4), dtype=np.int64)
        self.closed_won = np.zeros(QUARTERS, dtype=np.int64)
        self.closed_lost = np.zeros(QUARTERS, dtype=np.int64)
        self.won_cents = [0] * QUARTERS
        self.won_by_rep = np.zeros((reps.n, QUARTERS), dtype=np.float64)
        self.orders_cents = 0
        self.customers = 0
        self.no_created = 0
        self.no_history = 0

    def add(self, blk: Block) -> None:
        """Count one block in."""
        cal = self.cal
        self.customers += blk.n
        self.no_created += int(blk.no_created.sum())
        self.no_history += int(blk.legacy.sum())
        self.orders_cents += int(blk.o_amt.sum())
        created_q = np.where(blk.no_created, -1, cal.quarter_of(blk.created // DAY))
        closed_q = np.where(blk.closed, cal.quarter_of(blk.close_day), -1)
        h_day = blk.h_ts // DAY
        not_lost_row = blk.h_stage != LOST
        for k in range(QUARTERS):
            as_of = cal.q_last[k]
            cohort = created_q == k
            won_by = cohort & (blk.outcome == O_WON) & (blk.close_day <= as_of) & blk.closed
            lost_by = cohort & (blk.outcome == O_LOST) & (blk.close_day <= as_of) & blk.closed
            open_at = cohort & ~won_by & ~lost_by
            furthest = np.full(blk.m, -1, dtype=np.int64)
            rows = cohort[blk.h_deal] & (h_day <= as_of) & not_lost_row
            np.maximum.at(furthest, blk.h_deal[rows], blk.h_stage[rows])
            # no history rows: the current stage; a lost one counts as lead
            legacy = cohort & blk.legacy
            current = np.where(blk.stage_now == LOST, LEAD, blk.stage_now)
            furthest = np.where(legacy, np.where(won_by, WON, np.where(lost_by, LEAD, current)), furthest)
            if np.any(cohort & (furthest < 0)) or np.any(open_at & (furthest == WON)):
                raise AssertionError("sample generator: inconsistent deal history")  # pragma: no cover
            f = furthest[cohort]
            self.cohort[k] += int(cohort.sum())
            for s in range(4):
                self.reached[k, s] += int((f >= s).sum())
                self.lost_at[k, s] += int((furthest[lost_by] == s).sum())
                self.open_at[k, s] += int((furthest[open_at] == s).sum())
            won_q = (closed_q == k) & (blk.outcome == O_WON)
            self.closed_won[k] += int(won_q.sum())
            self.closed_lost[k] += int(((closed_q == k) & (blk.outcome == O_LOST)).sum())
            self.won_cents[k] += int(blk.amount[won_q].sum())
            np.add.at(self.won_by_rep[:, k], blk.d_owner[won_q], blk.amount[won_q] / 100.0)

    def quarters(self) -> dict:
        """The funnel totals per quarter label (``2026Q3``)."""
        out = {}
        names = STAGES[:4]
        for k, q in enumerate(self.cal.quarters):
            out[q.label] = {
                "cohort_deals": int(self.cohort[k]),
                "reached": {s: int(self.reached[k, i]) for i, s in enumerate(names)},
                "lost_at": {s: int(self.lost_at[k, i]) for i, s in enumerate(names)},
                "open_at": {s: int(self.open_at[k, i]) for i, s in enumerate(names)},
                "closed_won": int(self.closed_won[k]),
                "closed_lost": int(self.closed_lost[k]),
                "won_amount": money(self.won_cents[k]),
            }
        return out


def manifest(seed: int, size: float, cal: Calendar, rows: dict[str, int], totals: Totals) -> dict:
    """The manifest: the arguments, the window, the rows written per table and the totals."""
    return {
        "seed": seed,
        "size": size,
        "start": cal.start.isoformat(),
        "end": cal.end.isoformat(),
        "rule": "furthest",
        "rows": dict(rows),
        "customers": totals.customers,
        "orders_amount_total": money(totals.orders_cents),
        "deals_without_created_at": totals.no_created,
        "deals_without_history": totals.no_history,
        "quarters": totals.quarters(),
    }


def write_manifest(out_dir: Path, content: dict) -> None:
    """``out_dir/manifest.json`` (UTF-8, indented), renamed into place."""
    text = json.dumps(content, ensure_ascii=False, indent=2) + "\n"
    partial = out_dir / "manifest.json.partial"
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, out_dir / "manifest.json")
