"""Small HTML and number-formatting helpers shared by the report sections."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..i18n import t

__all__ = [
    "HtmlBlock",
    "esc",
    "missing",
    "fmt_pct",
    "fmt_count",
    "fmt_money",
    "fmt_days",
    "fmt_number",
    "table",
    "sentences",
    "owner_label",
    "rep_label",
    "section_anchor",
    "section_heading",
    "missing_notice",
    "warnings_html",
]


@dataclass(frozen=True)
class HtmlBlock:
    """A piece of report HTML that Jupyter displays as HTML (not a widget)."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_pct(value: float | None) -> str:
    return "–" if missing(value) else f"{value:.0%}"


def fmt_count(value: float | None) -> str:
    return "–" if missing(value) else f"{int(value):,}"


def fmt_money(value: float | None) -> str:
    if missing(value):
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"


def fmt_days(value: float | None) -> str:
    if missing(value):
        return "–"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def fmt_number(value: float | None, digits: int = 2) -> str:
    return "–" if missing(value) else f"{value:.{digits}f}"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    numeric: Sequence[int] = (),
    css_class: str = "crm-table",
) -> str:
    """An HTML table; the columns whose indexes are in ``numeric`` are right-aligned."""
    right = ' style="text-align: right; padding: 3px 10px;"'
    left = ' style="text-align: left; padding: 3px 10px;"'
    head = "".join(f"<th{right if i in numeric else left}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{right if i in numeric else left}>{esc(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    return (
        f'<table class="{esc(css_class)}" style="border-collapse: collapse;">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def sentences(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(s)}</li>" for s in items) + "</ul>"


def rep_label(rep_id: str, name: str | None) -> str:
    """A rep as ``queries/report/rep_names.sql`` labels one: "Name (id)", the id alone when
    the rep has no name or the name is the id."""
    return f"{name} ({rep_id})" if name and name.strip() and name != rep_id else rep_id


def owner_label(rep_id: str | None, labels: Mapping[str, str]) -> str:
    """An owner as every table and sentence shows it: the rep's label from ``labels``
    (``results.rep_labels``: "Name (id)"), the id when the rep is unknown, "–" for none."""
    if rep_id is None or rep_id == "":
        return "–"
    return labels.get(rep_id, rep_id)


def section_anchor(section: str) -> str:
    """The id of a section's heading, the target of the contents and the summary's links."""
    return f"section-{section}"


def section_heading(section: str, lang: str) -> str:
    """A section's heading (``section.<name>.title``, with its anchor) and the one line that
    says what question it answers (``section.<name>.question``)."""
    question = t("section.answers", lang, question=t(f"section.{section}.question", lang))
    return (
        f'<h2 id="{section_anchor(section)}">{esc(t(f"section.{section}.title", lang))}</h2>\n'
        f'<p class="crm-question">{esc(question)}</p>'
    )


def missing_notice(section: str, missing: Sequence[str], lang: str) -> HtmlBlock:
    """The one line that stands in for a section whose inputs were not imported: which export
    is missing and what the section would answer with it."""
    exports = [t(f"export.{need.split('|')[0]}", lang) for need in missing]
    text = t(
        "notice.missing",
        lang,
        title=t(f"section.{section}.title", lang),
        exports=t("notice.and", lang).join(exports),
        question=t(f"section.{section}.question", lang),
    )
    return HtmlBlock(
        f'<p class="crm-missing" id="{section_anchor(section)}" data-section="{esc(section)}">'
        f"<strong>ⓘ</strong> {esc(text)}</p>"
    )


def warnings_html(
    result: Mapping[str, Any],
    lang: str,
    *,
    skip: Sequence[str] = ("period_outside_data",),
    only: Sequence[str] | None = None,
) -> str:
    """A metric result's ``warnings`` in the report language, one marked line each, for the
    section that shows the numbers they qualify ("" without warnings): those of ``only``
    when given, else all but ``skip`` (``period_outside_data`` is left to the header)."""
    lines = [
        f'<p class="crm-warning"><strong>⚠</strong> {esc(t("warning." + w["code"], lang, **w.get("params", {})))}</p>'
        for w in result.get("warnings") or []
        if (w["code"] in only if only is not None else w["code"] not in skip)
    ]
    return "\n".join(lines)
