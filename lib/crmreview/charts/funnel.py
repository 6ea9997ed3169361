"""Funnel charts: the funnel, where deals leak, and the funnel against the comparison period.

Public names: ``funnel_chart``, ``leakage_chart``, ``funnel_compare_chart``.

They read the stage frame of ``crmreview.funnel`` (one row per funnel stage, in funnel
order): ``stage, reached, conversion, share_of_first, leakage_rate, lost_at, open_at,
median_days_in_stage, p75_days_in_stage``. Each checks the columns it needs first and raises
``ValueError`` naming a missing one.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from ..config import DEFAULT_SETTINGS, Settings
from .base import (
    COMPARISON, CURRENT, LOST, OPEN, ChartContext, counts, layout, no_data, pct, require,
    require_context,
)

__all__ = ["funnel_chart", "leakage_chart", "funnel_compare_chart"]


def funnel_chart(
    stages: pd.DataFrame, ctx: ChartContext, *, settings: Settings = DEFAULT_SETTINGS
) -> go.Figure:
    """A funnel of deals reaching each stage, with % of the previous stage and of the first.

    ``stages``: one row per stage in funnel order; needs ``stage``, ``reached``,
    ``share_of_first``. "% of previous" is reached(s) / reached(previous stage), i.e. the
    previous stage's ``conversion``.
    """
    chart = "funnel_chart"
    require(stages, ("stage", "reached", "share_of_first"), "stages", chart)
    ctx = require_context(ctx, chart)
    labels = [settings.stage_label(stage, ctx.lang) for stage in stages["stage"]]
    reached = counts(stages["reached"])
    of_previous = [None] + [
        (now / before if before else None) for before, now in zip(reached, reached[1:])
    ]
    of_first = [None if pd.isna(v) else float(v) for v in stages["share_of_first"]]
    text = [
        ctx.t("funnel.text_first", count=f"{count:,}")
        if i == 0
        else ctx.t(
            "funnel.text", count=f"{count:,}", pct_previous=pct(prev), pct_first=pct(first)
        )
        for i, (count, prev, first) in enumerate(zip(reached, of_previous, of_first))
    ]
    fig = go.Figure(
        go.Funnel(
            y=labels,
            x=reached,
            text=text,
            textinfo="text",
            textposition="inside",
            customdata=[[pct(p), pct(f)] for p, f in zip(of_previous, of_first)],
            hovertemplate=ctx.t("funnel.hover"),
            marker={"color": CURRENT},
            connector={"line": {"color": COMPARISON, "width": 1}},
        )
    )
    layout(fig, ctx, "funnel.title", ctx.t("funnel.x"), ctx.t("chart.stage"))
    if not sum(reached):
        no_data(fig, ctx)
    return fig


def leakage_chart(
    stages: pd.DataFrame, ctx: ChartContext, *, settings: Settings = DEFAULT_SETTINGS
) -> go.Figure:
    """Per stage before won, the cohort deals whose furthest stage it is: lost vs still open.

    ``stages``: one row per stage; needs ``stage``, ``lost_at``, ``open_at`` (and shows
    ``leakage_rate`` on hover when present). The won stage is left out: nothing leaks there.
    """
    chart = "leakage_chart"
    require(stages, ("stage", "lost_at", "open_at"), "stages", chart)
    ctx = require_context(ctx, chart)
    rows = stages[stages["stage"] != settings.won_stage]
    labels = [settings.stage_label(stage, ctx.lang) for stage in rows["stage"]]
    if "leakage_rate" in rows:
        rates = [pct(v) for v in rows["leakage_rate"]]
    else:
        rates = ["–"] * len(rows)
    fig = go.Figure()
    series = (("lost_at", "leakage.lost", LOST), ("open_at", "leakage.open", OPEN))
    for column, key, color in series:
        name = ctx.t(key)
        fig.add_trace(
            go.Bar(
                x=labels,
                y=counts(rows[column]),
                name=name,
                marker={"color": color},
                customdata=rates,
                hovertemplate=ctx.t("leakage.hover", name=name),
            )
        )
    fig.update_layout(barmode="stack")
    layout(fig, ctx, "leakage.title", ctx.t("leakage.x"), ctx.t("chart.deals"))
    if not (sum(counts(rows["lost_at"])) + sum(counts(rows["open_at"]))):
        no_data(fig, ctx)
    return fig


def _stage_order(frames: Sequence[pd.DataFrame]) -> list[str]:
    order: list[str] = []
    for frame in frames:
        order.extend(stage for stage in frame["stage"] if stage not in order)
    return order


def funnel_compare_chart(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    ctx: ChartContext,
    *,
    settings: Settings = DEFAULT_SETTINGS,
) -> go.Figure:
    """Grouped bars of deals reaching each stage: this period next to the comparison period.

    ``current`` / ``previous``: stage frames of the two periods; each needs ``stage`` and
    ``reached``. Stages follow ``current``'s order; a stage only the comparison has comes last.
    """
    chart = "funnel_compare_chart"
    require(current, ("stage", "reached"), "current", chart)
    require(previous, ("stage", "reached"), "previous", chart)
    ctx = require_context(ctx, chart)
    order = _stage_order([current, previous])
    labels = [settings.stage_label(stage, ctx.lang) for stage in order]
    fig = go.Figure()
    for frame, name, color in (
        (current, ctx.period_label, CURRENT),
        (previous, ctx.compare_label, COMPARISON),
    ):
        by_stage = dict(zip(frame["stage"], counts(frame["reached"])))
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[by_stage.get(stage, 0) for stage in order],
                name=name,
                marker={"color": color},
                hovertemplate=ctx.t("compare.hover", name=name),
            )
        )
    fig.update_layout(barmode="group")
    layout(fig, ctx, "compare.title", ctx.t("chart.stage"), ctx.t("compare.y"))
    if not (sum(counts(current["reached"])) + sum(counts(previous["reached"]))):
        no_data(fig, ctx)
    return fig
