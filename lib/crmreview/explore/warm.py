"""Compute the dashboard's results ahead of its visitors, into the snapshot's result store.

At 100 times the sample, opening the dashboard computes several seconds of metrics and each
filter one to four more; every visitor of the served app has a kernel of its own. :func:`warm`
computes what the dashboard shows, in the order a manager is likely to ask for it, through the
same views (so under the same keys), and the :class:`~crmreview.explore.store.ResultStore`
keeps it on disk for the snapshot: the next kernel opening that snapshot reads the results
instead of computing them. A result already in the store is not computed again, so warming is
cheap to restart.

The order (:func:`plan`), on the data's last quarter compared with the previous one:

1. the opening: the key numbers and the funnel tab with no filter;
2. each value of each one-dimension filter (tier, channel, region, industry, size band, team):
   its key numbers and funnel tab;
3. the other tabs and the drill-down's first level with no filter, then the previous quarter's
   key numbers and funnel tab;
4. the other tabs of every filter value of step 2, and the drill-down's level of each team
   (its reps) and tier (its customers);
5. the previous quarter's key numbers and funnel tab for every filter value of step 2;
6. each rep's key numbers, funnel tab and deals.

``crm-review explore`` starts it beside the server (``python -m crmreview.explore.warm
--follow``, at a lower priority): it warms the published snapshot, then waits for a newer
import and warms that one, and stops when the server stops.

Public names: ``plan``, ``warm``, ``main``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator

from .. import warehouse
from . import drill
from .session import TIERS, Explorer, Selection, environment_flag
from .views import VIEWS, kpi_strip, render

__all__ = ["plan", "warm", "main"]

#: the filters warmed value by value, in this order (reps come last: there are many)
FILTERS = ("tier", "channel", "region", "industry", "size_band", "team")
#: seconds between looks for a newer import when following
POLL_SECONDS = 10.0

#: a step: what it warms (for progress), and the call computing it
Step = tuple[str, Callable[[], object]]


def _values(explorer: Explorer, dimension: str) -> tuple[str, ...]:
    values = explorer.values
    if dimension == "tier":
        return TIERS
    return {
        "team": values.teams,
        "channel": values.channels,
        "region": values.regions,
        "industry": values.industries,
        "size_band": values.size_bands,
    }[dimension]


def _shown(
    explorer: Explorer, selection: Selection, views: tuple[int, ...], *, drilled: bool = False
) -> Callable[[], object]:
    """The call computing the key numbers (for view 0) and ``views`` of ``selection``; with
    ``drilled`` also the drill-down's level of its team (the reps), tier (the customers) or
    rep (the deals)."""

    def compute() -> None:
        if 0 in views:
            kpi_strip(explorer, selection)
        for index in views:
            render(VIEWS[index], explorer, selection)
        if drilled and selection.rep is not None:
            drill.rep_deals(explorer, selection, selection.rep)
        elif drilled and selection.team is not None:
            drill.team_reps(explorer, selection, selection.team)
        elif drilled and selection.tier is not None:
            drill.tier_customers(explorer, selection, selection.tier)

    return compute


def plan(explorer: Explorer) -> Iterator[Step]:
    """The steps of warming the explorer's snapshot, in the order of the module's list."""
    periods = explorer.values.periods
    if not periods:
        return
    start = Selection(periods[0])
    first, others = (0,), tuple(range(1, len(VIEWS)))
    filtered = [start.with_(**{dimension: value}) for dimension in FILTERS for value in _values(explorer, dimension)]
    yield "the opening", _shown(explorer, start, first)
    for selection in filtered:
        yield f"{_name(selection)}: key numbers", _shown(explorer, selection, first)

    def tabs() -> None:
        _shown(explorer, start, others)()
        drill.teams(explorer, start)
        drill.tiers(explorer, start)

    yield "the other tabs", tabs
    if len(periods) > 1:
        yield f"{periods[1]}: key numbers", _shown(explorer, start.with_(period=periods[1]), first)
    for selection in filtered:
        yield f"{_name(selection)}: the other tabs", _shown(explorer, selection, others, drilled=True)
    if len(periods) > 1:
        for selection in filtered:
            before = selection.with_(period=periods[1])
            yield f"{periods[1]}, {_name(selection)}: key numbers", _shown(explorer, before, first)
    for rep, _label, team in explorer.values.reps:
        yield f"rep {rep}: key numbers", _shown(explorer, start.with_(rep=rep, team=team), first, drilled=True)


def _name(selection: Selection) -> str:
    by, group = selection.scope
    return f"{by} {group!r}"


def warm(
    explorer: Explorer,
    *,
    progress: Callable[[str, float, Exception | None], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> bool:
    """Compute every step of :func:`plan` for the explorer's snapshot (kept in its store);
    stop early when a newer import is published or ``stop()`` says so. A step that fails is
    reported to ``progress`` (name, seconds, the error) and the next ones still run, as the
    dashboard's other views still draw. True when every step ran."""
    for name, step in plan(explorer):
        if explorer.newer_available() or (stop is not None and stop()):
            return False
        started = time.perf_counter()
        error = None
        try:
            step()
        except Exception as exc:  # the dashboard shows a failing view as a note; so does warming
            error = exc
        explorer.forget()  # the store keeps the results; memory holds one step's
        if progress is not None:
            progress(name, time.perf_counter() - started, error)
    return True


def _parent_gone(parent: int) -> bool:
    return parent > 1 and os.getppid() != parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crmreview.explore.warm", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--db", default="", help="the warehouse (default: as the dashboard)")
    parser.add_argument("--mask-pii", action="store_true", help="warm the masked names' results")
    parser.add_argument("--lang", default="en", help="the pseudonyms' language when names are masked")
    parser.add_argument("--follow", action="store_true", help="then warm each newer import, until the parent stops")
    parser.add_argument("--quiet", action="store_true", help="print only the steps that fail")
    parser.add_argument("--verbose", action="store_true", help="print every step and its time")
    parser.add_argument("--nice", type=int, default=0, help="lower this process's priority by this much")
    args = parser.parse_args(argv)
    if args.nice:
        os.nice(args.nice)
    parent = os.getppid() if args.follow else 0
    mask = args.mask_pii or environment_flag("CRM_REVIEW_MASK_PII")

    done: list[float] = []

    def say(name: str, seconds: float, error: Exception | None) -> None:
        done.append(seconds)
        if error is not None:
            print(f"warm: {name} failed after {seconds:.1f} s: {error}", file=sys.stderr, flush=True)
        elif args.verbose:
            print(f"warm: {name} in {seconds:.1f} s", file=sys.stderr, flush=True)

    def summary(explorer: Explorer, finished: bool) -> None:
        if not args.quiet:
            state = "kept" if finished else "kept (stopped early: a newer import)"
            print(
                f"warm: {len(done)} steps in {sum(done):.0f} s; the dashboard's results of {explorer.path} {state} "
                f"in {explorer.store_folder}",
                file=sys.stderr,
                flush=True,
            )
        done.clear()

    def stop() -> bool:
        return _parent_gone(parent)

    try:
        with Explorer(args.db, mask_pii=mask, lang=args.lang) as explorer:
            if explorer.store_folder is None:
                print(f"warm: cannot keep results beside {explorer.path} (not writable)", file=sys.stderr)
                return 1
            while True:
                summary(explorer, warm(explorer, progress=say, stop=stop))
                if stop():
                    return 0
                if explorer.newer_available():  # published while warming: warm the newer one
                    explorer.refresh()
                    continue
                if not args.follow:
                    return 0
                while not explorer.newer_available():
                    if stop():
                        return 0
                    time.sleep(POLL_SECONDS)
                explorer.refresh()
    except warehouse.WarehouseError as exc:
        print(f"warm: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
