"""Hand-computed SQL cases: each folder under tests/sql/ is one case.

A case folder holds one CSV per input table (any warehouse table, the import log included;
its column names; absent columns are null), and ``case.yaml`` listing runs: the query (a file under queries/), its bound
parameters and the CSV with the expected rows. Only the expected file's columns are
compared; numbers to 1e-9, dates as dates, empty cells mean null. A new case is new files, not new code.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

from crmreview import queries
from tests.paths import SQL_CASES

CASES_DIR = SQL_CASES


def _runs():
    for case_file in sorted(CASES_DIR.glob("*/case.yaml")):
        spec = yaml.safe_load(case_file.read_text(encoding="utf-8"))
        for index, run in enumerate(spec["runs"]):
            yield pytest.param(case_file.parent, spec, run, id=f"{case_file.parent.name}-{index}-{run['expected']}")


def _load_inputs(con, folder: Path) -> None:
    tables = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()
    }
    for csv_path in sorted(folder.glob("*.csv")):
        table = csv_path.stem
        if table not in tables:
            continue
        header = pd.read_csv(csv_path, nrows=0).columns.tolist()
        names = ", ".join(f'"{h}"' for h in header)
        con.execute(
            f"insert into {table} ({names}) select {names} from read_csv($path, header = true, all_varchar = true)",
            {"path": str(csv_path)},
        )


def _same(actual, expected) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return actual is None or pd.isna(actual)
    if actual is None or pd.isna(actual):
        return False
    if isinstance(actual, (date, pd.Timestamp)):
        return pd.Timestamp(actual) == pd.Timestamp(expected)
    try:
        return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-9)
    except (TypeError, ValueError):
        return str(actual) == str(expected)


@pytest.mark.parametrize(("folder", "spec", "run"), list(_runs()))
def test_sql_case_gives_the_hand_computed_rows(empty_warehouse, folder, spec, run):
    con = empty_warehouse
    _load_inputs(con, CASES_DIR / spec.get("inputs_from", folder.name))
    actual = queries.run(con, run["query"], run["params"])
    expected = pd.read_csv(folder / run["expected"], keep_default_na=True)
    missing = [c for c in expected.columns if c not in actual.columns]
    assert not missing, f"query output lacks expected columns {missing}"
    assert len(actual) == len(expected), actual.to_string()
    for row_index in range(len(expected)):
        for column in expected.columns:
            got, want = actual[column].iloc[row_index], expected[column].iloc[row_index]
            assert _same(got, want), (
                f"{folder.name}/{run['expected']} row {row_index + 1} column {column}: "
                f"got {got!r}, expected {want!r}\n{actual.to_string()}"
            )
