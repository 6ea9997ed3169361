"""The key numbers: this period against the comparison, with the change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ...charts import ChartContext
from ...i18n import t
from ..html import HtmlBlock, esc, fmt_count, fmt_days, fmt_money, fmt_pct, missing

__all__ = ["build", "kpi_frame", "kpi_table_html", "KPI_KEYS"]

#: KPI rows of the report, in order: (key in the funnel result, kind of number)
KPI_KEYS: tuple[tuple[str, str], ...] = (
    ("cohort_deals", "count"),
    ("win_rate", "rate"),
    ("avg_won_amount", "money"),
    ("median_cycle_days", "days"),
    ("pipeline_velocity", "money"),
)
_KPI_LABELS = {
    "cohort_deals": "kpi.deals_created",
    "win_rate": "kpi.win_rate",
    "avg_won_amount": "kpi.avg_won_amount",
    "median_cycle_days": "kpi.median_cycle_days",
    "pipeline_velocity": "kpi.pipeline_velocity",
}


# -- number formatting ------------------------------------------------------------------


_FORMATS = {"count": fmt_count, "rate": fmt_pct, "money": fmt_money, "days": fmt_days}


def _fmt_change(now: float | None, before: float | None, kind: str, lang: str) -> str:
    if missing(now) or missing(before):
        return "–"
    if kind == "rate":
        return t("kpi.points", lang, value=f"{(now - before) * 100:+.1f}")
    if before == 0:
        return "–"
    return f"{(now - before) / abs(before):+.0%}"


# -- KPI table ---------------------------------------------------------------------------


def kpi_frame(current: Mapping[str, Any], previous: Mapping[str, Any]) -> pd.DataFrame:
    """One row per KPI (``KPI_KEYS`` order): ``metric, kind, current, previous``.

    ``current`` / ``previous`` are :func:`crmreview.funnel.funnel` results; a missing or
    None value stays None (shown as "–").
    """
    rows = []
    for key, kind in KPI_KEYS:
        now, before = current.get(key), previous.get(key)
        rows.append(
            {
                "metric": key,
                "kind": kind,
                "current": None if missing(now) else float(now),
                "previous": None if missing(before) else float(before),
            }
        )
    return pd.DataFrame(rows, columns=["metric", "kind", "current", "previous"]).astype(
        {"current": "object", "previous": "object"}
    )


def kpi_table_html(frame: pd.DataFrame, ctx: ChartContext) -> str:
    """The KPI frame as a formatted HTML table: metric, this period, comparison, change."""
    for column in ("metric", "kind", "current", "previous"):
        if column not in frame.columns:
            raise ValueError(f"kpi_table_html: the KPI frame has no column {column!r}")
    lang = ctx.lang
    shown = pd.DataFrame(
        {
            t("kpi.metric", lang): [t(_KPI_LABELS[m], lang) for m in frame["metric"]],
            ctx.period_label: [_FORMATS[k](v) for k, v in zip(frame["kind"], frame["current"])],
            ctx.compare_label: [_FORMATS[k](v) for k, v in zip(frame["kind"], frame["previous"])],
            t("kpi.change", lang): [
                _fmt_change(now, before, kind, lang)
                for now, before, kind in zip(frame["current"], frame["previous"], frame["kind"])
            ],
        }
    )
    numeric = list(shown.columns[1:])
    styler = (
        shown.style.set_uuid("crm_kpi")  # stable ids: the same data render the same HTML
        .hide(axis="index")
        .set_table_attributes('class="crm-kpi"')
        .set_properties(subset=numeric, **{"text-align": "right"})
        .set_table_styles(
            [
                {"selector": "th", "props": "text-align: right; padding: 4px 12px;"},
                {"selector": "th:first-child", "props": "text-align: left;"},
                {"selector": "td", "props": "padding: 4px 12px;"},
                {"selector": "td:first-child", "props": "text-align: left;"},
            ]
        )
    )
    return styler.to_html()


def build(con: Any, review: Any) -> list[HtmlBlock]:
    """Key numbers, this period vs the comparison, with the change."""
    table = kpi_table_html(kpi_frame(review.current, review.previous), review.ctx)
    return [HtmlBlock(f"<h2>{esc(t('kpi.heading', review.lang))}</h2>\n{table}")]
