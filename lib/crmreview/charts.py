"""Plotly charts for reports: aggregates in, a figure out; nothing here ever shows a figure.

Public names: ``ChartContext``, ``funnel_chart``, ``leakage_chart``, ``funnel_compare_chart``.

Every figure says its period, its comparison and its data as-of date: the title is the
chart's name, the subtitle ``ChartContext.subtitle`` ("2026Q3 vs 2026Q2 · as of
2026-09-30"). Charts are drawn from aggregates (one row per stage), so a report's size does
not grow with the data.

The funnel charts read the stage frame of ``crmreview.funnel`` (one row per funnel stage,
in funnel order): ``stage, reached, conversion, share_of_first, leakage_rate, lost_at,
open_at, median_days_in_stage, p75_days_in_stage``. Each chart checks the columns it needs
first and raises ``ValueError`` naming a missing one.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from .config import DEFAULT_SETTINGS, Settings
from .i18n import check_lang, t

__all__ = ["ChartContext", "funnel_chart", "leakage_chart", "funnel_compare_chart"]

# Latin fonts first, then the CJK fonts of common systems, so Chinese never falls back to boxes.
_FONT = (
    "-apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Noto Sans', "
    "'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', 'Source Han Sans SC', sans-serif"
)
_CURRENT = "#2563eb"
_COMPARISON = "#9ca3af"
_LOST = "#dc2626"
_OPEN = "#f59e0b"


@dataclass(frozen=True)
class ChartContext:
    """What every figure must state: the period, its comparison, the as-of date, the language.

    ``as_of`` is an ISO date (``2026-09-30``); a ``datetime.date`` is accepted and converted.
    """

    period_label: str
    compare_label: str
    as_of: str
    lang: str = "en"

    def __post_init__(self) -> None:
        check_lang(self.lang)
        if isinstance(self.as_of, date):
            object.__setattr__(self, "as_of", self.as_of.isoformat())
        for name in ("period_label", "compare_label", "as_of"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"ChartContext.{name} must be non-empty text, got {value!r}")

    @classmethod
    def for_periods(cls, period, comparison, lang: str = "en") -> "ChartContext":
        """From two ``periods.Period``: this one (with its as-of date) and its comparison."""
        return cls(period.label, comparison.label, period.as_of.isoformat(), lang)

    @property
    def subtitle(self) -> str:
        return t(
            "chart.subtitle", self.lang,
            period=self.period_label, compare=self.compare_label, as_of=self.as_of,
        )

    def t(self, key: str, **fmt: object) -> str:
        return t(key, self.lang, **fmt)


def _require(frame: object, columns: Iterable[str], what: str, chart: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{chart}: {what} must be a pandas DataFrame, got {type(frame).__name__}")
    for column in columns:
        if column not in frame.columns:
            raise ValueError(
                f"{chart}: the {what} frame has no column {column!r} "
                f"(it has: {', '.join(map(str, frame.columns)) or 'no columns'})"
            )
    return frame


def _require_context(ctx: object, chart: str) -> ChartContext:
    if not isinstance(ctx, ChartContext):
        raise TypeError(f"{chart}: ctx must be a ChartContext, got {type(ctx).__name__}")
    return ctx


def _pct(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.0%}"


def _counts(values: pd.Series) -> list[int]:
    return [0 if pd.isna(v) else int(v) for v in values]


def _layout(
    fig: go.Figure, ctx: ChartContext, title_key: str, x_title: str, y_title: str
) -> go.Figure:
    fig.update_layout(
        title={
            "text": ctx.t(title_key),
            "subtitle": {"text": ctx.subtitle},
            "x": 0.0,
            "xanchor": "left",
        },
        template="plotly_white",
        font={"family": _FONT, "size": 13},
        margin={"t": 90, "l": 20, "r": 20, "b": 40},
        height=440,
        legend={
            "orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0,
            "traceorder": "normal",
        },
    )
    fig.update_xaxes(title_text=x_title, automargin=True)
    fig.update_yaxes(title_text=y_title, automargin=True)
    return fig


def _no_data(fig: go.Figure, ctx: ChartContext) -> go.Figure:
    fig.add_annotation(
        text=ctx.t("chart.no_data", period=ctx.period_label),
        showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font={"size": 16},
    )
    return fig


def funnel_chart(
    stages: pd.DataFrame, ctx: ChartContext, *, settings: Settings = DEFAULT_SETTINGS
) -> go.Figure:
    """A funnel of deals reaching each stage, with % of the previous stage and of the first.

    ``stages``: one row per stage in funnel order; needs ``stage``, ``reached``,
    ``share_of_first``. "% of previous" is reached(s) / reached(previous stage), i.e. the
    previous stage's ``conversion``.
    """
    chart = "funnel_chart"
    _require(stages, ("stage", "reached", "share_of_first"), "stages", chart)
    ctx = _require_context(ctx, chart)
    labels = [settings.stage_label(stage, ctx.lang) for stage in stages["stage"]]
    reached = _counts(stages["reached"])
    of_previous = [None] + [
        (now / before if before else None) for before, now in zip(reached, reached[1:])
    ]
    of_first = [None if pd.isna(v) else float(v) for v in stages["share_of_first"]]
    text = [
        ctx.t("funnel.text_first", count=f"{count:,}")
        if i == 0
        else ctx.t(
            "funnel.text", count=f"{count:,}", pct_previous=_pct(prev), pct_first=_pct(first)
        )
        for i, (count, prev, first) in enumerate(zip(reached, of_previous, of_first))
    ]
    fig = go.Figure(
        go.Funnel(
            y=labels,
            x=reached,
            text=text,
            textinfo="text",
            textposition="inside",
            customdata=[[_pct(p), _pct(f)] for p, f in zip(of_previous, of_first)],
            hovertemplate=ctx.t("funnel.hover"),
            marker={"color": _CURRENT},
            connector={"line": {"color": _COMPARISON, "width": 1}},
        )
    )
    _layout(fig, ctx, "funnel.title", ctx.t("funnel.x"), ctx.t("chart.stage"))
    if not sum(reached):
        _no_data(fig, ctx)
    return fig


def leakage_chart(
    stages: pd.DataFrame, ctx: ChartContext, *, settings: Settings = DEFAULT_SETTINGS
) -> go.Figure:
    """Per stage before won, the cohort deals whose furthest stage it is: lost vs still open.

    ``stages``: one row per stage; needs ``stage``, ``lost_at``, ``open_at`` (and shows
    ``leakage_rate`` on hover when present). The won stage is left out: nothing leaks there.
    """
    chart = "leakage_chart"
    _require(stages, ("stage", "lost_at", "open_at"), "stages", chart)
    ctx = _require_context(ctx, chart)
    rows = stages[stages["stage"] != settings.won_stage]
    labels = [settings.stage_label(stage, ctx.lang) for stage in rows["stage"]]
    if "leakage_rate" in rows:
        rates = [_pct(v) for v in rows["leakage_rate"]]
    else:
        rates = ["–"] * len(rows)
    fig = go.Figure()
    series = (("lost_at", "leakage.lost", _LOST), ("open_at", "leakage.open", _OPEN))
    for column, key, color in series:
        name = ctx.t(key)
        fig.add_trace(
            go.Bar(
                x=labels,
                y=_counts(rows[column]),
                name=name,
                marker={"color": color},
                customdata=rates,
                hovertemplate=ctx.t("leakage.hover", name=name),
            )
        )
    fig.update_layout(barmode="stack")
    _layout(fig, ctx, "leakage.title", ctx.t("leakage.x"), ctx.t("chart.deals"))
    if not (sum(_counts(rows["lost_at"])) + sum(_counts(rows["open_at"]))):
        _no_data(fig, ctx)
    return fig


def _stage_order(frames: Sequence[pd.DataFrame]) -> list[str]:
    order: list[str] = []
    for frame in frames:
        order.extend(stage for stage in frame["stage"] if stage not in order)
    return order


def funnel_compare_chart(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    ctx: ChartContext,
    *,
    settings: Settings = DEFAULT_SETTINGS,
) -> go.Figure:
    """Grouped bars of deals reaching each stage: this period next to the comparison period.

    ``current`` / ``previous``: stage frames of the two periods; each needs ``stage`` and
    ``reached``. Stages follow ``current``'s order; a stage only the comparison has comes last.
    """
    chart = "funnel_compare_chart"
    _require(current, ("stage", "reached"), "current", chart)
    _require(previous, ("stage", "reached"), "previous", chart)
    ctx = _require_context(ctx, chart)
    order = _stage_order([current, previous])
    labels = [settings.stage_label(stage, ctx.lang) for stage in order]
    fig = go.Figure()
    for frame, name, color in (
        (current, ctx.period_label, _CURRENT),
        (previous, ctx.compare_label, _COMPARISON),
    ):
        by_stage = dict(zip(frame["stage"], _counts(frame["reached"])))
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[by_stage.get(stage, 0) for stage in order],
                name=name,
                marker={"color": color},
                hovertemplate=ctx.t("compare.hover", name=name),
            )
        )
    fig.update_layout(barmode="group")
    _layout(fig, ctx, "compare.title", ctx.t("chart.stage"), ctx.t("compare.y"))
    if not (sum(_counts(current["reached"])) + sum(_counts(previous["reached"]))):
        _no_data(fig, ctx)
    return fig
