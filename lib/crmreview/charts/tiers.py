"""Customer-tier charts: the Pareto curve with tier bands, the tier distribution, migration.

Public names: ``pareto_chart``, ``tier_distribution_chart``, ``migration_chart``.

They read the frames of ``crmreview.tiers``: the tier frame (``tiers_frame``: one row per
tier A, B, C with ``tier, customers, share_of_customers, value, share_of_value``), the curve
(``curve_frame``: ``share_of_customers, share_of_value`` per point) and the migration cells
(``migration_frame``: ``from, to, customers``). Each checks the columns it needs first and
raises ``ValueError`` naming a missing one.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..i18n import MESSAGES
from .base import COMPARISON, HEATMAP_TEXT, ChartContext, counts, empty_message, layout, pct, require, require_context

__all__ = ["pareto_chart", "tier_distribution_chart", "migration_chart", "TIER_COLORS"]

TIER_COLORS = {"A": "#1d4ed8", "B": "#60a5fa", "C": "#cbd5e1", "new": "#86efac", "gone": "#fca5a5"}
_BAND_COLORS = {"A": "rgba(29, 78, 216, 0.10)", "B": "rgba(96, 165, 250, 0.10)", "C": "rgba(148, 163, 184, 0.08)"}


def tier_label(tier: str, ctx: ChartContext) -> str:
    """A tier's display name: ``A``/``B``/``C`` as they are; ``new`` and ``gone`` translated."""
    key = f"tiers.label.{tier}"
    return ctx.t(key) if key in MESSAGES else str(tier)


def _numbers(values: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in values]


def pareto_chart(curve: pd.DataFrame, tiers: pd.DataFrame, ctx: ChartContext) -> go.Figure:
    """Cumulative share of value against share of customers (ABC order), with the A, B and C
    bands shaded and labelled with their shares of customers and of value.

    ``curve``: one row per point, needs ``share_of_customers``, ``share_of_value``;
    ``tiers``: one row per tier in A, B, C order, needs ``tier``, ``share_of_customers``,
    ``share_of_value``. An empty curve (no customers) or a zero total gives a message.
    """
    chart = "pareto_chart"
    require(curve, ("share_of_customers", "share_of_value"), "curve", chart)
    require(tiers, ("tier", "share_of_customers", "share_of_value"), "tiers", chart)
    ctx = require_context(ctx, chart)
    fig = go.Figure()
    usable = curve.dropna(subset=["share_of_value"])
    left = 0.0
    for row in tiers.itertuples(index=False):
        width = 0.0 if pd.isna(row.share_of_customers) else float(row.share_of_customers)
        if width <= 0:
            continue
        right = min(1.0, left + width)
        fig.add_vrect(
            x0=left,
            x1=right,
            fillcolor=_BAND_COLORS.get(row.tier, "rgba(0,0,0,0.05)"),
            line_width=0,
            layer="below",
        )
        fig.add_annotation(
            x=(left + right) / 2,
            y=1.02,
            xref="x",
            yref="paper",
            showarrow=False,
            yanchor="bottom",
            text=ctx.t(
                "tiers.pareto.band",
                tier=tier_label(row.tier, ctx),
                customers=pct(row.share_of_customers),
                value=pct(row.share_of_value),
            ),
            font={"size": 11},
        )
        left = right
    fig.add_trace(
        go.Scatter(
            x=[0.0, 1.0],
            y=[0.0, 1.0],
            mode="lines",
            name=ctx.t("tiers.pareto.equal"),
            line={"color": COMPARISON, "dash": "dot", "width": 1},
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=_numbers(usable["share_of_customers"]),
            y=_numbers(usable["share_of_value"]),
            mode="lines",
            name=ctx.t("tiers.pareto.curve"),
            line={"color": TIER_COLORS["A"], "width": 2.5},
            hovertemplate=ctx.t("tiers.pareto.hover"),
        )
    )
    layout(fig, ctx, "tiers.pareto.title", ctx.t("tiers.pareto.x"), ctx.t("tiers.pareto.y"))
    fig.update_layout(
        margin={"t": 120},
        legend={"orientation": "v", "x": 0.98, "xanchor": "right", "y": 0.04, "yanchor": "bottom"},
    )
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    if usable.empty:
        empty_message(fig, ctx, "tiers.no_value" if len(curve) else "tiers.no_customers")
    return fig


def tier_distribution_chart(
    tiers: pd.DataFrame, ctx: ChartContext, *, title_key: str = "tiers.distribution.title"
) -> go.Figure:
    """Two bar charts side by side: customers per tier and value per tier, each bar labelled
    with its share.

    ``tiers``: one row per tier, needs ``tier``, ``customers``, ``share_of_customers``,
    ``value``, ``share_of_value``. ``title_key`` names the chart (the scorecard tiers use
    ``tiers.distribution.scorecard_title``).
    """
    chart = "tier_distribution_chart"
    require(tiers, ("tier", "customers", "share_of_customers", "value", "share_of_value"), "tiers", chart)
    ctx = require_context(ctx, chart)
    if title_key not in MESSAGES:
        raise ValueError(f"{chart}: no message {title_key!r} for the title")
    labels = [tier_label(t, ctx) for t in tiers["tier"]]
    colors = [TIER_COLORS.get(t, COMPARISON) for t in tiers["tier"]]
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.14,
        subplot_titles=(ctx.t("tiers.distribution.customers"), ctx.t("tiers.distribution.value")),
    )
    fig.add_trace(
        go.Bar(
            x=labels,
            y=counts(tiers["customers"]),
            marker={"color": colors},
            text=[pct(v) for v in tiers["share_of_customers"]],
            textposition="outside",
            name=ctx.t("tiers.distribution.customers"),
            showlegend=False,
            hovertemplate=ctx.t("tiers.distribution.hover_customers"),
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=labels,
            y=[0.0 if v is None else v for v in _numbers(tiers["value"])],
            marker={"color": colors},
            text=[pct(v) for v in tiers["share_of_value"]],
            textposition="outside",
            name=ctx.t("tiers.distribution.value"),
            showlegend=False,
            hovertemplate=ctx.t("tiers.distribution.hover_value"),
        ),
        row=1,
        col=2,
    )
    layout(fig, ctx, title_key, ctx.t("tiers.distribution.x"), ctx.t("tiers.distribution.customers"))
    fig.update_yaxes(title_text=ctx.t("tiers.distribution.value"), row=1, col=2)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(margin={"t": 110})
    if not sum(counts(tiers["customers"])):
        empty_message(fig, ctx, "tiers.no_customers")
    return fig


_FROM_ORDER = ("A", "B", "C", "new")
_TO_ORDER = ("A", "B", "C", "gone")


def migration_chart(migration: pd.DataFrame, ctx: ChartContext) -> go.Figure:
    """Heatmap of customers by tier at the comparison period's as-of date (rows) and tier at
    this one (columns); each cell shows its count and its share of the row.

    ``migration``: one row per cell, needs ``from``, ``to``, ``customers``. Rows follow A, B,
    C, new and columns A, B, C (and ``gone`` when present).
    """
    chart = "migration_chart"
    require(migration, ("from", "to", "customers"), "migration", chart)
    ctx = require_context(ctx, chart)
    present_from = set(migration["from"])
    present_to = set(migration["to"])
    rows = [t for t in _FROM_ORDER if t in present_from] + sorted(present_from - set(_FROM_ORDER))
    cols = [t for t in _TO_ORDER if t in present_to] + sorted(present_to - set(_TO_ORDER))
    cells = {(f, t): c for f, t, c in zip(migration["from"], migration["to"], counts(migration["customers"]))}
    z = [[cells.get((f, t), 0) for t in cols] for f in rows]
    text = []
    for line in z:
        total = sum(line)
        text.append([f"{n:,}<br>{pct(n / total) if total else '–'}" for n in line])
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[tier_label(t, ctx) for t in cols],
            y=[tier_label(f, ctx) for f in rows],
            text=text,
            texttemplate="%{text}",
            textfont=HEATMAP_TEXT,
            colorscale="Blues",
            showscale=False,
            hovertemplate=ctx.t("tiers.migration.hover"),
        )
    )
    layout(
        fig,
        ctx,
        "tiers.migration.title",
        ctx.t("tiers.migration.x", period=ctx.period_label),
        ctx.t("tiers.migration.y", period=ctx.compare_label),
        compared=True,
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="bottom")
    if not sum(sum(line) for line in z):
        empty_message(fig, ctx, "tiers.no_customers")
    return fig
