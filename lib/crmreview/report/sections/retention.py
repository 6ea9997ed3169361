"""The report's retention section: monthly purchase cohorts, and how much of the comparison
period's revenue its buyers kept.

Public names: ``build``, ``retention_sentences``.

``build(con, review)`` computes :func:`crmreview.retention.retention` for the review's period
(revenue retention of the comparison period's buyers, cohorts of the twelve months up to
the as-of date) and returns the heading with computed sentences, then the cohort heatmaps
by customers and by revenue. With no first purchase in those months: the heading, the
revenue-retention sentence and a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...charts import ChartContext, cohort_heatmap
from ...metrics.retention import cohort_frame
from ..html import HtmlBlock, esc, fmt_count, fmt_money, fmt_pct, missing, section_heading, sentences, warnings_html
from ..results import define, result
from .summary import numbers_html

__all__ = ["build", "retention_sentences"]

#: the inputs this section cannot be shown without (a notice names the missing export instead)
NEEDS = ("orders",)


def _revenue_sentence(current: Mapping[str, Any], ctx: ChartContext) -> str:
    base = current.get("base_period", {}).get("label", ctx.compare_label)
    if not current.get("base_customers"):
        return ctx.t("retention.say.no_base", base=base)
    return ctx.t(
        "retention.say.revenue",
        base=base,
        period=ctx.period_label,
        customers=fmt_count(current["base_customers"]),
        revenue=fmt_money(current["base_revenue"]),
        retained=fmt_count(current["retained_customers"]),
        grr=fmt_pct(current["grr"]),
        nrr=fmt_pct(current["nrr"]),
    )


def _cohort_sentence(current: Mapping[str, Any], ctx: ChartContext) -> str | None:
    """Month-1 retention over the cohorts whose next month is observed, weighted by size."""
    observed = [c for c in current.get("cohorts", []) if len(c["months"]) > 1]
    if not observed:
        return None
    size = sum(c["customers"] for c in observed)
    again = sum(c["months"][1]["customers"] for c in observed)
    best = max(observed, key=lambda c: (c["months"][1]["share"] or 0.0, c["cohort"]))
    return ctx.t(
        "retention.say.cohorts",
        share=fmt_pct(again / size if size else None),
        first=observed[0]["cohort"],
        last=observed[-1]["cohort"],
        customers=fmt_count(size),
        best=best["cohort"],
        best_share=fmt_pct(best["months"][1]["share"]),
    )


def retention_sentences(current: Mapping[str, Any], ctx: ChartContext) -> list[str]:
    """The section's sentences, every number from a :func:`crmreview.retention.retention`
    result: revenue retention of the comparison period's buyers; month-1 cohort retention
    (weighted over the cohorts with a next month observed, and the best cohort); the
    data-start caveat when the first cohort begins with the data."""
    if not isinstance(ctx, ChartContext):
        raise TypeError(f"retention_sentences: ctx must be a ChartContext, got {type(ctx).__name__}")
    out = [_revenue_sentence(current, ctx)]
    cohort = _cohort_sentence(current, ctx)
    if cohort:
        out.append(cohort)
    starts = [c["cohort"] for c in current.get("cohorts", []) if c["is_data_start"]]
    if starts:
        out.append(ctx.t("retention.say.data_start", cohort=starts[0]))
    return out


def build(con, review) -> list[Any]:
    """The retention section of ``review`` (a ``QuarterlyReview``) from the warehouse ``con``."""
    ctx = review.ctx
    current = result(con, review, "retention")
    heading = section_heading("retention", ctx.lang) + numbers_html(con, review, "retention")
    said = sentences(retention_sentences(current, ctx)) + warnings_html(current, ctx.lang)
    note = ctx.t("retention.footnote", months=current["cohort_months"])
    define(review, "retention", note, "" if missing(current.get("nrr")) else ctx.t("retention.footnote_grr"))
    if not current["cohorts"]:
        message = f"<p><strong>{esc(ctx.t('retention.cohort.empty', as_of=ctx.as_of))}</strong></p>"
        return [HtmlBlock(f"{heading}\n{said}\n{message}")]
    cells = cohort_frame(current)
    return [
        HtmlBlock(f"{heading}\n{said}"),
        cohort_heatmap(cells, ctx, measure="share"),
        cohort_heatmap(cells, ctx, measure="revenue_share"),
    ]
