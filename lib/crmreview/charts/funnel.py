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
    COMPARISON,
    CURRENT,
    HEATMAP_TEXT,
    LOST,
    OPEN,
    ChartContext,
    counts,
    layout,
    no_data,
    pct,
    require,
    require_context,
)

__all__ = ["funnel_chart", "leakage_chart", "funnel_compare_chart"]


def funnel_chart(stages: pd.DataFrame, ctx: ChartContext, *, settings: Settings = DEFAULT_SETTINGS) -> go.Figure:
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
    of_previous = [None] + [(now / before if before else None) for before, now in zip(reached, reached[1:])]
    of_first = [None if pd.isna(v) else float(v) for v in stages["share_of_first"]]
    text = [
        ctx.t("funnel.text_first", count=f"{count:,}")
        if i == 0
        else ctx.t("funnel.text", count=f"{count:,}", pct_previous=pct(prev), pct_first=pct(first))
        for i, (count, prev, first) in enumerate(zip(reached, of_previous, of_first))
    ]
    fig = go.Figure(
        go.Funnel(
            y=labels,
            x=reached,
            text=text,
            textinfo="text",
            # inside when the text fits at full size, else beside the bar: the narrowest stage
            # (won) keeps a legible label instead of one shrunk to fit
            textposition="auto",
            constraintext="none",
            insidetextfont={"color": "white", "size": 13},
            outsidetextfont={"color": "#1f2937", "size": 13},
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


def leakage_chart(stages: pd.DataFrame, ctx: ChartContext, *, settings: Settings = DEFAULT_SETTINGS) -> go.Figure:
    """Per stage before won, the cohort deals whose furthest stage it is: lost vs still open.

    ``stages``: one row per stage; needs ``stage``, ``lost_at``, ``open_at`` (and shows
    ``leakage_rate`` on hover when present, ``missing_at`` as a third series when any deal is). The won stage is left out: nothing leaks there.
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
    series = [("lost_at", "leakage.lost", LOST), ("open_at", "leakage.open", OPEN)]
    if "missing_at" in rows and sum(counts(rows["missing_at"])):  # only after a full snapshot lost some
        series.append(("missing_at", "leakage.missing", COMPARISON))
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
    layout(fig, ctx, "compare.title", ctx.t("chart.stage"), ctx.t("compare.y"), compared=True)
    if not (sum(counts(current["reached"])) + sum(counts(previous["reached"]))):
        no_data(fig, ctx)
    return fig


def conversion_heatmap(
    groups: pd.DataFrame,
    ctx: ChartContext,
    *,
    by: str = "group",
    labels: dict[str, str] | None = None,
    settings: Settings = DEFAULT_SETTINGS,
) -> go.Figure:
    """Conversion to the next stage, one row per group (rep, channel, …) and one column per step.

    ``groups``: the frame of ``funnel.groups_frame``; needs ``group, small_group,
    cohort_deals, stage, reached, conversion``. ``by`` names the breakdown (rep, team,
    channel, region) for the title; ``labels`` maps group keys to display names.
    Groups too small to read are kept and marked with "*".
    """
    chart = "conversion_heatmap"
    require(groups, ("group", "small_group", "cohort_deals", "stage", "reached", "conversion"), "groups", chart)
    ctx = require_context(ctx, chart)
    labels = labels or {}
    steps = [s for s in dict.fromkeys(groups["stage"]) if s != settings.won_stage]
    names = list(dict.fromkeys(groups["group"]))
    step_labels = [
        f"{settings.stage_label(s, ctx.lang)} → {settings.stage_label(n, ctx.lang)}"
        for s, n in zip(steps, [*steps[1:], settings.won_stage])
    ]
    small = dict(zip(groups["group"], groups["small_group"]))
    cohort = dict(zip(groups["group"], groups["cohort_deals"]))
    row_labels = [
        f"{labels.get(g, g) or ctx.t('chart.not_set')}{' *' if small[g] else ''} ({int(cohort[g]):,})" for g in names
    ]
    indexed = groups.set_index(["group", "stage"])
    z = [[indexed["conversion"].get((g, s)) for s in steps] for g in names]
    z = [[None if v is None or pd.isna(v) else float(v) for v in row] for row in z]
    text = [[pct(v) for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=step_labels,
            y=row_labels,
            text=text,
            texttemplate="%{text}",
            textfont=HEATMAP_TEXT,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": {"text": ctx.t("heatmap.scale")}, "tickformat": ".0%"},
            hovertemplate=ctx.t("heatmap.hover"),
        )
    )
    x_title = ctx.t("heatmap.x")
    if any(small.values()):
        note = ctx.t("heatmap.small_note", minimum=settings.min_group_deals)
        x_title = f"{x_title}<br><span style='font-size:11px'>{note}</span>"
    layout(fig, ctx, f"heatmap.title.{by}", x_title, ctx.t(f"heatmap.y.{by}"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=max(360, 110 + 26 * len(names)))
    if not names:
        no_data(fig, ctx)
    return fig


def days_in_stage_chart(stages: pd.DataFrame, ctx: ChartContext, *, settings: Settings = DEFAULT_SETTINGS) -> go.Figure:
    """Box plots of days spent in each stage, drawn from quantiles (no raw rows).

    ``stages``: the stage frame; needs ``stage, visits, p10_days_in_stage,
    p25_days_in_stage, median_days_in_stage, p75_days_in_stage, p90_days_in_stage``.
    Boxes span the 25th–75th percentile, whiskers the 10th–90th; the won stage has none.
    """
    chart = "days_in_stage_chart"
    needed = (
        "stage",
        "visits",
        "p10_days_in_stage",
        "p25_days_in_stage",
        "median_days_in_stage",
        "p75_days_in_stage",
        "p90_days_in_stage",
    )
    require(stages, needed, "stages", chart)
    ctx = require_context(ctx, chart)
    rows = stages[(stages["stage"] != settings.won_stage) & (stages["visits"] > 0)]
    fig = go.Figure()
    if len(rows):
        fig.add_trace(
            go.Box(
                x=[settings.stage_label(s, ctx.lang) for s in rows["stage"]],
                lowerfence=list(rows["p10_days_in_stage"]),
                q1=list(rows["p25_days_in_stage"]),
                median=list(rows["median_days_in_stage"]),
                q3=list(rows["p75_days_in_stage"]),
                upperfence=list(rows["p90_days_in_stage"]),
                name=ctx.t("days.trace"),
                marker={"color": CURRENT},
                customdata=[[int(v)] for v in rows["visits"]],
                hoverinfo="y+x",
            )
        )
    x_title = f"{ctx.t('chart.stage')}<br><span style='font-size:11px'>{ctx.t('days.note')}</span>"
    layout(fig, ctx, "days.title", x_title, ctx.t("days.y"))
    fig.update_layout(showlegend=False)
    if not len(rows):
        no_data(fig, ctx)
    return fig


def conversion_trend_chart(
    trend: pd.DataFrame, ctx: ChartContext, *, settings: Settings = DEFAULT_SETTINGS
) -> go.Figure:
    """Conversion of each funnel step, and the win rate, over the last periods.

    ``trend``: the frame of ``funnel.trend``; needs ``period, stage, conversion, win_rate``.
    """
    chart = "conversion_trend_chart"
    require(trend, ("period", "stage", "conversion", "win_rate"), "trend", chart)
    ctx = require_context(ctx, chart)
    periods = list(dict.fromkeys(trend["period"]))
    steps = [s for s in dict.fromkeys(trend["stage"]) if s != settings.won_stage]
    fig = go.Figure()
    for stage, following in zip(steps, [*steps[1:], settings.won_stage]):
        rows = trend[trend["stage"] == stage]
        fig.add_trace(
            go.Scatter(
                x=list(rows["period"]),
                y=list(rows["conversion"]),
                mode="lines+markers",
                name=f"{settings.stage_label(stage, ctx.lang)} → {settings.stage_label(following, ctx.lang)}",
                hovertemplate="%{x}: %{y:.0%}<extra>%{fullData.name}</extra>",
            )
        )
    win = trend.drop_duplicates("period")
    fig.add_trace(
        go.Scatter(
            x=list(win["period"]),
            y=list(win["win_rate"]),
            mode="lines+markers",
            name=ctx.t("trend.win_rate"),
            line={"dash": "dash", "color": "#111827"},
            hovertemplate="%{x}: %{y:.0%}<extra>%{fullData.name}</extra>",
        )
    )
    layout(fig, ctx, "trend.title", ctx.t("trend.x"), ctx.t("trend.y"))
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=periods)
    if trend["conversion"].isna().all():
        no_data(fig, ctx)
    return fig
