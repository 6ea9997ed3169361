"""Drafts of the public validation datasets (../shared/validation-data): what the draft
guesses, and that a draft without TODOs imports with the counts their SOURCE.md states."""

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from crmreview.importing import import_files
from crmreview.importing.draft import TODO, draft_mapping
from tests.conftest import VALIDATION_DATA
from tests.importing.files import rows as _rows

MAVEN = VALIDATION_DATA / "maven_crm_sales_opportunities"
SALESFORCE = VALIDATION_DATA / "salesforce_demo_prodly"
OLIST = VALIDATION_DATA / "olist_marketing_funnel"
TELCO = VALIDATION_DATA / "telco_customer_churn"
RETAIL = VALIDATION_DATA / "online_retail_ii_2009_2010"

pytestmark = pytest.mark.skipif(
    not VALIDATION_DATA.is_dir(),
    reason=f"validation data not found at {VALIDATION_DATA} (set CRM_REVIEW_VALIDATION_DATA)",
)


def _draft(tmp_path, files):
    draft = draft_mapping(files, name="draft")
    path = tmp_path / "draft.yml"
    path.write_text(draft.text, encoding="utf-8")
    return draft, yaml.safe_load(draft.text), path


def test_a_draft_of_maven_imports_its_8800_deals_85_accounts_and_35_agents(tmp_path):
    files = [MAVEN / "sales_pipeline.csv", MAVEN / "accounts.csv", MAVEN / "sales_teams.csv"]
    draft, data, path = _draft(tmp_path, files)
    assert draft.todos == []
    assert [(f["file"], f["table"]) for f in data["feeds"]] == [
        ("sales_pipeline.csv", "deals"),
        ("accounts.csv", "customers"),
        ("sales_teams.csv", "reps"),
    ]
    assert data["stage_map"] == {"Prospecting": "lead", "Engaging": "qualified", "Won": "won", "Lost": "lost"}
    assert data["feeds"][0]["columns"] == {
        "deal_id": "opportunity_id",
        "customer_id": "account",
        "owner_rep_id": "sales_agent",
        "pipeline": "product",
        "stage": "deal_stage",
        "amount": "close_value",
        "created_at": "engage_date",
        "closed_at": "close_date",
    }
    db = tmp_path / "w.duckdb"
    results = import_files(files, db, mapping=path)
    assert [(Path(r.file).name, r.table, r.rows_read, r.rows_loaded, r.rows_rejected) for r in results] == [
        ("sales_teams.csv", "reps", 35, 35, 0),
        ("accounts.csv", "customers", 85, 85, 0),
        ("sales_pipeline.csv", "deals", 8800, 8800, 0),
    ]
    # SOURCE.md: Won 4,238 · Lost 2,473 · Engaging 1,589 · Prospecting 500; won value 10,005,534
    assert _rows(db, "select outcome, count(*) from deals group by 1 order by 2 desc") == [
        ("won", 4238),
        ("lost", 2473),
        ("open", 1589 + 500),
    ]
    assert _rows(db, "select sum(amount)::bigint from deals where outcome = 'won'") == [(10005534,)]


def test_a_draft_of_the_salesforce_schema_export_imports_741_opportunities_and_183_accounts(tmp_path):
    files = [SALESFORCE / "Opportunity.csv", SALESFORCE / "Account.csv"]
    draft, data, path = _draft(tmp_path, files)
    assert draft.todos == []
    # the key is Guid, as in the salesforce_prodly example (Opportunity's Id is not what Account names)
    assert data["feeds"][0]["columns"]["deal_id"] == "Guid"
    db = tmp_path / "w.duckdb"
    results = import_files(files, db, mapping=path)
    assert sorted((r.table, r.rows_read, r.rows_loaded, r.rows_rejected) for r in results) == [
        ("customers", 183, 183, 0),
        ("deals", 741, 741, 0),
    ]
    # SOURCE.md: 202 of 308 closed deals won, worth 7,722,744.00; five #N/A amounts
    assert _rows(db, "select count(*), sum(amount) from deals where outcome = 'won'") == [(202, 7722744)]
    assert _rows(db, "select count(*) from deals where outcome <> 'open'") == [(308,)]
    assert _rows(db, "select count(*) from deals where amount is null") == [(5,)]


def test_a_draft_of_telco_imports_its_7043_customers_by_customer_id(tmp_path):
    draft, data, path = _draft(tmp_path, [TELCO / "Telco-Customer-Churn.csv"])
    assert draft.todos == []
    (feed,) = data["feeds"]
    assert (feed["table"], feed["columns"]) == ("customers", {"customer_id": "customerID"})
    (result,) = import_files([TELCO / "Telco-Customer-Churn.csv"], tmp_path / "w.duckdb", mapping=path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (7043, 7043, 0)


def test_a_draft_of_olist_asks_what_the_leads_file_is(tmp_path):
    files = [OLIST / "olist_marketing_qualified_leads_dataset.csv", OLIST / "olist_closed_deals_dataset.csv"]
    draft, data, _ = _draft(tmp_path, files)
    # a list of leads has no stage column: the draft cannot tell it is deals, and says so
    assert data["feeds"][0]["table"] == TODO
    assert "a list of leads without a stage is deals with stage: {value: lead}" in draft.text
    # the closed deals give their sellers as customers (the example also reads them as won deals)
    assert (data["feeds"][1]["table"], data["feeds"][1]["columns"]) == (
        "customers",
        {"customer_id": "seller_id", "industry": "business_segment", "size_band": "lead_type"},
    )


@pytest.mark.slow
def test_a_draft_of_online_retail_sums_invoice_lines_into_orders(tmp_path):
    path = RETAIL / "online_retail_ii_2009_2010.csv.gz"
    draft, data, mapping = _draft(tmp_path, [path])
    assert draft.todos == []
    (feed,) = data["feeds"]
    assert (feed["table"], feed["combine"], feed["columns"]["amount"]) == (
        "orders",
        "sum",
        {"expr": "Quantity * Price"},
    )
    (result,) = import_files([path], tmp_path / "w.duckdb", mapping=mapping)
    # as with the example mapping: 525,461 lines, the 107,927 without a Customer ID rejected
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (525461, 525461 - 107927, 107927)
    assert _rows(tmp_path / "w.duckdb", "select sum(amount) from orders") == [(Decimal("8348208.56"),)]
