"""Latency of the explore dashboard's interactions, measured on the widget logic in-process.

    .venv/bin/crm-review generate --out /tmp/crm-sample --size 1
    .venv/bin/crm-review import /tmp/crm-sample/*.csv --db /tmp/crm-sample.duckdb
    .venv/bin/python benchmarks/explore_latency.py --db /tmp/crm-sample.duckdb [--repeat 5]

Builds the dashboard (``crmreview.explore.Dashboard``) over the warehouse and times each
interaction a manager makes: opening it, changing the period, the team, the rep, the tier,
the channel, each view's tab, the drill-down steps (team → rep → deal; tier → customer), the
language and the refresh control. Each interaction runs ``--repeat`` times with the
snapshot's results forgotten and its scoped connections closed first (``Dashboard.forget``),
and the tabs drawn again, so every run opens its filter's connection and re-queries DuckDB
(the worst case). A drill-down step starts from its level drawn (untimed, then forgotten):
its time is the click. The language switch starts from the selection shown (drawn untimed
and kept): its time is drawing the same results in the other language. With ``--seen``, the same interactions then run twice more in the same
session, the second time timed: going back to what was seen is served from the results kept
for the snapshot and the open scoped connections. These runs keep nothing on disk (the
explorer's result store is off). With ``--warmed``, the snapshot's store is then emptied and
filled by the warm-up (``crmreview.explore.warm``, timed), and every interaction is timed
again on explorers that read the store, as the next visitor of the served app would: memory
forgotten before each, the store kept. Figures are drawn into the Output
widgets as in a kernel; the browser's drawing is not included.

It prints one line per interaction (median and worst, in seconds, and the median as a
ratio to the baseline: one ``metrics.compute(con, "funnel", period)`` on the same
warehouse) and writes benchmarks/results/explore_latency_<name>.json and .md, with the
machine's load average at the start and the end (timings on a shared machine are read as
ratios). Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from crmreview import metrics
from crmreview.explore import Dashboard, Explorer
from crmreview.explore.views import VIEWS
from crmreview.explore.warm import warm
from crmreview.periods import parse_period

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _buttons(board: Dashboard) -> list:
    """The drill-down's buttons, in the order shown."""
    found, stack = [], list(reversed(board.drill_box.children))
    while stack:
        widget = stack.pop()
        if hasattr(widget, "on_click"):
            found.append(widget)
        stack.extend(reversed(getattr(widget, "children", ())))
    return found


#: an interaction: its name, what is on screen before it (drawn untimed, then the results are
#: forgotten unless ``keep``), the action timed, and whether the results shown before it stay
Step = tuple[str, Callable[[], None] | None, Callable[[], None], bool]


def _interactions(board: Dashboard) -> list[Step]:
    values = board.explorer.values
    team = values.teams[0]
    rep = next(rep for _, rep in values.reps_of(team))
    drill = len(VIEWS)

    def reset() -> None:
        board.tabs.selected_index = 0
        board.period.value = values.periods[0]
        board.team.value = values.teams[-1]

    def period() -> None:
        board.period.value = values.periods[1]

    def period_back() -> None:
        board.period.value = values.periods[0]

    def tab(index: int) -> Callable[[], None]:
        def select() -> None:
            board.tabs.selected_index = index

        return select

    def at(path: list[tuple[str, str]]) -> Callable[[], None]:
        def show() -> None:
            board.tabs.selected_index = drill
            board._drill_path = list(path)
            board._draw_drill()

        return show

    def click(label: str | None = None) -> Callable[[], None]:
        def press() -> None:
            back = board._t("explore.drill.back")
            buttons = [b for b in _buttons(board) if b.description != back]
            next((b for b in buttons if b.description == label), buttons[0]).click()

        return press

    def shown() -> None:
        board.update()

    steps: list[Step] = [
        ("team filter", None, lambda: setattr(board.team, "value", team), False),
        ("rep filter", None, lambda: setattr(board.rep, "value", rep), False),
        ("tier filter", None, lambda: setattr(board.tier, "value", "A"), False),
        ("channel filter", None, lambda: setattr(board.channel, "value", values.channels[0]), False),
        ("period", None, period, False),
        ("period back", None, period_back, False),
    ]
    steps += [(f"tab: {view.key}", None, tab(i), False) for i, view in enumerate(VIEWS) if i > 0]
    steps += [
        ("tab: drill-down (teams, tiers)", None, tab(drill), False),
        ("drill: team -> reps", at([]), click(team), False),
        ("drill: rep -> deals", at([("team", team)]), click(), False),
        ("drill: deal -> history", at([("rep", rep)]), click(), False),
        ("drill: tier -> customers", at([]), click("A"), False),
        ("drill: customer -> records", at([("tier", "A")]), click(), False),
        ("language", shown, lambda: setattr(board.lang, "value", "zh" if board.lang.value == "en" else "en"), True),
        ("refresh (no newer import)", None, lambda: board._on_refresh(None), False),
    ]
    return [("reset", None, reset, False), *steps]


def _time(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        action()
    return time.perf_counter() - started


def _measure(
    db: Path, repeat: int, only: set[str], *, store: bool, seen_too: bool
) -> tuple[dict[str, list[float]], dict[str, list[float]], list[float]]:
    """Time every interaction ``repeat`` times: (timings, timings when seen before, baseline
    funnel times). ``store``: the explorer reads and keeps results in the snapshot's store
    (forgetting empties its memory only)."""
    timings: dict[str, list[float]] = {"open the dashboard": []}
    seen: dict[str, list[float]] = {}
    baseline: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            explorer = Explorer(str(db), store=store)
            board = Dashboard(explorer)
        timings["open the dashboard"].append(time.perf_counter() - started)
        print(f"open the dashboard: {timings['open the dashboard'][-1]:.2f} s", file=sys.stderr, flush=True)
        steps = [step for step in _interactions(board) if not only or step[0] in only | {"reset"}]
        for name, before, action, keep in steps:
            board.forget()
            if before is not None:
                _time(before)
                if not keep:
                    board.forget()
            elapsed = _time(action)
            if name != "reset":
                timings.setdefault(name, []).append(elapsed)
                print(f"{name}: {elapsed:.2f} s", file=sys.stderr, flush=True)
        for timed in (False, True) if seen_too else ():  # every step seen once, then timed
            for name, before, action, _ in steps:
                if before is not None:
                    _time(before)
                elapsed = _time(action)
                if timed and name != "reset":
                    seen.setdefault(name, []).append(elapsed)
        period = parse_period(explorer.values.periods[0])
        for _ in range(3):
            started = time.perf_counter()
            metrics.compute(explorer.con, "funnel", period)
            baseline.append(time.perf_counter() - started)
        explorer.close()
    return timings, seen, baseline


def _warm_up(db: Path) -> dict[str, float]:
    """Empty the snapshot's store, then warm it (crmreview.explore.warm): seconds per step."""
    steps: dict[str, float] = {}
    with Explorer(str(db)) as explorer:
        explorer.forget(stored=True)
        if explorer.store_folder is None:
            raise SystemExit(f"cannot keep results beside {db}: the warmed run needs a writable folder")
        with contextlib.redirect_stdout(io.StringIO()):
            warm(explorer, progress=lambda name, seconds, error: steps.__setitem__(name, seconds))
    print(f"warm-up: {sum(steps.values()):.1f} s in {len(steps)} steps", file=sys.stderr, flush=True)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="a warehouse file (e.g. an imported generated sample)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per interaction")
    parser.add_argument("--name", default=None, help="results file suffix (default: the warehouse file's stem)")
    parser.add_argument("--seen", action="store_true", help="also time the interactions when seen before")
    parser.add_argument("--warmed", action="store_true", help="also time them after the warm-up, from the store")
    parser.add_argument("--only", default="", help="comma-separated interactions to time (default: all)")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    timings, seen, baseline = _measure(args.db, args.repeat, only, store=False, seen_too=args.seen)
    warmed: dict[str, list[float]] = {}
    steps: dict[str, float] = {}
    if args.warmed:
        steps = _warm_up(args.db)
        warmed, _, more = _measure(args.db, args.repeat, only, store=True, seen_too=False)
        baseline += more
    base = statistics.median(baseline)
    load = (load_before, os.getloadavg()[0])

    def median(values: list[float] | None) -> float | None:
        return statistics.median(values) if values else None

    report = {
        "warehouse": str(args.db),
        "size_bytes": os.path.getsize(args.db),
        "repeat": args.repeat,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus",
        "load_average_1min": {"start": load[0], "end": load[1]},
        "baseline_funnel_seconds": base,
        "warm_up_seconds": sum(steps.values()) if steps else None,
        "warm_up_steps": steps,
        "interactions": [
            {"interaction": name, "median_seconds": statistics.median(v), "worst_seconds": max(v),
             "median_over_baseline": statistics.median(v) / base,
             "seen_median_seconds": median(seen.get(name)),
             "warmed_median_seconds": median(warmed.get(name)),
             "warmed_worst_seconds": max(warmed[name]) if warmed.get(name) else None}
            for name, v in timings.items()
        ],
    }  # fmt: skip

    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.2f}"

    extra = (["seen before, median s"] if args.seen else []) + (
        ["after the warm-up, median s", "after the warm-up, worst s"] if args.warmed else []
    )
    header = ["interaction", "median s", "worst s", "median / baseline", *extra]
    lines = [
        f"explore latency on {args.db} ({report['size_bytes'] / 1e6:.0f} MB), {args.repeat} runs, cache emptied "
        f"before each; baseline (one funnel metric) {base:.2f} s; load average {load[0]:.1f} at the start, "
        f"{load[1]:.1f} at the end"
        + (f"; warm-up {report['warm_up_seconds']:.0f} s in {len(steps)} steps" if steps else ""),
        "| " + " | ".join(header) + " |",
        "| --- |" + " ---: |" * (len(header) - 1),
        *(
            f"| {r['interaction']} | {r['median_seconds']:.2f} | {r['worst_seconds']:.2f} | "
            f"{r['median_over_baseline']:.1f} |"
            + (f" {cell(r['seen_median_seconds'])} |" if args.seen else "")
            + (f" {cell(r['warmed_median_seconds'])} | {cell(r['warmed_worst_seconds'])} |" if args.warmed else "")
            for r in report["interactions"]
        ),
    ]
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    name = args.name or args.db.stem
    (RESULTS / f"explore_latency_{name}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (RESULTS / f"explore_latency_{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
