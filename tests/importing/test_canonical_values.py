"""Canonical files read values as mapped imports do, headers matched loosely, NUL bytes refused."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from crmreview.config import Settings
from crmreview.importing import ImportFileError, import_files
from crmreview.importing.errors import NUL_BYTE
from crmreview.warehouse import connect_read
from tests.importing.files import rows as _rows
from tests.importing.files import write as _write
from tests.xlsxfile import write_xlsx

AMOUNT = "expected an amount such as 1234.50, ¥1,234.50, 1.2万 or (300)"


def test_a_canonical_csv_reads_currency_thousands_wan_chinese_and_slashed_dates_and_excel_numbers(tmp_path):
    path = _write(
        tmp_path / "deals.csv",
        "Deal ID,Customer ID,Stage,Outcome,Amount,Created At,Closed At\n"
        "D1,C1,lead,open,¥200,2025年9月10日,\n"
        'D2,C1,won,won,"1,234.50",2025/9/9,2025/9/20\n'
        "D3,C1,lead,open,1.2万,45909,\n"
        "D4,C1,lead,open,(300),2025-09-01,\n",
    )
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 3, 1)
    assert _rows(db, "select deal_id, amount, created_at, closed_at from deals order by deal_id") == [
        ("D1", Decimal("200.00"), datetime(2025, 9, 10), None),
        ("D2", Decimal("1234.50"), datetime(2025, 9, 9), datetime(2025, 9, 20)),
        ("D3", Decimal("12000.00"), datetime(2025, 9, 9), None),  # Excel day 45909 is 2025-09-09
    ]
    # (300) is read as -300: refused as negative, not as unreadable
    assert _rows(db, 'select line, "column", value, reason from rejects') == [
        (5, "amount", "(300)", "negative amount; expected zero or more")
    ]


def test_accounting_negatives_load_where_an_amount_may_be_negative(tmp_path):
    path = _write(
        tmp_path / "targets.csv", "Rep ID,Period Start,Period End,Target Amount\nR1,2025/7/1,2025/9/30,¥1.5万\n"
    )
    db = tmp_path / "w.duckdb"
    import_files([path], db)
    assert _rows(db, "select rep_id, period_start, period_end, target_amount from targets") == [
        ("R1", date(2025, 7, 1), date(2025, 9, 30), Decimal("15000.00"))
    ]


def test_a_canonical_xlsx_below_a_title_row_reads_its_header_loosely_and_its_values(tmp_path):
    path = write_xlsx(
        tmp_path / "orders.xlsx",
        {
            "Sheet1": [
                ["订单导出 2025-09-30"],
                ["Order ID", "Customer-ID", "ORDER DATE", "amount"],
                ["O1", "C1", 45909, "¥1,234.50"],
                ["O2", "C2", "2025年9月10日", 88],
            ]
        },
    )
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db)
    assert (result.table, result.rows_read, result.rows_loaded) == ("orders", 2, 2)
    assert _rows(db, "select order_id, customer_id, order_date, amount from orders order by order_id") == [
        ("O1", "C1", date(2025, 9, 9), Decimal("1234.50")),
        ("O2", "C2", date(2025, 9, 10), Decimal("88.00")),
    ]
    assert _rows(db, "select line from rejects") == []


def test_a_nul_byte_in_a_canonical_cell_is_a_reject_that_says_so(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(b"customer_id,name\nC1,Ann\nC2,B\x00b\n")
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    assert _rows(db, "select customer_id, name from customers") == [("C1", "Ann")]
    assert _rows(db, 'select line, "column", value, reason from rejects') == [(3, "name", "B\\x00b", NUL_BYTE)]


def test_a_nul_byte_in_a_mapped_amount_is_one_reject_for_the_nul_not_for_the_amount(tmp_path):
    mapping = _write(
        tmp_path / "m.yml",
        "name: shop\nfeeds:\n  - file: '*.csv'\n    table: orders\n    columns:\n"
        "      order_id: 单号\n      customer_id: 客户\n      order_date: 日期\n      amount: 金额\n",
    )
    path = tmp_path / "orders.csv"
    path.write_bytes("单号,客户,日期,金额\nA1,C1,2025/9/9,12\nA2,C1,2025/9/9,1\x002\n".encode())
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db, mapping=mapping)
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert _rows(db, 'select line, "column", value, reason from rejects') == [(3, "金额", "1\\x002", NUL_BYTE)]


def test_a_stage_outside_the_configured_funnel_fails_the_import_and_a_settings_key_fixes_it(tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal_id,stage,outcome,created_at\nD1,lead,open,2026-07-01\nD2,negotiation,open,2026-07-02\n", encoding="utf-8"
    )
    db = tmp_path / "w.duckdb"
    with pytest.raises(ImportFileError) as failed:
        import_files([path], db)
    message = str(failed.value)
    assert "'negotiation' (1 row, first at line 3)" in message and "'stages' key of the settings file" in message
    assert not db.exists()  # nothing was loaded
    negotiating = Settings(stages=("lead", "qualified", "proposal", "negotiation", "won"))
    (result,) = import_files([path], db, settings=negotiating)
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
    with connect_read(db) as con:
        assert con.execute("select stage from deals order by deal_id").fetchall() == [("lead",), ("negotiation",)]


def test_day_first_dates_among_iso_and_slashed_ones_each_column_its_own_order(tmp_path):
    # created_at is day-first (13/1/2025), closed_at month-first (1/13/2025); the other forms
    # read as they always do, and a date no reader knows is a reject, not a null
    path = _write(
        tmp_path / "deals.csv",
        "deal_id,customer_id,stage,outcome,amount,created_at,closed_at\n"
        "D1,C1,won,won,1,13/1/2025 10:30,1/20/2025\n"
        "D2,C1,won,won,1,2/3/2025,3/4/2025\n"
        "D3,C1,won,won,1,2025-02-01 08:00:00,2/13/2025\n"
        "D4,C1,won,won,1,2025/2/5,45909\n"
        "D5,C1,won,won,1,31.12.2024,2025-01-02\n"
        "D6,C1,won,won,1,soon,2025-01-02\n",
    )
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db)
    assert (result.rows_loaded, result.rows_rejected) == (5, 1)
    assert _rows(db, "select deal_id, created_at, closed_at from deals order by deal_id") == [
        ("D1", datetime(2025, 1, 13, 10, 30), datetime(2025, 1, 20)),
        ("D2", datetime(2025, 3, 2), datetime(2025, 3, 4)),
        ("D3", datetime(2025, 2, 1, 8), datetime(2025, 2, 13)),
        ("D4", datetime(2025, 2, 5), datetime(2025, 9, 9)),
        ("D5", datetime(2024, 12, 31), datetime(2025, 1, 2)),
    ]
    assert _rows(db, 'select line, "column", value from rejects') == [(7, "created_at", "soon")]


def test_canonical_dates_that_read_either_way_fail_the_import_and_say_how_to_write_them(tmp_path):
    path = _write(
        tmp_path / "orders.csv", "order_id,customer_id,order_date,amount\nO1,C1,2025-01-05,1\nO2,C1,3/4/2025,1\n"
    )
    with pytest.raises(
        ImportFileError,
        match=r"column 'order_date' has dates such as 3/4/2025 that read as day/month or month/day; "
        "write them as YYYY-MM-DD",
    ):
        import_files([path], tmp_path / "w.duckdb")
    mixed = _write(
        tmp_path / "orders.csv", "order_id,customer_id,order_date,amount\nO1,C1,13/1/2025,1\nO2,C1,1/13/2025,1\n"
    )
    with pytest.raises(ImportFileError, match=r"column 'order_date' mixes day-first and month-first dates"):
        import_files([mixed], tmp_path / "w.duckdb")
    assert not (tmp_path / "w.duckdb").exists() or _rows(tmp_path / "w.duckdb", "select count(*) from orders") == [(0,)]
