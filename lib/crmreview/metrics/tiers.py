"""Customer tiers: how concentrated value is, who is A/B/C, and who moved between tiers.

Definitions are those of DESIGN.md "Customer tiers". The universe, each customer's value
and the ABC tier are the shared macros ``customer_values`` / ``customer_tiers``
(``queries/macros/customers.sql``); the scorecard, its measures and the tier changes are
``queries/macros/tiers.sql``. The SQL, one question per file in ``queries/metrics/``:
``tier_distribution.sql`` (customers and value per group and tier),
``tier_concentration.sql`` (top-20 % share, Gini), ``tier_pareto_curve.sql``,
``tier_migration.sql`` (from × to counts) and ``tier_movers.sql`` (who moved);
``customer_tiers.sql`` / ``customer_scorecard.sql`` list every customer's tier.

Public names: ``tiers`` (the metric), ``distribution``, ``concentration``, ``BREAKDOWNS``, ``TIERS``, ``TIER_COLUMNS``,
``scorecard_json``, ``tiers_frame``, ``curve_frame``, ``migration_frame``,
``movers_frame``, ``rows``, ``summary``.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd

from .. import queries
from ..config import DEFAULT_SETTINGS, Settings
from ..periods import Period
from . import common, shared
from .common import fmt, number, stacked_rows
from .inputs import Inputs

__all__ = [
    "BREAKDOWNS",
    "TIERS",
    "TIER_COLUMNS",
    "METHODS",
    "tiers",
    "distribution",
    "concentration",
    "scorecard_json",
    "tiers_frame",
    "curve_frame",
    "migration_frame",
    "movers_frame",
    "rows",
    "summary",
]

TIERS = ("A", "B", "C")
METHODS = ("abc", "scorecard")
#: no tier breakdown: the tiers are the result
BREAKDOWNS = tuple(by for by in common.BREAKDOWNS if by != "tier")
#: what the tiers read; a customer's value needs orders, or won deals with an amount
INPUTS = Inputs(
    reads=("customers", "orders", "deals"),
    needs={
        "orders|deals.amount": (
            "total_value", "top20_value_share", "gini", "tiers[].value", "tiers[].share_of_value",
            "scorecard.tiers[].value", "scorecard.tiers[].share_of_value",
        ),
    },
)  # fmt: skip
TIER_COLUMNS = ("tier", "customers", "share_of_customers", "value", "share_of_value")
#: points of the Pareto curve: every percent of customers (0 % .. 100 %)
CURVE_POINTS = 101
#: how many movers the result lists in each direction (all are counted)
MOVERS_LIST_LENGTH = 50


def _money(value: Any) -> float:
    amount = number(value)
    return 0.0 if amount is None else round(amount, 2)


def _tier_rank(tier: str) -> int:
    return TIERS.index(tier) if tier in TIERS else len(TIERS)


def scorecard_json(scorecard: dict[str, Any]) -> str:
    """Settings.scorecard's dimensions as the JSON text the scorecard macros read.

    Bands ``[bound, points]`` become ``{"bound", "points"}``; field points ``{value: points}``
    become ``[{"value", "points"}]``, in the order written.
    """
    dimensions = []
    for dim in scorecard["dimensions"]:
        dimensions.append(
            {
                "name": dim["name"],
                "measure": dim.get("measure"),
                "field": dim.get("field"),
                "weight": float(dim["weight"]),
                "bands": [{"bound": float(b), "points": float(p)} for b, p in dim.get("bands", [])],
                "points": [{"value": str(v), "points": float(p)} for v, p in (dim.get("points") or {}).items()],
                "default_points": float(dim.get("default_points", 0)),
            }
        )
    return json.dumps(dimensions, ensure_ascii=False)


def _abc_params(as_of, settings: Settings) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "tier_a_share": settings.tier_a_share,
        "tier_b_share": settings.tier_b_share,
        "value_window_months": settings.value_window_months,
    }


def _distribution(con, period: Period, settings: Settings, by: str, method: str) -> dict[str, list[dict]]:
    frame = queries.run(
        con,
        "metrics/tiers/distribution",
        {
            **_abc_params(period.as_of, settings),
            "by": by,
            "method": method,
            "dimensions": scorecard_json(settings.scorecard),
            "cutoff_a": float(settings.scorecard["cutoffs"]["A"]),
            "cutoff_b": float(settings.scorecard["cutoffs"]["B"]),
        },
    )
    out: dict[str, list[dict]] = {}
    for row in frame.itertuples(index=False):
        entry = {
            "tier": row.tier,
            "customers": int(row.count_customers),
            "share_of_customers": number(row.share_of_customers),
            "value": _money(row.value),
            "share_of_value": number(row.share_of_value),
        }
        if method == "scorecard":
            entry["mean_score"] = number(row.mean_score)
        entry["_agree"] = int(row.count_same_tier_both_methods)
        out.setdefault(row.group_key, []).append(entry)
    return out


def _concentration(con, period: Period, settings: Settings, by: str) -> dict[str, dict[str, Any]]:
    frame = queries.run(
        con,
        "metrics/tiers/concentration",
        {"as_of": period.as_of, "value_window_months": settings.value_window_months, "by": by},
    )
    return {
        row.group_key: {
            "customers": int(row.count_customers),
            "total_value": _money(row.total_value),
            "top20_value_share": number(row.top20_value_share),
            "gini": number(row.gini),
            "value_basis": "orders" if row.has_orders else "won_deals",
        }
        for row in frame.itertuples(index=False)
    }


def _strip(entries: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if not k.startswith("_")} for e in entries]


def _empty_tiers(method: str) -> list[dict]:
    extra = {"mean_score": None} if method == "scorecard" else {}
    return [
        {
            "tier": t,
            "customers": 0,
            "share_of_customers": None,
            "value": 0.0,
            "share_of_value": None,
            **extra,
            "_agree": 0,
        }
        for t in TIERS
    ]


def _scorecard_object(entries: list[dict], settings: Settings) -> dict[str, Any]:
    customers = sum(e["customers"] for e in entries)
    agree = sum(e["_agree"] for e in entries)
    return {
        "dimensions": [
            {k: v for k, v in dim.items() if k in ("name", "measure", "field", "weight")}
            for dim in settings.scorecard["dimensions"]
        ],
        "cutoffs": dict(settings.scorecard["cutoffs"]),
        "tiers": _strip(entries),
        "agreement_with_abc": agree / customers if customers else None,
    }


def _migration(con, period: Period, previous: Period, settings: Settings, list_limit: int | None) -> dict[str, Any]:
    params = {**_abc_params(period.as_of, settings), "previous_as_of": previous.as_of}
    matrix = queries.run(con, "metrics/tiers/migration", params)
    movers = queries.run(con, "metrics/tiers/movers", {**params, "list_limit": list_limit})
    cells = [
        {
            "from": row.from_tier,
            "to": row.to_tier,
            "customers": int(row.count_customers),
            "value": _money(row.value),
            "previous_value": _money(row.previous_value),
        }
        for row in matrix.itertuples(index=False)
    ]
    moved = [c for c in cells if c["from"] in TIERS and c["to"] in TIERS and c["from"] != c["to"]]
    return {
        "migration_from": {"period": previous.label, "as_of": previous.as_of.isoformat()},
        "migration": cells,
        "new_customers": sum(c["customers"] for c in cells if c["from"] == "new"),
        "movers_up": sum(c["customers"] for c in moved if _tier_rank(c["to"]) < _tier_rank(c["from"])),
        "movers_down": sum(c["customers"] for c in moved if _tier_rank(c["to"]) > _tier_rank(c["from"])),
        "movers": [
            {
                "customer_id": row.customer_id,
                "name": None if pd.isna(row.name) else row.name,
                "owner_rep_id": None if pd.isna(row.owner_rep_id) else row.owner_rep_id,
                "from_tier": row.from_tier,
                "to_tier": row.to_tier,
                "direction": row.direction,
                "previous_value": _money(row.previous_value),
                "value": _money(row.value),
            }
            for row in movers.itertuples(index=False)
        ],
    }


def _curve(con, period: Period, settings: Settings) -> list[dict[str, Any]]:
    frame = queries.run(
        con, "metrics/tiers/pareto_curve", {**_abc_params(period.as_of, settings), "points": CURVE_POINTS}
    )
    return [
        {
            "customers": int(row.count_customers),
            "share_of_customers": float(row.share_of_customers),
            "share_of_value": number(row.share_of_value),
        }
        for row in frame.itertuples(index=False)
    ]


def tiers(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    by: str | None = None,
    compare: str = "prev",
    list_limit: int | None = MOVERS_LIST_LENGTH,
) -> dict[str, Any]:
    """Customer tiers at ``period``'s as-of date as a JSON-ready dict with the DESIGN.md keys.

    ``tiers``: one entry per ABC tier (A, B, C): customers, share_of_customers, value,
    share_of_value (shares are fractions; null when the denominator is zero).
    ``top20_value_share``, ``gini`` (null when the total value is zero), ``pareto_curve``
    (at most 101 points, every percent of customers), ``migration`` (tier at the as-of date
    of the comparison period ``period.compare(compare)`` × tier now: every from ∈ A, B, C,
    new and to ∈ A, B, C, zero cells included), ``movers_up`` / ``movers_down`` /
    ``new_customers`` and the ``movers`` themselves (at most ``list_limit`` moving down and
    as many moving up, None = all: down first, larger value first). ``scorecard``: the weighted-score tiers of
    ``settings.scorecard`` with the same distribution keys plus ``mean_score``, and
    ``agreement_with_abc`` (share of customers with the same tier by both methods).
    With ``by`` (rep, team, channel, region: the customer's owner rep, its team, source
    channel, region) also ``groups``: per group its customers, total value, ABC ``tiers``,
    ``top20_value_share``, ``gini`` and scorecard ``scorecard_tiers`` (tiers stay global:
    a customer's tier does not depend on the group).
    """
    common.check_by(by, "tiers", BREAKDOWNS)
    if list_limit is not None and (not isinstance(list_limit, int) or list_limit < 0):
        raise ValueError(f"list_limit must be a whole number >= 0 or None, got {list_limit!r}")
    previous = period.compare(compare)
    shared.customer_state(con, period.as_of, settings)
    shared.customer_state(con, previous.as_of, settings)
    abc = _distribution(con, period, settings, "all", "abc")
    card = _distribution(con, period, settings, "all", "scorecard")
    overall = _concentration(con, period, settings, "all")["all"]
    result: dict[str, Any] = {
        "period": period.as_dict(),
        "as_of": period.as_of.isoformat(),
        "method": "abc",
        "a_share": settings.tier_a_share,
        "b_share": settings.tier_b_share,
        "window_months": settings.value_window_months,
        **overall,
        "tiers": _strip(abc.get("all") or _empty_tiers("abc")),
        "pareto_curve": _curve(con, period, settings),
        **_migration(con, period, previous, settings, list_limit),
        "scorecard": _scorecard_object(card.get("all") or _empty_tiers("scorecard"), settings),
    }
    if by is not None:
        groups_abc = _distribution(con, period, settings, by, "abc")
        groups_card = _distribution(con, period, settings, by, "scorecard")
        concentration = _concentration(con, period, settings, by)
        result["by"] = by
        result["groups"] = [
            {
                "group": key or None,
                "customers": stats["customers"],
                "total_value": stats["total_value"],
                "tiers": _strip(groups_abc.get(key) or _empty_tiers("abc")),
                "top20_value_share": stats["top20_value_share"],
                "gini": stats["gini"],
                "scorecard_tiers": _strip(groups_card.get(key) or _empty_tiers("scorecard")),
            }
            for key, stats in sorted(concentration.items())
        ]
    return result


def distribution(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    by: str | None = None,
) -> dict[str, Any]:
    """The ABC distribution of :func:`tiers` alone, for a view that shows nothing else: its
    ``tiers`` (customers, value and shares per tier over every customer), or with ``by``
    only ``groups``, each with the ``tiers`` of its customers (ranked over every customer,
    as in :func:`tiers`). One query."""
    common.check_by(by, "tiers", BREAKDOWNS)
    shared.customer_state(con, period.as_of, settings)
    result: dict[str, Any] = {"period": period.as_dict(), "as_of": period.as_of.isoformat()}
    if by is None:
        result["tiers"] = _strip(_distribution(con, period, settings, "all", "abc").get("all") or _empty_tiers("abc"))
    else:
        groups = _distribution(con, period, settings, by, "abc")
        result["by"] = by
        result["groups"] = [{"group": key or None, "tiers": _strip(entries)} for key, entries in sorted(groups.items())]
    return result


def concentration(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    by: str | None = None,
) -> dict[str, Any]:
    """How concentrated value is, as :func:`tiers` says it, for a view that needs nothing
    else (a comparison period's top-20 % share and Gini): ``customers``, ``total_value``,
    ``top20_value_share``, ``gini``, ``value_basis``, or with ``by`` only ``groups``, each with
    those keys but ``value_basis`` (as the groups of :func:`tiers`). One query."""
    common.check_by(by, "tiers", BREAKDOWNS)
    shared.customer_state(con, period.as_of, settings)
    result: dict[str, Any] = {"period": period.as_dict(), "as_of": period.as_of.isoformat()}
    if by is None:
        result.update(_concentration(con, period, settings, "all")["all"])
    else:
        groups = _concentration(con, period, settings, by)
        result["by"] = by
        result["groups"] = [
            {"group": key or None, **{k: v for k, v in stats.items() if k != "value_basis"}}
            for key, stats in sorted(groups.items())
        ]
    return result


# -- frames for charts and tables ---------------------------------------------------------


def tiers_frame(result: dict[str, Any], *, method: str = "abc") -> pd.DataFrame:
    """One row per tier (A, B, C) of a :func:`tiers` result (or one of its groups) with
    :data:`TIER_COLUMNS`; ``method="scorecard"`` reads the scorecard tiers instead."""
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of: {', '.join(METHODS)}")
    if method == "abc":
        entries = result["tiers"]
    else:
        entries = result["scorecard"]["tiers"] if "scorecard" in result else result["scorecard_tiers"]
    frame = pd.DataFrame(entries, columns=list(TIER_COLUMNS))
    return frame.astype(
        {"customers": "Int64", "share_of_customers": "float64", "value": "float64", "share_of_value": "float64"}
    )


def curve_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The Pareto curve: one row per point, ``customers, share_of_customers, share_of_value``."""
    frame = pd.DataFrame(result["pareto_curve"], columns=["customers", "share_of_customers", "share_of_value"])
    return frame.astype({"customers": "Int64", "share_of_customers": "float64", "share_of_value": "float64"})


def migration_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The migration cells: one row per (from, to), ``from, to, customers, value, previous_value``."""
    frame = pd.DataFrame(result["migration"], columns=["from", "to", "customers", "value", "previous_value"])
    return frame.astype({"customers": "Int64", "value": "float64", "previous_value": "float64"})


def movers_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The listed movers: ``customer_id, name, owner_rep_id, from_tier, to_tier, direction,
    previous_value, value``."""
    columns = ["customer_id", "name", "owner_rep_id", "from_tier", "to_tier", "direction", "previous_value", "value"]
    return pd.DataFrame(result["movers"], columns=columns).astype({"previous_value": "float64", "value": "float64"})


def rows(result: dict[str, Any]) -> pd.DataFrame:
    """One row per period (and group) and ABC tier: the ``--format csv`` / table body."""
    return stacked_rows(result, tiers_frame)


def summary(result: dict[str, Any]) -> list[str]:
    """Plain-text lines for ``--format table``: what was computed, then one line per period."""
    lines = [
        (
            f"Customer tiers {result['period']['label']} as of {result['as_of']}: ABC over "
            f"{result['window_months']}-month value ({result['value_basis'].replace('_', ' ')}), "
            f"A to {result['a_share']:.0%}, B to {result['b_share']:.0%} of value"
        )
    ]
    for res in filter(None, (result, result.get("comparison"))):
        lines.append(
            f"{res['period']['label']}: {fmt(res['customers'], ',')} customers, value {fmt(res['total_value'], ',.2f')}; "
            f"top 20% hold {fmt(res['top20_value_share'], '.1%')}, Gini {fmt(res['gini'], '.3f')}; "
            f"since {res['migration_from']['period']}: {res['movers_up']} moved up, "
            f"{res['movers_down']} moved down, {res['new_customers']} new"
        )
        card = res["scorecard"]
        counts = ", ".join(f"{t['tier']} {t['customers']}" for t in card["tiers"])
        lines.append(
            f"  scorecard ({', '.join(d['name'] for d in card['dimensions'])}): {counts}; "
            f"same tier as ABC for {fmt(card['agreement_with_abc'], '.0%')} of customers"
        )
    return lines
