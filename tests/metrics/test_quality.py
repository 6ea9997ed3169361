"""The quality metric: its coverage of the canonical model, the empty warehouse, bad requests,
a real import with a reject, and the imported sample against the generator's manifest.
The hand-computed SQL cases are tests/sql/quality_warehouse and quality_empty_warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmreview import metrics
from crmreview.importing import import_files
from crmreview.metrics import MetricError, quality
from crmreview.periods import parse_period
from crmreview.schema import DATA_TABLES, TABLE_SPECS
from crmreview.warehouse import connect_read

PERIOD = parse_period("2026Q3")


def test_the_queries_cover_exactly_the_columns_keys_and_dates_of_the_canonical_model(empty_warehouse):
    result = quality.quality(empty_warehouse, PERIOD)
    assert [(e["table"], e["column"]) for e in result["completeness"]] == [
        (table, column.name) for table, spec in TABLE_SPECS.items() for column in spec.columns
    ]
    assert [(e["table"], e["key"]) for e in result["duplicate_ids"]] == [
        (table, ", ".join(spec.key)) for table, spec in TABLE_SPECS.items()
    ]
    assert [(e["table"], e["column"]) for e in result["date_span"]] == [
        (table, column.name)
        for table, spec in TABLE_SPECS.items()
        for column in spec.columns
        if column.kind in ("date", "timestamp")
    ]


def test_an_empty_warehouse_gives_zero_counts_and_null_shares(empty_warehouse):
    result = metrics.compute(empty_warehouse, "quality", PERIOD)
    assert {(e["rows"], e["non_null"], e["share_non_null"]) for e in result["completeness"]} == {(0, 0, None)}
    assert {(e["rows"], e["keys"], e["duplicates"], e["extra_rows"]) for e in result["duplicate_ids"]} == {(0, 0, 0, 0)}
    assert {(e["first_date"], e["last_date"], e["dated_rows"]) for e in result["date_span"]} == {(None, None, 0)}
    assert result["inferred_history"] == [
        {"origin": "inferred", "deals": 0, "share_of_deals": None},
        {"origin": "snapshots", "deals": 0, "share_of_deals": None},
    ]
    assert (result["rejects"], result["imports"], result["rejected_rows"]) == ([], [], 0)
    assert result["missing_inputs"] == list(DATA_TABLES)
    assert result["warnings"] == []
    frame = quality.rows(result)
    assert len(frame) == sum(len(spec.columns) for spec in TABLE_SPECS.values())
    assert quality.summary(result)[1:4] == ["imports: none", "rejected rows: 0", "duplicate ids: none"]


def test_the_hand_computed_warehouse_gives_its_duplicates_rejects_and_warnings(empty_warehouse):
    con = empty_warehouse
    con.execute(
        "insert into deals (deal_id, stage, outcome, created_at) values "
        "('D1', 'lead', 'open', '2026-07-02'), ('D1', 'lead', 'open', '2026-07-02'), ('D2', 'won', 'won', null)"
    )
    con.execute("insert into deal_history_origin values ('D2', 'inferred', 1)")
    con.execute(
        "insert into imports (import_id, file, sha256, adapter, target_table, rows_read, rows_loaded, "
        "rows_rejected, started_at, finished_at) values "
        "(1, 'deals.csv', 'x', 'canonical', 'deals', 4, 3, 1, '2026-10-01', '2026-10-01')"
    )
    con.execute("insert into rejects values (1, 'deals.csv', 5, 'outcome', 'maybe', 'not an outcome')")
    result = metrics.compute(con, "quality", PERIOD)
    deals = {e["column"]: e for e in result["completeness"] if e["table"] == "deals"}
    assert (deals["created_at"]["rows"], deals["created_at"]["non_null"]) == (3, 2)
    assert deals["created_at"]["share_non_null"] == pytest.approx(2 / 3)
    assert next(e for e in result["duplicate_ids"] if e["table"] == "deals") == {
        "table": "deals",
        "key": "deal_id",
        "rows": 3,
        "keys": 2,
        "duplicates": 1,
        "extra_rows": 1,
    }
    assert result["rejects"] == [
        {"file": "deals.csv", "table": "deals", "reason": "not an outcome", "rows": 1, "values": 1}
    ]
    assert result["inferred_history"][0] == {"origin": "inferred", "deals": 1, "share_of_deals": pytest.approx(0.5)}
    assert result["imports"][0]["share_rejected"] == 0.25 and result["imports"][0]["exported_at"] is None
    assert [w["code"] for w in result["warnings"]] == ["rejected_rows", "duplicate_ids", "history_inferred"]
    assert "deals.closed_at" in result["missing_inputs"] and "orders" in result["missing_inputs"]


def test_a_period_without_any_dated_row_is_flagged(empty_warehouse):
    empty_warehouse.execute("insert into orders values ('O1', 'C1', '2026-02-03', 10)")
    result = quality.quality(empty_warehouse, PERIOD)
    assert result["warnings"] == [
        {"code": "period_outside_data", "message": "no dated row falls in 2026Q3; the data span 2026-02-03..2026-02-03"}
    ]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"by": "rep"}, "metric 'quality' has no breakdowns; leave out --by"),
        ({"compare": "prev"}, "metric 'quality' takes no --compare: it has no comparison period"),
        ({"rule": "strict"}, "metric 'quality' takes no option 'rule'"),
    ],
)
def test_a_breakdown_a_comparison_or_a_funnel_option_is_a_clear_error(empty_warehouse, request_, message):
    with pytest.raises(MetricError) as error:
        metrics.compute(empty_warehouse, "quality", PERIOD, **request_)
    assert str(error.value) == message


def test_the_metric_function_refuses_a_breakdown_when_called_directly(empty_warehouse):
    with pytest.raises(ValueError, match="quality breakdown 'team' is not one of"):
        quality.quality(empty_warehouse, PERIOD, by="team")


def test_a_real_import_with_a_rejected_line_is_reported_per_file_and_reason(tmp_path: Path):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,order_date,amount\nO1,C1,2026-07-01,10\nO2,,2026-07-02,5\n")
    db = tmp_path / "w.duckdb"
    import_files([path], db)
    with connect_read(db) as con:
        result = metrics.compute(con, "quality", PERIOD)
    assert result["rejects"] == [
        {"file": str(path), "table": "orders", "reason": "missing required value", "rows": 1, "values": 1}
    ]
    (entry,) = result["imports"]
    assert (entry["file"], entry["table"], entry["rows_read"], entry["rows_loaded"], entry["rows_rejected"]) == (
        str(path),
        "orders",
        2,
        1,
        1,
    )
    assert entry["share_rejected"] == 0.5
    orders = next(e for e in result["date_span"] if e["table"] == "orders")
    assert (orders["first_date"], orders["last_date"], orders["rows_in_period"]) == ("2026-07-01", "2026-07-01", 1)


def test_the_imported_sample_matches_the_generators_manifest(imported_sample):
    export = imported_sample(seed=11, size=0.5)
    with connect_read(export.db) as con:
        result = metrics.compute(con, "quality", parse_period(next(reversed(export.manifest["quarters"]))))
    manifest = export.manifest
    completeness = {(e["table"], e["column"]): e for e in result["completeness"]}
    created = completeness[("deals", "created_at")]
    assert created["rows"] == manifest["rows"]["deals"]
    assert created["non_null"] == manifest["rows"]["deals"] - manifest["deals_without_created_at"] > 0
    assert created["share_non_null"] == pytest.approx(created["non_null"] / created["rows"])
    assert completeness[("deals", "deal_id")]["share_non_null"] == 1.0
    assert {e["table"]: e["rows"] for e in result["duplicate_ids"]} == manifest["rows"]
    assert {e["table"]: e["duplicates"] for e in result["duplicate_ids"]} == dict.fromkeys(DATA_TABLES, 0)
    assert {e["table"]: e["rows_loaded"] for e in result["imports"]} == manifest["rows"]
    assert result["rejected_rows"] == 0 and result["rejects"] == []
    span = next(e for e in result["date_span"] if (e["table"], e["column"]) == ("deals", "created_at"))
    assert span["dated_rows"] == created["non_null"]
    assert span["first_date"] <= span["last_date"] <= manifest["end"]
    assert span["rows_after_as_of"] == 0
