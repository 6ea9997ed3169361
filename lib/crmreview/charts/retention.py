"""Retention charts: the monthly cohort heatmap (customers or revenue).

Public names: ``cohort_heatmap``.

It reads the cohort cells of ``crmreview.metrics.retention.cohort_frame``: ``cohort, month,
cohort_customers, customers, share, revenue, revenue_share, is_data_start``; it checks the
columns it needs first and raises ``ValueError`` naming a missing one.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .base import HEATMAP_TEXT, ChartContext, empty_message, layout, pct, require, require_context

__all__ = ["cohort_heatmap"]

_MEASURES = ("share", "revenue_share")
_HEATMAP_SCALE = [[0.0, "#f8fafc"], [0.5, "#93c5fd"], [1.0, "#1e3a8a"]]


def cohort_heatmap(cohorts: pd.DataFrame, ctx: ChartContext, *, measure: str = "share") -> go.Figure:
    """Cohort × months after the first purchase, coloured by ``measure``: ``share`` (of the
    cohort's customers buying in that month) or ``revenue_share`` (net revenue as a share of
    the cohort's first-month revenue, capped at 100 % for the colour, shown as it is).

    ``cohorts``: one row per cohort and month; needs ``cohort``, ``month``,
    ``cohort_customers``, ``customers``, ``revenue``, ``is_data_start`` and the measure.
    Month 0 is 100 % by definition. The cohort of the data's first month is starred: it also
    holds everyone who bought before the data begin.
    """
    chart = "cohort_heatmap"
    if measure not in _MEASURES:
        raise ValueError(f"{chart}: measure {measure!r} is not one of: {', '.join(_MEASURES)}")
    require(
        cohorts,
        ("cohort", "month", "cohort_customers", "customers", "revenue", "is_data_start", measure),
        "cohorts",
        chart,
    )
    ctx = require_context(ctx, chart)
    fig = go.Figure()
    title = "retention.cohort.title" if measure == "share" else "retention.cohort_revenue.title"
    layout(fig, ctx, title, ctx.t("retention.cohort.x"), ctx.t("retention.cohort.y"))
    if cohorts.empty:
        return empty_message(fig, ctx, "retention.cohort.empty")
    names = []
    for cohort, part in cohorts.groupby("cohort", sort=True):
        star = "*" if bool(part["is_data_start"].iloc[0]) else ""
        names.append((cohort, f"{cohort}{star} ({int(part['cohort_customers'].iloc[0]):,})"))
    label = dict(names)
    months = list(range(int(cohorts["month"].max()) + 1))
    z, text, hover = [], [], []
    for cohort, _ in names:
        part = cohorts[cohorts["cohort"] == cohort].set_index("month")
        row_z, row_text, row_hover = [], [], []
        for month in months:
            if month not in part.index:
                row_z.append(None), row_text.append(""), row_hover.append([None, None])
                continue
            value = part.at[month, measure]
            shown = None if pd.isna(value) else float(value)
            row_z.append(None if shown is None else min(shown, 1.0))
            row_text.append(pct(shown))
            row_hover.append([int(part.at[month, "customers"]), float(part.at[month, "revenue"])])
        z.append(row_z), text.append(row_text), hover.append(row_hover)
    fig.add_trace(
        go.Heatmap(
            x=months,
            y=[label[c] for c, _ in names],
            z=z,
            text=text,
            texttemplate="%{text}",
            textfont=HEATMAP_TEXT,
            customdata=hover,
            zmin=0,
            zmax=1,
            colorscale=_HEATMAP_SCALE,
            xgap=1,
            ygap=1,
            colorbar={"tickformat": ".0%", "title": {"text": ""}},
            hovertemplate=ctx.t("retention.cohort.hover"),
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(dtick=1)
    fig.update_layout(height=max(440, 120 + 28 * len(names)))
    if any(cohorts["is_data_start"]):
        fig.add_annotation(
            text=ctx.t("retention.cohort.data_start"),
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.0,
            y=-0.14,
            xanchor="left",
            font={"size": 11},
        )
    return fig
