"""The funnel SQL, through a real import, against the generator's own known totals."""

from decimal import Decimal

import pytest

from crmreview.metrics.funnel import funnel
from crmreview.periods import parse_period
from crmreview.warehouse import connect_read


@pytest.fixture(scope="module")
def sample_warehouse(imported_sample):
    export = imported_sample(seed=11, size=0.5)
    return export.db, export.manifest, export.results


def test_the_whole_sample_imports_without_a_reject(sample_warehouse):
    _, manifest, results = sample_warehouse
    loaded = {r.table: r.rows_loaded for r in results}
    assert loaded == manifest["rows"]
    assert all(r.rows_rejected == 0 for r in results)


def test_funnel_matches_the_generators_known_totals_in_every_quarter(sample_warehouse):
    db, manifest, _ = sample_warehouse
    assert len(manifest["quarters"]) == 8
    with connect_read(db) as con:
        for label, known in manifest["quarters"].items():
            result = funnel(con, parse_period(label))
            stages = {s["stage"]: s for s in result["stages"]}
            assert result["cohort_deals"] == known["cohort_deals"], label
            assert {s: stages[s]["reached"] for s in stages} == known["reached"], label
            assert {s: stages[s]["lost_at"] for s in stages} == known["lost_at"], label
            assert {s: stages[s]["open_at"] for s in stages} == known["open_at"], label
            assert (result["won"], result["lost"]) == (known["closed_won"], known["closed_lost"]), label
            won_amount = Decimal(str(round(result["avg_won_amount"] * result["won"], 2)))
            assert won_amount == Decimal(known["won_amount"]), label
