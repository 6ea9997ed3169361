"""Writing the sample's CSVs: one file per canonical table, appended block by block and renamed
into place only when every block is written.

Owns ``COLUMNS`` (each table's canonical column order, from ``crmreview.schema``),
``CsvWriter`` (``<table>.csv.partial`` files, DuckDB formats the text, ``finish`` renames them
to ``<table>.csv``, ``close`` removes what is left after a failure) and the table layouts:
``write_reps``, ``write_block`` (customers, deals, stage history, orders, activities) and
``write_targets``, which turn the generator's codes into labels, ids (``C000001``,
``R01``, ``D000001``, ``O0000001``, ``A0000001``), timestamps and amounts.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ..schema import TABLE_SPECS
from .calendar import Calendar
from .generator import Block, Reps
from .vocabulary import (
    ACTIVITY_KINDS,
    CHANNELS,
    INDUSTRIES,
    LOST_REASONS,
    OUTCOMES,
    PIPELINES,
    REGIONS,
    SIZE_BANDS,
    STAGES,
)

#: canonical column order of every table the sample writes
COLUMNS: dict[str, tuple[str, ...]] = {table: spec.names for table, spec in TABLE_SPECS.items()}

#: SQL: cents in column ``{c}`` as a decimal with two places
_MONEY = "(({c})::decimal(18, 0) / 100)::decimal(18, 2)"


def _sql_list(values) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def _pick(column: str, values) -> str:
    """SQL: the label for an integer code column (negative = null)."""
    return f"case when {column} >= 0 then ({_sql_list(values)})[{column} + 1] end"


class CsvWriter:
    """Appends blocks to ``<table>.csv.partial`` files; DuckDB formats the text.

    ``rows`` counts the data rows written per table. Call ``finish`` once everything is
    written, and ``close`` always (it leaves no partial file behind)."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.tmp = out_dir / f".sample-tmp-{os.getpid()}"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect()
        self.con.execute("set preserve_insertion_order = true")
        self.con.execute("set threads = 1")  # row order never depends on thread timing
        self.files = {}
        self.rows = dict.fromkeys(COLUMNS, 0)
        for table, columns in COLUMNS.items():
            handle = open(out_dir / f"{table}.csv.partial", "wb")  # noqa: SIM115 - closed by finish()
            handle.write((",".join(columns) + "\n").encode("utf-8"))
            self.files[table] = handle

    def append(self, table: str, frame: pd.DataFrame, select: str) -> None:
        """Append the rows of ``select`` (SQL over ``frame``, named ``block``) to ``table``."""
        if len(frame) == 0:
            return
        part = self.tmp / f"{table}.csv"
        self.con.register("block", frame)
        try:
            self.con.execute(f"copy (select {select} from block) to '{part.as_posix()}' (header false)")
        finally:
            self.con.unregister("block")
        with open(part, "rb") as handle:
            shutil.copyfileobj(handle, self.files[table], 1 << 20)
        self.rows[table] += len(frame)

    def finish(self) -> None:
        """Rename every ``<table>.csv.partial`` to ``<table>.csv``."""
        for table, handle in self.files.items():
            handle.close()
            os.replace(self.out_dir / f"{table}.csv.partial", self.out_dir / f"{table}.csv")
        self.files = {}

    def close(self) -> None:
        """Release everything; after a failure, no partial file is left behind."""
        for table, handle in self.files.items():
            handle.close()
            (self.out_dir / f"{table}.csv.partial").unlink(missing_ok=True)
        self.files = {}
        self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def write_reps(w: CsvWriter, reps: Reps) -> None:
    """``reps.csv``: one row per rep, with an address at the reserved ``.example`` domain."""
    frame = pd.DataFrame(
        {
            "rep": np.arange(reps.n),
            "name": reps.names,
            "team": np.array(reps.team_names, dtype=object)[reps.team],
            "region": reps.region,
        }
    )
    w.append(
        "reps",
        frame,
        "printf('R%02d', rep + 1), name, team, "
        + _pick("region", REGIONS)
        + ", printf('r%02d@sales.example', rep + 1)",
    )


def write_block(
    w: CsvWriter, cal: Calendar, blk: Block, first_deal: int, first_order: int, first_activity: int
) -> None:
    """One block's customers, deals, stage history, orders and activities; deals, orders and
    activities are numbered on from ``first_deal``, ``first_order`` and ``first_activity``."""
    cust_no = blk.customer_no
    w.append(
        "customers",
        pd.DataFrame(
            {
                "no": cust_no,
                "name": blk.names,
                "industry": blk.industry,
                "region": blk.region,
                "band": blk.band,
                "owner": blk.owner,
                "channel": blk.channel,
                "created": cal.timestamps(blk.c_ts),
            }
        ),
        "printf('C%06d', no), name, "
        + _pick("industry", INDUSTRIES)
        + ", "
        + _pick("region", REGIONS)
        + ", "
        + _pick("band", SIZE_BANDS)
        + ", printf('R%02d', owner + 1), "
        + _pick("channel", CHANNELS)
        + ", created",
    )
    deal_no = first_deal + np.arange(blk.m, dtype=np.int64)
    w.append(
        "deals",
        pd.DataFrame(
            {
                "no": deal_no,
                "cust": cust_no[blk.d_cust],
                "owner": blk.d_owner,
                "pipeline": blk.pipeline,
                "stage": blk.stage_now,
                "outcome": blk.outcome,
                "amount": np.where(blk.no_amount, -1, blk.amount),
                "no_amount": blk.no_amount,
                "created": cal.timestamps(blk.created, blk.no_created),
                "closed": cal.timestamps(np.where(blk.closed, blk.t_close, 0), ~blk.closed),
                "reason": blk.reason,
                "channel": blk.d_channel,
            }
        ),
        "printf('D%06d', no), printf('C%06d', cust), printf('R%02d', owner + 1), "
        + _pick("pipeline", PIPELINES)
        + ", "
        + _pick("stage", STAGES)
        + ", "
        + _pick("outcome", OUTCOMES)
        + ", case when not no_amount then "
        + _MONEY.format(c="amount")
        + " end, created, closed, "
        + _pick("reason", LOST_REASONS)
        + ", "
        + _pick("channel", CHANNELS),
    )
    w.append(
        "deal_stage_history",
        pd.DataFrame({"no": deal_no[blk.h_deal], "stage": blk.h_stage, "ts": cal.timestamps(blk.h_ts)}),
        "printf('D%06d', no), " + _pick("stage", STAGES) + ", ts",
    )
    w.append(
        "orders",
        pd.DataFrame(
            {
                "no": first_order + np.arange(blk.o_cust.shape[0], dtype=np.int64),
                "cust": cust_no[blk.o_cust],
                "day": cal.dates(blk.o_day),
                "amount": blk.o_amt,
            }
        ),
        "printf('O%07d', no), printf('C%06d', cust), day::date, " + _MONEY.format(c="amount"),
    )
    w.append(
        "activities",
        pd.DataFrame(
            {
                "no": first_activity + np.arange(blk.a_cust.shape[0], dtype=np.int64),
                "cust": cust_no[blk.a_cust],
                "deal": np.where(blk.a_deal >= 0, deal_no[np.maximum(blk.a_deal, 0)], -1),
                "rep": blk.a_rep,
                "kind": blk.a_kind,
                "ts": cal.timestamps(blk.a_ts),
            }
        ),
        "printf('A%07d', no), printf('C%06d', cust), case when deal >= 0 then printf('D%06d', deal) end, "
        "printf('R%02d', rep + 1), " + _pick("kind", ACTIVITY_KINDS) + ", ts",
    )


def write_targets(w: CsvWriter, targets: pd.DataFrame) -> None:
    """``targets.csv`` from ``generator.targets``: one row per rep and quarter."""
    w.append("targets", targets, "printf('R%02d', rep + 1), start::date, stop::date, " + _MONEY.format(c="cents"))
