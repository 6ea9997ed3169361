"""The performance benchmark: import, metrics, the review and the report against their floors
and a pandas baseline, per data size, side by side in one run.

    python3 dev.py bench [--sizes 1,10,100] [--repeat 3] [--out FILE] [--data DIR]

For each size, the sample generator's export (``crm-review generate --size N``; kept in
benchmarks/results/data/size<N>/, or ``--data DIR`` / $CRM_REVIEW_BENCH_DATA, e.g. a shared
/work/bench-data) is measured in this order, every step a separate process so that its peak
memory (maximum resident set size, from ``wait4``) is its own:

* **import, per file**: a bare DuckDB ``create table as select * from read_csv(file)`` (the
  floor), the canonical import and the import through a mapping file
  (``benchmarks/import_throughput.py``), each into a fresh database file;
* **import, all files**: the bare read of every file against one import of all of them
  (``import_files``, what ``crm-review import`` runs), each in its own process with its peak
  memory; the warehouse it writes is the one measured below;
* **scan floor**: DuckDB reading every column of every table the review reads, once;
* **each metric** (``metrics.compute`` for the period, as ``crm-review metrics NAME`` does)
  against its pandas baseline (``benchmarks/baseline/pandas_review.py``: the tables read into
  pandas once, then vectorised pandas); both give their headline numbers and a disagreement
  is printed as a MISMATCH;
* **the review's metrics**: the metric set the pandas baseline computes (every metric with a
  baseline, for the period and its comparison period, as ``crm-review metrics NAME --compare
  prev`` computes it: ``review_metric_set``) against that baseline (``pandas_review.review``)
  and against the scan floor, so that the ratio compares the same work;
* **the review, every section**: the quarterly review as its report computes it
  (``quarterly_review`` then every section's ``build``, figures included, no notebook): the
  metric set plus the forecast with its back-test, the funnel trend and the breakdowns, which
  have no pandas baseline (a time, held to the 30 s target at size 500);
* **the report**: ``crm-review report --period P`` (papermill, nbconvert), its time, peak memory
  and HTML size.

Once per run: whole-process start-up of ``crm-review metrics funnel`` on the demo sample
(size 1), against the start-up floor ``python -c "import duckdb, pandas"``.

Times are wall clock, the median of ``--repeat`` runs (start-up: of ``--startup-runs``, 5). The table
gives each ratio and the target it is held to (met / not met); it is printed and written as
markdown and JSON (``--out``, default benchmarks/results/bench.md and .json). Not a test:
nothing here asserts a time. Timings taken while other jobs load the machine are noisy; the
ratios are measured side by side and the load average is recorded with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.import_throughput import (
    RESULTS,
    bare_scan,
    canonical_import,
    data_root,
    mapped_import,
    sample_data,
)

PERIOD = "2026Q3"
COMPARE = "prev"
METRIC_NAMES = ("funnel", "tiers", "followup", "repurchase", "retention", "churn", "forecast")
GIB = 1024**3
#: the targets (issue "Performance at scale"); a ratio target is "at most", a speed-up "at least"
CANONICAL_RATIO, MAPPED_RATIO = 1.5, 2.0
REVIEW_SPEEDUP, REVIEW_SCAN_RATIO = 20.0, 3.0
REVIEW_SECONDS_500, REPORT_SECONDS_500, MEMORY_500 = 30.0, 60.0, 2 * GIB
STARTUP_SECONDS = 0.5
HTML_GROWTH = 0.20


# -- measuring a child process -------------------------------------------------------------


#: starts a command from a small interpreter and writes its wall time and peak memory (from
#: ``wait4``: the largest of the process and the children it waited for, e.g. a report's
#: kernel) to a file. A process's peak counts the memory of whoever forked it, so commands
#: are not forked from the benchmark itself, which holds pandas and DuckDB.
_LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{time.perf_counter() - started} {usage.ru_maxrss * 1024}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


class StepFailed(Exception):
    """A measured step that failed; ``reason`` is the last line of its error output."""

    def __init__(self, reason: str, peak: int) -> None:
        super().__init__(reason)
        self.reason, self.peak = reason, peak


def _child(cmd: list[str]) -> tuple[float, int, str]:
    """Run ``cmd``: its wall time, its peak resident memory in bytes and its stdout. A failing
    command raises :class:`StepFailed` (its stderr is printed), so that the table records
    the failure and the other steps still run."""
    with tempfile.TemporaryDirectory() as tmp:
        measured = Path(tmp) / "measured"
        done = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(measured), *cmd], capture_output=True, text=True, check=False
        )
        wall, peak = measured.read_text().split()
        if done.returncode:
            print(f"benchmark step failed ({' '.join(cmd[:6])} …):\n{done.stderr[-3000:]}", file=sys.stderr, flush=True)
            lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            error = next((line for line in reversed(lines) if "Error" in line or "Exception" in line), None)
            raise StepFailed(error or (lines[-1] if lines else f"exit status {done.returncode}"), int(peak))
    return float(wall), int(peak), done.stdout


def _step(kind: str, **args: Any) -> tuple[dict[str, Any], int]:
    """Run one measured step in its own process (``python -m benchmarks.bench step KIND``):
    its JSON answer and its peak memory."""
    cmd = [sys.executable, "-m", "benchmarks.bench", "step", kind, json.dumps(args, default=str)]
    _, peak, out = _child(cmd)
    return json.loads(out.strip().splitlines()[-1]), peak


def _timed(function, repeat: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), value


def _crm_review() -> str:
    return str(Path(sys.executable).with_name("crm-review"))


# -- the steps (each runs in its own process) ----------------------------------------------


def step_import_files(data: str, work: str, repeat: int) -> dict[str, Any]:
    from benchmarks.import_throughput import COLUMNS

    work_dir = Path(work)
    work_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for table in COLUMNS:
        csv_path = Path(data) / f"{table}.csv"
        if not csv_path.exists():
            continue
        bare = statistics.median(bare_scan(csv_path, work_dir) for _ in range(repeat))
        canonical = statistics.median(canonical_import(csv_path, work_dir)[0] for _ in range(repeat))
        mapped = statistics.median(mapped_import(csv_path, table, work_dir)[0] for _ in range(repeat))
        rows.append(
            {
                "table": table,
                "mb": csv_path.stat().st_size / 1e6,
                "bare": bare,
                "canonical": canonical,
                "mapped": mapped,
            }
        )
    return {"files": rows}


def step_import_all(data: str, db: str) -> dict[str, Any]:
    from crmreview.importing import import_files

    started = time.perf_counter()
    import_files(sorted(Path(data).glob("*.csv")), Path(db))
    return {"seconds": time.perf_counter() - started}


def step_bare_all(data: str, db: str) -> dict[str, Any]:
    import duckdb

    from benchmarks.import_throughput import COLUMNS

    started = time.perf_counter()
    with duckdb.connect(db) as con:
        for table in (t for t in COLUMNS if (Path(data) / f"{t}.csv").exists()):
            con.execute(
                f"create table {table} as select * from read_csv($path)", {"path": str(Path(data) / f"{table}.csv")}
            )
    return {"seconds": time.perf_counter() - started}


def _scan_sql(con) -> list[str]:
    """One query per table the review reads: every column's every value is read (hashed)."""
    from benchmarks.baseline.pandas_review import TABLES

    out = []
    for table in TABLES:
        columns = [row[0] for row in con.execute(f"describe {table}").fetchall()]
        out.append(f"select count(*), bit_xor(hash({', '.join(columns)})) from {table}")
    return out


def step_scan(db: str, repeat: int) -> dict[str, Any]:
    from crmreview.warehouse import connect_read

    with connect_read(db) as con:
        statements = _scan_sql(con)

        def scan() -> None:
            for sql in statements:
                con.execute(sql).fetchall()

        seconds, _ = _timed(scan, repeat)
    return {"seconds": seconds}


def step_metric(db: str, name: str, repeat: int) -> dict[str, Any]:
    from benchmarks.baseline.pandas_review import METRICS, headlines
    from crmreview import metrics
    from crmreview.config import DEFAULT_SETTINGS
    from crmreview.periods import parse_period
    from crmreview.warehouse import connect_read

    period = parse_period(PERIOD)
    with connect_read(db) as con:
        seconds, result = _timed(lambda: metrics.compute(con, name, period, settings=DEFAULT_SETTINGS), repeat)
    return {"seconds": seconds, "headlines": headlines(name, result) if name in METRICS else {}, "result": result}


def step_baseline(db: str, name: str, repeat: int) -> dict[str, Any]:
    from benchmarks.baseline.pandas_review import compute, headlines, load
    from crmreview.config import DEFAULT_SETTINGS
    from crmreview.periods import parse_period
    from crmreview.warehouse import connect_read

    period = parse_period(PERIOD)
    with connect_read(db) as con:
        load_seconds, frames = _timed(lambda: load(con), 1)
    seconds, result = _timed(lambda: compute(frames, name, period, DEFAULT_SETTINGS), repeat)
    return {"seconds": seconds, "load_seconds": load_seconds, "headlines": headlines(name, result), "result": result}


def review_metric_set(con, period, settings) -> dict[str, Any]:
    """The review's metric set on the SQL side: every metric the pandas baseline computes
    (``benchmarks/baseline/pandas_review.py`` ``review``), as ``crm-review metrics NAME
    --compare prev`` computes it (the period and its comparison period), on one connection."""
    from benchmarks.baseline.pandas_review import METRICS
    from crmreview import metrics

    return {name: metrics.compute(con, name, period, compare=COMPARE, settings=settings) for name in METRICS}


def step_review_metrics(db: str, repeat: int) -> dict[str, Any]:
    from crmreview.config import DEFAULT_SETTINGS
    from crmreview.periods import parse_period
    from crmreview.warehouse import connect_read

    period = parse_period(PERIOD)

    def compute() -> int:
        with connect_read(db) as con:  # a fresh connection each run: no state shared across runs
            return len(review_metric_set(con, period, DEFAULT_SETTINGS))

    seconds, _ = _timed(compute, repeat)
    return {"seconds": seconds}


def step_review(db: str, repeat: int) -> dict[str, Any]:
    from crmreview.report.review import quarterly_review

    def build() -> int:
        with quarterly_review(db, period=PERIOD, compare=COMPARE, lang="en") as review:
            return sum(len(review.section(name)) for name in review.sections)

    import crmreview.charts  # noqa: F401  (the plotting library is loaded before the clock starts)

    seconds, items = _timed(build, repeat)
    return {"seconds": seconds, "items": items}


def step_baseline_review(db: str, repeat: int) -> dict[str, Any]:
    from benchmarks.baseline.pandas_review import load, review
    from crmreview.config import DEFAULT_SETTINGS
    from crmreview.periods import parse_period
    from crmreview.warehouse import connect_read

    period = parse_period(PERIOD)
    with connect_read(db) as con:
        load_seconds, frames = _timed(lambda: load(con), 1)
    seconds, _ = _timed(lambda: review(frames, period, DEFAULT_SETTINGS, COMPARE), repeat)
    return {"seconds": seconds, "load_seconds": load_seconds}


STEPS = {
    "import_files": step_import_files,
    "bare_all": step_bare_all,
    "import_all": step_import_all,
    "scan": step_scan,
    "metric": step_metric,
    "baseline": step_baseline,
    "review_metrics": step_review_metrics,
    "review": step_review,
    "baseline_review": step_baseline_review,
}


def _run_step(kind: str, args_json: str) -> None:
    print(json.dumps(STEPS[kind](**json.loads(args_json)), default=str))


# -- the table -----------------------------------------------------------------------------


def _row(size: float, step: str, seconds: float | None, **more: Any) -> dict[str, Any]:
    return {"size": size, "step": step, "seconds": seconds, **more}


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "NOT MET")


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _attempt(kind: str, **args: Any) -> tuple[dict[str, Any] | None, int, str | None]:
    """:func:`_step`, or (None, its peak memory, why it failed) when it fails."""
    try:
        answer, peak = _step(kind, **args)
    except StepFailed as failure:
        return None, failure.peak, failure.reason
    return answer, peak, None


def _failed(size: float, step: str, reason: str, peak: int, **more: Any) -> dict[str, Any]:
    """The row of a step that failed: no time, NOT MET where it has a target."""
    return _row(
        size, step, None, failed=reason, peak_mb=peak / 2**20, met="NOT MET" if "target" in more else "-", **more
    )


def measure_size(size: float, root: Path, repeat: int, work_root: Path) -> list[dict[str, Any]]:
    """Every step at one size. A step that fails (e.g. out of memory) is a row saying why,
    and the steps that do not need its result still run."""
    data = sample_data(root, size)
    work = work_root / f"size{size:g}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rows: list[dict[str, Any]] = []
    big = size >= 500
    print(f"size {size:g}: import per file", flush=True)
    files, peak, failure = _attempt("import_files", data=str(data), work=str(work / "files"), repeat=repeat)
    if failure:
        rows.append(_failed(size, "import per file", failure, peak, target=f"<= {CANONICAL_RATIO}x bare read_csv"))
    for f in files["files"] if files else []:
        ratio = _ratio(f["canonical"], f["bare"])
        rows.append(
            _row(
                size,
                f"import {f['table']} ({f['mb']:.1f} MB)",
                f["canonical"],
                floor=f["bare"],
                ratio=ratio,
                target=f"<= {CANONICAL_RATIO}x bare read_csv",
                met=_verdict(ratio <= CANONICAL_RATIO),
            )
        )
        ratio = _ratio(f["mapped"], f["bare"])
        rows.append(
            _row(
                size,
                f"import {f['table']}, mapped",
                f["mapped"],
                floor=f["bare"],
                ratio=ratio,
                target=f"<= {MAPPED_RATIO}x bare read_csv",
                met=_verdict(ratio <= MAPPED_RATIO),
            )
        )
    shutil.rmtree(work / "files", ignore_errors=True)

    print(f"size {size:g}: import, all files", flush=True)
    bare, bare_rss, _ = _attempt("bare_all", data=str(data), db=str(work / "bare.duckdb"))
    for leftover in work.glob("bare.duckdb*"):
        leftover.unlink()
    db = work / "crm.duckdb"
    imported, import_rss, failure = _attempt("import_all", data=str(data), db=str(db))
    import_target = f"<= {CANONICAL_RATIO}x bare" + (", <= 2 GiB" if big else "")
    if failure:  # nothing below can run without the warehouse
        rows.append(_failed(size, "import, all files", failure, import_rss, target=import_target))
        return rows
    wall = imported["seconds"]
    bare_seconds = bare["seconds"] if bare else None
    ratio = _ratio(wall, bare_seconds)
    rows.append(
        _row(
            size,
            "import, all files",
            wall,
            floor=bare_seconds,
            ratio=ratio,
            peak_mb=import_rss / 2**20,
            floor_peak_mb=bare_rss / 2**20,
            target=import_target,
            met=_verdict(None if ratio is None else ratio <= CANONICAL_RATIO and (not big or import_rss <= MEMORY_500)),
        )
    )

    print(f"size {size:g}: scan floor, metrics and baselines", flush=True)
    scan, _, _ = _attempt("scan", db=str(db), repeat=repeat)
    scan_seconds = scan["seconds"] if scan else None
    rows.append(_row(size, "scan floor (every column of the review's tables)", scan_seconds))
    for name in METRIC_NAMES:
        sql, sql_rss, failure = _attempt("metric", db=str(db), name=name, repeat=repeat)
        if failure:
            rows.append(_failed(size, f"metric {name}", failure, sql_rss))
            continue
        row = _row(size, f"metric {name}", sql["seconds"], peak_mb=sql_rss / 2**20)
        base, base_rss, failure = (
            _attempt("baseline", db=str(db), name=name, repeat=repeat) if sql["headlines"] else (None, 0, None)
        )
        if failure:
            row |= {"check": f"pandas baseline failed: {failure}", "baseline_peak_mb": base_rss / 2**20}
        elif base:
            from benchmarks.baseline.pandas_review import mismatches

            wrong = mismatches(name, sql["result"], base["result"])
            for line in wrong:
                print(f"MISMATCH size {size:g} {name}: {line}", file=sys.stderr, flush=True)
            row |= {
                "baseline": base["seconds"],
                "baseline_load": base["load_seconds"],
                "speedup": _ratio(base["seconds"], sql["seconds"]),
                "baseline_peak_mb": base_rss / 2**20,
                "check": "ok" if not wrong else f"MISMATCH ({len(wrong)})",
                "mismatches": wrong,
            }
        else:
            row |= {"check": "no baseline"}
        rows.append(row)

    print(f"size {size:g}: the review's metrics", flush=True)
    review, review_rss, failure = _attempt("review_metrics", db=str(db), repeat=repeat)
    speedup_target = f">= {REVIEW_SPEEDUP:g}x pandas (size >= 100)"
    if failure:
        rows.append(_failed(size, "review metrics vs pandas", failure, review_rss, target=speedup_target))
    else:
        base, base_rss, failure = _attempt("baseline_review", db=str(db), repeat=repeat)
        speedup = _ratio(base["seconds"], review["seconds"]) if base else None
        rows.append(
            _row(
                size,
                "review metrics vs pandas",
                review["seconds"],
                baseline=base["seconds"] if base else None,
                baseline_load=base["load_seconds"] if base else None,
                speedup=speedup,
                peak_mb=review_rss / 2**20,
                baseline_peak_mb=base_rss / 2**20,
                target=speedup_target,
                met=_verdict(speedup >= REVIEW_SPEEDUP if size >= 100 and speedup is not None else None),
                check=f"pandas baseline failed: {failure}" if failure else "",
            )
        )
        ratio = _ratio(review["seconds"], scan_seconds)
        rows.append(
            _row(
                size,
                "review metrics vs scan floor",
                review["seconds"],
                floor=scan_seconds,
                ratio=ratio,
                target=f"<= {REVIEW_SCAN_RATIO:g}x scan",
                met=_verdict(None if ratio is None else ratio <= REVIEW_SCAN_RATIO),
            )
        )
    sections, sections_rss, failure = _attempt("review", db=str(db), repeat=repeat)
    step = "review, every section (+ forecast, funnel trend, breakdowns, figures; no pandas baseline)"
    review_target = f"< {REVIEW_SECONDS_500:g} s (size >= 500)"
    if failure:
        rows.append(_failed(size, step, failure, sections_rss, target=review_target))
    else:
        rows.append(
            _row(
                size,
                step,
                sections["seconds"],
                peak_mb=sections_rss / 2**20,
                target=review_target,
                met=_verdict(sections["seconds"] < REVIEW_SECONDS_500 if big else None),
            )
        )

    print(f"size {size:g}: the report", flush=True)
    out = work / "reports"
    report_target = f"< {REPORT_SECONDS_500:g} s, <= 2 GiB (size >= 500)"
    try:
        wall, report_rss, _ = _child([_crm_review(), "report", "--period", PERIOD, "--db", str(db), "--out", str(out)])
    except StepFailed as failed:
        rows.append(_failed(size, "report (whole process)", failed.reason, failed.peak, target=report_target))
    else:
        html = next(out.glob("*.html"))
        rows.append(
            _row(
                size,
                "report (whole process)",
                wall,
                peak_mb=report_rss / 2**20,
                html_mb=html.stat().st_size / 1e6,
                target=report_target,
                met=_verdict(wall < REPORT_SECONDS_500 and report_rss <= MEMORY_500 if big else None),
            )
        )
    shutil.rmtree(out, ignore_errors=True)
    return rows


def measure_startup(root: Path, work_root: Path, runs: int) -> list[dict[str, Any]]:
    """``crm-review metrics funnel`` on the demo sample as a whole process, against the
    interpreter with DuckDB and pandas imported (what any metric needs) and a bare interpreter."""
    data = sample_data(root, 1)
    db = work_root / "demo.duckdb"
    for leftover in work_root.glob("demo.duckdb*"):
        leftover.unlink()
    _child([_crm_review(), "import", *sorted(str(p) for p in data.glob("*.csv")), "--db", str(db)])
    command = [_crm_review(), "metrics", "funnel", "--period", PERIOD, "--db", str(db)]
    floor = [sys.executable, "-c", "import duckdb, pandas"]
    bare = [sys.executable, "-c", "pass"]
    times: dict[str, list[float]] = {"command": [], "floor": [], "bare": []}
    peaks = []
    for _ in range(runs):  # interleaved, so a burst of load falls on all three alike
        wall, peak, _ = _child(command)
        times["command"].append(wall)
        peaks.append(peak)
        times["floor"].append(_child(floor)[0])
        times["bare"].append(_child(bare)[0])
    median = {key: statistics.median(values) for key, values in times.items()}
    return [
        _row(
            1,
            "start-up: crm-review metrics funnel (demo sample, whole process)",
            median["command"],
            floor=median["floor"],
            ratio=_ratio(median["command"], median["floor"]),
            peak_mb=max(peaks) / 2**20,
            target=f"< {STARTUP_SECONDS} s",
            met=_verdict(median["command"] < STARTUP_SECONDS),
        ),
        _row(1, "start-up floor: python -c 'import duckdb, pandas'", median["floor"]),
        _row(1, "start-up floor: python -c pass", median["bare"]),
    ]


def html_flatness(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The report's HTML size from the smallest to the largest size measured (flat within 20 %)."""
    reports = sorted((r for r in rows if "html_mb" in r), key=lambda r: r["size"])
    if len(reports) < 2:
        return []
    first, last = reports[0], reports[-1]
    growth = last["html_mb"] / first["html_mb"] - 1
    return [
        _row(
            last["size"],
            f"report HTML size, size {first['size']:g} -> {last['size']:g}",
            None,
            html_mb=last["html_mb"],
            floor_html_mb=first["html_mb"],
            ratio=1 + growth,
            target=f"within {HTML_GROWTH:.0%}",
            met=_verdict(abs(growth) <= HTML_GROWTH),
        )
    ]


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def markdown(rows: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    lines = [
        f"{machine['cpus']} CPUs, {machine['ram_gib']:.0f} GiB RAM, DuckDB {machine['duckdb']}, "
        f"pandas {machine['pandas']}, Python {machine['python']}; load average {machine['load_before']} before, "
        f"{machine['load_after']} after; period {PERIOD}, median of {machine['repeat']} runs",
        *[
            f"earlier rows: load average {m['load_before']} before, {m['load_after']} after, median of {m['repeat']}"
            for m in machine.get("earlier", [])
        ],
        "",
        "| size | step | s | floor / pandas s | ratio | peak MB | target | met | check |",
        "| ---: | --- | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for r in rows:
        other = r.get("floor", r.get("baseline"))
        ratio = r.get("ratio")
        ratio_text = f"{ratio:.2f}x" if ratio is not None else "-"
        if r.get("speedup") is not None:
            ratio_text = f"{r['speedup']:.1f}x faster"
        seconds = _fmt(r["seconds"]) if r["seconds"] is not None else f"{r.get('html_mb', 0):.2f} MB"
        if r.get("failed"):
            seconds = "failed"
        if r["seconds"] is not None and "html_mb" in r:
            seconds += f" ({r['html_mb']:.2f} MB HTML)"
        if other is None and "floor_html_mb" in r:
            other = f"{r['floor_html_mb']:.2f} MB"
        peak = _fmt(r.get("peak_mb"), 0)
        if r.get("baseline_peak_mb") is not None:
            peak += f" / {r['baseline_peak_mb']:,.0f}"
        if r.get("floor_peak_mb") is not None:
            peak += f" / {r['floor_peak_mb']:,.0f}"
        lines.append(
            f"| {r['size']:g} | {r['step']} | {seconds} | {_fmt(other)} | {ratio_text} | {peak} | "
            f"{r.get('target', '-')} | {r.get('met', '-')} | "
            f"{'FAILED: ' + r['failed'] if r.get('failed') else r.get('check', '')} |"
        )
    return "\n".join(lines) + "\n"


def _machine(repeat: int) -> dict[str, Any]:
    import duckdb
    import pandas

    return {
        "cpus": os.cpu_count(),
        "ram_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB,
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "python": platform.python_version(),
        "load_before": " ".join(f"{v:.1f}" for v in os.getloadavg()),
        "repeat": repeat,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["step"]:
        _run_step(argv[1], argv[2])
        return 0
    parser = argparse.ArgumentParser(
        prog="python3 dev.py bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,10,100", help="comma-separated sample sizes (1 = 2,000 customers)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per in-process measurement; the median is kept")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench.md", help="markdown table (the JSON beside it)")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder of size<N>/ exports (default: $CRM_REVIEW_BENCH_DATA or benchmarks/results/data)",
    )
    parser.add_argument(
        "--append",
        action="store_true",
        help="keep the rows of other sizes already in --out's JSON (measure size 100 or 500 later, e.g. under a lock)",
    )
    parser.add_argument("--startup-runs", type=int, default=5, help="whole-process start-up runs (the median is kept)")
    args = parser.parse_args(argv)
    sizes = [float(s) for s in args.sizes.split(",") if s.strip()]
    root = data_root(args.data)
    RESULTS.mkdir(parents=True, exist_ok=True)
    work_root = Path(tempfile.mkdtemp(prefix="work-", dir=RESULTS))  # warehouses and reports of this run
    machine = _machine(args.repeat)
    rows: list[dict[str, Any]] = []
    try:
        if args.startup_runs > 0:
            print("start-up", flush=True)
            rows += measure_startup(root, work_root, args.startup_runs)
        for size in sizes:
            rows += measure_size(size, root, args.repeat, work_root)
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    if args.append and args.out.with_suffix(".json").exists():
        kept = json.loads(args.out.with_suffix(".json").read_text())
        measured = {row["size"] for row in rows if not row["step"].startswith("start-up")}
        has_startup = any(row["step"].startswith("start-up") for row in rows)

        def keep(row: dict[str, Any]) -> bool:
            if row["step"].startswith("report HTML size"):
                return False
            if row["step"].startswith("start-up"):
                return not has_startup
            return row["size"] not in measured

        rows = [row for row in kept["rows"] if keep(row)] + rows
        rows.sort(key=lambda row: (not row["step"].startswith("start-up"), row["size"]))
        machine["earlier"] = [kept["machine"], *kept["machine"].get("earlier", [])]
    rows += html_flatness(rows)
    machine["load_after"] = " ".join(f"{v:.1f}" for v in os.getloadavg())
    text = markdown(rows, machine)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2, default=str))
    print("\n" + text)
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}")
    wrong = [r for r in rows if str(r.get("check", "")).startswith("MISMATCH")]
    if wrong:
        print(f"MISMATCH: the pandas baseline disagrees with {len(wrong)} metric(s); see above", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
