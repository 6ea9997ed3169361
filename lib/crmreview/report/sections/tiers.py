"""The report's customer-tier section: how concentrated value is, who moved between tiers,
and what the scorecard says.

Public names: ``build``, ``tier_sentences``, ``MOVERS_SHOWN``.

``build(con, review)`` computes :func:`crmreview.tiers.tiers` for the review's period (with
the migration from its comparison period) and for the comparison period, and returns the
heading with computed sentences, the Pareto curve, the tier distribution and the migration
heatmap, then tables of the largest movers and of the scorecard tiers. With no customer
known at the as-of date: the heading and a message only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...charts import ChartContext, migration_chart, pareto_chart, tier_distribution_chart
from ...i18n import MESSAGES
from ...metrics.tiers import curve_frame, migration_frame, tiers_frame
from ..html import (
    HtmlBlock,
    esc,
    fmt_count,
    fmt_money,
    fmt_number,
    fmt_pct,
    missing,
    owner_label,
    section_heading,
    sentences,
    table,
    warnings_html,
)
from ..results import define, rep_labels, result
from .summary import numbers_html

__all__ = ["build", "tier_sentences", "MOVERS_SHOWN"]

#: the inputs this section cannot be shown without (a notice names the missing export instead)
NEEDS = ("orders|deals.amount",)

#: movers shown in each of the report's two tables (down, up)
MOVERS_SHOWN = 10


def _tier(result: Mapping[str, Any], tier: str) -> Mapping[str, Any]:
    return next((e for e in result.get("tiers", []) if e["tier"] == tier), {})


def _concentration_sentence(current, previous, ctx: ChartContext) -> str:
    a = _tier(current, "A")
    common = {
        "months": current.get("window_months", 12),
        "as_of": ctx.as_of,
        "count": fmt_count(a.get("customers")),
        "customers": fmt_count(current.get("customers")),
        "share_customers": fmt_pct(a.get("share_of_customers")),
        "share_value": fmt_pct(a.get("share_of_value")),
        "top20": fmt_pct(current.get("top20_value_share")),
        "gini": fmt_number(current.get("gini")),
    }
    text = ctx.t("tiers.say.concentration", **common)
    if previous is not None and not missing(previous.get("top20_value_share")):
        return text + ctx.t(
            "tiers.say.concentration_compare",
            compare=ctx.compare_label,
            top20=fmt_pct(previous["top20_value_share"]),
            gini=fmt_number(previous.get("gini")),
        )
    return text + ctx.t("tiers.say.end")


def _migration_sentence(current, ctx: ChartContext) -> str:
    cells = current.get("migration", [])
    left_a = sum(c["customers"] for c in cells if c["from"] == "A" and c["to"] in ("B", "C"))
    common = {
        "compare": current.get("migration_from", {}).get("period", ctx.compare_label),
        "previous_as_of": current.get("migration_from", {}).get("as_of", ""),
        "up": fmt_count(current.get("movers_up", 0)),
        "down": fmt_count(current.get("movers_down", 0)),
        "left_a": fmt_count(left_a),
        "new": fmt_count(current.get("new_customers", 0)),
    }
    if not current.get("movers_up") and not current.get("movers_down"):
        return ctx.t("tiers.say.no_movers", **common)
    return ctx.t("tiers.say.migration", **common)


def _biggest_drop_sentence(current, ctx: ChartContext, owners: Mapping[str, str]) -> str | None:
    drops = [m for m in current.get("movers", []) if m["direction"] == "down" and m["from_tier"] == "A"]
    if not drops:
        return None
    top = max(drops, key=lambda m: (m["previous_value"], m["customer_id"]))
    before, now = fmt_money(top["previous_value"]), fmt_money(top["value"])
    # the sentence follows the numbers it shows: a value that held or rose while the customer
    # left A means the thresholds moved (other customers grew), and it says so
    if before == now:
        key = "tiers.say.biggest_drop_held"
    elif (top["value"] or 0) > (top["previous_value"] or 0):
        key = "tiers.say.biggest_drop_rose"
    else:
        key = "tiers.say.biggest_drop"
    name = top.get("name") or top["customer_id"]
    who = name if name == top["customer_id"] else f"{name} ({top['customer_id']})"
    return ctx.t(
        key, who=who, to_tier=top["to_tier"], before=before, now=now, owner=owner_label(top.get("owner_rep_id"), owners)
    )


def _scorecard_sentence(current, ctx: ChartContext) -> str | None:
    card = current.get("scorecard")
    if not card:
        return None
    by_tier = {e["tier"]: e for e in card["tiers"]}
    return ctx.t(
        "tiers.say.scorecard",
        dimensions=len(card["dimensions"]),
        a=fmt_count(by_tier.get("A", {}).get("customers")),
        b=fmt_count(by_tier.get("B", {}).get("customers")),
        agree=fmt_pct(card.get("agreement_with_abc")),
    )


def tier_sentences(
    current: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    ctx: ChartContext,
    owners: Mapping[str, str] | None = None,
) -> list[str]:
    """The section's sentences, every number from the results.

    ``current`` / ``previous``: :func:`crmreview.tiers.tiers` results for the period and its
    comparison (``previous`` may be None). In order: concentration (A's shares, top 20 %,
    Gini, against the comparison); who moved since the comparison's as-of date; the largest
    customer that left A (its owner named by ``owners``, rep id -> label); the scorecard. With no customer, one sentence saying so; with a
    zero total value, one saying everyone is C.
    """
    if not isinstance(ctx, ChartContext):
        raise TypeError(f"tier_sentences: ctx must be a ChartContext, got {type(ctx).__name__}")
    if not current.get("customers"):
        return [ctx.t("tiers.empty", as_of=ctx.as_of)]
    if missing(current.get("gini")) and not current.get("total_value"):
        return [
            ctx.t(
                "tiers.zero_value",
                customers=fmt_count(current["customers"]),
                months=current.get("window_months", 12),
                as_of=ctx.as_of,
            ),
            _migration_sentence(current, ctx),
        ]
    out = [_concentration_sentence(current, previous, ctx), _migration_sentence(current, ctx)]
    for extra in (_biggest_drop_sentence(current, ctx, owners or {}), _scorecard_sentence(current, ctx)):
        if extra:
            out.append(extra)
    return out


def _movers_table(current: Mapping[str, Any], ctx: ChartContext, direction: str, owners: Mapping[str, str]) -> str:
    movers = [m for m in current.get("movers", []) if m["direction"] == direction][:MOVERS_SHOWN]
    if not movers:
        return ""
    headers = [
        ctx.t("tiers.table.customer"),
        ctx.t("tiers.table.owner"),
        ctx.t("tiers.table.move"),
        ctx.t("tiers.table.previous_value"),
        ctx.t("tiers.table.value"),
    ]
    rows = [
        [
            f"{m.get('name') or ''} ({m['customer_id']})" if m.get("name") else m["customer_id"],
            owner_label(m.get("owner_rep_id"), owners),
            f"{m['from_tier']} → {m['to_tier']}",
            fmt_money(m["previous_value"]),
            fmt_money(m["value"]),
        ]
        for m in movers
    ]
    total = current.get(f"movers_{direction}", len(movers))
    caption = ctx.t(f"tiers.table.moved_{direction}", shown=len(movers), total=fmt_count(total))
    if direction == "down" and any((m["value"] or 0) >= (m["previous_value"] or 0) for m in movers):
        caption += " " + ctx.t("tiers.table.thresholds_moved")
    return f"<h3>{esc(caption)}</h3>\n" + table(headers, rows, numeric=(3, 4))


def _dimension_label(dim: Mapping[str, Any], ctx: ChartContext) -> str:
    key = f"tiers.dimension.{dim['name']}"
    return ctx.t(key) if key in MESSAGES else str(dim["name"])


def _scorecard_table(current: Mapping[str, Any], ctx: ChartContext) -> str:
    card = current["scorecard"]
    weights = "; ".join(
        f"{_dimension_label(d, ctx)} {d['weight'] / sum(x['weight'] for x in card['dimensions']):.0%}"
        for d in card["dimensions"]
    )
    intro = ctx.t(
        "tiers.scorecard.intro",
        weights=weights,
        a=fmt_number(card["cutoffs"]["A"], 0),
        b=fmt_number(card["cutoffs"]["B"], 0),
    )
    headers = [
        ctx.t("tiers.table.tier"),
        ctx.t("tiers.table.customers"),
        ctx.t("tiers.table.share_customers"),
        ctx.t("tiers.table.share_value"),
        ctx.t("tiers.table.mean_score"),
    ]
    rows = [
        [
            e["tier"],
            fmt_count(e["customers"]),
            fmt_pct(e["share_of_customers"]),
            fmt_pct(e["share_of_value"]),
            fmt_number(e.get("mean_score"), 1),
        ]
        for e in card["tiers"]
    ]
    return f"<h3>{esc(ctx.t('tiers.scorecard.heading'))}</h3>\n<p>{esc(intro)}</p>\n" + table(
        headers, rows, numeric=(1, 2, 3, 4)
    )


def _definition(current: Mapping[str, Any], ctx: ChartContext) -> str:
    basis = ctx.t(f"tiers.basis.{current.get('value_basis', 'orders')}")
    return ctx.t(
        "tiers.footnote",
        months=current.get("window_months", 12),
        as_of=ctx.as_of,
        basis=basis,
        a=fmt_pct(current.get("a_share")),
        b=fmt_pct(current.get("b_share")),
    )


def build(con, review) -> list[Any]:
    """The tier section of ``review`` (a ``QuarterlyReview``) from the warehouse ``con``."""
    ctx = review.ctx
    current = result(con, review, "tiers")
    previous = result(con, review, "tiers", "previous")
    owners = rep_labels(con, review)
    define(review, "tiers", _definition(current, ctx))
    heading = section_heading("tiers", ctx.lang) + numbers_html(con, review, "tiers")
    said = sentences(tier_sentences(current, previous, ctx, owners)) + warnings_html(current, ctx.lang)
    if not current["customers"]:
        return [HtmlBlock(f"{heading}\n{said}")]
    blocks: list[Any] = [
        HtmlBlock(f"{heading}\n{said}"),
        pareto_chart(curve_frame(current), tiers_frame(current), ctx),
        tier_distribution_chart(tiers_frame(current), ctx),
        migration_chart(migration_frame(current), ctx),
    ]
    tables = [
        _movers_table(current, ctx, "down", owners),
        _movers_table(current, ctx, "up", owners),
        _scorecard_table(current, ctx),
    ]
    blocks.append(HtmlBlock("\n".join(part for part in tables if part)))
    return blocks
