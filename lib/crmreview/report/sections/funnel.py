"""The funnel section: where deals of the period's cohort got to and where they were lost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...charts import ChartContext, funnel_chart, funnel_compare_chart, leakage_chart
from ...config import DEFAULT_SETTINGS, Settings
from ...i18n import t
from ...metrics.funnel import stages_frame
from ..html import HtmlBlock, esc, fmt_pct, missing, section_heading, warnings_html
from ..results import define
from .summary import numbers_html

__all__ = ["build", "funnel_sentences", "WARNINGS"]

#: the inputs this section cannot be shown without (a notice names the missing export instead)
NEEDS = ("deals", "deals.created_at")
#: the funnel warnings shown here, next to the numbers they qualify (the win rate, the
#: stages drawn); inferred history and missing amounts qualify the detail section's numbers
WARNINGS = ("no_lost_deals", "small_sample", "stage_unused", "deals_missing")


def _stage_rows(result: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    return list(result.get("stages") or []) if result else []


def _conversion_sentence(
    current: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    ctx: ChartContext,
    settings: Settings,
) -> str | None:
    rows = _stage_rows(current)
    before_by_stage = {row["stage"]: row.get("conversion") for row in _stage_rows(previous)}
    steps = [(i, row, rows[i + 1]) for i, row in enumerate(rows[:-1]) if not missing(row.get("conversion"))]
    if not steps:
        return None

    def label(stage: str) -> str:
        return settings.stage_label(stage, ctx.lang)

    compared = [
        (abs(row["conversion"] - before_by_stage[row["stage"]]), -i, row, nxt)
        for i, row, nxt in steps
        if not missing(before_by_stage.get(row["stage"]))
    ]
    common = {"period": ctx.period_label, "compare": ctx.compare_label}
    if compared:
        _, _, row, nxt = max(compared, key=lambda item: item[:2])
        now, before = fmt_pct(row["conversion"]), fmt_pct(before_by_stage[row["stage"]])
        if now == before:
            key = "say.conversion_held"
        elif row["conversion"] < before_by_stage[row["stage"]]:
            key = "say.conversion_fell"
        else:
            key = "say.conversion_rose"
        return ctx.t(
            key,
            from_stage=label(row["stage"]),
            to_stage=label(nxt["stage"]),
            now=now,
            before=before,
            **common,
        )
    # nothing to compare with: name the weakest step of this period (ties: the earlier one)
    _, row, nxt = min(steps, key=lambda step: (step[1]["conversion"], step[0]))
    return ctx.t(
        "say.weakest_step",
        from_stage=label(row["stage"]),
        to_stage=label(nxt["stage"]),
        now=fmt_pct(row["conversion"]),
        **common,
    )


def _leak_sentence(current: Mapping[str, Any], ctx: ChartContext, settings: Settings) -> str:
    rows = _stage_rows(current)
    lost = {row["stage"]: int(row.get("lost_at") or 0) for row in rows}
    total = sum(lost.values())
    common = {"period": ctx.period_label, "as_of": ctx.as_of}
    if total == 0:
        return ctx.t("say.no_losses", **common)
    leak = current.get("biggest_leak")
    if leak not in lost:  # not given: the largest lost_at, ties the earlier stage
        leak = max(rows, key=lambda row: (lost[row["stage"]], -rows.index(row)))["stage"]
    stage = settings.stage_label(leak, ctx.lang)
    if total == 1:
        return ctx.t("say.leak_one", stage=stage, **common)
    if lost[leak] == total:
        return ctx.t("say.leak_all", stage=stage, total=f"{total:,}", **common)
    if lost[leak] == 1:
        return ctx.t("say.leak_one_of", stage=stage, total=f"{total:,}", **common)
    return ctx.t("say.leak", stage=stage, count=f"{lost[leak]:,}", total=f"{total:,}", **common)


def _win_rate_sentence(current: Mapping[str, Any], previous: Mapping[str, Any] | None, ctx: ChartContext) -> str:
    if missing(current.get("win_rate")):
        return ctx.t("say.no_closed", period=ctx.period_label)
    won, lost = int(current.get("won") or 0), int(current.get("lost") or 0)
    closed = int(current.get("deals_closed") or won + lost)
    compare_part = ""
    if previous is not None and not missing(previous.get("win_rate")):
        compare_part = ctx.t("say.win_rate_compare", compare=ctx.compare_label, rate=fmt_pct(previous["win_rate"]))
    return ctx.t(
        "say.win_rate",
        period=ctx.period_label,
        closed=f"{closed:,}",
        won=f"{won:,}",
        rate=fmt_pct(current["win_rate"]),
        compare_part=compare_part,
    )


def funnel_sentences(
    current: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    ctx: ChartContext,
    *,
    settings: Settings = DEFAULT_SETTINGS,
) -> list[str]:
    """Two or three sentences on the funnel, every number computed from the results.

    ``current`` / ``previous``: :func:`crmreview.funnel.funnel` results (``previous`` may be
    None). In order: the step whose conversion changed most against the comparison (or,
    with nothing to compare, the weakest step); where the period's lost deals were lost;
    the win rate of the deals closed in the period. With an empty cohort only the last.
    """
    if not isinstance(ctx, ChartContext):
        raise TypeError(f"funnel_sentences: ctx must be a ChartContext, got {type(ctx).__name__}")
    sentences: list[str] = []
    if int(current.get("cohort_deals") or 0) > 0:
        conversion = _conversion_sentence(current, previous, ctx, settings)
        if conversion:
            sentences.append(conversion)
        sentences.append(_leak_sentence(current, ctx, settings))
    sentences.append(_win_rate_sentence(current, previous, ctx))
    return sentences


def _definition(review: Any) -> str:
    current = review.current
    rule = current.get("rule", "furthest")
    key = f"funnel.rule.{rule}"
    rule_text = (
        t(key, review.lang) if rule in ("furthest", "strict") else t("funnel.rule.other", review.lang, rule=rule)
    )
    cohort = t(
        "funnel.cohort",
        review.lang,
        period=review.period.label,
        cohort=f"{int(current.get('cohort_deals') or 0):,}",
        skipped=f"{int(current.get('skipped_stage_deals') or 0):,}",
        backward=f"{int(current.get('backward_move_deals') or 0):,}",
        excluded=f"{int(current.get('excluded_no_created_at') or 0):,}",
    )
    return f"{rule_text} {cohort}"


def build(con: Any, review: Any) -> list[Any]:
    """Heading and sentences, then the funnel, leakage and comparison charts, then the
    rule used; with no deals created in the period, the heading and a message instead."""
    lang = review.lang
    define(review, "funnel", _definition(review))
    heading = section_heading("funnel", lang)
    sentences = funnel_sentences(review.current, review.previous, review.ctx, settings=review.settings)
    items = "".join(f"<li>{esc(s)}</li>" for s in sentences)
    # what makes these numbers unreliable stands next to them (no lost deals, inferred history, …)
    warned = warnings_html(review.current, lang, only=WARNINGS)
    if int(review.current.get("cohort_deals") or 0) == 0:
        empty = t("funnel.empty", lang, period=review.period.label)
        message = f"<p><strong>{esc(empty)}</strong></p>"
        numbers = numbers_html(con, review, "funnel")
        return [HtmlBlock(f"{heading}\n{message}\n{numbers}\n<ul>{items}</ul>\n{warned}")]
    current, previous = stages_frame(review.current), stages_frame(review.previous)
    return [
        HtmlBlock(f"{heading}\n{numbers_html(con, review, 'funnel')}\n<ul>{items}</ul>\n{warned}"),
        funnel_chart(current, review.ctx, settings=review.settings),
        leakage_chart(current, review.ctx, settings=review.settings),
        funnel_compare_chart(current, previous, review.ctx, settings=review.settings),
    ]
