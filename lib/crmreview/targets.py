"""Splitting a team's target (业绩目标拆解): to each rep, then to the customers each rep owns.

**Reps.** ``split_target`` divides the amount among the reps of the reps table (of one team,
or all), by a method:

- ``history``: each rep's share of the won revenue of the ``settings.target_history_periods``
  periods of the period's kind before it (``queries/targets/rep_basis.sql``);
- ``pipeline``: each rep's share of the deals open the day before the period starts;
- ``equal``: the same for every rep.

A rep with nothing to go by (no revenue won, no open deal) counts with the median basis of the
reps who have one, which gives it the team's median share; or it gets exactly the share given as
``new_rep_share`` and the others split what is left in proportion to their basis. Amounts are rounded to a unit (``settings.target_rounding``) by the largest
remainder, so that they sum exactly to the team amount (:func:`largest_remainder`).

**Customers.** Each rep's target is spread over the customers the rep owns by ABC tier at the day
before the period starts: a tier's part is proportional to its weight
(``settings.target_tier_weights``: A 1, B 0.5, C 0) times its number of customers, so an A
customer carries on average twice a B customer and C customers are upside; within a tier,
customers carry in proportion to their value (equally when the tier's value is 0). A rep with no
customer of a weighted tier keeps the target unallocated (a row without a customer).

The rep targets go into the warehouse's ``targets`` as an import of a canonical file (with its
record in the import log: :func:`import_split`) or into a CSV to edit and import later
(:func:`write_targets_csv`); the customer allocation into a CSV (:func:`write_customers_csv`).

Public names: ``METHODS``, ``TargetSplitError``, ``Split``, ``parse_amount``, ``largest_remainder``,
``split_target``, ``write_targets_csv``, ``write_customers_csv``, ``import_split``, ``split_file_name``, ``split_lines``.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from . import config, queries
from .config import DEFAULT_SETTINGS, Settings
from .metrics.common import tier_params
from .metrics.forecast import history_window
from .periods import Period

if TYPE_CHECKING:  # the importer loads only when a split is imported (``crm-review --help`` stays light)
    from .importing import FileResult

__all__ = [
    "METHODS",
    "TargetSplitError",
    "Split",
    "parse_amount",
    "largest_remainder",
    "split_target",
    "write_targets_csv",
    "write_customers_csv",
    "import_split",
    "split_file_name",
    "split_lines",
]

METHODS = ("history", "equal", "pipeline")
_CENT = Decimal("0.01")
#: the columns of the canonical ``targets`` file (queries/schema/001_canonical.sql)
TARGET_COLUMNS = ("rep_id", "period_start", "period_end", "target_amount")
CUSTOMER_COLUMNS = ("rep_id", "customer_id", "name", "tier", "value", "period_start", "period_end", "target_amount")


class TargetSplitError(ValueError):
    """A split asked for in a way that cannot be done: a bad amount, an unknown team, no reps."""


@dataclass(frozen=True)
class Split:
    """A split target. ``reps``: one row per rep (``rep_id, name, team, basis, has_basis, share,
    target_amount``); ``customers``: one row per customer (``rep_id, customer_id, name, tier,
    value, weight, target_amount``; customer_id empty for a rep's unallocated target) or None."""

    period: Period
    team: str | None
    method: str
    amount: Decimal
    unit: Decimal
    history: tuple[str, str] | None
    reps: pd.DataFrame
    customers: pd.DataFrame | None = None


def parse_amount(text: str | float | Decimal, what: str = "amount") -> Decimal:
    """An amount as the imports read one (``1000000``, ``1,000,000``, ``¥1,000,000``, ``100万``),
    to the cent; :class:`TargetSplitError` for text that is no amount, a negative amount or
    more than two decimals."""
    if isinstance(text, (int, float, Decimal)) and not isinstance(text, bool):
        value = Decimal(str(text))
    else:
        con = duckdb.connect()
        try:
            con.execute((config.QUERIES_DIR / "import" / "parse_values.sql").read_text(encoding="utf-8"))
            parsed = con.execute("select crm_amount($text)::varchar", {"text": str(text).strip()}).fetchall()[0][0]
        finally:
            con.close()
        if parsed is None:
            raise TargetSplitError(f"{what} {text!r} is not an amount (e.g. 1000000, 1,000,000 or 100万)")
        value = Decimal(parsed)
    if value < 0:
        raise TargetSplitError(f"{what} {text} is negative; a target is 0 or more")
    if value != value.quantize(_CENT, rounding=ROUND_FLOOR):
        raise TargetSplitError(f"{what} {text} has more than two decimals")
    return value.quantize(_CENT)


def largest_remainder(total: Decimal, weights: Sequence[float], unit: Decimal) -> list[Decimal]:
    """``total`` split in proportion to ``weights`` in multiples of ``unit``, summing exactly to it.

    The whole units of ``total`` go out by the largest-remainder (Hamilton) method: each part
    gets the whole units of its quota, and the units left over go one each to the largest
    fractional remainders (ties: the larger weight, then the earlier part). What is left of
    ``total`` below one unit goes to the part with the largest quota (ties: the earlier one),
    so the parts always sum to ``total``. A zero weight gets 0.
    """
    total, unit = Decimal(total), Decimal(unit)
    if unit <= 0:
        raise ValueError(f"the rounding unit must be above 0, got {unit}")
    if any(w < 0 for w in weights):
        raise ValueError("weights must be 0 or more")
    exact = [Fraction(w) for w in weights]
    whole = sum(exact)
    if not exact or whole == 0:
        raise ValueError("largest_remainder needs a weight above 0")
    units = int((total / unit).to_integral_value(rounding=ROUND_FLOOR))
    leftover = total - units * unit
    quotas = [units * w / whole for w in exact]
    counts = [int(q) for q in quotas]
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - counts[i]), -exact[i], i))
    for i in order[: units - sum(counts)]:
        counts[i] += 1
    parts = [count * unit for count in counts]
    largest = max(range(len(quotas)), key=lambda i: (quotas[i], -i))
    parts[largest] += leftover
    return parts


def _shares(frame: pd.DataFrame, method: str, new_rep_share: float | None, where: str) -> pd.Series:
    """Each rep's share of the target (sums to 1). A rep without a basis counts with the median
    basis of the others (adding values at the median keeps it: the rep gets the team's median
    share), or gets exactly ``new_rep_share`` while the others share the rest."""
    if method == "equal":
        return pd.Series(1 / len(frame), index=frame.index)
    basis = frame["basis"]
    known = basis > 0
    if not known.any():
        raise TargetSplitError(
            f"no rep of {where} has any {'won revenue' if method == 'history' else 'open pipeline'} to split by; "
            "use --method equal"
        )
    if new_rep_share is None:
        filled = basis.where(known, statistics.median(basis[known].tolist()))
        return filled / filled.sum()
    new = int((~known).sum())
    if new * new_rep_share >= 1:
        raise TargetSplitError(
            f"{new} reps without a basis at a share of {new_rep_share} each leave nothing for the others; "
            "give a smaller --new-rep-share"
        )
    shares = pd.Series(float(new_rep_share), index=frame.index)
    shares[known] = basis[known] / basis[known].sum() * (1 - new * new_rep_share)
    return shares


def split_target(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    amount: Decimal | str | float,
    *,
    team: str | None = None,
    method: str = "history",
    new_rep_share: float | None = None,
    customers: bool = False,
    unit: Decimal | str | float | None = None,
    settings: Settings = DEFAULT_SETTINGS,
) -> Split:
    """Split ``amount`` for ``period`` among the reps of ``team`` (every rep when None) and,
    with ``customers``, among the customers they own. See the module docstring."""
    if method not in METHODS:
        raise TargetSplitError(f"split method {method!r} is not one of: {', '.join(METHODS)}")
    amount = parse_amount(amount)
    unit = parse_amount(settings.target_rounding if unit is None else unit, "rounding unit")
    if unit == 0:
        raise TargetSplitError("the rounding unit must be above 0")
    if new_rep_share is not None and not 0 < new_rep_share < 1:
        raise TargetSplitError(f"--new-rep-share must be a share between 0 and 1 (e.g. 0.05), got {new_rep_share}")
    start, end = history_window(period, settings.target_history_periods)
    day_before = period.start - timedelta(days=1)
    reps = queries.run(
        con,
        "targets/rep_basis",
        {"team": team, "history_start": start, "history_end": end, "as_of": day_before},
    )
    where = f"team {team!r}" if team is not None else "the warehouse"
    if reps.empty:
        if team is not None:
            every = {"team": None, "history_start": start, "history_end": end, "as_of": day_before}
            teams = queries.run(con, "targets/rep_basis", every)["team"]
            known = ", ".join(sorted({repr(t) for t in teams})) or "none (the reps table is empty)"
            raise TargetSplitError(f"unknown team {team!r}: no rep of the reps table is in it; the teams are: {known}")
        raise TargetSplitError(
            f"no reps to split the {period.label} target among: the warehouse holds no reps "
            "(import a reps file: rep_id, name, team)"
        )
    reps["basis"] = reps["won_amount"] if method == "history" else reps["open_amount"]
    if method == "equal":
        reps["basis"] = 0.0
    reps["has_basis"] = reps["basis"] > 0
    reps["share"] = _shares(reps, method, new_rep_share, where)
    reps["target_amount"] = largest_remainder(amount, reps["share"].tolist(), unit)
    reps = reps[["rep_id", "name", "team", "basis", "has_basis", "share", "target_amount"]]
    split = Split(
        period,
        team,
        method,
        amount,
        unit,
        (start.isoformat(), end.isoformat()) if method == "history" else None,
        reps,
    )
    if not customers:
        return split
    return dataclasses.replace(split, customers=_customers(con, split, day_before, settings))


def _customers(con: duckdb.DuckDBPyConnection, split: Split, as_of, settings: Settings) -> pd.DataFrame:
    owned = queries.run(
        con,
        "targets/customer_values",
        {"rep_ids": split.reps["rep_id"].tolist(), "as_of": as_of, **tier_params(settings)},
    )
    tier_weight = settings.target_tier_weights
    out = []
    for rep in split.reps.itertuples(index=False):
        mine = owned[owned["owner_rep_id"] == rep.rep_id].copy()
        counts = mine["tier"].value_counts()
        whole = sum(tier_weight[t] * n for t, n in counts.items())
        if mine.empty or whole == 0:
            out.append(
                {"rep_id": rep.rep_id, "customer_id": None, "name": None, "tier": None, "value": None, "weight": 0.0,
                 "target_amount": rep.target_amount}
            )  # fmt: skip
            if mine.empty:
                continue
            mine["weight"] = 0.0
            mine["target_amount"] = Decimal("0.00")
        else:
            tier_value = mine.groupby("tier")["value"].transform("sum")
            tier_count = mine.groupby("tier")["value"].transform("count")
            within = (mine["value"] / tier_value).where(tier_value > 0, 1 / tier_count)
            mine["weight"] = mine["tier"].map(tier_weight) * mine["tier"].map(counts) / whole * within
            mine["target_amount"] = largest_remainder(rep.target_amount, mine["weight"].tolist(), split.unit)
        for row in mine.itertuples(index=False):
            out.append(
                {"rep_id": rep.rep_id, "customer_id": row.customer_id, "name": row.name, "tier": row.tier,
                 "value": row.value, "weight": float(row.weight), "target_amount": row.target_amount}
            )  # fmt: skip
    columns = ["rep_id", "customer_id", "name", "tier", "value", "weight", "target_amount"]
    return pd.DataFrame(out, columns=columns)


def split_lines(split: Split) -> list[str]:
    """The split in plain text: what was split and how, then one line per rep."""
    window = f" (won {split.history[0]}..{split.history[1]})" if split.history else ""
    team = f"team {split.team}" if split.team is not None else "every team"
    lines = [
        f"{split.period.label} target {split.amount:,.2f} split among {len(split.reps)} reps of {team} "
        f"by {split.method}{window}, rounded to {split.unit:,.2f}"
    ]
    basis = {"history": "won", "pipeline": "open pipeline", "equal": ""}[split.method]
    width = max(len(str(r)) for r in split.reps["rep_id"])
    for rep in split.reps.itertuples(index=False):
        shown = f"{basis} {rep.basis:,.2f}, " if basis else ""
        note = "" if rep.has_basis or split.method == "equal" else " (no basis: the median share, or the share given)"
        lines.append(
            f"  {rep.rep_id:<{width}}  {rep.name or '':<12} {rep.team or '':<8} {shown}share {rep.share:.4f}: "
            f"{rep.target_amount:>16,.2f}{note}"
        )
    lines.append(f"  total {sum(split.reps['target_amount']):,.2f}")
    return lines


def write_targets_csv(split: Split, path: str | os.PathLike) -> Path:
    """The rep targets as a canonical ``targets`` file (UTF-8 with BOM, so that Excel shows
    Chinese text): edit it and import it with ``crm-review import``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TARGET_COLUMNS)
        for rep in split.reps.itertuples(index=False):
            writer.writerow(
                [rep.rep_id, split.period.start.isoformat(), split.period.end.isoformat(), f"{rep.target_amount:.2f}"]
            )
    return path


def write_customers_csv(split: Split, path: str | os.PathLike) -> Path:
    """The per-customer allocation (UTF-8 with BOM): one row per owned customer, by rep."""
    if split.customers is None:
        raise ValueError("this split has no customer allocation (split_target(..., customers=True))")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CUSTOMER_COLUMNS)
        for row in split.customers.itertuples(index=False):
            writer.writerow(
                [
                    row.rep_id,
                    row.customer_id if isinstance(row.customer_id, str) else "",
                    row.name if isinstance(row.name, str) else "",
                    row.tier if isinstance(row.tier, str) else "",
                    "" if pd.isna(row.value) else f"{row.value:.2f}",
                    split.period.start.isoformat(),
                    split.period.end.isoformat(),
                    f"{row.target_amount:.2f}",
                ]
            )
    return path


def split_file_name(split: Split) -> str:
    """``targets_<period>_<team or all>_<method>.csv``, safe as a file name."""
    team = re.sub(r"[^\w.-]+", "_", split.team) if split.team else "all"
    period = split.period.label.replace("..", "_")
    return f"targets_{period}_{team}_{split.method}.csv"


def import_split(
    split: Split, db: str | os.PathLike | None = None, *, settings: Settings = DEFAULT_SETTINGS
) -> tuple[Path, FileResult]:
    """Write the rep targets next to the warehouse (``targets/`` beside it, so the warehouse can
    be rebuilt from its files) and import them: a target of the same rep and period replaces
    the earlier one, and the import log records the file."""
    from .importing import import_files

    warehouse_path = Path(db) if db else config.default_db_path()
    path = write_targets_csv(split, warehouse_path.parent / "targets" / split_file_name(split))
    (result,) = import_files([path], warehouse_path, settings=settings)
    return path, result
