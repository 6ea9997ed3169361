"""Report section: where and why deals leak — by rep and channel, time in stage, the trend
over the last periods, lost reasons and stale deals.

``build(con, review)`` is called by ``QuarterlyReview.section("funnel_detail")``.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ...charts import conversion_heatmap, conversion_trend_chart, days_in_stage_chart
from ...i18n import t
from ...metrics.common import overlap_warning
from ...metrics.funnel import funnel, groups_frame, stages_frame, trend
from ..html import HtmlBlock, esc, fmt_money, owner_label, section_heading, sentences, table, warnings_html
from ..results import rep_labels

__all__ = ["build", "detail_sentences", "TREND_PERIODS", "STALE_ROWS", "REASON_ROWS", "WARNINGS"]

#: the inputs this section cannot be shown without (a notice names the missing export instead)
NEEDS = ("deals",)
#: the funnel warnings that qualify this section's numbers (days in stage, stale amounts)
WARNINGS = ("history_inferred", "no_amounts")

TREND_PERIODS = 8
STALE_ROWS = 10
#: lost reasons listed (the most common; the heading gives how many there are)
REASON_ROWS = 10
#: the breakdowns whose heatmap has its own title (messages heatmap.title.<by>); others: "group"
HEATMAP_TITLES = ("rep", "team", "channel", "region", "tier", "pipeline", "industry", "size_band")


def _won_share(group: dict[str, Any]) -> float | None:
    return group["stages"][-1]["share_of_first"]


def detail_sentences(current: dict[str, Any], by_channel: dict[str, Any], lang: str, *, not_set: str) -> list[str]:
    """Computed sentences: the top lost reason, the best and worst channel, stale deals."""
    period = current["period"]["label"]
    sentences = []
    reasons = current.get("lost_reasons") or []
    lost_total = sum(r["deals"] for r in reasons)
    recorded = [r for r in reasons if r["lost_reason"]]
    if reasons and not recorded:
        sentences.append(t("detail.say.no_reasons", lang, period=period, lost=f"{lost_total:,}"))
    elif reasons:
        # the most common reason the CRM recorded; deals without one are not a reason
        top = recorded[0]
        sentences.append(
            t(
                "detail.say.reason",
                lang,
                period=period,
                reason=top["lost_reason"] or not_set,
                share=f"{top['share']:.0%}",
                lost=f"{lost_total:,}",
            )
        )
    channels = [
        g
        for g in by_channel.get("groups", [])
        if not g["small_group"] and g["group"] is not None and _won_share(g) is not None
    ]
    if len(channels) >= 2:
        best = max(channels, key=lambda g: (_won_share(g), g["group"]))
        worst = min(channels, key=lambda g: (_won_share(g), g["group"]))
        best_share, worst_share = f"{_won_share(best):.0%}", f"{_won_share(worst):.0%}"
        if best_share == worst_share:  # no best or worst channel when their shares read the same
            sentences.append(
                t("detail.say.channels_equal", lang, period=period, channels=f"{len(channels):,}", share=best_share)
            )
        else:
            sentences.append(
                t(
                    "detail.say.channels",
                    lang,
                    period=period,
                    best=best["group"],
                    best_share=best_share,
                    worst=worst["group"],
                    worst_share=worst_share,
                )
            )
    if current.get("stale_deals"):
        sentences.append(
            t(
                "detail.say.stale",
                lang,
                count=f"{current['stale_deals']:,}",
                amount=fmt_money(current.get("stale_amount")),
                days=current["stale_days"],
                as_of=current["as_of"],
            )
        )
    return sentences


def build(con: duckdb.DuckDBPyConnection, review: Any) -> list[Any]:
    lang, ctx, settings, period = review.lang, review.ctx, review.settings, review.period
    current = review.current
    heading = section_heading("funnel_detail", lang)
    warned = warnings_html(current, lang, only=WARNINGS)
    if int(current.get("cohort_deals") or 0) == 0 and not current.get("lost_reasons"):
        return [HtmlBlock(f"{heading}\n<p>{esc(t('funnel.empty', lang, period=period.label))}</p>\n{warned}")]
    by_rep = funnel(con, period, settings=settings, by="rep")
    by_channel = funnel(con, period, settings=settings, by="channel")
    history = trend(con, period, periods=TREND_PERIODS, settings=settings)
    rep_names = rep_labels(con, review)
    not_set = t("chart.not_set", lang)
    said = detail_sentences(current, by_channel, lang, not_set=not_set)
    out: list[Any] = [HtmlBlock(f"{heading}\n{sentences(said)}\n{warned}")]
    if by_rep.get("groups"):
        out.append(conversion_heatmap(groups_frame(by_rep), ctx, by="rep", labels=rep_names, settings=settings))
    if by_channel.get("groups"):
        out.append(conversion_heatmap(groups_frame(by_channel), ctx, by="channel", settings=settings))
    if review.by and review.by not in ("rep", "channel"):  # the breakdown the report was asked for
        by_asked = funnel(con, period, settings=settings, by=review.by)
        if by_asked.get("groups"):
            named = review.by if review.by in HEATMAP_TITLES else "group"
            out.append(conversion_heatmap(groups_frame(by_asked), ctx, by=named, settings=settings))
            overlap = overlap_warning(review.by)
            if overlap:
                out.append(HtmlBlock(f"<p>{esc(t('warning.' + overlap['code'], lang, **overlap['params']))}</p>"))
    out.append(days_in_stage_chart(stages_frame(current), ctx, settings=settings))
    out.append(conversion_trend_chart(history, ctx, settings=settings))
    reasons = current.get("lost_reasons") or []
    if reasons:
        rows = [[r["lost_reason"] or not_set, f"{r['deals']:,}", f"{r['share']:.0%}"] for r in reasons[:REASON_ROWS]]
        headers = [t("detail.reason", lang), t("detail.lost_deals", lang), t("detail.share", lang)]
        heading_text = t("detail.reasons_heading", lang, period=period.label)
        if len(reasons) > REASON_ROWS:
            heading_text += " " + t("detail.reasons_more", lang, shown=len(rows), total=f"{len(reasons):,}")
        heading_text = esc(heading_text)
        out.append(HtmlBlock(f"<h3>{heading_text}</h3>\n{table(headers, rows, numeric=(1, 2))}"))
    stale = current.get("stale_deal_list") or []
    if stale:
        rows = [
            [
                d["deal_id"],
                owner_label(d["owner_rep_id"], rep_names),
                settings.stage_label(d["stage"], lang),
                fmt_money(d["amount"]),
                f"{d['days_since_change']:,}",
            ]
            for d in stale[:STALE_ROWS]
        ]
        headers = [t(f"detail.stale.{k}", lang) for k in ("deal", "rep", "stage", "amount", "days")]
        title = t(
            "detail.stale_heading",
            lang,
            shown=len(rows),
            count=f"{current['stale_deals']:,}",
            days=current["stale_days"],
            as_of=current["as_of"],
        )
        out.append(HtmlBlock(f"<h3>{esc(title)}</h3>\n{table(headers, rows, numeric=(3, 4))}"))
    return out
