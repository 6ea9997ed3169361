"""The sections of the quarterly review report, built in Python so the notebook stays thin.

Public names: ``quarterly_review``, ``QuarterlyReview``, ``HtmlBlock``, ``parse_as_of``,
``kpi_frame``, ``kpi_table_html``, ``funnel_sentences``, ``KPI_KEYS``.

``notebooks/quarterly_review.ipynb`` makes one call, :func:`quarterly_review`, which opens
the warehouse read-only, computes everything the report shows and closes it again; each
notebook section then displays one method's result (``header()``, ``kpi_table()``,
``funnel_section()``). Everything a reader sees, text included, is produced here, in the
report language, and every number in the prose is computed from the metric results.
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from . import queries, warehouse
from .charts import ChartContext, funnel_chart, funnel_compare_chart, leakage_chart
from .config import DEFAULT_SETTINGS, Settings, load_settings
from .funnel import funnel, stages_frame
from .i18n import check_lang, t
from .periods import Period, parse_period
from .sections._html import esc, fmt_count, fmt_days, fmt_money, fmt_pct, missing

__all__ = [
    "quarterly_review",
    "QuarterlyReview",
    "HtmlBlock",
    "parse_as_of",
    "kpi_frame",
    "kpi_table_html",
    "funnel_sentences",
    "KPI_KEYS",
]

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


@dataclass(frozen=True)
class HtmlBlock:
    """A piece of report HTML that Jupyter displays as HTML (not a widget)."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def parse_as_of(text: str | date | None) -> date | None:
    """The as-of override: ``""``/None for none, else an ISO date (``2026-09-30``)."""
    if text is None or isinstance(text, date):
        return text
    if not isinstance(text, str):
        raise ValueError(f"as-of date must be text like 2026-09-30, got {text!r}")
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"as-of date {text!r} is not a date like 2026-09-30") from None


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


# -- narrative ---------------------------------------------------------------------------


def _stage_rows(result: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    return list(result.get("stages") or []) if result else []


def _conversion_sentence(
    current: Mapping[str, Any], previous: Mapping[str, Any] | None, ctx: ChartContext,
    settings: Settings,
) -> str | None:
    rows = _stage_rows(current)
    before_by_stage = {row["stage"]: row.get("conversion") for row in _stage_rows(previous)}
    steps = [
        (i, row, rows[i + 1])
        for i, row in enumerate(rows[:-1])
        if not missing(row.get("conversion"))
    ]
    if not steps:
        return None

    def label(stage: str) -> str:
        return settings.stage_label(stage, ctx.lang)

    compared = [
        (abs(row["conversion"] - before_by_stage[row["stage"]]), -i, row, nxt)
        for i, row, nxt in steps
        if not missing(before_by_stage.get(row["stage"]))
    ]
    common = {"period": ctx.period_label, "compare": ctx.compare_label}
    if compared:
        _, _, row, nxt = max(compared, key=lambda item: item[:2])
        now, before = fmt_pct(row["conversion"]), fmt_pct(before_by_stage[row["stage"]])
        if now == before:
            key = "say.conversion_held"
        elif row["conversion"] < before_by_stage[row["stage"]]:
            key = "say.conversion_fell"
        else:
            key = "say.conversion_rose"
        return ctx.t(
            key, from_stage=label(row["stage"]), to_stage=label(nxt["stage"]),
            now=now, before=before, **common,
        )
    # nothing to compare with: name the weakest step of this period (ties: the earlier one)
    _, row, nxt = min(steps, key=lambda step: (step[1]["conversion"], step[0]))
    return ctx.t(
        "say.weakest_step", from_stage=label(row["stage"]), to_stage=label(nxt["stage"]),
        now=fmt_pct(row["conversion"]), **common,
    )


def _leak_sentence(current: Mapping[str, Any], ctx: ChartContext, settings: Settings) -> str:
    rows = _stage_rows(current)
    lost = {row["stage"]: int(row.get("lost_at") or 0) for row in rows}
    total = sum(lost.values())
    common = {"period": ctx.period_label, "as_of": ctx.as_of}
    if total == 0:
        return ctx.t("say.no_losses", **common)
    leak = current.get("biggest_leak")
    if leak not in lost:  # not given: the largest lost_at, ties the earlier stage
        leak = max(rows, key=lambda row: (lost[row["stage"]], -rows.index(row)))["stage"]
    stage = settings.stage_label(leak, ctx.lang)
    if total == 1:
        return ctx.t("say.leak_one", stage=stage, **common)
    if lost[leak] == total:
        return ctx.t("say.leak_all", stage=stage, total=f"{total:,}", **common)
    if lost[leak] == 1:
        return ctx.t("say.leak_one_of", stage=stage, total=f"{total:,}", **common)
    return ctx.t("say.leak", stage=stage, count=f"{lost[leak]:,}", total=f"{total:,}", **common)


def _win_rate_sentence(
    current: Mapping[str, Any], previous: Mapping[str, Any] | None, ctx: ChartContext
) -> str:
    if missing(current.get("win_rate")):
        return ctx.t("say.no_closed", period=ctx.period_label)
    won, lost = int(current.get("won") or 0), int(current.get("lost") or 0)
    closed = int(current.get("deals_closed") or won + lost)
    compare_part = ""
    if previous is not None and not missing(previous.get("win_rate")):
        compare_part = ctx.t(
            "say.win_rate_compare", compare=ctx.compare_label, rate=fmt_pct(previous["win_rate"])
        )
    return ctx.t(
        "say.win_rate", period=ctx.period_label, closed=f"{closed:,}", won=f"{won:,}",
        rate=fmt_pct(current["win_rate"]), compare_part=compare_part,
    )


def funnel_sentences(
    current: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    ctx: ChartContext,
    *,
    settings: Settings = DEFAULT_SETTINGS,
) -> list[str]:
    """Two or three sentences on the funnel, every number computed from the results.

    ``current`` / ``previous``: :func:`crmreview.funnel.funnel` results (``previous`` may be
    None). In order: the step whose conversion changed most against the comparison (or,
    with nothing to compare, the weakest step); where the period's lost deals were lost;
    the win rate of the deals closed in the period. With an empty cohort only the last.
    """
    if not isinstance(ctx, ChartContext):
        raise TypeError(f"funnel_sentences: ctx must be a ChartContext, got {type(ctx).__name__}")
    sentences: list[str] = []
    if int(current.get("cohort_deals") or 0) > 0:
        conversion = _conversion_sentence(current, previous, ctx, settings)
        if conversion:
            sentences.append(conversion)
        sentences.append(_leak_sentence(current, ctx, settings))
    sentences.append(_win_rate_sentence(current, previous, ctx))
    return sentences


# -- the report ----------------------------------------------------------------------------


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def _period_text(period: Period) -> str:
    if period.kind == "range":
        return period.label
    return f"{period.label} ({period.start.isoformat()} – {period.end.isoformat()})"


@dataclass(frozen=True)
class QuarterlyReview:
    """Everything the quarterly review shows, computed once; methods render one section each."""

    ctx: ChartContext
    period: Period
    comparison: Period
    compare_mode: str
    current: dict[str, Any]
    previous: dict[str, Any]
    loaded_through: date | None
    settings: Settings = field(default=DEFAULT_SETTINGS)
    #: the warehouse file ("" = the default), reopened read-only by :meth:`section`
    db_path: str = ""

    @property
    def lang(self) -> str:
        return self.ctx.lang

    def header(self) -> HtmlBlock:
        """Title, period, comparison period, as-of date and how far the loaded data go."""
        lang, sep = self.lang, _colon(self.lang)
        facts = [
            (t("report.period", lang), _period_text(self.period)),
            (
                t("report.compare", lang),
                t(
                    "report.compare_line", lang,
                    period=_period_text(self.comparison),
                    mode=t(f"report.compare.{self.compare_mode}", lang),
                ),
            ),
            (t("report.as_of", lang), self.period.as_of.isoformat()),
        ]
        lines = [f"<strong>{esc(name)}</strong>{sep}{esc(value)}" for name, value in facts]
        if self.loaded_through is None:
            lines.append(esc(t("report.loaded_nothing", lang)))
        else:
            loaded = t("report.loaded_through", lang, date=self.loaded_through.isoformat())
            lines.append(esc(loaded))
        parts = [
            f'<div class="crm-report-header" lang="{esc(lang)}">',
            f"<h1>{esc(t('report.title', lang, period=self.period.label))}</h1>",
            "<p>" + "<br>\n".join(lines) + "</p>",
        ]
        if self.loaded_through is not None and self.loaded_through < self.period.as_of:
            warning = t(
                "report.loaded_before_as_of", lang,
                date=self.loaded_through.isoformat(), as_of=self.period.as_of.isoformat(),
            )
            parts.append(f'<p class="crm-warning"><strong>⚠</strong> {esc(warning)}</p>')
        parts.append("</div>")
        return HtmlBlock("\n".join(parts))

    def kpi_table(self) -> HtmlBlock:
        """Key numbers, this period vs the comparison, with the change."""
        table = kpi_table_html(kpi_frame(self.current, self.previous), self.ctx)
        return HtmlBlock(f"<h2>{esc(t('kpi.heading', self.lang))}</h2>\n{table}")

    def _footnote(self) -> HtmlBlock:
        rule = self.current.get("rule", "furthest")
        key = f"funnel.rule.{rule}"
        rule_text = t(key, self.lang) if rule in ("furthest", "strict") else t(
            "funnel.rule.other", self.lang, rule=rule
        )
        cohort = t(
            "funnel.cohort", self.lang,
            period=self.period.label,
            cohort=f"{int(self.current.get('cohort_deals') or 0):,}",
            skipped=f"{int(self.current.get('skipped_stage_deals') or 0):,}",
            backward=f"{int(self.current.get('backward_move_deals') or 0):,}",
            excluded=f"{int(self.current.get('excluded_no_created_at') or 0):,}",
        )
        return HtmlBlock(f'<p class="crm-note"><small>{esc(rule_text)} {esc(cohort)}</small></p>')

    def section(self, name: str) -> list[Any]:
        """The report section ``crmreview.sections.<name>``: its ``build(con, review)`` gets a
        read-only connection to the warehouse and this review, and returns what to display
        (HTML blocks and figures drawn from aggregates)."""
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ValueError(f"report section name {name!r} must be lowercase letters, digits or _")
        module = importlib.import_module(f"crmreview.sections.{name}")
        with warehouse.connect_read(self.db_path or None) as con:
            return list(module.build(con, self))

    def funnel_section(self) -> list[Any]:
        """Heading and sentences, then the funnel, leakage and comparison charts, then the
        rule used; with no deals created in the period, the heading and a message instead."""
        heading = f"<h2>{esc(t('funnel.heading', self.lang))}</h2>"
        sentences = funnel_sentences(self.current, self.previous, self.ctx, settings=self.settings)
        items = "".join(f"<li>{esc(s)}</li>" for s in sentences)
        if int(self.current.get("cohort_deals") or 0) == 0:
            empty = t("funnel.empty", self.lang, period=self.period.label)
            message = f"<p><strong>{esc(empty)}</strong></p>"
            return [HtmlBlock(f"{heading}\n{message}\n<ul>{items}</ul>")]
        current, previous = stages_frame(self.current), stages_frame(self.previous)
        return [
            HtmlBlock(f"{heading}\n<ul>{items}</ul>"),
            funnel_chart(current, self.ctx, settings=self.settings),
            leakage_chart(current, self.ctx, settings=self.settings),
            funnel_compare_chart(current, previous, self.ctx, settings=self.settings),
            self._footnote(),
        ]


def _loaded_through(con) -> date | None:
    value = queries.run(con, "report/data_loaded_through", {})["loaded_through_date"].iloc[0]
    return None if pd.isna(value) else pd.Timestamp(value).date()


def quarterly_review(
    db_path: str = "",
    *,
    period: str,
    compare: str = "prev",
    lang: str = "en",
    as_of: str = "",
    config_path: str = "",
    settings: Settings | None = None,
) -> QuarterlyReview:
    """Compute the quarterly review from the warehouse at ``db_path`` ("" = the default).

    ``period`` is period text (``2026Q3``, ``last-quarter``, …), ``compare`` ``prev`` or
    ``yoy``, ``as_of`` an ISO date or "" for the period's last day. The warehouse is opened
    read-only and closed before this returns.
    """
    check_lang(lang)
    if settings is None:
        settings = load_settings(config_path or None)
    this = parse_period(period, as_of=parse_as_of(as_of))
    comparison = this.compare(compare)
    with warehouse.connect_read(db_path or None) as con:
        current = funnel(con, this, settings=settings)
        previous = funnel(con, comparison, settings=settings)
        loaded_through = _loaded_through(con)
    return QuarterlyReview(
        ctx=ChartContext.for_periods(this, comparison, lang),
        period=this,
        comparison=comparison,
        compare_mode=compare,
        current=current,
        previous=previous,
        loaded_through=loaded_through,
        settings=settings,
        db_path=str(db_path or ""),
    )
