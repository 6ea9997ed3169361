"""A custom column of a public dataset is a working breakdown: Olist's closed deals carry
``business_type`` and ``lead_behaviour_profile`` (a seller's DISC profile, several in one cell
such as ``cat, wolf``), which no canonical column takes. Imported with the example mapping they
travel as attributes of the deals and of the sellers (customers); the funnel and the tiers
broken down by them agree with counts taken from the CSV files with pandas."""

from collections import Counter

import pandas as pd
import pytest

from crmreview.metrics import compute
from crmreview.periods import parse_period
from crmreview.warehouse import connect_read
from tests.conftest import VALIDATION_DATA

OLIST = VALIDATION_DATA / "olist_marketing_funnel"
LEADS = OLIST / "olist_marketing_qualified_leads_dataset.csv"
CLOSED = OLIST / "olist_closed_deals_dataset.csv"
YEAR = parse_period("2018")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not OLIST.is_dir(), reason=f"validation data not found at {OLIST}"),
]


@pytest.fixture(scope="module")
def olist(validation_import):
    return validation_import("olist").db  # shared read-only (tests/conftest.py)


@pytest.fixture(scope="module")
def source():
    """The leads with their closed deal (if any), read with pandas from the CSV files."""
    leads = pd.read_csv(LEADS, dtype=str)
    closed = pd.read_csv(CLOSED, dtype=str)
    leads["created"] = pd.to_datetime(leads["first_contact_date"], format="%d-%m-%Y")
    closed["won"] = pd.to_datetime(closed["won_date"], format="%d-%m-%Y %H:%M")
    return leads.merge(closed, on="mql_id", how="left"), closed


def _groups(result, *keys):
    return {g["group"] or "": tuple(g[k] for k in keys) for g in result["groups"]}


def test_the_funnel_by_business_type_matches_the_csv(olist, source):
    deals, _ = source
    deals = deals.assign(group=deals["business_type"].fillna(""))
    cohort = deals[deals["created"].dt.year == 2018].groupby("group").size()
    won = deals[deals["won"].dt.year == 2018].groupby("group").size()
    expected = {g: (int(cohort.get(g, 0)), int(won.get(g, 0))) for g in set(cohort.index) | set(won.index)}
    assert expected[""][0] > 5000 and expected["reseller"][1] > 500  # the source is what we think
    with connect_read(olist) as con:
        result = compute(con, "funnel", YEAR, by="attr:business_type")
    assert _groups(result, "cohort_deals", "won") == expected


def test_sellers_count_under_each_behaviour_profile_in_the_tiers_as_in_the_csv(olist, source):
    _, closed = source
    tags = Counter()
    for cell in closed["lead_behaviour_profile"]:
        for tag in {t.strip() for t in str(cell).split(",")} if isinstance(cell, str) else {""}:
            tags[tag] += 1
    assert tags["cat"] == 407 + 8 + 3 + 1  # alone, and with wolf, eagle, shark
    with connect_read(olist) as con:
        result = compute(con, "tiers", YEAR, by="tag:lead_behaviour_profile")
    assert {g["group"] or "": g["customers"] for g in result["groups"]} == dict(tags)
    assert (
        sum(tags.values())
        > result["tiers"][0]["customers"] + result["tiers"][1]["customers"] + result["tiers"][2]["customers"]
    )
    assert "groups_overlap" in [w["code"] for w in result["warnings"]]


MAVEN = VALIDATION_DATA / "maven_crm_sales_opportunities"


@pytest.mark.skipif(not MAVEN.is_dir(), reason=f"validation data not found at {MAVEN}")
def test_the_maven_win_rate_by_industry_matches_the_csv(validation_import):
    db = validation_import("maven").db  # shared read-only (tests/conftest.py)
    deals = pd.read_csv(MAVEN / "sales_pipeline.csv", dtype=str).merge(
        pd.read_csv(MAVEN / "accounts.csv", dtype=str), on="account", how="left"
    )
    deals["sector"] = deals["sector"].fillna("")
    closed = deals[pd.to_datetime(deals["close_date"]).dt.year.eq(2017)]
    counts = closed.groupby(["sector", "deal_stage"]).size().unstack(fill_value=0)
    expected = {s: (int(r["Won"]), int(r["Lost"])) for s, r in counts.iterrows()}
    assert len(expected) == 10  # the accounts' sectors (closed deals all have an account)
    with connect_read(db) as con:
        result = compute(con, "funnel", parse_period("2017"), by="industry")
    assert {g: v for g, v in _groups(result, "won", "lost").items() if v != (0, 0)} == expected
    assert {g["group"]: g["win_rate"] for g in result["groups"]}["retail"] == pytest.approx(
        expected["retail"][0] / sum(expected["retail"])
    )
