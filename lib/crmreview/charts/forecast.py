"""Forecast chart: per group (rep or team), won so far and what the forecast expects on top,
the likely range and the target.

Public names: ``forecast_chart``.

It reads ``crmreview.metrics.forecast.groups_frame``: one row per group with ``group``,
``won_to_date``, ``expected_won``, ``low``, ``high``, ``target``. It checks the columns it
needs first and raises ``ValueError`` naming a missing one.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from .base import COMPARISON, CURRENT, LOST, ChartContext, empty_message, layout, require, require_context

__all__ = ["forecast_chart"]

_EXPECTED = "#93c5fd"


def _amount(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def forecast_chart(groups: pd.DataFrame, ctx: ChartContext, *, labels: Mapping[str, str] | None = None) -> go.Figure:
    """Horizontal bars per group: won to date, then the rest of the expected won amount, with a
    whisker from the low to the high end and a diamond at the target. Groups keep the frame's
    order (top first); ``labels`` maps a group to its display name (a rep's name and id).
    A group without a forecast shows its won amount alone."""
    chart = "forecast_chart"
    require(groups, ("group", "won_to_date", "expected_won", "low", "high", "target"), "groups", chart)
    ctx = require_context(ctx, chart)
    labels = labels or {}
    names = [labels.get(g, g) or "–" for g in groups["group"]]
    won = [_amount(v) or 0.0 for v in groups["won_to_date"]]
    expected = [_amount(v) for v in groups["expected_won"]]
    more = [max((e or w) - w, 0.0) for e, w in zip(expected, won)]
    low = [_amount(v) for v in groups["low"]]
    high = [_amount(v) for v in groups["high"]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=won,
            y=names,
            orientation="h",
            name=ctx.t("forecast.chart.won"),
            marker={"color": CURRENT},
            hovertemplate=ctx.t("forecast.chart.hover_won"),
        )
    )
    fig.add_trace(
        go.Bar(
            x=more,
            y=names,
            base=won,
            orientation="h",
            name=ctx.t("forecast.chart.expected"),
            marker={"color": _EXPECTED},
            customdata=[[e, lo, hi] for e, lo, hi in zip(expected, low, high)],
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [0 if h is None or e is None else max(h - e, 0) for h, e in zip(high, expected)],
                "arrayminus": [0 if lo is None or e is None else max(e - lo, 0) for lo, e in zip(low, expected)],
                "color": COMPARISON,
            },
            hovertemplate=ctx.t("forecast.chart.hover_expected"),
        )
    )
    targets = [_amount(v) for v in groups["target"]]
    if any(t is not None for t in targets):
        fig.add_trace(
            go.Scatter(
                x=targets,
                y=names,
                mode="markers",
                name=ctx.t("forecast.chart.target"),
                marker={"symbol": "diamond", "size": 11, "color": LOST},
                hovertemplate=ctx.t("forecast.chart.hover_target"),
            )
        )
    layout(fig, ctx, "forecast.chart.title", ctx.t("forecast.chart.x"), ctx.t("forecast.chart.y"))
    fig.update_layout(barmode="overlay", height=max(440, 140 + 28 * len(names)))
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_xaxes(rangemode="tozero", tickformat=",.0f")
    if not names:
        empty_message(fig, ctx, "forecast.chart.empty")
    return fig
