"""The review object behind every report notebook: computed once, rendered section by section.

Public names: ``quarterly_review``, ``QuarterlyReview``, ``parse_as_of``.

``notebooks/quarterly_review.ipynb`` makes one call, :func:`quarterly_review`, which opens
the warehouse read-only, computes what the header, key numbers and funnel need and closes
it again; each notebook cell then displays one section, ``review.section(name)``, built by
``crmreview.report.sections.<name>.build(con, review)``. Everything a reader sees, text
included, is produced there, in the report language, and every number in the prose is
computed from the metric results.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import plotly.io as pio

from .. import queries, warehouse
from ..charts import ChartContext
from ..config import DEFAULT_SETTINGS, Settings, load_settings, notebook_db_path
from ..i18n import check_lang
from ..metrics.funnel import INPUTS as FUNNEL_INPUTS
from ..metrics.funnel import funnel
from ..metrics.inputs import Inventory, annotate, inventory, lacking
from ..periods import Period, parse_period
from .html import HtmlBlock, missing_notice

__all__ = ["quarterly_review", "QuarterlyReview", "parse_as_of"]

#: how the report's figures are displayed: a static document, so no plotly toolbar (its
#: tooltips are English-only and it prints over the charts)
FIGURE_CONFIG = {"displayModeBar": False, "displaylogo": False}

#: sections built from the review alone, without reading the warehouse again
_NO_WAREHOUSE = frozenset({"header", "funnel"})


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


@dataclass(frozen=True)
class QuarterlyReview:
    """Everything the quarterly review shows, computed once; sections render one part each."""

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
    #: what a section hands to a later one (the churn section's purchase model to the appendix)
    notes: dict[str, Any] = field(default_factory=dict)
    #: what the warehouse holds (rows, non-null values, date spans): which sections can be shown
    inventory: Inventory | None = None

    def missing(self, needs: tuple[str, ...]) -> list[str]:
        """The inputs of ``needs`` the warehouse lacks (``"orders|deals.amount"``: all of them)."""
        if self.inventory is None:
            return []
        return lacking(self.inventory, needs)

    @property
    def lang(self) -> str:
        return self.ctx.lang

    def section(self, name: str) -> list[Any]:
        """The report section ``crmreview.report.sections.<name>``: its ``build(con, review)``
        gets a read-only connection to the warehouse and this review, and returns what to
        display (HTML blocks and figures drawn from aggregates)."""
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ValueError(f"report section name {name!r} must be lowercase letters, digits or _")
        module = importlib.import_module(f"crmreview.report.sections.{name}")
        missing = self.missing(getattr(module, "NEEDS", ()))
        if missing:
            return [missing_notice(name, missing, self.lang)]
        if name in _NO_WAREHOUSE:
            return list(module.build(None, self))
        with warehouse.connect_read(self.db_path or None) as con:
            return list(module.build(con, self))

    def header(self) -> HtmlBlock:
        """Title, period, comparison period, as-of date and how far the loaded data go."""
        return self.section("header")[0]

    def kpi_table(self) -> HtmlBlock:
        """Key numbers, this period vs the comparison, with the change."""
        blocks = self.section("kpis")
        return blocks[0] if blocks else HtmlBlock("")

    def funnel_section(self) -> list[Any]:
        """The funnel section (``sections/funnel.py``)."""
        return self.section("funnel")


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
    for renderer in ("notebook", "notebook_connected"):
        pio.renderers[renderer].config = dict(FIGURE_CONFIG)
    if settings is None:
        settings = load_settings(config_path or None)
    this = parse_period(period, as_of=parse_as_of(as_of))
    comparison = this.compare(compare)
    db_path = str(notebook_db_path(db_path))
    with warehouse.connect_read(db_path) as con:
        inv = inventory(con)
        current = annotate(con, FUNNEL_INPUTS, funnel(con, this, settings=settings), this, settings=settings, inv=inv)
        previous = annotate(
            con, FUNNEL_INPUTS, funnel(con, comparison, settings=settings), comparison, settings=settings, inv=inv
        )
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
        inventory=inv,
    )
