"""The example mappings import the public datasets in ../shared/validation-data with the
counts and totals their SOURCE.md states (computed there independently of crm-review)."""

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from crmreview.importing import import_files
from crmreview.importing.mapping import ADAPTERS_DIR
from crmreview.warehouse import connect_read
from tests.conftest import VALIDATION_DATA

EXAMPLES = ADAPTERS_DIR / "examples"
MAVEN = VALIDATION_DATA / "maven_crm_sales_opportunities"
SALESFORCE = VALIDATION_DATA / "salesforce_demo_prodly"
RETAIL = VALIDATION_DATA / "online_retail_ii_2009_2010"
OLIST = VALIDATION_DATA / "olist_marketing_funnel"

pytestmark = pytest.mark.skipif(
    not VALIDATION_DATA.is_dir(),
    reason=f"validation data not found at {VALIDATION_DATA} (set CRM_REVIEW_VALIDATION_DATA)",
)


def _rows(db, sql, params=None):
    with connect_read(db) as con:
        return con.execute(sql, params).fetchall()


# ----------------------------------------------------------------------------- Maven


@pytest.fixture(scope="module")
def maven(validation_import):
    imported = validation_import("maven")  # shared read-only (tests/conftest.py)
    return imported.db, imported.results


def test_maven_pipeline_imports_every_row_with_its_stage_counts(maven):
    db, results = maven
    assert [(Path(r.file).name, r.table, r.rows_read, r.rows_loaded, r.rows_rejected) for r in results] == [
        ("sales_teams.csv", "reps", 35, 35, 0),
        ("accounts.csv", "customers", 85, 85, 0),
        ("sales_pipeline.csv", "deals", 8800, 8800, 0),
    ]
    # SOURCE.md: Won 4,238 · Lost 2,473 · Engaging 1,589 · Prospecting 500
    assert _rows(db, "select stage, outcome, count(*) from deals group by all order by 3 desc") == [
        ("won", "won", 4238),
        ("lost", "lost", 2473),
        ("qualified", "open", 1589),
        ("lead", "open", 500),
    ]


def test_maven_won_value_win_rate_and_offices_match_the_source(maven):
    db, _ = maven
    # SOURCE.md: sum of close_value for Won = 10,005,534; win rate 63.15 %
    assert _rows(db, "select sum(amount) from deals where outcome = 'won'") == [(Decimal("10005534.00"),)]
    ((won, lost),) = _rows(
        db, "select count(*) filter (outcome = 'won'), count(*) filter (outcome = 'lost') from deals"
    )
    assert round(won / (won + lost), 4) == 0.6315
    # Central 1,629 / 3,512 · East 1,171 / 2,291 · West 1,438 / 2,997
    assert _rows(
        db,
        "select reps.region, count(*) filter (outcome = 'won'), count(*) from deals "
        "join reps on deals.owner_rep_id = reps.rep_id group by 1 order by 1",
    ) == [("Central", 1629, 3512), ("East", 1171, 2291), ("West", 1438, 2997)]
    # 1,425 open deals have no account; Prospecting deals have no engage_date (created_at)
    assert _rows(
        db, "select count(*) filter (customer_id is null), count(*) filter (created_at is null) from deals"
    ) == [(1425, 500)]
    assert _rows(db, "select min(created_at)::date::varchar, max(closed_at)::date::varchar from deals") == [
        ("2016-10-20", "2017-12-31")
    ]
    # 30 of the 35 agents appear in the pipeline
    assert _rows(
        db, "select count(distinct owner_rep_id) from deals where owner_rep_id in (select rep_id from reps)"
    ) == [(30,)]


def test_maven_single_snapshot_history_is_inferred_and_flagged(maven):
    db, _ = maven
    assert _rows(db, "select origin, count(*) from deal_history_origin group by 1") == [("inferred", 8800)]
    # open deals: their stage at created_at (or at the snapshot); closed ones: lead, then won/lost
    assert _rows(db, "select stage, count(*) from deal_stage_history group by 1 order by 1") == [
        ("lead", 500 + 4238 + 2473),
        ("lost", 2473),
        ("qualified", 1589),
        ("won", 4238),
    ]


def test_maven_excel_resaved_variant_reads_month_first_dates_to_the_same_values(tmp_path):
    original, variant = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    import_files([MAVEN / "sales_pipeline.csv"], original, mapping=EXAMPLES / "maven_crm.yml")
    import_files([MAVEN / "variant_excel_resaved" / "sales_pipeline.csv"], variant, mapping=EXAMPLES / "maven_crm.yml")
    sql = "select deal_id, stage, amount, created_at, closed_at from deals order by deal_id"
    assert _rows(original, sql) == _rows(variant, sql)


# ----------------------------------------------------------------------------- Salesforce


@pytest.fixture(scope="module")
def salesforce(validation_import):
    imported = validation_import("salesforce")  # shared read-only (tests/conftest.py)
    return imported.db, imported.results


def test_salesforce_schema_export_imports_741_opportunities_and_183_accounts(salesforce):
    db, results = salesforce
    assert [(r.table, r.rows_read, r.rows_loaded, r.rows_rejected) for r in results] == [
        ("customers", 183, 183, 0),
        ("deals", 741, 741, 0),
    ]
    # SOURCE.md stage counts, folded by the standard sales process
    assert _rows(db, "select stage, count(*) from deals group by 1 order by 2 desc") == [
        ("qualified", 154 + 22 + 33 + 11 + 7),
        ("won", 202),
        ("proposal", 160 + 10),
        ("lost", 106),
        ("lead", 36),
    ]


def test_salesforce_won_amount_win_rate_and_nulls_match_the_source(salesforce):
    db, _ = salesforce
    # Sum of Amount over Closed Won = 7,722,744.00; 202 / 308 won; 5 Amounts are #N/A
    assert _rows(db, "select sum(amount) from deals where outcome = 'won'") == [(Decimal("7722744.00"),)]
    assert _rows(db, "select count(*) filter (outcome = 'won'), count(*) filter (outcome <> 'open') from deals") == [
        (202, 308)
    ]
    assert _rows(db, "select count(*) from deals where amount is null") == [(5,)]
    # every opportunity points at an account; 149 distinct accounts are used
    assert _rows(
        db,
        "select count(distinct customer_id), count(*) filter (customer_id not in (select customer_id from customers)) from deals",
    ) == [(149, 0)]
    # a close date of an open deal is its expected close date (the far-future ones): only
    # the 308 closed deals keep one
    assert _rows(db, "select count(closed_at), max(closed_at)::date < date '2023-01-01' from deals") == [(308, True)]


# ----------------------------------------------------------------------------- Online Retail II


@pytest.fixture(scope="module")
def retail(validation_import):
    imported = validation_import("retail")  # shared read-only (tests/conftest.py)
    return imported.db, imported.results


@pytest.fixture(scope="module")
def retail_source():
    con = duckdb.connect()
    con.execute(
        "create table lines as select *, row_number() over () + 1 as line from read_parquet($p)",
        {"p": str(RETAIL / "online_retail_ii_2009_2010.parquet")},
    )
    yield con
    con.close()


@pytest.mark.slow
def test_online_retail_lines_sum_into_orders_and_every_line_is_accounted_for(retail, retail_source):
    db, results = retail
    # 525,461 lines; the 107,927 without a Customer ID are rejected, each with its reason
    assert {(r.table, r.rows_read, r.rows_loaded, r.rows_rejected) for r in results} == {
        ("orders", 525461, 525461 - 107927, 107927),
        ("customers", 525461, 525461 - 107927, 107927),
    }
    assert _rows(db, "select reason, count(*) from rejects group by 1") == [("missing required value", 2 * 107927)]
    # 4,383 customers; the loaded invoices and those of the rejected lines make the 28,816
    assert _rows(db, "select count(distinct customer_id) from orders") == [(4383,)]
    assert _rows(db, "select count(*) from customers") == [(4383,)]
    (orders,) = _rows(db, "select count(*) from orders")[0]
    (guest_invoices,) = retail_source.execute(
        'select count(distinct Invoice) from lines where "Customer ID" is null'
    ).fetchall()[0]
    assert orders + guest_invoices == 28816


@pytest.mark.slow
def test_online_retail_order_amounts_add_up_to_the_source_total(retail, retail_source):
    db, _ = retail
    # SOURCE.md: Σ Quantity × Price over all lines = 9,539,484.63; the rejected lines hold the rest
    (loaded,) = _rows(db, "select sum(amount) from orders")[0]
    rejected_lines = [line for (line,) in _rows(db, "select distinct line from rejects")]
    retail_source.register("rejected", __import__("pandas").DataFrame({"line": rejected_lines}))
    (rejected,) = retail_source.execute(
        "select sum(Quantity * Price::decimal(18, 3)) from lines where line in (select line from rejected)"
    ).fetchall()[0]
    # orders hold cents (DECIMAL(18,2)); a few prices have a third decimal (0.001), so each
    # order is its lines' exact sum rounded to the cent
    (exact_loaded, rounded_loaded) = retail_source.execute(
        "select sum(total), sum(round(total, 2)) from (select sum(Quantity * Price::decimal(18, 3)) as total "
        'from lines where "Customer ID" is not null group by Invoice)'
    ).fetchall()[0]
    assert loaded == rounded_loaded == Decimal("8348208.56")
    assert round(exact_loaded + rejected, 2) == Decimal("9539484.63")
    # cancellations (C…) are orders with a negative amount; dates run over the source's range
    assert _rows(db, "select count(*) > 0 from orders where order_id like 'C%' and amount < 0") == [(True,)]
    assert _rows(db, "select min(order_date)::varchar, max(order_date)::varchar from orders") == [
        ("2009-12-01", "2010-12-09")
    ]
    # customers with >= 1 non-cancelled invoice: 4,314, of whom 2,893 have more than one
    assert _rows(
        db,
        "select count(*), count(*) filter (n > 1) from (select customer_id, count(*) as n from orders "
        "where order_id not like 'C%' group by 1)",
    ) == [(4314, 2893)]


# ----------------------------------------------------------------------------- Olist


@pytest.fixture(scope="module")
def olist(validation_import):
    imported = validation_import("olist")  # shared read-only (tests/conftest.py)
    return imported.db, imported.results


def test_olist_funnel_imports_8000_leads_of_which_842_are_won(olist):
    db, results = olist
    assert all(r.rows_rejected == 0 for r in results)
    assert _rows(db, "select outcome, count(*) from deals group by 1 order by 1") == [("open", 7158), ("won", 842)]
    # SOURCE.md: MQL -> won conversion 10.52 % (842 / 8,000 = 0.10525)
    assert _rows(db, "select count(*) filter (outcome = 'won') / count(*) from deals") == [(0.10525,)]
    assert _rows(
        db,
        "select min(created_at)::date::varchar, max(created_at)::date::varchar, "
        "min(closed_at)::date::varchar, max(closed_at)::date::varchar from deals",
    ) == [
        ("2017-06-14", "2018-05-31", "2017-12-05", "2018-11-14"),
    ]


def test_olist_conversion_by_origin_matches_the_source(olist):
    db, _ = olist
    rows = _rows(
        db,
        "select coalesce(source_channel, '(blank)'), count(*), count(*) filter (outcome = 'won') "
        "from deals group by 1 order by 2 desc, 1",
    )
    assert rows == [
        ("organic_search", 2296, 271),
        ("paid_search", 1586, 195),
        ("social", 1350, 75),
        ("unknown", 1099, 179),
        ("direct_traffic", 499, 56),
        ("email", 493, 15),
        ("referral", 284, 24),
        ("other", 150, 4),
        ("display", 118, 6),
        ("other_publicities", 65, 3),
        ("(blank)", 60, 14),
    ]


def test_olist_history_has_a_lead_row_per_lead_and_a_won_row_per_closed_deal(olist):
    db, _ = olist
    assert _rows(db, "select stage, count(*) from deal_stage_history group by 1 order by 1") == [
        ("lead", 8000),
        ("won", 842),
    ]
    # days from first contact to won: median 14, max 427, one deal won 2 days before first contact
    assert _rows(
        db,
        "select median(date_diff('day', created_at::date, closed_at::date)), "
        "max(date_diff('day', created_at::date, closed_at::date)), "
        "count(*) filter (closed_at::date < created_at::date) from deals where outcome = 'won'",
    ) == [(14.0, 427, 1)]
    assert _rows(db, "select count(distinct owner_rep_id) from deals") == [(22,)]
    assert _rows(db, "select count(*) from deal_history_origin") == [(0,)]
