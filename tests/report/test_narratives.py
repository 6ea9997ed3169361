"""Every narrative template against its numbers: equal values never read as a best and a
worst or as a rise or fall, and empty inputs give a sentence saying so, never a misleading 0.

(The funnel, tier and summary narratives have their own cases in test_reports.py,
test_tiers_report.py and test_summary.py.)"""

from __future__ import annotations

import pytest

from crmreview.charts import ChartContext
from crmreview.report.sections.churn import churn_sentences
from crmreview.report.sections.followup import followup_sentences
from crmreview.report.sections.funnel_detail import detail_sentences
from crmreview.report.sections.repurchase import repurchase_sentences
from crmreview.report.sections.retention import retention_sentences

EN = ChartContext("2026Q3", "2026Q2", "2026-09-30", "en")
ZH = ChartContext("2026Q3", "2026Q2", "2026-09-30", "zh")


def channel(name, won_share, small=False):
    return {"group": name, "small_group": small, "stages": [{"share_of_first": 1.0}, {"share_of_first": won_share}]}


# -- funnel detail: channels -------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_channels_won_at_the_same_rate_have_no_best_and_worst(lang):
    current = {"period": {"label": "2026Q3"}, "lost_reasons": [], "stale_deals": 0}
    # 30.2 % and 29.8 % both read 30 %
    said = detail_sentences(current, {"groups": [channel("Referral", 0.302), channel("Web", 0.298)]}, lang, not_set="-")
    assert said == [
        {
            "en": "Of the deals created in 2026Q3, those of all 2 channels were won 30% of the time.",
            "zh": "2026Q3 新建的商机中，2 个渠道的赢单比例均为 30%。",
        }[lang]
    ]


def test_channels_that_differ_name_the_higher_one_first():
    current = {"period": {"label": "2026Q3"}, "lost_reasons": [], "stale_deals": 0}
    groups = [channel("Web", 0.1), channel("Referral", 0.4), channel("Tiny", 0.9, small=True)]
    (said,) = detail_sentences(current, {"groups": groups}, "zh", not_set="-")
    assert said == "2026Q3 新建的商机中，来自Referral的赢单比例为 40%，来自Web的仅 10%。"


def test_no_lost_deal_no_channel_and_no_stale_deal_say_nothing_rather_than_zero():
    current = {"period": {"label": "2026Q3"}, "lost_reasons": [], "stale_deals": 0}
    assert detail_sentences(current, {"groups": []}, "en", not_set="-") == []


# -- follow-up: teams, empty ----------------------------------------------------------------------


def followup_result(**overrides):
    base = {
        "customers": 10,
        "compliance": 0.5,
        "tiers": [{"tier": "A", "customers": 4, "cadence_days": 7, "compliance": 0.5, "pool_candidates": 0}],
        "reps": [],
        "never_contacted": 0,
        "pool_candidates": 0,
        "pool_days": 90,
        "ownership_conflicts": 0,
        "attainment": 0.8,
        "target_won_amount": 800.0,
        "target_amount": 1000.0,
        "teams": [{"team": "East", "attainment": 0.8}, {"team": "West", "attainment": 0.8}],
    }
    return {**base, **overrides}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_teams_at_the_same_attainment_have_no_best_and_lowest(lang):
    said = followup_sentences(followup_result(), None, EN if lang == "en" else ZH)[-1]
    assert {"en": "all 2 teams reached 80%.", "zh": "2 个团队的达成率均为 80%。"}[lang] in said
    assert "best" not in said and "最好" not in said


def test_teams_that_differ_name_the_best_and_the_lowest():
    teams = [{"team": "East", "attainment": 0.9}, {"team": "West", "attainment": 0.6}]
    said = followup_sentences(followup_result(teams=teams), None, EN)[-1]
    assert said.endswith("; best team East (90%), lowest West (60%).")


def test_equal_a_tier_compliance_is_stated_as_the_comparison_value_not_a_change():
    previous = followup_result()
    said = followup_sentences(followup_result(), previous, EN)[0]
    assert said.endswith("; for A customers it was 50% at the end of 2026Q2.")
    assert "rose" not in said and "fell" not in said


def test_no_customers_and_no_targets_say_so():
    empty = followup_result(customers=0, attainment=None, teams=[])
    assert followup_sentences(empty, None, EN) == [
        "No customers are known at 2026-09-30, so there is no follow-up to check.",
        "No sales targets overlap 2026Q3.",
    ]


# -- repurchase -------------------------------------------------------------------------------------


def repurchase_result(**overrides):
    base = {
        "customers_purchasing": 1268,
        "repeat_rate": 0.25,
        "returning_rate": 0.5,
        "returning_customers": 634,
        "returning_revenue_share": 0.6,
        "net_revenue": 10_000.0,
        "purchase_gaps": 0,
        "median_gap_days": None,
    }
    return {**base, **overrides}


def test_an_equal_repeat_rate_is_given_as_the_comparison_value_without_a_direction():
    said = repurchase_sentences(repurchase_result(), repurchase_result(), EN)
    assert "(2026Q2: 25%)" in said[0]
    assert not any(word in " ".join(said) for word in ("rose", "fell", "up from", "down from"))


def test_nobody_buying_says_so_and_no_gap_without_gaps():
    assert repurchase_sentences(repurchase_result(customers_purchasing=0), None, ZH) == ["2026Q3 没有客户购买。"]


# -- retention ----------------------------------------------------------------------------------------


def test_nobody_in_the_base_period_means_no_revenue_to_retain():
    current = {"base_period": {"label": "2026Q2"}, "base_customers": 0, "cohorts": []}
    assert retention_sentences(current, EN) == ["Nobody bought in 2026Q2, so there is no revenue to retain."]


def test_equal_cohorts_name_the_latest_as_best_with_the_shared_share():
    cohorts = [
        {
            "cohort": month,
            "customers": 10,
            "is_data_start": False,
            "months": [{"customers": 10, "share": 1.0}, {"customers": 3, "share": 0.3}],
        }
        for month in ("2026-07", "2026-08")
    ]
    current = {"base_period": {"label": "2026Q2"}, "base_customers": 0, "cohorts": cohorts}
    said = retention_sentences(current, EN)[1]
    # both cohorts kept 30 %: the overall share and the best cohort's share are the same number
    assert "30% bought again" in said and "(30%)" in said


# -- churn --------------------------------------------------------------------------------------------


def test_nobody_having_bought_gives_one_sentence():
    assert churn_sentences({"customers": 0}, None, EN) == [
        "Nobody has made a purchase up to 2026-09-30, so there are no lifecycle states to show."
    ]


def test_an_equal_churn_rate_is_given_as_the_comparison_value_without_a_direction():
    states = [
        {"state": s, "customers": n, "comparison_customers": n}
        for s, n in (("new", 1), ("active", 5), ("dormant", 2), ("churned", 2))
    ]
    current = {
        "period": {"start": "2026-07-01"},
        "customers": 10,
        "states": states,
        "start_customers": 8,
        "churned_customers": 2,
        "churn_rate": 0.25,
        "flows": [],
        "thresholds": {"risk_gap_factor": 1.5, "churn_days": 180},
        "at_risk_customers": 0,
    }
    said = churn_sentences(current, {"churn_rate": 0.25}, EN)
    assert "(2026Q2: 25%)" in said[1] and "25%" in said[1]
    assert not any(word in " ".join(said) for word in ("rose", "fell", "up from", "down from"))
