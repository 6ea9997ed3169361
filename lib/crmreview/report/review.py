"""The review object behind every report notebook: computed once, rendered section by section.

Public names: ``quarterly_review``, ``rep_scorecard``, ``QuarterlyReview``, ``Snapshot``,
``parse_as_of``, ``make_scope``, ``REVIEW_SECTIONS``, ``SCORECARD_SECTIONS``, ``PROGRESS_ENV``,
``PROGRESS_PREFIX``.

A report notebook makes one call, :func:`quarterly_review` (the quarterly and monthly
reviews) or :func:`rep_scorecard`, which opens the warehouse read-only once, restricted to
the report's scope, and computes what the header, key numbers and funnel need; the notebook then
displays each section of ``review.sections``, ``review.section(name)``, built by
``crmreview.report.sections.<name>.build(con, review)``. Everything a reader sees, text
included, is produced there, in the report language, and every number in the prose is
computed from the metric results.

One snapshot per report: every section reads through the same read-only connection
(:class:`Snapshot`), opened by :func:`quarterly_review` and closed by ``review.close()``,
at the end of a ``with review:`` block, or when the kernel exits. A warehouse connection
keeps the file it opened, so an import published while the report renders changes
nothing in it; the next report sees the import.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import time
import weakref
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pandas as pd
import plotly.io as pio

from .. import queries, warehouse
from ..charts import ChartContext
from ..config import DEFAULT_SETTINGS, Settings, load_settings, notebook_db_path
from ..i18n import check_lang, t
from ..metrics.common import check_attribute, check_by
from ..metrics.followup import followup
from ..metrics.funnel import BREAKDOWNS as FUNNEL_BREAKDOWNS
from ..metrics.funnel import INPUTS as FUNNEL_INPUTS
from ..metrics.funnel import funnel, funnels
from ..metrics.inputs import Inventory, annotate, inventory, lacking
from ..periods import Period, parse_period
from ..scope import Scope
from .html import HtmlBlock, missing_notice

__all__ = [
    "quarterly_review",
    "rep_scorecard",
    "QuarterlyReview",
    "Snapshot",
    "parse_as_of",
    "make_scope",
    "REVIEW_SECTIONS",
    "SCORECARD_SECTIONS",
    "PROGRESS_ENV",
    "PROGRESS_PREFIX",
]

#: the sections of the quarterly and monthly reviews, in order (``crmreview.report.sections``)
REVIEW_SECTIONS: tuple[str, ...] = (
    "header",
    "summary",
    "contents",
    "forecast",
    "funnel",
    "funnel_detail",
    "tiers",
    "followup",
    "repurchase",
    "retention",
    "churn",
    "appendix",
)
#: the sections of the rep scorecard: the rep against the team, then the review's own
#: sections restricted to the rep (funnel, follow-up and attainment, customers at risk)
SCORECARD_SECTIONS: tuple[str, ...] = ("header", "scorecard", "forecast", "funnel", "followup", "churn", "appendix")
#: how the report's figures are displayed: a static document, so no plotly toolbar (its
#: tooltips are English-only and it prints over the charts)
FIGURE_CONFIG = {"displayModeBar": False, "displaylogo": False}

#: sections built from the review alone, without reading the warehouse again
_NO_WAREHOUSE = frozenset({"header", "funnel"})
#: set in a report kernel's environment: each section then writes one progress line
#: (``PROGRESS_PREFIX name seconds``) on stderr, which the renderer prints as it comes
PROGRESS_ENV = "CRM_REVIEW_PROGRESS"
PROGRESS_PREFIX = "crm-review-section:"


def _progress(name: str, started: float) -> None:
    if os.environ.get(PROGRESS_ENV):
        print(f"{PROGRESS_PREFIX} {name} {time.monotonic() - started:.1f}", file=sys.stderr, flush=True)


def make_scope(team: str = "", region: str = "", rep: str = "", pipeline: str = "") -> Scope:
    """The report parameters as a :class:`~crmreview.scope.Scope`; "" is no restriction."""
    return Scope(team=team or None, region=region or None, rep=rep or None, pipeline=pipeline or None)


class Snapshot:
    """One read-only connection to the warehouse for a whole report, opened on first use.

    Every section of a review reads through it, so they all see the same warehouse state,
    restricted to ``scope`` and with names masked when ``mask_pii`` (``connect_read``), with
    DuckDB's memory bounded by ``memory_limit`` (the settings' ``memory_limit``). The state
    the metrics share (:mod:`crmreview.metrics.shared`: tiers, lifecycle states, purchase
    days, activities per customer) is computed once on it and reused by every section.
    ``close()`` closes it (again: nothing); an unclosed snapshot is closed when it is
    garbage-collected or when the interpreter (the report's kernel) exits.
    """

    def __init__(
        self,
        db_path: str | os.PathLike | None = None,
        *,
        scope: Scope | None = None,
        mask_pii: bool = False,
        lang: str = "en",
        memory_limit: str | None = None,
    ) -> None:
        self.db_path = str(db_path or "")
        self.scope = scope or Scope()
        self.mask_pii = mask_pii
        self.lang = lang
        self.memory_limit = memory_limit
        self._stack = contextlib.ExitStack()
        self._con = None
        self._closed = False
        self._finalizer = weakref.finalize(self, self._stack.close)

    def connection(self):
        """The snapshot's connection (opened now if it is not yet)."""
        if self._closed:
            raise RuntimeError("this review's warehouse snapshot is closed; compute the review again")
        if self._con is None:
            self._con = self._stack.enter_context(
                warehouse.connect_read(
                    self.db_path or None,
                    scope=self.scope,
                    mask_pii=self.mask_pii,
                    lang=self.lang,
                    memory_limit=self.memory_limit,
                )
            )
        return self._con

    @property
    def is_open(self) -> bool:
        return self._con is not None and not self._closed

    def close(self) -> None:
        self._closed = True
        self._con = None
        self._finalizer()


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
    #: the warehouse file ("" = the default), opened read-only once for all sections
    db_path: str = ""
    #: what a section hands to a later one (the churn section's purchase model to the appendix)
    notes: dict[str, Any] = field(default_factory=dict)
    #: what the warehouse holds (rows, non-null values, date spans): which sections can be shown
    inventory: Inventory | None = None
    #: the sections the report shows, in order
    sections: tuple[str, ...] = REVIEW_SECTIONS
    #: what the report is restricted to (team, region or rep, and pipeline); empty: everything
    scope: Scope = field(default_factory=Scope)
    #: customer and rep names replaced by pseudonyms
    mask_pii: bool = False
    #: the message of the report's title (``{period}`` filled in)
    title_key: str = "report.title"
    #: one more breakdown the funnel detail shows (``--by``: industry, attr:NAME, …); "" = none
    by: str = ""
    #: the one read-only connection all sections read through (opened on first use)
    snapshot: Snapshot | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.snapshot is None:
            snapshot = Snapshot(self.db_path, scope=self.scope, mask_pii=self.mask_pii, lang=self.lang)
            object.__setattr__(self, "snapshot", snapshot)

    def close(self) -> None:
        """Close the warehouse snapshot (sections cannot be built afterwards)."""
        self.snapshot.close()

    def __enter__(self) -> QuarterlyReview:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def missing(self, needs: tuple[str, ...]) -> list[str]:
        """The inputs of ``needs`` the warehouse lacks (``"orders|deals.amount"``: all of them)."""
        if self.inventory is None:
            return []
        return lacking(self.inventory, needs)

    @property
    def lang(self) -> str:
        return self.ctx.lang

    @property
    def title(self) -> str:
        """The report's title: its kind, the period, the scope and whether names are masked
        (``Sales review 2026Q3 · team East``, ``… · names masked``)."""
        title = t(self.title_key, self.lang, period=self.period.label)
        for part in (self.scope.label(self.lang), t("scope.masked", self.lang) if self.mask_pii else ""):
            if part:
                title = t("title.scoped", self.lang, title=title, scope=part)
        return title

    def section(self, name: str) -> list[Any]:
        """The report section ``crmreview.report.sections.<name>``: its ``build(con, review)``
        gets a read-only connection to the warehouse and this review, and returns what to
        display (HTML blocks and figures drawn from aggregates)."""
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ValueError(f"report section name {name!r} must be lowercase letters, digits or _")
        started = time.monotonic()
        module = importlib.import_module(f"crmreview.report.sections.{name}")
        missing = self.missing(getattr(module, "NEEDS", ()))
        if missing:
            items = [missing_notice(name, missing, self.lang)]
        elif name in _NO_WAREHOUSE:
            items = list(module.build(None, self))
        else:
            items = list(module.build(self.snapshot.connection(), self))
        _progress(name, started)
        return items

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
    team: str = "",
    region: str = "",
    rep: str = "",
    pipeline: str = "",
    mask_pii: bool = False,
    by: str = "",
) -> QuarterlyReview:
    """Compute the quarterly review from the warehouse at ``db_path`` ("" = the default).

    ``period`` is period text (``2026Q3``, ``last-quarter``, …), ``compare`` ``prev`` or
    ``yoy``, ``as_of`` an ISO date or "" for the period's last day. ``team``, ``region``,
    ``rep``, ``pipeline`` restrict every section to that scope (:func:`make_scope`) and
    ``mask_pii`` replaces customer and rep names by pseudonyms. The warehouse is opened
    read-only once; every section reads that snapshot until ``review.close()`` (or the end
    of the process). ``by`` adds a breakdown of the funnel detail (any ``--by`` of the funnel:
    industry, size_band, attr:NAME, tag:NAME, …; "" = none).
    """
    started = time.monotonic()
    check_lang(lang)
    if by:
        check_by(by, "report", FUNNEL_BREAKDOWNS)
    for renderer in ("notebook", "notebook_connected"):
        pio.renderers[renderer].config = dict(FIGURE_CONFIG)
    if settings is None:
        settings = load_settings(config_path or None)
    this = parse_period(period, as_of=parse_as_of(as_of))
    comparison = this.compare(compare)
    db_path = str(notebook_db_path(db_path))
    scope = make_scope(team, region, rep, pipeline)
    snapshot = Snapshot(db_path, scope=scope, mask_pii=mask_pii, lang=lang, memory_limit=settings.memory_limit)
    try:
        con = snapshot.connection()
        inv = inventory(con)
        check_attribute(con, by or None, deals=True)
        current, previous = (
            annotate(con, FUNNEL_INPUTS, result, each, settings=settings, inv=inv)
            for each, result in zip(
                (this, comparison), funnels(con, [this, comparison], settings=settings), strict=True
            )
        )
        loaded_through = _loaded_through(con)
    except BaseException:
        snapshot.close()
        raise
    _progress("review", started)
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
        scope=scope,
        mask_pii=mask_pii,
        snapshot=snapshot,
        by=by,
    )


def _state(con) -> tuple:
    """The published warehouse state ``con`` reads (its import log), to compare connections."""
    return tuple(queries.run(con, "report/warehouse_state", {}).iloc[0])


def _team_comparison(review: QuarterlyReview, rep: str) -> dict[str, Any] | None:
    """The rep's funnel and follow-up next to their team's (all reps' when they have none),
    the team read through a second connection on the same warehouse state; None when the
    warehouse changed between the two connections."""
    con = review.snapshot.connection()
    found = queries.run(con, "report/rep_team", {"rep_id": rep})["team"]
    team = None if found.empty or pd.isna(found.iloc[0]) else str(found.iloc[0])
    names = queries.run(con, "report/rep_names", {})
    label = names.loc[names["rep_id"] == rep, "label"]
    team_scope = Scope(team=team, pipeline=review.scope.pipeline)
    with warehouse.connect_read(
        review.snapshot.db_path or None,
        scope=team_scope,
        lang=review.lang,
        memory_limit=review.snapshot.memory_limit,
    ) as team_con:
        if _state(team_con) != _state(con):
            return None
        team_funnel = funnel(team_con, review.period, settings=review.settings)
        team_followup = followup(team_con, review.period, settings=review.settings)
        team_reps = int(queries.run(team_con, "report/rep_names", {}).shape[0])
    return {
        "rep": rep,
        "rep_label": str(label.iloc[0]) if not label.empty else rep,
        "team": team,
        "team_reps": team_reps,
        "rep_funnel": review.current,
        "team_funnel": team_funnel,
        "rep_followup": followup(con, review.period, settings=review.settings),
        "team_followup": team_followup,
    }


def rep_scorecard(
    db_path: str = "",
    *,
    rep: str,
    period: str,
    compare: str = "prev",
    lang: str = "en",
    as_of: str = "",
    config_path: str = "",
    settings: Settings | None = None,
    pipeline: str = "",
    mask_pii: bool = False,
) -> QuarterlyReview:
    """One rep's review (:data:`SCORECARD_SECTIONS`): their funnel, follow-up and
    attainment, customers at risk, every section restricted to the rep, and a comparison with
    their team. Arguments as for :func:`quarterly_review`; ``rep`` is a rep_id.

    The team is read through a second read-only connection; should an import be published
    between opening the two, both are opened again, so rep and team numbers come from the
    same warehouse state."""
    if not isinstance(rep, str) or not rep.strip():
        raise ValueError(
            "the rep scorecard is about one rep: give its rep_id (crm-review report rep_scorecard --rep ID)"
        )
    for _attempt in range(3):
        review = quarterly_review(
            db_path,
            period=period,
            compare=compare,
            lang=lang,
            as_of=as_of,
            config_path=config_path,
            settings=settings,
            rep=rep,
            pipeline=pipeline,
            mask_pii=mask_pii,
        )
        try:
            comparison = _team_comparison(review, rep)
        except BaseException:
            review.close()
            raise
        if comparison is not None:
            return replace(
                review,
                sections=SCORECARD_SECTIONS,
                title_key="scorecard.title",
                notes={**review.notes, "team_comparison": comparison},
            )
        review.close()
    raise warehouse.WarehouseError("the warehouse changed three times while the scorecard was read; try again")
