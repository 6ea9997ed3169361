"""Parquet, gzip-compressed and tab-separated exports: read natively, every value through the
same readers, checks and rejects as a plain CSV. The files are written by DuckDB itself."""

import dataclasses
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from crmreview.config import DEFAULT_SETTINGS
from crmreview.importing import ImportFileError, import_files
from tests.importing.files import rows as _rows

# o1 ok; o2 no customer (rejected); o1 again (duplicate, rejected); o3 ok; o4 no date (or an
# unreadable one, as text)
ORDERS = """
    select * from (values
        (1, 'o1', 'c1', date '2025-09-09', 12.50::decimal(18, 2), '2025-09-09'),
        (2, 'o2', null, date '2025-09-10', 20.00, '2025-09-10'),
        (3, 'o1', 'c2', date '2025-09-11', 30.00, '2025-09-11'),
        (4, 'o3', 'c2', date '2025-09-12', 1234.56, '2025-09-12'),
        (5, 'o4', 'c3', null, 5.00, 'soon')
    ) as t(n, order_id, customer_id, order_date, amount, order_day)
    order by n
"""


def _copy(tmp_path, name: str, columns: str, options: str):
    path = tmp_path / name
    with duckdb.connect() as con:
        con.execute(f"copy (select {columns} from ({ORDERS})) to '{path}' ({options})")
    return path


def _check_orders(db, result, date_reason: str, names=("customer_id", "order_id", "order_date")):
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (5, 2, 3)
    assert _rows(db, "select order_id, customer_id, order_date, amount from orders order by order_id") == [
        ("o1", "c1", date(2025, 9, 9), Decimal("12.50")),
        ("o3", "c2", date(2025, 9, 12), Decimal("1234.56")),
    ]
    rejects = _rows(db, 'select line, "column", value, reason from rejects order by line')
    # row n of the file is line n + 1 (the header is line 1)
    assert [(line, column) for line, column, _, _ in rejects] == list(zip((3, 4, 6), names, strict=True))
    assert "first at line 2" in rejects[1][3]
    assert date_reason in rejects[2][3]


def test_a_parquet_export_loads_typed_values_and_rejects_rows_at_their_row_number(tmp_path):
    path = _copy(tmp_path, "orders.parquet", "order_id, customer_id, order_date, amount", "format parquet")
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db)
    assert result.encoding == "parquet"
    _check_orders(db, result, "missing")


def test_a_parquet_export_with_text_dates_goes_through_the_same_date_checks(tmp_path):
    path = _copy(tmp_path, "orders.parquet", "order_id, customer_id, order_day as order_date, amount", "format parquet")
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db)
    _check_orders(db, result, "expected a date")


def test_a_parquet_export_in_the_crm_layout_loads_through_a_mapping(tmp_path):
    path = _copy(
        tmp_path,
        "shop.parquet",
        'amount as "金额", order_id as "单号", customer_id as "客户", order_day as "日期"',
        "format parquet",
    )
    mapping = tmp_path / "m.yml"
    mapping.write_text(
        "name: shop\nfeeds:\n  - table: orders\n    columns:\n"
        "      order_id: 单号\n      customer_id: 客户\n      order_date: 日期\n      amount: 金额\n",
        encoding="utf-8",
    )
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db, mapping=mapping)
    _check_orders(db, result, "expected a date", ("客户", "单号", "日期"))


def test_a_parquet_timestamp_with_a_time_zone_is_converted_to_the_import_zone(tmp_path):
    path = tmp_path / "activities.parquet"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(
            "copy (select 'a1' as activity_id, 'c1' as customer_id, "
            "timestamptz '2026-06-03 01:20:00+00' as occurred_at) to '" + str(path) + "' (format parquet)"
        )
    db = tmp_path / "w.duckdb"
    import_files([path], db, timezone="Asia/Shanghai")
    assert _rows(db, "select occurred_at from activities") == [(datetime(2026, 6, 3, 9, 20),)]


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("orders.csv.gz", "format csv, header true, compression gzip"),
        ("orders.tsv", "format csv, header true, delimiter '\t'"),
        ("orders.tsv.gz", "format csv, header true, delimiter '\t', compression gzip"),
    ],
)
def test_compressed_and_tab_separated_exports_load_like_a_csv(tmp_path, name, options):
    path = _copy(tmp_path, name, "order_id, customer_id, order_day as order_date, amount", options)
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db)
    _check_orders(db, result, "expected a date")


def test_a_damaged_parquet_file_is_a_clear_error(tmp_path):
    path = tmp_path / "orders.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(ImportFileError, match=r"orders\.parquet: not a readable Parquet file"):
        import_files([path], tmp_path / "w.duckdb")


def test_a_parquet_value_longer_than_max_cell_chars_rejects_its_row_with_the_reason(tmp_path):
    path = tmp_path / "orders.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select order_id, customer_id, order_date, amount from (values
                    (1, 'o1', 'c1', date '2025-09-09', 12.50::decimal(18, 2)),
                    (2, 'o2', repeat('x', 1001), date '2025-09-10', 20.00),
                    (3, 'o3', 'c2', date '2025-09-11', 30.00),
                    (4, repeat('é', 2000), repeat('y', 5000), date '2025-09-12', 1.00),
                    (5, 'o5', repeat('z', 1000), date '2025-09-13', 5.00),
                    (6, 'o6', null, date '2025-09-14', 6.00)
                ) as t(n, order_id, customer_id, order_date, amount)
                order by n
            ) to '{path}' (format parquet)
            """
        )
    db = tmp_path / "w.duckdb"
    settings = dataclasses.replace(DEFAULT_SETTINGS, max_cell_chars=1000)
    (result,) = import_files([path], db, settings=settings)
    # the rows over the limit (file rows 2 and 4: lines 3 and 5) are rejected, the others load;
    # the row after them keeps its line (file row 6, no customer: line 7)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (6, 3, 3)
    assert _rows(db, "select order_id from orders order by order_id") == [("o1",), ("o3",), ("o5",)]
    rejects = _rows(db, 'select line, "column", value, reason from rejects order by line')
    assert [(line, column) for line, column, _, _ in rejects] == [
        (3, "customer_id"),
        (5, "order_id"),
        (7, "customer_id"),
    ]
    assert rejects[0][2] == "x" * 200 + "…"
    assert rejects[1][2] == "é" * 200 + "…"
    assert rejects[0][3] == (
        "the value is 1,001 characters long, more than the limit of 1,000 (setting max_cell_chars); its start is shown"
    )
    assert rejects[1][3].startswith("the value is 2,000 characters long")
    assert rejects[2][3] == "missing required value"
