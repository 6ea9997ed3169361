"""The invariants written in the metric queries (``-- invariant:`` lines, see
tests/tools/invariants.py) hold on every SQL case that runs the query and on the sample
warehouse for the periods 2026Q2 and 2026Q3, with the parameters the metrics commands use."""

from __future__ import annotations

import contextlib
import io
import re
from collections import defaultdict
from unittest import mock

import pytest
import yaml

from crmreview import cli, config, metrics, queries, warehouse
from tests.metrics.test_sql_cases import CASES_DIR, _load_inputs
from tests.tools.invariants import Invariant, all_invariants, describe, first_violation, invariants_of

INVARIANTS = all_invariants()
BY_QUERY: dict[str, list[Invariant]] = defaultdict(list)
for _invariant in INVARIANTS:
    BY_QUERY[_invariant.query].append(_invariant)

SAMPLE_PERIODS = ("2026Q2", "2026Q3")
METRIC_COMMANDS = metrics.NAMES
# Queries the metrics commands do not run: their parameters are taken from a query they do run
# (the names the query uses), plus any extra values.
DERIVED = {
    "metrics/tiers/customer_tiers": ("metrics/tiers/pareto_curve", {}),
    "metrics/tiers/customer_scorecard": ("metrics/tiers/distribution", {}),
    "metrics/followup/customers": ("metrics/followup/pool_candidates", {}),
    "metrics/churn/recency_distribution": ("metrics/churn/lifecycle_states", {"bin_days": 30}),
}


def _case_runs():
    for case_file in sorted(CASES_DIR.glob("*/case.yaml")):
        spec = yaml.safe_load(case_file.read_text(encoding="utf-8"))
        for index, run in enumerate(spec["runs"]):
            if run["query"] in BY_QUERY:
                inputs = CASES_DIR / spec.get("inputs_from", case_file.parent.name)
                yield pytest.param(inputs, run, id=f"{case_file.parent.name}-{index}-{run['expected']}")


def _violations(con, query: str, params: dict, where: str) -> list[str]:
    sql = queries.sql_text(query)
    found = []
    for invariant in BY_QUERY[query]:
        row = first_violation(con, sql, invariant.expression, params)
        if row is not None:
            found.append(describe(invariant, row, where))
    return found


@pytest.mark.parametrize(("inputs", "run"), list(_case_runs()))
def test_invariants_hold_on_the_sql_case(empty_warehouse, inputs, run):
    _load_inputs(empty_warehouse, inputs)
    failures = _violations(empty_warehouse, run["query"], run["params"], f"tests/sql/{inputs.name} {run['params']}")
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def sample_runs(imported_sample):
    """The warehouse of the sample and every (query, params) the metrics commands run on it."""
    db = imported_sample(seed=11, size=0.5).db
    calls: list[tuple[str, dict]] = []
    real_run = queries.run

    def recording_run(con, name, params):
        calls.append((name, dict(params)))
        return real_run(con, name, params)

    with mock.patch.object(queries, "run", recording_run):
        for command in METRIC_COMMANDS:
            for period in SAMPLE_PERIODS:
                for extra in ([], ["--by", "rep"]) if metrics.load(command).BREAKDOWNS else ([],):
                    argv = ["metrics", command, "--period", period, *extra, "--format", "json", "--db", str(db)]
                    with contextlib.redirect_stdout(io.StringIO()):
                        assert cli.main(argv) == 0, argv
    for query, (source, extra) in DERIVED.items():
        used = set(re.findall(r"\$(\w+)", queries.sql_text(query)))
        calls += [
            (query, {k: v for k, v in {**params, **extra}.items() if k in used})
            for name, params in list(calls)
            if name == source
        ]
    return db, calls


@pytest.mark.parametrize("query", sorted(BY_QUERY))
def test_invariants_hold_on_the_sample_warehouse(sample_runs, query):
    db, calls = sample_runs
    runs = [params for name, params in calls if name == query]
    assert runs, f"the metrics commands never run {query} on the sample"
    with warehouse.connect_read(db) as con:
        failures = [
            failure for params in runs for failure in _violations(con, query, params, f"the sample with {params}")
        ]
    assert not failures, "\n".join(failures)


def test_a_false_invariant_is_reported_with_its_file_and_a_violating_row(empty_warehouse):
    _load_inputs(empty_warehouse, CASES_DIR / "funnel_q3")
    params = {
        "period_starts": ["2026-07-01"],
        "period_ends": ["2026-09-30"],
        "as_of_dates": ["2026-09-30"],
        "as_of": "2026-09-30",
        "by": "all",
        "tier_a_share": 0.8,
        "tier_b_share": 0.95,
        "value_window_months": 12,
        "pipeline": None,
        "only_group": None,
    }
    sql = queries.sql_text("metrics/funnel/closed")
    assert (
        first_violation(empty_warehouse, sql, "count_closed_deals = count_won_deals + count_lost_deals", params) is None
    )
    wrong = Invariant("metrics/funnel/closed", "count_closed_deals = count_won_deals")
    row = first_violation(empty_warehouse, sql, wrong.expression, params)
    assert row is not None
    assert (row["count_closed_deals"], row["count_won_deals"], row["count_lost_deals"]) == (4, 1, 3)
    message = describe(wrong, row, "funnel_q3")
    assert message.startswith("queries/metrics/funnel/closed.sql: invariant `count_closed_deals = count_won_deals`")


def test_an_invariant_continued_on_indented_comment_lines_is_read_whole(tmp_path):
    (tmp_path / "metrics").mkdir()
    path = tmp_path / "metrics" / "q.sql"
    path.write_text(
        "-- grain: one row.\n"
        "-- invariant: a <= b\n"
        "-- invariant: sum(a) over ()\n"
        "--   = 3\n"
        "-- invariant (not checked): a is prime.\n"
        "--   more prose\n"
        "select 1 as a, 2 as b\n"
    )
    found = invariants_of(path, tmp_path)
    assert found == [Invariant("metrics/q", "a <= b"), Invariant("metrics/q", "sum(a) over () = 3")]


def test_every_invariant_in_the_metric_queries_is_checked_or_marked_not_checked():
    old_form = [
        str(path)
        for path in sorted((config.QUERIES_DIR / "metrics").rglob("*.sql"))
        if "-- invariants:" in path.read_text(encoding="utf-8")
    ]
    assert not old_form, f"'-- invariants:' prose is not checked; write '-- invariant:' lines: {old_form}"
    assert len(INVARIANTS) >= 40
    assert len(BY_QUERY) >= 24
