"""Follow-up charts: compliance per rep and tier, and target attainment per rep.

Public names: ``compliance_heatmap``, ``attainment_chart``.

They read the frames of ``crmreview.followup``: ``compliance_frame`` (one row per rep and
tier: ``rep_id, name, team, tier, customers, overdue, compliance``) and ``reps_frame`` (one
row per rep: ``rep_id, name, team, attainment, target_amount, target_won_amount``, …). Each
checks the columns it needs first and raises ``ValueError`` naming a missing one.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .base import (
    COMPARISON,
    CURRENT,
    HEATMAP_TEXT,
    OPEN,
    ChartContext,
    empty_message,
    layout,
    pct,
    require,
    require_context,
)
from .tiers import tier_label

__all__ = ["compliance_heatmap", "attainment_chart"]

_TIERS = ("A", "B", "C")


def _rep_label(rep_id: object, name: object) -> str:
    if name is None or pd.isna(name) or name == rep_id:
        return "–" if rep_id is None or pd.isna(rep_id) else str(rep_id)
    return f"{name} ({rep_id})"


def compliance_heatmap(compliance: pd.DataFrame, ctx: ChartContext) -> go.Figure:
    """Share of customers followed up within their tier's cadence, per rep (rows) and tier
    (columns); each cell shows the share and "overdue of customers". A rep without customers
    in a tier has an empty cell.

    ``compliance``: one row per rep and tier, needs ``rep_id``, ``tier``, ``customers``,
    ``overdue``, ``compliance`` (``name`` is shown when present). Reps keep the frame's order.
    """
    chart = "compliance_heatmap"
    require(compliance, ("rep_id", "tier", "customers", "overdue", "compliance"), "compliance", chart)
    ctx = require_context(ctx, chart)
    names = compliance["name"] if "name" in compliance else pd.Series([None] * len(compliance))
    reps: list[object] = []
    labels: dict[object, str] = {}
    for rep_id, name in zip(compliance["rep_id"], names):
        if rep_id not in labels:
            reps.append(rep_id)
            labels[rep_id] = _rep_label(rep_id, name)
    tiers = [t for t in _TIERS if t in set(compliance["tier"])] + sorted(set(compliance["tier"]) - set(_TIERS))
    cells = {
        (r, t): (c, o, s)
        for r, t, c, o, s in zip(
            compliance["rep_id"],
            compliance["tier"],
            compliance["customers"],
            compliance["overdue"],
            compliance["compliance"],
        )
    }
    z, text = [], []
    for rep in reps:
        z_row, text_row = [], []
        for tier in tiers:
            customers, overdue, share = cells.get((rep, tier), (0, 0, None))
            customers = 0 if pd.isna(customers) else int(customers)
            if not customers or share is None or pd.isna(share):
                z_row.append(None)
                text_row.append("")
            else:
                z_row.append(float(share))
                text_row.append(
                    ctx.t("followup.compliance.cell", share=pct(share), overdue=int(overdue), customers=customers)
                )
        z.append(z_row)
        text.append(text_row)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[tier_label(t, ctx) for t in tiers],
            y=[labels[r] for r in reps],
            text=text,
            texttemplate="%{text}",
            textfont=HEATMAP_TEXT,
            zmin=0.0,
            zmax=1.0,
            colorscale=[[0.0, "#dc2626"], [0.5, "#fde68a"], [1.0, "#16a34a"]],
            colorbar={"title": {"text": ctx.t("followup.compliance.scale")}, "tickformat": ".0%"},
            hovertemplate=ctx.t("followup.compliance.hover"),
            hoverongaps=False,
        )
    )
    layout(fig, ctx, "followup.compliance.title", ctx.t("followup.compliance.x"), ctx.t("followup.compliance.y"))
    fig.update_layout(height=max(440, 140 + 26 * len(reps)))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    if not any(v is not None for row in z for v in row):
        empty_message(fig, ctx, "tiers.no_customers")
    return fig


def attainment_chart(reps: pd.DataFrame, ctx: ChartContext) -> go.Figure:
    """Target attainment per rep (won amount within the target's range / target), best first,
    with the 100 % line; reps below target in amber. Reps without a target are left out.

    ``reps``: one row per rep, needs ``rep_id``, ``attainment`` (``name``,
    ``target_won_amount``, ``target_amount`` are shown when present).
    """
    chart = "attainment_chart"
    require(reps, ("rep_id", "attainment"), "reps", chart)
    ctx = require_context(ctx, chart)
    shown = reps[reps["attainment"].notna()].sort_values("attainment", ascending=True, kind="stable")
    names = shown["name"] if "name" in shown else [None] * len(shown)
    labels = [_rep_label(r, n) for r, n in zip(shown["rep_id"], names)]
    values = [float(v) for v in shown["attainment"]]
    won = shown["target_won_amount"] if "target_won_amount" in shown else [None] * len(shown)
    target = shown["target_amount"] if "target_amount" in shown else [None] * len(shown)
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker={"color": [CURRENT if v >= 1 else OPEN for v in values]},
            text=[pct(v) for v in values],
            textposition="outside",
            customdata=[
                ["–" if w is None or pd.isna(w) else f"{w:,.0f}", "–" if t is None or pd.isna(t) else f"{t:,.0f}"]
                for w, t in zip(won, target)
            ],
            hovertemplate=ctx.t("followup.attainment.hover"),
            showlegend=False,
        )
    )
    fig.add_vline(x=1.0, line={"color": COMPARISON, "dash": "dash", "width": 1})
    layout(fig, ctx, "followup.attainment.title", ctx.t("followup.attainment.x"), ctx.t("followup.attainment.y"))
    fig.update_layout(height=max(440, 140 + 24 * len(labels)))
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    fig.update_yaxes(type="category")
    if not values:
        empty_message(fig, ctx, "followup.attainment.no_targets")
    return fig
