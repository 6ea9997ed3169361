"""The command line loads only what a command runs: ``crm-review metrics`` and ``--help`` start
without the report, notebook, browser and plotting libraries (their import alone costs more than
the metric on a small warehouse). Each command runs in a fresh interpreter, which then lists the
modules it imported; start-up time itself is measured by ``python3 dev.py bench``, not here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crmreview.cli import main

FIXTURE = Path(__file__).parent / "sql" / "funnel_q3"
#: libraries only reports, notebooks, the explore app, PDFs, schedules and settings files need
HEAVY = (
    "pydantic",
    "plotly",
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "voila",
    "playwright",
    "croniter",
    "ipykernel",
)
#: run a command of the command line, then print its exit code and the top-level modules it imported
_CHILD = """
import contextlib, io, json, sys
from crmreview.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _run(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def _assert_light(ran: dict) -> None:
    loaded = sorted(set(HEAVY) & set(ran["modules"]))
    assert not loaded, f"the command imported {', '.join(loaded)}"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("startup") / "w.duckdb"
    assert main(["import", str(FIXTURE / "deals.csv"), str(FIXTURE / "deal_stage_history.csv"), "--db", str(db)]) == 0
    return db


@pytest.mark.parametrize("command", [["--help"], ["metrics", "--help"]])
def test_help_loads_no_report_notebook_or_browser_library(command):
    ran = _run(*command)
    assert ran["code"] == 0
    assert ran["out"].startswith("usage: crm-review")
    _assert_light(ran)


@pytest.mark.parametrize("name", ["funnel", "churn"])
def test_a_metrics_run_loads_no_report_notebook_or_browser_library(name, warehouse):
    ran = _run("metrics", name, "--period", "2026Q3", "--format", "json", "--db", str(warehouse))
    assert ran["code"] == 0
    assert json.loads(ran["out"])["period"]["start"] == "2026-07-01"
    _assert_light(ran)
    assert "duckdb" in ran["modules"]  # the check sees what was imported: the metric did run


def test_check_loads_no_report_notebook_or_browser_library(warehouse):
    ran = _run("check", "--db", str(warehouse))
    assert ran["code"] in (0, 1)
    _assert_light(ran)


def test_a_user_mistake_is_still_one_line_when_its_module_loads_late(warehouse, capsys):
    # the period error comes from crmreview.periods, the warehouse error from crmreview.warehouse:
    # both are recognised although main() no longer imports them up front
    assert main(["metrics", "funnel", "--period", "2026Q5", "--db", str(warehouse)]) == 2
    assert capsys.readouterr().err.startswith("crm-review: error: ")
    assert main(["metrics", "funnel", "--period", "2026Q3", "--db", str(warehouse.parent / "missing.duckdb")]) == 2
    assert capsys.readouterr().err.startswith("crm-review: error: ")
