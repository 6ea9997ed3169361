"""The explorer's state: one read-only warehouse snapshot and the filters a manager picks.

:class:`Explorer` opens the published warehouse read-only (:func:`crmreview.warehouse.connect_read`)
and keeps that snapshot until :meth:`Explorer.refresh` finds a newer import (an import
publishes by renaming a new file into place, so a changed inode or modification time means a
newer snapshot). Every view asks it for metric results, which are computed in DuckDB by the
metric functions of :mod:`crmreview.metrics` (the report's own definitions) and remembered
for the snapshot, so going back to a filter already seen does not query again; they are also
kept on disk per snapshot (:mod:`crmreview.explore.store`), so the next kernel exploring the
same snapshot (each visitor of the served app has one) reads them instead of computing them.

:class:`Selection` holds the filters: one dimension at a time (team or rep, tier, channel,
region; a rep narrows its team) and the pipeline, the funnel's own option. A team, rep,
region or channel opens a **scoped read connection** on the same snapshot
(``connect_read(scope=Scope(...))``, the views of ``queries/views/``), one per filter value,
kept open while it is among the last few used: the deal and customer metrics (funnel,
repurchase, churn, retention) then compute the scope's rows only, with the numbers of that
group in a breakdown. A customer's tier is ranked among all customers, so the tier filter,
the tier distribution and the follow-up cadences (which depend on the tier) keep the metrics'
breakdown (``by=``) on the whole warehouse; a metric whose function takes ``group`` (the
funnel, repurchase, the churn rates) computes the selection's group alone.

Public names: ``DIMENSIONS``, ``SCOPED``, ``SCOPED_METRICS``, ``Selection``, ``FilterValues``,
``Explorer``.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .. import metrics, queries, warehouse
from ..charts import ChartContext
from ..config import Settings, load_settings, notebook_db_path
from ..i18n import check_lang
from ..metrics import followup as followup_metric
from ..metrics import tiers as tier_metric
from ..metrics.churn import churn_rates
from ..metrics.common import attribute_of, offers
from ..metrics.inputs import Inventory, annotate, inventory, lacking
from ..periods import COMPARE_MODES, Period, parse_period, quarter
from ..scope import Scope, ScopeError
from .store import ResultStore

__all__ = ["DIMENSIONS", "SCOPED", "SCOPED_METRICS", "Selection", "FilterValues", "Explorer"]

#: the dimension filters, most specific first (a rep narrows a team)
DIMENSIONS = ("rep", "team", "tier", "channel", "region", "industry", "size_band")
#: the filters that open a scoped read connection (a tier is ranked over every customer)
SCOPED = ("rep", "team", "channel", "region")
#: the metrics computed on a scoped connection: deal and customer counts, whose numbers for a
#: scope are those of its group in a breakdown (tiers and follow-up rank tiers over everyone)
SCOPED_METRICS = ("funnel", "repurchase", "churn", "retention")
#: parts of a metric a view takes alone (name -> the metric module's function computing it);
#: the part shares its metric's breakdowns and scoping
PARTS = {
    "churn_rates": churn_rates,
    "tier_distribution": tier_metric.distribution,
    "tier_concentration": tier_metric.concentration,
    "followup_compliance": followup_metric.compliance,
}
_PART_OF = {
    "churn_rates": "churn",
    "tier_distribution": "tiers",
    "tier_concentration": "tiers",
    "followup_compliance": "followup",
}
#: scoped connections kept open (the least recently used one is closed beyond)
OPEN_SCOPES = 6
TIERS = ("A", "B", "C")
#: a custom field is a filter when it holds at most this many distinct values (tags)
MAX_FIELD_VALUES = 40


@dataclass(frozen=True)
class Selection:
    """The filters of the dashboard: period text and comparison, pipeline, one dimension.

    ``None`` means "all". ``pipeline`` "" is the deals without a pipeline. ``rep`` and ``team``
    may both be set (a rep of that team); otherwise at most one dimension is set.
    """

    period: str
    compare: str = "prev"
    pipeline: str | None = None
    team: str | None = None
    rep: str | None = None
    tier: str | None = None
    channel: str | None = None
    region: str | None = None
    industry: str | None = None
    size_band: str | None = None
    #: a custom field's value: (breakdown, value), e.g. ("attr:合同类型", "年框"), ("tag:客户标签", "价格敏感")
    field: tuple[str, str] | None = None
    lang: str = "en"

    def __post_init__(self) -> None:
        check_lang(self.lang)
        if self.compare not in COMPARE_MODES:
            raise ValueError(f"comparison {self.compare!r} is not one of: {', '.join(COMPARE_MODES)}")
        if self.tier is not None and self.tier not in TIERS:
            raise ValueError(f"tier {self.tier!r} is not one of: {', '.join(TIERS)}")
        if self.field is not None and attribute_of(self.field[0]) is None:
            raise ValueError(f"field filter {self.field[0]!r} is not attr:NAME or tag:NAME")
        chosen = [
            d for d in ("tier", "channel", "region", "industry", "size_band", "field") if getattr(self, d) is not None
        ]
        if self.team is not None or self.rep is not None:
            chosen.append("team/rep")
        if len(chosen) > 1:
            raise ValueError(f"filters {' and '.join(chosen)} cannot be combined: choose one of them")

    @property
    def scope(self) -> tuple[str | None, str | None]:
        """(breakdown, group) the views show: the rep when chosen, else the one dimension
        chosen, else (None, None) for everything."""
        for dimension in DIMENSIONS:
            value = getattr(self, dimension)
            if value is not None:
                return dimension, value
        if self.field is not None:
            return self.field
        return None, None

    @property
    def read_scope(self) -> Scope | None:
        """The scoped read connection the selection's filter opens; None for none or a tier."""
        by, group = self.scope
        return Scope(**{by: group}) if by in SCOPED else None

    def with_(self, **changes: Any) -> Selection:
        return replace(self, **changes)


@dataclass(frozen=True)
class FilterValues:
    """What the filters offer for the opened snapshot."""

    periods: tuple[str, ...]
    teams: tuple[str, ...]
    reps: tuple[tuple[str, str, str | None], ...]  # (rep_id, label, team)
    channels: tuple[str, ...]
    regions: tuple[str, ...]
    pipelines: tuple[str, ...]
    industries: tuple[str, ...]
    size_bands: tuple[str, ...]
    #: the custom fields' values offered as filters: (breakdown, value), attr:NAME or tag:NAME
    fields: tuple[tuple[str, str], ...]
    first_date: date | None
    last_date: date | None
    last_import_at: datetime | None

    def reps_of(self, team: str | None) -> list[tuple[str, str]]:
        """(label, rep_id) of the reps of ``team`` (every rep for None)."""
        return [(label, rep) for rep, label, of in self.reps if team is None or of == team]

    def rep_label(self, rep_id: str | None) -> str:
        return next((label for rep, label, _ in self.reps if rep == rep_id), rep_id or "")

    @property
    def rep_labels(self) -> dict[str, str]:
        return {rep: label for rep, label, _ in self.reps}


def _date(value: Any) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _quarters(first: date | None, last: date | None) -> tuple[str, ...]:
    """Quarter labels from the data's last quarter back to its first, newest first."""
    if first is None or last is None:
        return ()
    labels, current = [], quarter(last.year, last.month)
    while current.end >= first:
        labels.append(current.label)
        current = current.compare("prev")
    return tuple(labels)


def _hold(path: Path) -> int | None:
    """A descriptor on the snapshot's file, so that scoped connections can open it after an
    import has replaced it (None where the file cannot be held)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return os.open(path, os.O_RDONLY)
    except OSError:
        return None


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """(inode, modification time in ns, size) of the published file: an import publishes
    a new file by renaming it into place, which changes them."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


@dataclass
class Explorer:
    """An open snapshot of the warehouse at ``db_path`` ("" = the default) and its results.

    Use as a context manager or call :meth:`close`. ``settings`` default to the settings file
    the report would use. With ``store`` (the default) the metric results are also kept on
    disk for the snapshot (:class:`~crmreview.explore.store.ResultStore`), where the next
    explorer of the same snapshot, in this process or another (the next visitor's kernel),
    finds them instead of computing them; :func:`crmreview.explore.warm.warm` fills them ahead.
    """

    db_path: str = ""
    settings: Settings | None = None
    mask_pii: bool = False
    #: the language of the pseudonyms when names are masked
    lang: str = "en"
    store: bool = True
    _stack: contextlib.ExitStack | None = field(default=None, init=False, repr=False)
    _stamp: tuple[int, int, int] | None = field(default=None, init=False, repr=False)
    _store: ResultStore | None = field(default=None, init=False, repr=False)
    _cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False)
    _scoped: OrderedDict[Scope, tuple[contextlib.ExitStack, Any]] = field(
        default_factory=OrderedDict, init=False, repr=False
    )
    _snapshot_fd: int | None = field(default=None, init=False, repr=False)
    con: Any = field(default=None, init=False, repr=False)
    inventory: Inventory | None = field(default=None, init=False, repr=False)
    values: FilterValues | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(notebook_db_path(self.db_path))
        if self.settings is None:
            self.settings = load_settings(None)
        self._open()

    # -- the snapshot -------------------------------------------------------------------

    def _open(self) -> None:
        stack = contextlib.ExitStack()
        try:
            stamp = _stamp(self.path)
            self._snapshot_fd = _hold(self.path)
            self.con = stack.enter_context(warehouse.connect_read(self.path, **self._read_options()))
        except BaseException:
            stack.close()
            self._release()
            raise
        self._stack, self._stamp = stack, stamp
        if _stamp(self.path) != stamp:  # an import published while opening: open what is there now
            self.close()
            self._open()
            return
        self._cache.clear()
        self._store = (
            ResultStore(self.path, stamp, self.settings, self._read_options())
            if self.store and stamp is not None
            else None
        )
        self.inventory = inventory(self.con)
        self.values = self._filter_values()

    def _read_options(self) -> dict[str, Any]:
        return {"mask_pii": True, "lang": self.lang} if self.mask_pii else {}

    def _release(self) -> None:
        if self._snapshot_fd is not None:
            os.close(self._snapshot_fd)
            self._snapshot_fd = None

    def close(self) -> None:
        self.forget()
        if self._stack is not None:
            self._stack.close()
            self._stack, self.con = None, None
        self._release()

    def forget(self, *, stored: bool = False) -> None:
        """Empty the results remembered in memory and close the scoped connections (the
        snapshot stays): the next interactions cost what a first visit to each filter costs,
        or reading its results from the snapshot's store when it keeps them; with ``stored``
        the store is emptied as well."""
        self._cache.clear()
        if stored and self._store is not None:
            self._store.clear()
        while self._scoped:
            self._scoped.popitem()[1][0].close()

    def connection(self, scope: Scope | None) -> Any:
        """A read connection on this snapshot showing only ``scope`` (the whole for None).

        Opened on first use and kept among the :data:`OPEN_SCOPES` last used. When an import
        has replaced the published file since the snapshot was opened, the scoped connection
        opens the snapshot's own file through the descriptor held for it (Linux), so every
        number stays of one snapshot; ``ScopeError`` for a value the warehouse does not know.
        """
        if scope is None or scope.empty:
            return self.con
        if scope in self._scoped:
            self._scoped.move_to_end(scope)
            return self._scoped[scope][1]
        stack = contextlib.ExitStack()
        try:
            path = self._snapshot_path()
            con = stack.enter_context(
                warehouse.connect_read(path, scope=scope, shared_macros=True, **self._read_options())
            )
            if path == self.path and self.newer_available():  # replaced while opening
                stack.close()
                path = self._snapshot_path()
                if path == self.path:
                    raise warehouse.WarehouseError(
                        f"the warehouse {self.path} was replaced by a newer import: refresh to read it"
                    )
                con = stack.enter_context(
                    warehouse.connect_read(path, scope=scope, shared_macros=True, **self._read_options())
                )
        except BaseException:
            stack.close()
            raise
        self._scoped[scope] = (stack, con)
        while len(self._scoped) > OPEN_SCOPES:
            self._scoped.popitem(last=False)[1][0].close()
        return con

    def _snapshot_path(self) -> Path:
        """The file of this snapshot: the published path while it is still the same file, else
        the descriptor held on it (an open file outlives the rename that replaced it)."""
        if not self.newer_available() or self._snapshot_fd is None:
            return self.path
        held = Path(f"/proc/self/fd/{self._snapshot_fd}")
        return held if held.exists() else self.path

    def __enter__(self) -> Explorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def store_folder(self) -> Path | None:
        """The folder keeping the snapshot's results on disk; None when they are not kept
        (``store=False``, or a folder that cannot be written)."""
        return self._store.folder if self._store is not None else None

    def newer_available(self) -> bool:
        """Whether an import has published a newer warehouse since this snapshot was opened."""
        stamp = _stamp(self.path)
        return stamp is not None and stamp != self._stamp

    def refresh(self) -> bool:
        """Open the newer snapshot when there is one; True when it did."""
        if not self.newer_available():
            return False
        self.close()
        self._open()
        return True

    def _filter_values(self) -> FilterValues:
        frame = queries.run(self.con, "explore/filter_values", {"max_field_values": MAX_FIELD_VALUES})
        span = queries.run(self.con, "explore/snapshot", {}).iloc[0]

        def of(dimension: str) -> pd.DataFrame:
            return frame[frame["dimension"] == dimension]

        reps = of("rep")
        first, last = _date(span["first_date"]), _date(span["last_date"])
        last_import = span["last_import_at"]
        return FilterValues(
            periods=_quarters(first, last),
            teams=tuple(of("team")["value"]),
            reps=tuple(
                (rep, label, None if pd.isna(team) else team)
                for rep, label, team in zip(reps["value"], reps["label"], reps["team"])
            ),
            channels=tuple(of("channel")["value"]),
            regions=tuple(of("region")["value"]),
            pipelines=tuple(of("pipeline")["value"]),
            industries=tuple(of("industry")["value"]),
            size_bands=tuple(of("size_band")["value"]),
            fields=tuple(
                (by, value) for by, value in zip(frame["dimension"], frame["value"], strict=True) if ":" in by
            ),
            first_date=first,
            last_date=last,
            last_import_at=None if pd.isna(last_import) else pd.Timestamp(last_import).to_pydatetime(),
        )

    # -- periods and results ------------------------------------------------------------

    def period(self, selection: Selection) -> Period:
        return parse_period(selection.period)

    def comparison(self, selection: Selection) -> Period:
        return self.period(selection).compare(selection.compare)

    def context(self, selection: Selection) -> ChartContext:
        return ChartContext.for_periods(self.period(selection), self.comparison(selection), selection.lang)

    def missing(self, needs: tuple[str, ...]) -> list[str]:
        """The inputs of ``needs`` the snapshot lacks (as the report decides which sections to show)."""
        return lacking(self.inventory, needs) if self.inventory is not None else []

    def result(
        self,
        name: str,
        selection: Selection,
        *,
        by: str | None = None,
        scope: Scope | None = None,
        compare: bool = True,
        **options: Any,
    ) -> dict[str, Any]:
        """Metric ``name`` (or a part of one, :data:`PARTS`) for the selection's period,
        broken down ``by`` (aggregates only), on the connection of ``scope`` (the whole for
        None); with ``compare`` also the comparison period's, as ``comparison``.

        Each period is computed once per snapshot and remembered on its own, so a view that
        needs only the period does not compute the comparison, and the comparison computed
        for one view serves the others. Missing inputs and warnings are judged on the
        snapshot's inventory (what the export holds), whatever the scope. The funnel without
        a breakdown computes the period and its comparison in one pass when neither is kept.
        """
        period = self.period(selection)
        if compare and name == "funnel" and by is None:
            self._funnels([period, self.comparison(selection)], selection.compare, scope, options)
        current = self._computed(name, period, selection.compare, by=by, scope=scope, options=options)
        if not compare or not _compares(name):
            return current
        previous = self._computed(
            name, self.comparison(selection), selection.compare, by=by, scope=scope, options=options
        )
        return {**current, "comparison": previous}

    def previous(
        self, name: str, selection: Selection, *, by: str | None = None, scope: Scope | None = None, **options: Any
    ) -> dict[str, Any]:
        """Metric ``name`` (or a part) for the selection's comparison period alone, as
        :meth:`result` gives it under ``comparison`` (and remembered the same way)."""
        return self._computed(name, self.comparison(selection), selection.compare, by=by, scope=scope, options=options)

    def _key(
        self, name: str, period: Period, mode: str, *, by: str | None, scope: Scope | None, options: Mapping[str, Any]
    ) -> tuple:
        """The key a result is kept under, and the comparison mode its metric takes (or None)."""
        # the comparison mode matters to a period's own numbers only where the metric takes it
        mode = mode if "compare" in inspect.signature(_function(name)).parameters else None
        return (name, scope, period.start, period.end, period.as_of, mode, by, tuple(sorted(options.items())))

    def _funnels(self, periods: list[Period], mode: str, scope: Scope | None, options: Mapping[str, Any]) -> None:
        """Compute and keep the funnels (no breakdown) of ``periods`` not kept yet, in one pass
        of the funnel's queries (``metrics.funnel.funnels``: each period's numbers are its own,
        as :func:`metrics.compute` gives them)."""
        keys = [self._key("funnel", each, mode, by=None, scope=scope, options=options) for each in periods]
        if all(self._kept(key) is not None for key in keys) or set(options) - {"pipeline", "rule"}:
            return
        con = self.connection(scope)
        module = metrics.load("funnel")
        results = module.funnels(con, periods, settings=self.settings, **options)
        for each, key, result in zip(periods, keys, results, strict=True):
            self._keep(key, annotate(con, module.INPUTS, result, each, settings=self.settings, inv=self.inventory))

    def _kept(self, key: tuple) -> Any | None:
        """The result kept under ``key`` in memory, else in the snapshot's store (then kept in
        memory too); None when neither has it."""
        if key in self._cache:
            return self._cache[key]
        found = self._store.get(key) if self._store is not None else None
        if found is not None:
            self._cache[key] = found
        return found

    def _keep(self, key: tuple, result: Any) -> Any:
        """Keep a computed result in memory and in the snapshot's store."""
        self._cache[key] = result
        if self._store is not None:
            self._store.put(key, result)
        return result

    def _computed(
        self, name: str, period: Period, mode: str, *, by: str | None, scope: Scope | None, options: Mapping[str, Any]
    ) -> dict[str, Any]:
        function = _function(name)
        key = self._key(name, period, mode, by=by, scope=scope, options=options)
        mode = key[5]
        kept = self._kept(key)
        if kept is not None:
            return kept
        con = self.connection(scope)
        if name in PARTS:  # its numbers resting on a missing input are null, as in its metric's result
            extra = {"compare": mode} if mode else {}
            part = function(con, period, settings=self.settings, by=by, **extra, **options)
            module = metrics.load(_metric_of(name))
            return self._keep(
                key, annotate(con, module.INPUTS, part, period, settings=self.settings, inv=self.inventory)
            )
        return self._keep(key, metrics.compute(
            con, name, period, compare=mode, period_only=True, by=by, settings=self.settings,
            inv=self.inventory, **options,
        ))  # fmt: skip

    def within(
        self, name: str, selection: Selection, scope: Scope, *, by: str | None = None, **options: Any
    ) -> dict[str, Any] | None:
        """:meth:`result` on the scoped connection of ``scope``; None when the warehouse does not
        know the scope's value as the scope names it (a masked rep id), for the caller to use
        the breakdown instead."""
        try:
            return self.result(name, selection, by=by, scope=scope, **options)
        except ScopeError:
            return None

    def breakdown(self, name: str, selection: Selection) -> str | None:
        """The breakdown :meth:`scoped` reads the selection's group from on the whole
        warehouse (None for no filter, a dimension the metric cannot break down by, or a
        scoped connection)."""
        by = selection.scope[0]
        if by is None or not offers(by, _breakdowns(name)):
            return None
        if selection.read_scope is not None and _metric_of(name) in SCOPED_METRICS:
            return None
        return by

    def scoped(
        self, name: str, selection: Selection, *, compare: bool = True, **options: Any
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The metric's object for the selection's group (the whole for no filter) and the
        comparison period's (None without ``compare``); ``({}, None)`` when the breakdown has
        no such group. A metric that cannot break down by the selection's dimension gives the
        whole. The metrics of :data:`SCOPED_METRICS` compute a team, rep, region or channel
        on its scoped connection; on the whole warehouse, a metric that can compute one group
        alone (its function takes ``group``) computes only the selection's."""
        by, group = selection.scope
        if by is not None and not offers(by, _breakdowns(name)):
            by = group = None
        if by is None:
            result = self.result(name, selection, compare=compare, **options)
            return result, result.get("comparison")
        scope = selection.read_scope
        if scope is not None and _metric_of(name) in SCOPED_METRICS:
            result = self.within(name, selection, scope, compare=compare, **options)
            if result is not None:
                return result, result.get("comparison")
        if group and _takes_group(name):
            options = {**options, "group": group}
        result = self.result(name, selection, by=by, compare=compare, **options)
        before = result.get("comparison")
        return _group(result, group), None if before is None else _group(before, group)

    def run(self, query: str, params: Mapping[str, Any]) -> pd.DataFrame:
        """One query of ``queries/explore/`` on the snapshot, values bound; SQL nulls as None;
        remembered for the snapshot like the metric results (a table drawn again in the
        other language does not query again)."""
        frame = self.query(f"explore/{query}", params)
        return frame.astype(object).where(frame.notna(), None)

    def query(self, name: str, params: Mapping[str, Any]) -> pd.DataFrame:
        """Query ``name`` of ``queries/`` on the snapshot, values bound, remembered for it."""
        key = (name, tuple(sorted((k, _hashable(v)) for k, v in params.items())))
        kept = self._kept(key)
        if kept is None:
            kept = self._keep(key, queries.run(self.con, name, dict(params)))
        return kept.copy()


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _metric_of(name: str) -> str:
    return _PART_OF.get(name, name)


def _function(name: str) -> Any:
    """The function computing metric ``name`` or the part ``name`` (:data:`PARTS`)."""
    return PARTS[name] if name in PARTS else getattr(metrics.load(name), metrics.metric(name).function)


def _takes_group(name: str) -> bool:
    """Whether the function of ``name`` can compute one group of a breakdown alone."""
    return "group" in inspect.signature(_function(name)).parameters


def _breakdowns(name: str) -> tuple[str, ...]:
    return metrics.metric(_metric_of(name)).breakdowns


def _compares(name: str) -> bool:
    return metrics.metric(_metric_of(name)).compares


#: keys of a metric result that describe it rather than count (kept on a group's object)
_CONTEXT_KEYS = ("period", "as_of", "comparison_period", "thresholds", "rule", "stale_days", "data_span",
                 "missing_inputs", "warnings", "cadence_days", "pool_days", "window_months")  # fmt: skip


def _group(result: Mapping[str, Any], group: str | None) -> dict[str, Any]:
    """The object of ``group`` in a result with ``groups``, with the result's context keys."""
    for entry in result.get("groups") or []:
        if entry.get("group") == group:
            return {**{k: result[k] for k in _CONTEXT_KEYS if k in result}, **entry}
    return {}


def environment_flag(name: str) -> bool:
    """A yes/no setting passed to a served notebook through the environment (1, true, yes)."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")
