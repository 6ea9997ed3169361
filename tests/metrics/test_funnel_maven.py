"""The Maven CRM export (Prospecting > Engaging > Won / Lost) has the funnel lead, qualified,
won with no settings file; its counts are computed here with pandas from the source CSV."""

from __future__ import annotations

import pandas as pd
import pytest

from crmreview.metrics import compute
from crmreview.periods import parse_period
from crmreview.warehouse import connect_read
from tests.conftest import VALIDATION_DATA

MAVEN = VALIDATION_DATA / "maven_crm_sales_opportunities"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MAVEN.is_dir(), reason=f"validation data not found at {MAVEN}"),
]


@pytest.fixture(scope="module")
def maven_db(validation_import):
    return validation_import("maven").db  # shared read-only (tests/conftest.py)


def test_the_maven_funnel_is_lead_qualified_won_with_the_counts_of_the_export(maven_db):
    source = pd.read_csv(MAVEN / "sales_pipeline.csv", parse_dates=["engage_date", "close_date"])
    cohort = source[source["engage_date"].dt.year == 2017]
    # lost deals carry only 'Lost': their furthest known stage is the first one
    lead = len(cohort)
    qualified = int(cohort["deal_stage"].isin(["Engaging", "Won"]).sum())
    won = int((cohort["deal_stage"] == "Won").sum())
    assert (lead, qualified, won) == (7942, 5524, 3988)
    with connect_read(maven_db) as con:
        result = compute(con, "funnel", parse_period("2017"))
    assert [(s["stage"], s["reached"]) for s in result["stages"]] == [
        ("lead", lead),
        ("qualified", qualified),
        ("won", won),
    ]
    assert [s["conversion"] for s in result["stages"]] == [qualified / lead, won / qualified, None]
    assert result["unused_stages"] == ["proposal"]
    assert "stage_unused" in {w["code"] for w in result["warnings"]}


def test_every_maven_product_is_a_pipeline_with_its_own_funnel(maven_db):
    source = pd.read_csv(MAVEN / "sales_pipeline.csv", parse_dates=["engage_date"])
    cohort = source[source["engage_date"].dt.year == 2017]
    expected = {
        product: [
            ("lead", len(deals)),
            ("qualified", int(deals["deal_stage"].isin(["Engaging", "Won"]).sum())),
            ("won", int((deals["deal_stage"] == "Won").sum())),
        ]
        for product, deals in cohort.groupby("product")
    }
    with connect_read(maven_db) as con:
        result = compute(con, "funnel", parse_period("2017"), by="pipeline")
    assert {g["group"]: [(s["stage"], s["reached"]) for s in g["stages"]] for g in result["groups"]} == expected
    assert expected["GTK 500"] == [("lead", 38), ("qualified", 28), ("won", 14)]
