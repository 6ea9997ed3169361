"""The report header: title, period, comparison, as-of date and how far the loaded data go."""

from __future__ import annotations

from typing import Any

from ...i18n import t
from ...metrics.inputs import data_span
from ...periods import Period
from ..html import HtmlBlock, esc

__all__ = ["build"]


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def _period_text(period: Period) -> str:
    if period.kind == "range":
        return period.label
    return f"{period.label} ({period.start.isoformat()} – {period.end.isoformat()})"


def build(con: Any, review: Any) -> list[HtmlBlock]:
    """Title, period, comparison period, as-of date and how far the loaded data go."""
    lang, sep = review.lang, _colon(review.lang)
    facts = [
        (t("report.period", lang), _period_text(review.period)),
        (
            t("report.compare", lang),
            t(
                "report.compare_line",
                lang,
                period=_period_text(review.comparison),
                mode=t(f"report.compare.{review.compare_mode}", lang),
            ),
        ),
        (t("report.as_of", lang), review.period.as_of.isoformat()),
    ]
    lines = [f"<strong>{esc(name)}</strong>{sep}{esc(value)}" for name, value in facts]
    if review.loaded_through is None:
        lines.append(esc(t("report.loaded_nothing", lang)))
    else:
        loaded = t("report.loaded_through", lang, date=review.loaded_through.isoformat())
        lines.append(esc(loaded))
    first, last = data_span(review.inventory) if review.inventory is not None else (None, None)
    if first is not None:
        lines.append(esc(t("report.data_span", lang, first=first.isoformat(), last=last.isoformat())))
    parts = [
        f'<div class="crm-report-header" lang="{esc(lang)}">',
        f"<h1>{esc(review.title)}</h1>",
        "<p>" + "<br>\n".join(lines) + "</p>",
    ]
    if review.loaded_through is not None and review.loaded_through < review.period.as_of:
        warning = t(
            "report.loaded_before_as_of",
            lang,
            date=review.loaded_through.isoformat(),
            as_of=review.period.as_of.isoformat(),
        )
        parts.append(f'<p class="crm-warning"><strong>⚠</strong> {esc(warning)}</p>')
    if first is not None and (review.period.end < first or review.period.start > last):
        outside = t(
            "report.outside_data", lang, period=review.period.label, first=first.isoformat(), last=last.isoformat()
        )
        parts.append(f'<p class="crm-warning"><strong>⚠</strong> {esc(outside)}</p>')
    parts.append("</div>")
    return [HtmlBlock("\n".join(parts))]
