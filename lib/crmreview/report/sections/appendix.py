"""The appendix: technical detail kept out of the body of the report.

In order: how each section counts (the definitions and rules the sections handed over
through :func:`crmreview.report.results.define`); the purchase model's fitted parameters and
back-test in plain words, when the churn section ran one (fitted or degenerate); and the
data quality of the warehouse from ``metrics quality``: the data span of each table, the
imports with their exported-at dates, rejected rows by reason, the fields that are not
complete, inferred stage history and duplicate ids.

Lists are bounded (``LIST_SHOWN`` rows, with the total), so the appendix does not grow with
the data.

Public names: ``build``, ``quality_html``, ``LIST_SHOWN``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from ...charts import ChartContext
from ...i18n import t
from ..html import HtmlBlock, esc, fmt_count, fmt_pct, section_heading, table
from ..results import definitions, result
from .churn import model_table_html

__all__ = ["build", "quality_html", "LIST_SHOWN"]

#: rows shown in each of the appendix's lists (imports, rejects, incomplete fields)
LIST_SHOWN = 15


def _shown_of(ctx: ChartContext, key: str, shown: int, total: int) -> str:
    text = ctx.t(key)
    return text + (
        " " + ctx.t("appendix.shown_of", shown=fmt_count(shown), total=fmt_count(total)) if shown < total else ""
    )


def _span_table(quality: Mapping[str, Any], ctx: ChartContext) -> str:
    tables = (quality.get("data_span") or {}).get("tables") or {}
    if not tables:
        return f"<p>{esc(ctx.t('appendix.quality.no_data'))}</p>"
    rows = [[name, span["first_date"] or "–", span["last_date"] or "–"] for name, span in tables.items()]
    headers = [ctx.t("appendix.col.table"), ctx.t("appendix.col.first"), ctx.t("appendix.col.last")]
    return f"<h4>{esc(ctx.t('appendix.quality.span'))}</h4>\n" + table(headers, rows)


def _imports_table(quality: Mapping[str, Any], ctx: ChartContext) -> str:
    imports = list(quality.get("imports") or [])
    if not imports:
        return ""
    listed = imports[-LIST_SHOWN:]  # the latest imports
    rows = [
        [
            PurePath(i["file"]).name,
            i["table"] or "–",
            (i["exported_at"] or "")[:10] or ctx.t("appendix.quality.not_dated"),
            fmt_count(i["rows_read"]),
            fmt_count(i["rows_loaded"]),
            fmt_count(i["rows_rejected"]),
        ]
        for i in listed
    ]
    headers = [
        ctx.t("appendix.col.file"),
        ctx.t("appendix.col.table"),
        ctx.t("appendix.col.exported_at"),
        ctx.t("appendix.col.read"),
        ctx.t("appendix.col.loaded"),
        ctx.t("appendix.col.rejected"),
    ]
    caption = _shown_of(ctx, "appendix.quality.imports", len(listed), len(imports))
    return f"<h4>{esc(caption)}</h4>\n" + table(headers, rows, numeric=(3, 4, 5))


def _rejects_table(quality: Mapping[str, Any], ctx: ChartContext) -> str:
    by_reason: dict[str, int] = defaultdict(int)
    for entry in quality.get("rejects") or []:
        by_reason[entry["reason"]] += entry["rows"]
    if not by_reason:
        return f"<h4>{esc(ctx.t('appendix.quality.rejects'))}</h4>\n<p>{esc(ctx.t('appendix.quality.no_rejects'))}</p>"
    ranked = sorted(by_reason.items(), key=lambda item: (-item[1], item[0]))
    listed = ranked[:LIST_SHOWN]
    rows = [[reason, fmt_count(count)] for reason, count in listed]
    caption = _shown_of(ctx, "appendix.quality.rejects", len(listed), len(ranked))
    return f"<h4>{esc(caption)}</h4>\n" + table(
        [ctx.t("appendix.col.reason"), ctx.t("appendix.col.rows")], rows, numeric=(1,)
    )


def _completeness_table(quality: Mapping[str, Any], ctx: ChartContext) -> str:
    filled = [c for c in quality.get("completeness") or [] if c["rows"]]
    gaps = sorted(
        (c for c in filled if c["share_non_null"] is not None and c["share_non_null"] < 1),
        key=lambda c: (c["share_non_null"], c["table"], c["column"]),
    )
    heading = f"<h4>{esc(ctx.t('appendix.quality.completeness'))}</h4>\n"
    complete = ctx.t(
        "appendix.quality.complete", complete=fmt_count(len(filled) - len(gaps)), columns=fmt_count(len(filled))
    )
    if not gaps:
        return heading + f"<p>{esc(complete)}</p>"
    listed = gaps[:LIST_SHOWN]
    rows = [
        [f"{c['table']}.{c['column']}", fmt_count(c["non_null"]), fmt_count(c["rows"]), fmt_pct(c["share_non_null"])]
        for c in listed
    ]
    headers = [
        ctx.t("appendix.col.field"),
        ctx.t("appendix.col.filled"),
        ctx.t("appendix.col.rows"),
        ctx.t("appendix.col.share"),
    ]
    more = (
        ""
        if len(listed) == len(gaps)
        else " " + ctx.t("appendix.shown_of", shown=fmt_count(len(listed)), total=fmt_count(len(gaps)))
    )
    return heading + f"<p>{esc(complete + more)}</p>\n" + table(headers, rows, numeric=(1, 2, 3))


def _history_and_duplicates(quality: Mapping[str, Any], ctx: ChartContext) -> str:
    lines = []
    origins = {e["origin"]: e for e in quality.get("inferred_history") or []}
    inferred, snapshots = origins.get("inferred", {}), origins.get("snapshots", {})
    if inferred.get("deals") or snapshots.get("deals"):
        lines.append(
            ctx.t(
                "appendix.quality.history",
                inferred=fmt_count(inferred.get("deals", 0)),
                inferred_share=fmt_pct(inferred.get("share_of_deals")),
                snapshots=fmt_count(snapshots.get("deals", 0)),
                snapshots_share=fmt_pct(snapshots.get("share_of_deals")),
            )
        )
    else:
        lines.append(ctx.t("appendix.quality.history_recorded"))
    for entry in quality.get("missing_deals") or []:
        lines.append(t("warning.deals_missing", ctx.lang, deals=entry["deals"], date=entry["missing_since"]))
    duplicated = [e for e in quality.get("duplicate_ids") or [] if e["duplicates"]]
    for entry in duplicated:
        lines.append(
            ctx.t(
                "appendix.quality.duplicates",
                table=entry["table"],
                key=entry["key"],
                duplicates=fmt_count(entry["duplicates"]),
                extra=fmt_count(entry["extra_rows"]),
            )
        )
    return "".join(f"<p>{esc(line)}</p>" for line in lines)


def quality_html(quality: Mapping[str, Any], ctx: ChartContext) -> str:
    """The data-quality part of the appendix from a ``metrics quality`` result."""
    parts = [
        f"<h3>{esc(ctx.t('appendix.quality.heading'))}</h3>",
        _span_table(quality, ctx),
        _imports_table(quality, ctx),
        _rejects_table(quality, ctx),
        _completeness_table(quality, ctx),
        _history_and_duplicates(quality, ctx),
    ]
    return "\n".join(part for part in parts if part)


def build(con: Any, review: Any) -> list[HtmlBlock]:
    """The appendix of ``review``: the definitions and the purchase model the sections left
    in ``review.notes``, then the warehouse's data quality."""
    ctx, lang = review.ctx, review.lang
    parts = [section_heading("appendix", lang)]
    defined = definitions(review)
    if defined:
        parts.append(f"<h3>{esc(t('appendix.definitions.heading', lang))}</h3>")
        for name, texts in defined.items():
            body = " ".join(esc(text) for text in texts)
            parts.append(f"<p><strong>{esc(t(f'section.{name}.title', lang))}.</strong> {body}</p>")
    model = review.notes.get("purchase_model")
    model_table = model_table_html(model, ctx) if model else ""
    if model_table:
        status = t(f"appendix.model.{model['status']}", lang, reason=model.get("reason", ""))
        parts.append(
            f"<h3>{esc(t('appendix.model.heading', lang))}</h3>\n"
            f"<p>{esc(t('appendix.model.plain', lang))} {esc(status)}</p>\n{model_table}"
        )
    parts.append(quality_html(result(con, review, "quality"), ctx))
    return [HtmlBlock("\n".join(parts))]
