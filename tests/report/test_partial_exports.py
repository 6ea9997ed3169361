"""The public datasets are partial warehouses: each is imported through its example mapping,
every metric is computed and the report rendered, and what is missing is said, never shown as 0
(DESIGN "Partial exports")."""

import re

import pytest

from crmreview import metrics
from crmreview.periods import parse_period
from crmreview.report.render import render_report
from crmreview.warehouse import connect_read
from tests.conftest import VALIDATION_DATA, VALIDATION_IMPORTS

DATASETS = VALIDATION_IMPORTS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not VALIDATION_DATA.is_dir(), reason=f"validation data not found at {VALIDATION_DATA}"),
]


@pytest.fixture(scope="module")
def warehouses(validation_import):
    """Each dataset imported once (shared read-only): name -> (warehouse path, period)."""
    return {name: (validation_import(name).db, validation_import(name).period) for name in DATASETS}


def _all_metrics(db, period):
    with connect_read(db) as con:
        return {name: metrics.compute(con, name, parse_period(period)) for name in metrics.NAMES}


def _codes(result):
    return {w["code"] for w in result["warnings"]}


def _text(html: str) -> str:
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_an_orders_only_shop_has_no_funnel_or_follow_up_numbers(warehouses):
    results = _all_metrics(*warehouses["retail"])
    assert results["funnel"]["missing_inputs"] == ["deals"]
    assert results["funnel"]["cohort_deals"] is None and results["funnel"]["win_rate"] is None
    assert results["followup"]["missing_inputs"] == ["activities", "targets"]
    assert results["followup"]["compliance"] is None and results["followup"]["never_contacted"] is None
    assert results["repurchase"]["missing_inputs"] == [] and results["repurchase"]["customers_purchasing"] > 0
    assert "model_degenerate" in _codes(results["churn"])
    assert results["churn"]["data_span"]["first_date"] == "2009-12-01"


def test_a_deals_only_pipeline_names_the_missing_orders_and_the_inferred_history(warehouses):
    results = _all_metrics(*warehouses["maven"])
    for name in ("repurchase", "retention", "churn"):
        assert results[name]["missing_inputs"] == ["orders"], name
    assert results["repurchase"]["repeat_rate"] is None and results["churn"]["churn_rate"] is None
    assert "history_inferred" in _codes(results["funnel"])
    assert results["funnel"]["cohort_deals"] > 0
    # tiers on won deals: the 85 accounts are known through their deals
    assert results["tiers"]["customers"] == 85 and results["tiers"]["value_basis"] == "won_deals"


def test_a_funnel_without_lost_deals_or_amounts_warns_and_leaves_values_empty(warehouses):
    funnel = _all_metrics(*warehouses["olist"])["funnel"]
    assert {"no_lost_deals", "no_amounts"} <= _codes(funnel)
    assert funnel["missing_inputs"] == ["deals.amount"]
    assert funnel["avg_won_amount"] is None and funnel["pipeline_velocity"] is None


def test_deals_without_created_dates_keep_the_win_rate_and_drop_the_cohort(warehouses):
    funnel = _all_metrics(*warehouses["salesforce"])["funnel"]
    assert funnel["missing_inputs"] == ["deals.created_at"]
    assert funnel["cohort_deals"] is None and funnel["win_rate"] is not None


@pytest.fixture(scope="module")
def reports(warehouses, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    return {
        name: _text(render_report(period=period, db=db, out_dir=out / name).read_text(encoding="utf-8"))
        for name, (db, period) in warehouses.items()
        if name in ("retail", "maven", "olist")
    }


def test_the_shop_report_replaces_deal_sections_by_a_notice_and_shows_shop_numbers(reports):
    text = reports["retail"]
    assert "Funnel: not shown, because the imported data hold no deals" in text
    assert "Follow-up and allocation: not shown, because the imported data hold no activities" in text
    assert "Net revenue orders ¥" in text and "Repeat rate" in text and "Deals created" not in text
    assert "Win rate" not in text.split("Contents")[0]  # no pipeline card without deals
    assert "The imported data cover 2009-12-01 – 2010-12-09." in text
    assert "The BG/NBD model does not fit this data" in text
    assert not re.search(r"\b0 ?% of [\d,]+ customers followed up", text)


def test_the_pipeline_report_replaces_order_sections_by_a_notice(reports):
    text = reports["maven"]
    for title in ("Repurchase", "Retention", "Lifecycle and churn"):
        assert f"{title}: not shown, because the imported data hold no orders" in text, title
    assert "Deals created" in text and "Net revenue" not in text
    # the funnel has the export's own stages: no Proposal step every deal 'passed'
    assert "No deal in the data uses the configured stage(s) proposal" in text
    assert "Proposal" not in text


def test_a_win_rate_without_lost_deals_carries_its_warning(reports):
    text = reports["olist"]
    assert text.count("No deal in the data is lost, so the win rate counts won deals only") >= 2  # key numbers, funnel
    assert "No deal has an amount" in text
