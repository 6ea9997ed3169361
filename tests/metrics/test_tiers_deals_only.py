"""Tiers on a deals-only warehouse: the Maven CRM export (../shared/validation-data/) holds
85 accounts without a created date and 8,800 deals, 4,238 of them won, and no orders.

The expected numbers were computed with pandas from sales_pipeline.csv and accounts.csv,
outside crm-review: an account is known at the as-of date when one of its deals has an
engage_date (else a close_date) on or before it; its value is the close_value of its Won
deals closed in the 12 months to the as-of date; ABC at 80 % / 95 % in whole dollars.
"""

from __future__ import annotations

import pytest

from crmreview.metrics.followup import followup
from crmreview.metrics.tiers import tiers
from crmreview.periods import parse_period
from crmreview.warehouse import connect_read
from tests.conftest import VALIDATION_DATA

MAVEN = VALIDATION_DATA / "maven_crm_sales_opportunities"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MAVEN.is_dir(), reason=f"validation data not found at {MAVEN}"),
]


@pytest.fixture(scope="module")
def maven(validation_import):
    with connect_read(validation_import("maven").db) as con:
        yield con


def _counts(result):
    return {t["tier"]: (t["customers"], t["value"]) for t in result["tiers"]}


def test_maven_accounts_are_tiered_on_won_deals_closed_in_the_twelve_months_to_2017_09_30(maven):
    # window 2016-10-01..2017-09-30: 3,042 won deals; all 85 accounts engaged by then
    result = tiers(maven, parse_period("2017Q3"))
    assert result["value_basis"] == "won_deals"
    assert (result["customers"], result["total_value"]) == (85, 7_203_038.0)
    assert _counts(result) == {"A": (58, 5_784_050.0), "B": (19, 1_082_079.0), "C": (8, 336_909.0)}


def test_maven_tiers_at_the_end_of_2017_hold_the_published_won_value(maven):
    # SOURCE.md: the Won deals' close_value sums to 10,005,534, all closed in 2017
    result = tiers(maven, parse_period("2017Q4"))
    assert (result["customers"], result["total_value"]) == (85, 10_005_534.0)
    assert _counts(result) == {"A": (59, 8_068_447.0), "B": (18, 1_458_818.0), "C": (8, 478_269.0)}


def test_before_any_maven_deal_closes_the_81_engaged_accounts_are_known_and_all_in_tier_c(maven):
    # by 2016-12-31, 81 of the 85 accounts have a deal engaged; the first close is 2017-03-01
    result = tiers(maven, parse_period("2016Q4"))
    assert (result["customers"], result["total_value"]) == (81, 0.0)
    assert _counts(result) == {"A": (0, 0.0), "B": (0, 0.0), "C": (81, 0.0)}


def test_maven_follow_up_covers_the_same_85_accounts_as_the_tiers_all_never_contacted(maven):
    # the export has no activities: every known account is overdue and never contacted
    result = followup(maven, parse_period("2017Q3"))
    assert (result["customers"], result["overdue"], result["never_contacted"]) == (85, 85, 85)
