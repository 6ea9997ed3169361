"""The report's repurchase section: who bought more than once, who came back, how often.

Public names: ``build``, ``repurchase_sentences``.

``build(con, review)`` computes :func:`crmreview.repurchase.repurchase` for the review's
period and its comparison period and returns the heading with computed sentences and a table
of the four rates, this period against the comparison. With nobody buying in the period: the
heading and a message (and the purchase gap, which looks at the whole history).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...charts import ChartContext
from ..html import (
    HtmlBlock,
    fmt_count,
    fmt_days,
    fmt_money,
    fmt_pct,
    missing,
    section_heading,
    sentences,
    table,
    warnings_html,
)
from ..results import define, result
from .summary import numbers_html

__all__ = ["build", "repurchase_sentences"]

#: the inputs this section cannot be shown without (a notice names the missing export instead)
NEEDS = ("orders",)

#: the rates beside the summary's numbers (the repeat rate and net revenue are in that table)
_ROWS = (
    ("returning_rate", "repurchase.kpi.returning_rate", fmt_pct),
    ("returning_revenue_share", "repurchase.kpi.returning_revenue_share", fmt_pct),
    ("median_gap_days", "repurchase.kpi.median_gap_days", fmt_days),
    ("customers_purchasing", "repurchase.kpi.customers_purchasing", fmt_count),
)


def _compare_part(previous: Mapping[str, Any] | None, key: str, ctx: ChartContext) -> str:
    if previous is None or missing(previous.get(key)):
        return ""
    return ctx.t("repurchase.say.compare", compare=ctx.compare_label, value=fmt_pct(previous[key]))


def repurchase_sentences(
    current: Mapping[str, Any], previous: Mapping[str, Any] | None, ctx: ChartContext
) -> list[str]:
    """Two or three sentences, every number from the results: how many bought and the repeat
    rate; the returning customers and their share of net revenue; the usual gap between
    purchases. With nobody buying: a sentence saying so, and the gap when there is one."""
    if not isinstance(ctx, ChartContext):
        raise TypeError(f"repurchase_sentences: ctx must be a ChartContext, got {type(ctx).__name__}")
    out = []
    if not current.get("customers_purchasing"):
        out.append(ctx.t("repurchase.empty", period=ctx.period_label))
    else:
        out.append(
            ctx.t(
                "repurchase.say.repeat",
                period=ctx.period_label,
                customers=fmt_count(current["customers_purchasing"]),
                rate=fmt_pct(current["repeat_rate"]),
                compare_part=_compare_part(previous, "repeat_rate", ctx),
            )
        )
        share = current.get("returning_revenue_share")
        out.append(
            ctx.t(
                "repurchase.say.returning" if not missing(share) else "repurchase.say.returning_no_share",
                rate=fmt_pct(current["returning_rate"]),
                count=fmt_count(current["returning_customers"]),
                share=fmt_pct(share),
                revenue=fmt_money(current.get("net_revenue")),
                compare_part=_compare_part(previous, "returning_rate", ctx),
            )
        )
    if current.get("purchase_gaps"):
        out.append(
            ctx.t(
                "repurchase.say.gap",
                days=fmt_days(current["median_gap_days"]),
                gaps=fmt_count(current["purchase_gaps"]),
                as_of=ctx.as_of,
            )
        )
    return out


def _kpi_table(current: Mapping[str, Any], previous: Mapping[str, Any], ctx: ChartContext) -> str:
    headers = [ctx.t("kpi.metric"), ctx.period_label, ctx.compare_label]
    rows = [[ctx.t(label), fmt(current.get(key)), fmt(previous.get(key))] for key, label, fmt in _ROWS]
    return table(headers, rows, numeric=(1, 2))


def build(con, review) -> list[Any]:
    """The repurchase section of ``review`` (a ``QuarterlyReview``) from the warehouse ``con``."""
    ctx = review.ctx
    current = result(con, review, "repurchase")
    previous = result(con, review, "repurchase", "previous")
    define(review, "repurchase", ctx.t("repurchase.footnote"))
    heading = section_heading("repurchase", ctx.lang) + numbers_html(con, review, "repurchase")
    said = sentences(repurchase_sentences(current, previous, ctx)) + warnings_html(current, ctx.lang)
    if not current["customers_purchasing"]:
        return [HtmlBlock(f"{heading}\n{said}")]
    return [HtmlBlock(f"{heading}\n{said}\n{_kpi_table(current, previous, ctx)}")]
