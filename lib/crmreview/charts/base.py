"""Chart furniture shared by every domain: the context each figure states, layout, checks.

Public names: ``ChartContext``. The helpers (``require``, ``require_context``, ``layout``,
``no_data``, ``pct``, ``counts``) and the palette are for the chart modules of this package.

Every figure says its period, its comparison and its data as-of date: the title is the
chart's name, the subtitle ``ChartContext.subtitle`` ("2026Q3 vs 2026Q2 · as of
2026-09-30"). Charts are drawn from aggregates (one row per stage), so a report's size does
not grow with the data.

The funnel charts read the stage frame of ``crmreview.funnel`` (one row per funnel stage,
in funnel order): ``stage, reached, conversion, share_of_first, leakage_rate, lost_at,
open_at, median_days_in_stage, p75_days_in_stage``. Each chart checks the columns it needs
first and raises ``ValueError`` naming a missing one.

Every figure uses plotly's ``plotly_white`` template, set once as plotly's default when this
package is imported: a figure then starts from the template already validated, where naming
the template in each figure's layout made plotly validate and copy the whole template again
(a tenth of a second or more per figure). Where the default was changed afterwards,
:func:`layout` names the template in the figure again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from ..i18n import check_lang, t

__all__ = [
    "ChartContext",
    "require",
    "require_context",
    "layout",
    "no_data",
    "pct",
    "counts",
    "FONT",
    "CURRENT",
    "COMPARISON",
    "LOST",
    "OPEN",
    "empty_message",
    "HEATMAP_TEXT",
]

# Latin fonts first, then the CJK fonts of common systems, so Chinese never falls back to boxes.
FONT = (
    "-apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Noto Sans', "
    "'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', 'Source Han Sans SC', sans-serif"
)
#: the text of heatmap cells: a fixed size (plotly's default shrinks it to fit the cell, which
#: made two-line cells unreadable) with the colour plotly contrasts against each cell
HEATMAP_TEXT = {"size": 12}
CURRENT = "#2563eb"
COMPARISON = "#9ca3af"
LOST = "#dc2626"
OPEN = "#f59e0b"
#: the template of every figure (plotly's default from the import of this package on)
TEMPLATE = "plotly_white"
pio.templates.default = TEMPLATE


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
    def for_periods(cls, period, comparison, lang: str = "en") -> ChartContext:
        """From two ``periods.Period``: this one (with its as-of date) and its comparison."""
        return cls(period.label, comparison.label, period.as_of.isoformat(), lang)

    @property
    def subtitle(self) -> str:
        """The subtitle of a figure that compares the period with the comparison period."""
        return t(
            "chart.subtitle",
            self.lang,
            period=self.period_label,
            compare=self.compare_label,
            as_of=self.as_of,
        )

    @property
    def single_subtitle(self) -> str:
        """The subtitle of a figure of the period alone: the period and the as-of date."""
        return t("chart.subtitle_single", self.lang, period=self.period_label, as_of=self.as_of)

    def t(self, key: str, **fmt: object) -> str:
        return t(key, self.lang, **fmt)


def require(frame: object, columns: Iterable[str], what: str, chart: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{chart}: {what} must be a pandas DataFrame, got {type(frame).__name__}")
    for column in columns:
        if column not in frame.columns:
            raise ValueError(
                f"{chart}: the {what} frame has no column {column!r} "
                f"(it has: {', '.join(map(str, frame.columns)) or 'no columns'})"
            )
    return frame


def require_context(ctx: object, chart: str) -> ChartContext:
    if not isinstance(ctx, ChartContext):
        raise TypeError(f"{chart}: ctx must be a ChartContext, got {type(ctx).__name__}")
    return ctx


def pct(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.0%}"


def counts(values: pd.Series) -> list[int]:
    return [0 if pd.isna(v) else int(v) for v in values]


def layout(
    fig: go.Figure, ctx: ChartContext, title_key: str, x_title: str, y_title: str, *, compared: bool = False
) -> go.Figure:
    """Title, subtitle (the period, the comparison period when the figure ``compared`` the two,
    and the as-of date), fonts, margins and axis titles shared by every figure."""
    fig.update_layout(
        title={
            "text": ctx.t(title_key),
            "subtitle": {"text": ctx.subtitle if compared else ctx.single_subtitle},
            "x": 0.0,
            "xanchor": "left",
        },
        **({} if pio.templates.default == TEMPLATE else {"template": TEMPLATE}),
        font={"family": FONT, "size": 13},
        margin={"t": 90, "l": 20, "r": 20, "b": 40},
        height=440,
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "xanchor": "right",
            "x": 1.0,
            "traceorder": "normal",
        },
    )
    fig.update_xaxes(title_text=x_title, automargin=True)
    fig.update_yaxes(title_text=y_title, automargin=True)
    return fig


def no_data(fig: go.Figure, ctx: ChartContext) -> go.Figure:
    """Write "no deals in the period" across ``fig``."""
    return empty_message(fig, ctx, "chart.no_data")


def empty_message(fig: go.Figure, ctx: ChartContext, key: str) -> go.Figure:
    """Write the message ``key`` (formatted with the period and as-of date) across ``fig``."""
    fig.add_annotation(
        text=ctx.t(key, period=ctx.period_label, as_of=ctx.as_of),
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        font={"size": 16},
    )
    return fig
