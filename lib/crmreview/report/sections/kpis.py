"""The key numbers as a table: this period against the comparison, with the change.

The quarterly review opens with the executive summary instead (``sections/summary.py``: cards
with the same numbers and more, and the headlines); this table serves views that want the
key numbers in rows (the exploration app).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ...charts import ChartContext
from ...i18n import t
from ...metrics.churn import churn
from ...metrics.repurchase import repurchase
from ..html import HtmlBlock, esc, fmt_count, fmt_days, fmt_money, fmt_pct, missing, warnings_html

__all__ = ["build", "kpi_frame", "kpi_table_html", "KPI_KEYS", "SHOP_KEYS"]

#: KPI rows of the report, in order: (key in the funnel result, kind of number)
KPI_KEYS: tuple[tuple[str, str], ...] = (
    ("cohort_deals", "count"),
    ("win_rate", "rate"),
    ("avg_won_amount", "money"),
    ("median_cycle_days", "days"),
    ("pipeline_velocity", "money"),
)
#: funnel warnings that do not qualify a key number (they are shown in the funnel section)
_NOT_KPI_WARNINGS = ("period_outside_data", "history_inferred", "stage_unused")
#: key numbers from the orders (a shop's review): (key, kind of number)
SHOP_KEYS: tuple[tuple[str, str], ...] = (
    ("net_revenue", "money"),
    ("customers_purchasing", "count"),
    ("repeat_rate", "rate"),
    ("churn_rate", "rate"),
    ("nrr", "rate"),
)
_KPI_LABELS = {
    "net_revenue": "kpi.net_revenue",
    "customers_purchasing": "kpi.buyers",
    "repeat_rate": "kpi.repeat_rate",
    "churn_rate": "kpi.churn_rate",
    "nrr": "kpi.nrr",
    "cohort_deals": "kpi.deals_created",
    "win_rate": "kpi.win_rate",
    "avg_won_amount": "kpi.avg_won_amount",
    "median_cycle_days": "kpi.median_cycle_days",
    "pipeline_velocity": "kpi.pipeline_velocity",
}


# -- number formatting ------------------------------------------------------------------


_FORMATS = {"count": fmt_count, "rate": fmt_pct, "money": fmt_money, "days": fmt_days}


def _format(kind: str, value: float | None, lang: str) -> str:
    """A key number as the reader expects it; in Chinese, money from 10,000 up in 万."""
    if kind == "money" and lang == "zh" and not missing(value) and abs(value) >= 10_000:
        return f"{value / 10_000:,.1f}万"
    return _FORMATS[kind](value)


def _fmt_change(now: float | None, before: float | None, kind: str, lang: str) -> str:
    if missing(now) or missing(before):
        return "–"
    if kind == "rate":
        return t("kpi.points", lang, value=f"{(now - before) * 100:+.1f}")
    if before == 0:
        return "–"
    return f"{(now - before) / abs(before):+.0%}"


# -- KPI table ---------------------------------------------------------------------------


def kpi_frame(
    current: Mapping[str, Any],
    previous: Mapping[str, Any],
    shop_current: Mapping[str, Any] | None = None,
    shop_previous: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """One row per key number the data support: ``metric, kind, current, previous``.

    ``current`` / ``previous`` are funnel results: their rows (``KPI_KEYS``) are shown unless
    the warehouse holds no deals (``missing_inputs``). ``shop_current`` / ``shop_previous``
    (net revenue, buyers, repeat rate, churn rate, NRR from the orders; None without orders)
    add ``SHOP_KEYS`` rows. A missing or None value stays None (shown as "–").
    """
    pairs: list[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]] = []
    if "deals" not in (current.get("missing_inputs") or []):
        pairs += [(key, kind, current, previous) for key, kind in KPI_KEYS]
    if shop_current is not None:
        pairs += [(key, kind, shop_current, shop_previous or {}) for key, kind in SHOP_KEYS]
    rows = []
    for key, kind, now_obj, before_obj in pairs:
        now, before = now_obj.get(key), before_obj.get(key)
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


def kpi_table_html(frame: pd.DataFrame, ctx: ChartContext, *, currency: str = "") -> str:
    """The KPI frame as a formatted HTML table: metric, this period, comparison, change."""
    for column in ("metric", "kind", "current", "previous"):
        if column not in frame.columns:
            raise ValueError(f"kpi_table_html: the KPI frame has no column {column!r}")
    lang = ctx.lang
    shown = pd.DataFrame(
        {
            t("kpi.metric", lang): [
                t(_KPI_LABELS[m], lang) + (f" ({currency})" if currency and k == "money" else "")
                for m, k in zip(frame["metric"], frame["kind"])
            ],
            ctx.period_label: [_format(k, v, lang) for k, v in zip(frame["kind"], frame["current"])],
            ctx.compare_label: [_format(k, v, lang) for k, v in zip(frame["kind"], frame["previous"])],
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


def _shop(con: Any, review: Any, period: Any) -> dict[str, Any]:
    numbers = repurchase(con, period, settings=review.settings)
    lifecycle = churn(con, period, settings=review.settings, risk_list_length=0, model=False)
    return {**numbers, "churn_rate": lifecycle["churn_rate"], "nrr": lifecycle["nrr"]}


def build(con: Any, review: Any) -> list[HtmlBlock]:
    """Key numbers, this period vs the comparison, with the change: the pipeline's when deals
    were imported, the shop's (from the orders) when orders were."""
    shop_now = shop_before = None
    if con is not None and not review.missing(("orders",)):
        shop_now, shop_before = _shop(con, review, review.period), _shop(con, review, review.comparison)
    frame = kpi_frame(review.current, review.previous, shop_now, shop_before)
    if frame.empty:
        return []
    table = kpi_table_html(frame, review.ctx, currency=review.settings.currency)
    # the warnings that qualify a key number (a win rate without lost deals, missing amounts)
    table += warnings_html(review.current, review.lang, skip=_NOT_KPI_WARNINGS)
    return [HtmlBlock(f"<h2>{esc(t('kpi.heading', review.lang))}</h2>\n{table}")]
