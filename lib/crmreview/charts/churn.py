"""Churn and lifecycle charts: lifecycle composition over periods, the state-flow Sankey, the
recency distribution, the purchase model's back-test, and the churn-risk list as a sortable
HTML table.

Public names: ``lifecycle_composition_chart``, ``state_flow_sankey``, ``recency_chart``,
``backtest_chart``, ``risk_table_html``, ``state_label``, ``STATE_COLORS``.

They read the frames of ``crmreview.metrics.churn``: the lifecycle history
(``lifecycle_history``: ``period, state, customers``), the flows (``flows_frame``: ``from,
to, customers``), the recency bins (``recency_frame``), the back-test rows (``frequency,
customers, actual_mean, predicted_mean``) and the risk list (``risk_frame``). Each checks
the columns it needs first and raises ``ValueError`` naming a missing one. All are
aggregates or a top-N list.
"""

from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go

from ..config import DEFAULT_SETTINGS, Settings
from .base import COMPARISON, CURRENT, ChartContext, counts, empty_message, layout, require, require_context

__all__ = [
    "STATE_COLORS",
    "STATES",
    "state_label",
    "lifecycle_composition_chart",
    "state_flow_sankey",
    "recency_chart",
    "backtest_chart",
    "risk_table_html",
]

STATES = ("new", "reactivated", "active", "dormant", "churned")
STATE_COLORS = {
    "none": "#cbd5e1",
    "new": "#60a5fa",
    "reactivated": "#a78bfa",
    "active": "#16a34a",
    "dormant": "#f59e0b",
    "churned": "#dc2626",
}


def state_label(state: str, ctx: ChartContext) -> str:
    """A lifecycle state's display name (``none``: not a buyer yet)."""
    return ctx.t(f"lifecycle.state.{state}")


def _rgba(color: str, alpha: float) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def lifecycle_composition_chart(history: pd.DataFrame, ctx: ChartContext) -> go.Figure:
    """Stacked bars: customers per lifecycle state at the as-of date of each period.

    ``history``: one row per period and state, oldest period first; needs ``period``,
    ``state``, ``customers``."""
    chart = "lifecycle_composition_chart"
    require(history, ("period", "state", "customers"), "history", chart)
    ctx = require_context(ctx, chart)
    fig = go.Figure()
    periods = list(dict.fromkeys(history["period"]))
    for state in STATES:
        part = history[history["state"] == state].set_index("period")["customers"]
        name = state_label(state, ctx)
        fig.add_trace(
            go.Bar(
                x=periods,
                y=[int(part.get(p, 0)) for p in periods],
                name=name,
                marker={"color": STATE_COLORS[state]},
                hovertemplate=ctx.t("lifecycle.composition.hover", name=name),
            )
        )
    fig.update_layout(barmode="stack")
    layout(fig, ctx, "lifecycle.composition.title", ctx.t("lifecycle.composition.x"), ctx.t("lifecycle.customers"))
    fig.update_xaxes(type="category")
    if not sum(counts(history["customers"])):
        empty_message(fig, ctx, "lifecycle.empty")
    return fig


def state_flow_sankey(flows: pd.DataFrame, ctx: ChartContext) -> go.Figure:
    """How customers moved from their state at the comparison period's as-of date (left; a
    customer who had not bought yet comes from "not yet a buyer") to their state at this
    as-of date (right). ``flows``: one row per (from, to); needs ``from``, ``to``,
    ``customers``."""
    chart = "state_flow_sankey"
    require(flows, ("from", "to", "customers"), "flows", chart)
    ctx = require_context(ctx, chart)
    flows = flows[flows["customers"] > 0]
    left = [s for s in ("none", *STATES) if s in set(flows["from"])]
    right = [s for s in STATES if s in set(flows["to"])]
    totals_left = flows.groupby("from")["customers"].sum()
    totals_right = flows.groupby("to")["customers"].sum()
    labels = [f"{state_label(s, ctx)} · {ctx.compare_label} ({int(totals_left[s]):,})" for s in left]
    labels += [f"{state_label(s, ctx)} · {ctx.period_label} ({int(totals_right[s]):,})" for s in right]
    index_left = {s: i for i, s in enumerate(left)}
    index_right = {s: len(left) + i for i, s in enumerate(right)}
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "pad": 14,
                "thickness": 16,
                "color": [STATE_COLORS[s] for s in left] + [STATE_COLORS[s] for s in right],
                "hovertemplate": ctx.t("lifecycle.flow.node_hover"),
            },
            link={
                "source": [index_left[s] for s in flows["from"]],
                "target": [index_right[s] for s in flows["to"]],
                "value": counts(flows["customers"]),
                "color": [_rgba(STATE_COLORS[s], 0.35) for s in flows["to"]],
                "hovertemplate": ctx.t("lifecycle.flow.link_hover"),
            },
        )
    )
    layout(fig, ctx, "lifecycle.flow.title", "", "", compared=True)
    fig.update_layout(height=480)
    if flows.empty:
        empty_message(fig, ctx, "lifecycle.empty")
    return fig


def recency_chart(recency: pd.DataFrame, ctx: ChartContext, *, settings: Settings = DEFAULT_SETTINGS) -> go.Figure:
    """Customers by days since their last purchase, in bins, coloured by lifecycle state,
    with the active and churn thresholds marked. ``recency``: one row per bin and state;
    needs ``recency_bin_start_days``, ``recency_bin_end_days``, ``state``, ``customers``."""
    chart = "recency_chart"
    require(recency, ("recency_bin_start_days", "recency_bin_end_days", "state", "customers"), "recency", chart)
    ctx = require_context(ctx, chart)
    fig = go.Figure()
    if not recency.empty:
        width = int((recency["recency_bin_end_days"] - recency["recency_bin_start_days"]).iloc[0])
        for state in STATES:
            part = recency[recency["state"] == state]
            if part.empty:
                continue
            name = state_label(state, ctx)
            fig.add_trace(
                go.Bar(
                    x=(part["recency_bin_start_days"] + width / 2).tolist(),
                    y=counts(part["customers"]),
                    width=width,
                    name=name,
                    marker={"color": STATE_COLORS[state]},
                    customdata=list(zip(part["recency_bin_start_days"], part["recency_bin_end_days"] - 1)),
                    hovertemplate=ctx.t("lifecycle.recency.hover", name=name),
                )
            )
    fig.update_layout(barmode="stack", bargap=0.05)
    layout(fig, ctx, "lifecycle.recency.title", ctx.t("lifecycle.recency.x"), ctx.t("lifecycle.customers"))
    for days, key in (
        (settings.active_days, "lifecycle.recency.active_line"),
        (settings.churn_days, "lifecycle.recency.churn_line"),
    ):
        fig.add_vline(
            x=days + 0.5,
            line={"dash": "dash", "color": "#475569", "width": 1},
            annotation_text=ctx.t(key, days=days),
            annotation_position="top right",
        )
    if recency.empty:
        empty_message(fig, ctx, "lifecycle.empty")
    return fig


def backtest_chart(by_frequency: pd.DataFrame, ctx: ChartContext) -> go.Figure:
    """The model back-test: mean purchases per customer in the holdout, actual next to
    predicted, by how many repeat purchases customers made in the calibration period.
    ``by_frequency``: needs ``frequency``, ``customers``, ``actual_mean``, ``predicted_mean``."""
    chart = "backtest_chart"
    require(by_frequency, ("frequency", "customers", "actual_mean", "predicted_mean"), "by_frequency", chart)
    ctx = require_context(ctx, chart)
    rows = by_frequency[by_frequency["customers"] > 0]
    fig = go.Figure()
    for column, key, color in (
        ("actual_mean", "model.backtest.actual", COMPARISON),
        ("predicted_mean", "model.backtest.predicted", CURRENT),
    ):
        name = ctx.t(key)
        fig.add_trace(
            go.Bar(
                x=[str(f) for f in rows["frequency"]],
                y=[float(v) for v in rows[column]],
                name=name,
                marker={"color": color},
                customdata=counts(rows["customers"]),
                hovertemplate=ctx.t("model.backtest.hover", name=name),
            )
        )
    fig.update_layout(barmode="group")
    layout(fig, ctx, "model.backtest.title", ctx.t("model.backtest.x"), ctx.t("model.backtest.y"))
    fig.update_xaxes(type="category")
    if rows.empty:
        empty_message(fig, ctx, "model.not_fitted_chart")
    return fig


# -- the risk list as a sortable table --------------------------------------------------------

_RISK_COLUMNS = (
    # (column, message key, kind)
    ("customer_id", "risk.col.customer", "text"),
    ("owner_rep_id", "risk.col.owner", "text"),
    ("tier", "risk.col.tier", "text"),
    ("value", "risk.col.value", "money"),
    ("state", "risk.col.state", "state"),
    ("purchases", "risk.col.purchases", "count"),
    ("last_purchase_date", "risk.col.last_purchase", "text"),
    ("recency_days", "risk.col.recency", "count"),
    ("median_gap_days", "risk.col.median_gap", "days"),
    ("gap_ratio", "risk.col.gap_ratio", "ratio"),
    ("p_alive", "risk.col.p_alive", "rate"),
    ("expected_purchases", "risk.col.expected", "ratio"),
)
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
# Click a header to sort by it (numbers descending first, text ascending; again to reverse);
# empty cells stay last. Plain DOM, no library, so it works offline in the static report.
_SORT_SCRIPT = """<script>
(function () {
  var table = document.getElementById("%(id)s");
  if (!table) { return; }
  var heads = table.tHead.rows[0].cells;
  function key(cell, numeric) {
    var raw = cell.getAttribute("data-sort");
    if (raw === null || raw === "") { return null; }
    return numeric ? parseFloat(raw) : raw;
  }
  Array.prototype.forEach.call(heads, function (head, col) {
    head.style.cursor = "pointer";
    head.title = "%(hint)s";
    head.addEventListener("click", function () {
      var numeric = head.getAttribute("data-numeric") === "1";
      var descending = head.getAttribute("data-dir") ? head.getAttribute("data-dir") !== "desc" : numeric;
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("data-dir"); });
      head.setAttribute("data-dir", descending ? "desc" : "asc");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
        if (x === null) { return y === null ? 0 : 1; }
        if (y === null) { return -1; }
        var order = numeric ? x - y : String(x).localeCompare(String(y));
        return descending ? -order : order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
</script>"""


def _esc(value: object) -> str:
    import html

    return html.escape(str(value), quote=True)


def _cell(value: object, kind: str, ctx: ChartContext) -> tuple[str, str]:
    """(text shown, sort key) of one risk-table cell."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–", ""
    if kind == "money":
        return f"{float(value):,.0f}", f"{float(value):.2f}"
    if kind == "count":
        return f"{int(value):,}", str(int(value))
    if kind == "days":
        return (f"{float(value):,.0f}" if float(value).is_integer() else f"{float(value):,.1f}"), f"{float(value)}"
    if kind == "ratio":
        return f"{float(value):.1f}", f"{float(value)}"
    if kind == "rate":
        return f"{float(value):.0%}", f"{float(value)}"
    if kind == "state":
        return state_label(str(value), ctx), str(value)
    return str(value), str(value)


#: the risk list's columns that come from the purchase model
_MODEL_COLUMNS = ("p_alive", "expected_purchases")


def risk_table_html(
    risk: pd.DataFrame, ctx: ChartContext, *, table_id: str = "crm-risk-table", limit: int | None = None
) -> str:
    """The churn-risk list as an HTML table sortable by clicking a header, with a tiny inline
    script (no library, no network), so it works in the static offline report.

    ``risk``: one row per customer in value order; needs ``customer_id``, ``name``,
    ``owner_rep_id``, ``rep_name``, ``tier``, ``value``, ``state``, ``purchases``,
    ``last_purchase_date``, ``recency_days``, ``median_gap_days``, ``gap_ratio``,
    ``p_alive``, ``expected_purchases`` (the last two may be all empty when no model was
    fitted). ``limit`` keeps the first rows. An empty list gives a sentence instead.
    """
    chart = "risk_table_html"
    require(risk, [c for c, _, _ in _RISK_COLUMNS] + ["name", "rep_name"], "risk", chart)
    ctx = require_context(ctx, chart)
    if not _ID.fullmatch(table_id):
        raise ValueError(f"{chart}: table_id {table_id!r} must be letters, digits, - or _")
    if limit is not None:
        risk = risk.head(limit)
    if risk.empty:
        return f'<p class="crm-note">{_esc(ctx.t("risk.none", as_of=ctx.as_of))}</p>'
    numeric = {"money", "count", "days", "ratio", "rate"}
    # without a usable purchase model the model's two columns would be empty: leave them out
    columns = [c for c in _RISK_COLUMNS if c[0] not in _MODEL_COLUMNS or risk[c[0]].notna().any()]
    heads = "".join(
        f'<th data-numeric="{1 if kind in numeric else 0}" style="text-align: {"right" if kind in numeric else "left"};'
        f' padding: 3px 8px; white-space: nowrap;">{_esc(ctx.t(key))} ⇅</th>'
        for _, key, kind in columns
    )
    body = []
    for row in risk.itertuples(index=False):
        cells = []
        for column, _, kind in columns:
            value = getattr(row, column)
            shown, sort_key = _cell(value, kind, ctx)
            if column == "customer_id" and isinstance(row.name, str) and row.name and row.name != value:
                shown = f"{row.name} ({value})"
            if column == "owner_rep_id" and isinstance(row.rep_name, str) and row.rep_name and row.rep_name != value:
                shown = f"{row.rep_name} ({value})"
            align = "right" if kind in numeric else "left"
            cells.append(
                f'<td data-sort="{_esc(sort_key)}" style="text-align: {align}; padding: 3px 8px;">{_esc(shown)}</td>'
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    table = (
        f'<table id="{table_id}" class="crm-table crm-sortable" style="border-collapse: collapse;">'
        f"<thead><tr>{heads}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )
    script = _SORT_SCRIPT % {"id": table_id, "hint": _esc(ctx.t("risk.sort_hint"))}
    return f"{table}\n{script}"
