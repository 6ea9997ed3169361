"""``python3 dev.py bench`` runs end to end on a tiny sample and its table has every row.

Nothing here looks at a time: the benchmark measures, it does not assert speed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from benchmarks import bench

from tests.paths import TESTS_DIR

ROOT = TESTS_DIR.parent


@pytest.mark.slow
def test_the_benchmark_runs_end_to_end_and_reports_every_step(tmp_path):
    out = tmp_path / "bench.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench",
            "--sizes",
            "0.05",
            "--repeat",
            "1",
            "--startup-runs",
            "1",
            "--data",
            str(tmp_path / "data"),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "MISMATCH" not in done.stderr, done.stderr[-3000:]
    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    steps = [row["step"] for row in rows]
    tables = ("customers", "reps", "targets", "deals", "deal_stage_history", "orders", "activities")
    expected = [
        "start-up: crm-review metrics funnel (demo sample, whole process)",
        *[f"import {table}, mapped" for table in tables],
        "import, all files",
        "scan floor (every column of the review's tables)",
        *[f"metric {name}" for name in bench.METRIC_NAMES],
        "review metrics vs pandas",
        "review metrics vs scan floor",
        "review, every section (+ forecast, funnel trend, breakdowns, figures; no pandas baseline)",
        "report (whole process)",
    ]
    for step in expected:
        assert step in steps, f"no row {step!r} in {steps}"
    assert sum(step.startswith("import ") and "MB)" in step for step in steps) == len(tables)
    by_step = {row["step"]: row for row in rows}
    for name in bench.METRIC_NAMES:
        row = by_step[f"metric {name}"]
        assert row["seconds"] > 0
        assert row["check"] == ("no baseline" if name == "forecast" else "ok"), row.get("mismatches")
    assert by_step["report (whole process)"]["html_mb"] > 1  # plotly.js is embedded: a real report
    assert by_step["import, all files"]["peak_mb"] > 10
    text = out.read_text()
    assert text.count("\n| ") == len(rows) + 2  # the header, its rule and one line per row
    assert "| metric churn |" in text


def test_a_baseline_that_disagrees_is_named_number_by_number():
    from benchmarks.baseline.pandas_review import mismatches

    sql = {
        "customers_purchasing": 10,
        "repeat_rate": 0.5,
        "returning_rate": 0.2,
        "returning_revenue_share": None,
        "median_gap_days": 12.0,
    }
    assert mismatches("repurchase", sql, dict(sql)) == []
    assert mismatches("repurchase", sql, {**sql, "repeat_rate": 0.4, "returning_revenue_share": 0.0}) == [
        "repeat_rate: sql 0.5, pandas 0.4",
        "returning_revenue_share: sql None, pandas 0.0",
    ]


def test_a_step_that_fails_is_a_row_saying_why_and_the_run_goes_on():
    failing = [sys.executable, "-c", "raise MemoryError('Out of Memory Error: failed to pin block (1.8 GiB used)')"]
    with pytest.raises(bench.StepFailed) as failed:
        bench._child(failing)
    assert failed.value.reason == "MemoryError: Out of Memory Error: failed to pin block (1.8 GiB used)"
    assert failed.value.peak > 0
    row = bench._failed(500, "metric forecast", failed.value.reason, failed.value.peak, target="< 30 s")
    assert row["seconds"] is None and row["met"] == "NOT MET"
    machine = {"cpus": 2, "ram_gib": 24, "duckdb": "x", "pandas": "y", "python": "z", "load_before": "0",
               "load_after": "0", "repeat": 1}  # fmt: skip
    line = bench.markdown([row], machine).splitlines()[-1]
    assert line.startswith("| 500 | metric forecast | failed | - | - |")
    assert line.endswith(
        "| < 30 s | NOT MET | FAILED: MemoryError: Out of Memory Error: failed to pin block (1.8 GiB used) |"
    )
