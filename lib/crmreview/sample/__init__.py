"""A deterministic generator of a realistic CRM export in the canonical CSV layout.

``generate(out_dir, seed=7, size=1.0, end=date(2026, 9, 30))`` writes one UTF-8 CSV per
canonical table (``customers.csv``, ``reps.csv``, ``targets.csv``, ``deals.csv``,
``deal_stage_history.csv``, ``orders.csv``, ``activities.csv``) plus ``manifest.json``, the
known totals computed from the generator's own event arrays (not by re-reading the CSVs), so
that the importer and the metric SQL can be checked against them.

Layout: the header is the canonical column list of ``queries/schema/001_canonical.sql``;
timestamps ``YYYY-MM-DD HH:MM:SS``, dates ``YYYY-MM-DD``, amounts with two decimals, an empty
field is null. Fields are quoted only when they need it (a name such as ``Co., Ltd.``).

Shape at ``size=1``: the 8 full quarters ending with the quarter of ``end``, ~2,000
customers, ~8,000 deals with ~24k stage-history rows, ~17k orders, ~50k activities, 24 reps
in 4 teams, one target per rep and quarter. ``size`` scales the customers (and with them
everything else) linearly, and the reps with its square root.

What the analytics should find in it: Pareto-like customer value; funnel conversion that
depends on the source channel (转介绍 referral best, 电话营销 cold call worst), on the rep and
on the customer's size band; seasonality (Q4 and March peaks, a Chinese New Year dip, the
National Day week); a push to close won deals before a quarter ends; churn (no purchase for
more than 180 days) and reactivation; stale open deals; deals that skip ``qualified``, start
at ``qualified``, or move back from ``proposal`` to ``qualified`` (and usually forward
again); lost reasons; returns (negative orders) and cancellations (zero orders); ~0.5 % of
deals without created_at, ~1 % without any stage history (legacy); activities by someone
other than the owner (ownership conflicts).

Modules, each importing only those listed before it:

- ``vocabulary``: labels, codes and shape knobs;
- ``calendar``: the window of quarters, business days, date helpers;
- ``generator``: the reps, the blocks of customers with their deals, stage history, orders
  and activities, the targets;
- ``writer``: the CSV layout of each table, partial files renamed into place;
- ``manifest``: the known totals and ``manifest.json``;
- this module: ``generate``, which drives them.

Public names: ``generate``, ``COLUMNS`` (each table's canonical column order, from
``crmreview.schema``), ``BLOCK_CUSTOMERS``, ``QUARTERS``.

Determinism: the customers are generated and written in blocks of ``BLOCK_CUSTOMERS``; block
``b`` draws from ``numpy.random.SeedSequence([seed, 1, b])``, the reps from
``[seed, 0]``, the targets from ``[seed, 2]``. Nothing depends on the clock, on hash
randomization or on thread timing (DuckDB, on one thread, formats the CSV text), so
the same ``seed``, ``size`` and ``end`` give byte-identical files, pinned by sha256 in
``tests/sample/test_pinned_output.py``.

Data are all inside the window: orders and activities of customers created before it start
at its first day (so their earlier history is not in the export).

Funnel totals in the manifest follow DESIGN.md with the default (furthest-stage) rule and
as-of date = the quarter's last day (a row entered on that day counts). A deal without
history rows uses its current stage (its stage at ``end``); when that stage is ``lost`` it
counts as ``lead``. The generator keeps the one ambiguous case out of the data: a deal
without history that is closed at ``end`` was created and closed in the same quarter, so it
is never "open as of the quarter's end" with a current stage of won or lost.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import numpy as np

from .calendar import QUARTERS, Calendar
from .generator import BLOCK_CUSTOMERS, Block, Reps, targets
from .manifest import Totals, manifest, write_manifest
from .vocabulary import CUSTOMERS_PER_SIZE
from .writer import COLUMNS, CsvWriter, write_block, write_reps, write_targets

__all__ = ["generate", "COLUMNS", "BLOCK_CUSTOMERS", "QUARTERS"]


def generate(out_dir: str | Path, *, seed: int = 7, size: float = 1.0, end: date = date(2026, 9, 30)) -> dict:
    """Write the sample export into out_dir and return the manifest (also written to out_dir/manifest.json).

    ``seed`` (an integer >= 0) picks the data; ``size`` scales the number of customers
    (1.0 = 2,000); ``end`` is the last day of the export, so the window is the 8 quarters
    ending with the quarter that contains it. Prints nothing.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not math.isfinite(size) or size <= 0:
        raise ValueError(f"size must be a positive number, not {size!r}")
    if isinstance(end, datetime):
        end = end.date()
    if not isinstance(end, date):
        raise ValueError(f"end must be a date, not {end!r}")
    seed, size = int(seed), float(size)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cal = Calendar(end)
    reps = Reps(np.random.default_rng(np.random.SeedSequence([seed, 0])), size)
    n_customers = max(1, round(CUSTOMERS_PER_SIZE * size))
    totals = Totals(cal, reps)
    writer = CsvWriter(out)
    try:
        write_reps(writer, reps)
        next_deal = next_order = next_activity = 1
        for b, first in enumerate(range(0, n_customers, BLOCK_CUSTOMERS)):
            rng = np.random.default_rng(np.random.SeedSequence([seed, 1, b]))
            blk = Block(rng, cal, reps, first + 1, min(BLOCK_CUSTOMERS, n_customers - first))
            write_block(writer, cal, blk, next_deal, next_order, next_activity)
            totals.add(blk)
            next_deal += blk.m
            next_order += blk.o_cust.shape[0]
            next_activity += blk.a_cust.shape[0]
        rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
        write_targets(writer, targets(rng, cal, reps, totals.won_by_rep))
        writer.finish()
    finally:
        writer.close()
    content = manifest(seed, size, cal, writer.rows, totals)
    write_manifest(out, content)
    return content
