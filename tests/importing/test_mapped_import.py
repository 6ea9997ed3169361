"""Mapped imports: values as exports write them, lines summed into orders, generated ids,
later exports merged by key, and stage history rebuilt from successive snapshots."""

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from crmreview.importing import ImportFileError, MappingError, import_files
from crmreview.importing.expressions import parse_expression
from crmreview.importing.mapping import parse_mapping
from crmreview.warehouse import connect_read
from tests.xlsxfile import Formula, write_xlsx


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _mapping(tmp_path: Path, text: str, name: str = "m.yml") -> Path:
    return _write(tmp_path / name, text)


def _rows(db, sql, params=None):
    with connect_read(db) as con:
        return con.execute(sql, params).fetchall()


ORDERS_MAPPING = """
name: shop
feeds:
  - table: orders
    columns:
      order_id: 单号
      customer_id: 客户
      order_date: 日期
      amount: 金额
"""


def test_amounts_as_chinese_and_accounting_exports_write_them(tmp_path):
    db = tmp_path / "w.duckdb"
    path = _write(
        tmp_path / "orders.csv",
        "\n".join(
            [
                "单号,客户,日期,金额",
                'A1,C1,2025-09-09,"¥1,234.50"',
                "A2,C1,2025-09-09,1.2万",
                "A3,C1,2025-09-09,(300)",
                "A4,C1,2025-09-09,￥ 88",
                'A5,C1,2025-09-09,"1,000,000"',
                "A6,C1,2025-09-09,3亿",
                "A7,C1,2025-09-09,-12.5",
                "A8,C1,2025-09-09,RMB 66.6",
                "A9,C1,2025-09-09,12元",
                "A10,C1,2025-09-09,abc",
            ]
        )
        + "\n",
    )
    (result,) = import_files([path], db, mapping=_mapping(tmp_path, ORDERS_MAPPING))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (10, 9, 1)
    assert _rows(db, "select order_id, amount from orders") == [
        ("A1", Decimal("1234.50")),
        ("A2", Decimal("12000.00")),
        ("A3", Decimal("-300.00")),
        ("A4", Decimal("88.00")),
        ("A5", Decimal("1000000.00")),
        ("A6", Decimal("300000000.00")),
        ("A7", Decimal("-12.50")),
        ("A8", Decimal("66.60")),
        ("A9", Decimal("12.00")),
    ]
    assert _rows(db, 'select line, "column", value, reason from rejects') == [
        (11, "金额", "abc", "expected an amount such as 1234.50, ¥1,234.50, 1.2万 or (300)"),
    ]


def test_dates_in_every_form_exports_write_them(tmp_path):
    db = tmp_path / "w.duckdb"
    path = _write(
        tmp_path / "orders.csv",
        "\n".join(
            [
                "单号,客户,日期,金额",
                "A1,C1,2025/9/9,1",
                "A2,C1,2025年9月9日,1",
                "A3,C1,45909,1",
                "A4,C1,2025-09-09T23:30:00+08:00,1",
                "A5,C1,2025-09-08T16:30:00Z,1",
                "A6,C1,2025-09-09 10:00:00,1",
                "A7,C1,20250909,1",
                'A8,C1,"Sep 9, 2025",1',
                "A9,C1,2025.9.9,1",
                "A10,C1,soon,1",
            ]
        )
        + "\n",
    )
    (result,) = import_files([path], db, mapping=_mapping(tmp_path, ORDERS_MAPPING), timezone="Asia/Shanghai")
    assert (result.rows_loaded, result.rows_rejected) == (9, 1)
    assert {d for (d,) in _rows(db, "select order_date::varchar from orders")} == {"2025-09-09"}
    assert _rows(db, "select line, value, reason from rejects") == [
        (11, "soon", "expected a date such as 2025-09-09, 2025/9/9, 2025年9月9日 or an Excel date number"),
    ]


def test_iso_times_with_an_offset_are_converted_to_the_local_zone(tmp_path):
    db = tmp_path / "w.duckdb"
    mapping = _mapping(
        tmp_path,
        """
feeds:
  - table: activities
    columns:
      activity_id: id
      occurred_at: at
""",
    )
    path = _write(
        tmp_path / "a.csv", "id,at\nX1,2026-06-03T01:20:00.000Z\nX2,2026-06-03T09:20:00+08:00\nX3,2026-06-03 09:20\n"
    )
    import_files([path], db, mapping=mapping, timezone="Asia/Shanghai")
    assert _rows(db, "select occurred_at::varchar from activities order by activity_id") == [
        ("2026-06-03 09:20:00",),
        ("2026-06-03 09:20:00",),
        ("2026-06-03 09:20:00",),
    ]


def test_day_first_or_month_first_is_read_from_the_column(tmp_path):
    db = tmp_path / "w.duckdb"
    path = _write(tmp_path / "orders.csv", "单号,客户,日期,金额\nA1,C1,13/1/2025,1\nA2,C1,2/3/2025,1\n")
    import_files([path], db, mapping=_mapping(tmp_path, ORDERS_MAPPING))
    assert _rows(db, "select order_id, order_date::varchar from orders") == [("A1", "2025-01-13"), ("A2", "2025-03-02")]


def test_dates_that_read_either_way_need_the_mapping_format(tmp_path):
    path = _write(tmp_path / "orders.csv", "单号,客户,日期,金额\nA1,C1,9/9/2025,1\nA2,C1,3/4/2025,1\n")
    with pytest.raises(
        ImportFileError,
        match=r"column '日期' has dates such as 3/4/2025 that read as day/month or month/day; set its format",
    ):
        import_files([path], tmp_path / "w.duckdb", mapping=_mapping(tmp_path, ORDERS_MAPPING))
    db = tmp_path / "ok.duckdb"
    fixed = _mapping(
        tmp_path,
        ORDERS_MAPPING.replace("order_date: 日期", "order_date: {column: 日期, format: '%d/%m/%Y'}"),
        "fixed.yml",
    )
    import_files([path], db, mapping=fixed)
    assert _rows(db, "select order_date::varchar from orders order by order_id") == [("2025-09-09",), ("2025-04-03",)]


def test_null_markers_are_null_and_a_required_null_is_a_reject(tmp_path):
    db = tmp_path / "w.duckdb"
    mapping = _mapping(
        tmp_path,
        """
feeds:
  - table: deals
    stage_map: {Open: lead, Won: won}
    columns:
      deal_id: Id
      stage: Stage
      amount: Amount
      customer_id: Account
""",
    )
    path = _write(
        tmp_path / "d.csv", "Id,Stage,Amount,Account\nD1,Open,#N/A,NULL\nD2,Won,-,-\nD3,Open,,N/A\n#N/A,Open,5,A\n"
    )
    (result,) = import_files([path], db, mapping=mapping, exported_at=datetime(2026, 7, 6))
    assert (result.rows_loaded, result.rows_rejected) == (3, 1)
    assert _rows(db, "select deal_id, amount, customer_id from deals order by deal_id") == [
        ("D1", None, None),
        ("D2", None, None),
        ("D3", None, None),
    ]
    assert _rows(db, 'select line, "column", value, reason from rejects') == [
        (5, "Id", "#N/A", "missing required value")
    ]


def test_invoice_lines_are_summed_into_one_order_by_an_expression(tmp_path):
    db = tmp_path / "w.duckdb"
    mapping = _mapping(
        tmp_path,
        """
feeds:
  - table: orders
    combine: sum
    columns:
      order_id: Invoice
      customer_id: "[Customer ID]"
      order_date: InvoiceDate
      amount: Quantity * Price
""",
    )
    path = _write(
        tmp_path / "lines.csv",
        "\n".join(
            [
                "Invoice,StockCode,Quantity,InvoiceDate,Price,Customer ID",
                "489434,85048,12,2009-12-01 07:45:00,6.95,13085.0",
                "489434,79323P,12,2009-12-01 07:45:00,6.75,13085.0",
                "489435,22350,4,2009-12-01 07:46:00,2.55,13086.0",
                "489435,22349,x,2009-12-01 07:46:00,3.75,13086.0",
                "C489449,22087,-12,2009-12-01 10:33:00,2.95,16321.0",
            ]
        )
        + "\n",
    )
    (result,) = import_files([path], db, mapping=mapping)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected, result.records_loaded) == (5, 3, 2, 2)
    assert _rows(db, "select order_id, customer_id, order_date::varchar, amount from orders order by order_id") == [
        ("489434", "13085", "2009-12-01", Decimal("164.40")),
        ("C489449", "16321", "2009-12-01", Decimal("-35.40")),
    ]
    # a line that cannot be read takes its invoice with it: a partial sum would be wrong
    assert _rows(db, 'select line, "column", value, reason from rejects order by line') == [
        (4, "order_id", "489435", "another line of the same order_id was rejected (line 5)"),
        (5, "Quantity", "x", "expected a number such as 1234.50, ¥1,234.50, 1.2万 or (300)"),
    ]


def test_generated_ids_come_from_the_row_or_a_hash_of_columns(tmp_path):
    db = tmp_path / "w.duckdb"
    mapping = _mapping(
        tmp_path,
        """
feeds:
  - table: activities
    columns:
      activity_id: {generate: row, prefix: "F-"}
      customer_id: 客户
      occurred_at: 时间
  - table: customers
    columns:
      customer_id: {generate: hash, of: [客户, 电话], prefix: "K"}
      name: 客户
""",
    )
    path = _write(tmp_path / "跟进记录.csv", "客户,电话,时间\n华联,021-1,2026/9/1\n云启,0571-2,2026/9/2\n")
    import_files([path], db, mapping=mapping)
    assert _rows(db, "select activity_id, customer_id from activities order by activity_id") == [
        ("F-2", "华联"),
        ("F-3", "云启"),
    ]
    ids = dict(_rows(db, "select name, customer_id from customers"))
    assert [len(i) for i in ids.values()] == [17, 17] and ids["华联"] != ids["云启"]
    # the same values give the same id in a later export, whatever the column order
    again = tmp_path / "w2.duckdb"
    import_files([_write(tmp_path / "b.csv", "电话,客户,时间\n021-1,华联,2026/9/5\n")], again, mapping=mapping)
    assert _rows(again, "select customer_id from customers") == [(ids["华联"],)]


def test_a_later_export_updates_only_the_columns_its_mapping_gives(tmp_path):
    db = tmp_path / "w.duckdb"
    leads = _mapping(
        tmp_path,
        """
feeds:
  - table: deals
    history: none
    columns: {deal_id: id, stage: {value: lead}, created_at: first_contact, source_channel: origin}
""",
        "leads.yml",
    )
    won = _mapping(
        tmp_path,
        """
feeds:
  - table: deals
    history: none
    columns: {deal_id: id, stage: {value: won}, closed_at: won_at, amount: value}
""",
        "won.yml",
    )
    import_files(
        [_write(tmp_path / "l.csv", "id,first_contact,origin\nM1,2026-07-01,social\nM2,2026-07-02,email\n")],
        db,
        mapping=leads,
    )
    import_files([_write(tmp_path / "w.csv", "id,won_at,value\nM2,2026-08-01,500\n")], db, mapping=won)
    assert _rows(
        db,
        "select deal_id, stage, outcome, created_at::date::varchar, closed_at::date::varchar, source_channel, amount "
        "from deals order by deal_id",
    ) == [
        ("M1", "lead", "open", "2026-07-01", None, "social", None),
        ("M2", "won", "won", "2026-07-02", "2026-08-01", "email", Decimal("500.00")),
    ]


SNAPSHOT_MAPPING = """
name: weekly
stage_map: {线索: lead, 意向: qualified, 报价: proposal, 成交: won, 输单: lost}
feeds:
  - table: deals
    columns:
      deal_id: 编号
      stage: 阶段
      created_at: 创建日期
      closed_at: 成交日期
"""


def test_successive_snapshots_rebuild_the_stage_history(tmp_path):
    db = tmp_path / "w.duckdb"
    mapping = _mapping(tmp_path, SNAPSHOT_MAPPING)
    week1 = _write(
        tmp_path / "商机_2026-07-06.csv",
        "编号,阶段,创建日期,成交日期\nS1,线索,2026-07-01,\nS2,意向,2026-06-20,\nS3,报价,2026-06-01,\n",
    )
    week2 = _write(
        tmp_path / "商机_2026-07-13.csv",
        "编号,阶段,创建日期,成交日期\nS1,意向,2026-07-01,\nS2,意向,2026-06-20,\nS3,成交,2026-06-01,2026-07-10\n",
    )
    week3 = _write(
        tmp_path / "商机_2026-07-20.csv",
        "编号,阶段,创建日期,成交日期\nS1,报价,2026-07-01,\nS2,输单,2026-06-20,2026-07-19\nS3,成交,2026-06-01,2026-07-10\n",
    )
    import_files([week1], db, mapping=mapping)
    assert _rows(db, "select origin, count(*) from deal_history_origin group by 1") == [("inferred", 3)]
    import_files([week2], db, mapping=mapping)
    import_files([week3], db, mapping=mapping)
    assert _rows(
        db, "select deal_id, stage, entered_at::varchar from deal_stage_history order by deal_id, entered_at"
    ) == [
        ("S1", "lead", "2026-07-01 00:00:00"),
        ("S1", "qualified", "2026-07-13 00:00:00"),  # changed between the 6th and the 13th
        ("S1", "proposal", "2026-07-20 00:00:00"),
        ("S2", "qualified", "2026-06-20 00:00:00"),
        ("S2", "lost", "2026-07-19 00:00:00"),  # its closed_at falls between the two snapshots
        ("S3", "proposal", "2026-06-01 00:00:00"),
        ("S3", "won", "2026-07-10 00:00:00"),
    ]
    assert _rows(db, "select origin, count(*) from deal_history_origin group by 1") == [("snapshots", 3)]
    assert _rows(db, "select count(*), count(distinct snapshot_at) from deal_snapshots") == [(9, 3)]


def test_snapshots_imported_out_of_order_give_the_same_history(tmp_path):
    mapping = _mapping(tmp_path, SNAPSHOT_MAPPING)
    a = _write(tmp_path / "a.csv", "编号,阶段,创建日期,成交日期\nS1,线索,2026-07-01,\n")
    b = _write(tmp_path / "b.csv", "编号,阶段,创建日期,成交日期\nS1,报价,2026-07-01,\n")
    in_order, reversed_order = tmp_path / "1.duckdb", tmp_path / "2.duckdb"
    import_files([a], in_order, mapping=mapping, exported_at=datetime(2026, 7, 6))
    import_files([b], in_order, mapping=mapping, exported_at=datetime(2026, 7, 13))
    import_files([b], reversed_order, mapping=mapping, exported_at=datetime(2026, 7, 13))
    import_files([a], reversed_order, mapping=mapping, exported_at=datetime(2026, 7, 6))
    sql = "select deal_id, stage, entered_at::varchar from deal_stage_history order by entered_at"
    assert (
        _rows(in_order, sql)
        == _rows(reversed_order, sql)
        == [
            ("S1", "lead", "2026-07-01 00:00:00"),
            ("S1", "proposal", "2026-07-13 00:00:00"),
        ]
    )


def test_exported_history_replaces_history_built_from_snapshots(tmp_path):
    db = tmp_path / "w.duckdb"
    import_files(
        [_write(tmp_path / "d_2026-07-06.csv", "编号,阶段,创建日期,成交日期\nS1,报价,2026-07-01,\n")],
        db,
        mapping=_mapping(tmp_path, SNAPSHOT_MAPPING),
    )
    history = _mapping(
        tmp_path,
        """
stage_map: {线索: lead, 报价: proposal}
feeds:
  - table: deal_stage_history
    columns: {deal_id: 编号, stage: 阶段, entered_at: 时间}
""",
        "h.yml",
    )
    import_files(
        [_write(tmp_path / "h.csv", "编号,阶段,时间\nS1,线索,2026-07-01 09:00\nS1,报价,2026-07-03 15:00\n")],
        db,
        mapping=history,
    )
    assert _rows(db, "select stage, entered_at::varchar from deal_stage_history order by entered_at") == [
        ("lead", "2026-07-01 09:00:00"),
        ("proposal", "2026-07-03 15:00:00"),
    ]
    assert _rows(db, "select count(*) from deal_history_origin") == [(0,)]


def test_importing_the_same_export_with_the_same_mapping_twice_changes_nothing(tmp_path):
    db = tmp_path / "w.duckdb"
    mapping = _mapping(tmp_path, SNAPSHOT_MAPPING)
    path = _write(tmp_path / "d.csv", "编号,阶段,创建日期,成交日期\nS1,报价,2026-07-01,\n")
    import_files([path], db, mapping=mapping)
    (again,) = import_files([path], db, mapping=mapping)
    assert again.status == "unchanged"
    assert _rows(db, "select count(*) from imports") == [(1,)]
    assert _rows(db, "select count(*) from deal_snapshots") == [(1,)]
    # an edited mapping reads the same file anew
    edited = _mapping(tmp_path, SNAPSHOT_MAPPING.replace("报价: proposal", "报价: qualified"), "edited.yml")
    (third,) = import_files([path], db, mapping=edited)
    assert third.status == "loaded"
    assert _rows(db, "select stage from deals") == [("qualified",)]


def test_an_unmapped_stage_is_an_error_naming_the_stage_and_the_file(tmp_path):
    path = _write(
        tmp_path / "deals.csv",
        "编号,阶段,创建日期,成交日期\nS1,报价,2026-07-01,\nS2,谈判,2026-07-01,\nS3,谈判,2026-07-02,\n",
    )
    with pytest.raises(ImportFileError) as info:
        import_files([path], tmp_path / "w.duckdb", mapping=_mapping(tmp_path, SNAPSHOT_MAPPING))
    assert str(info.value) == (
        f"{path.resolve()}: stage not in the stage map of the mapping weekly: '谈判' (2 rows, first at line 3); "
        "add it under stage_map"
    )
    assert not (tmp_path / "w.duckdb").exists()


def test_a_mapping_naming_a_column_the_file_lacks_names_file_column_and_existing_columns(tmp_path):
    path = _write(tmp_path / "orders.csv", "单号,客户,下单日期,金额\nA1,C1,2025-09-09,1\n")
    with pytest.raises(ImportFileError) as info:
        import_files([path], tmp_path / "w.duckdb", mapping=_mapping(tmp_path, ORDERS_MAPPING))
    assert str(info.value) == (
        f"{path.resolve()}: column '日期' (needed by the orders feed of the mapping shop) is not in the file; "
        "the file has: 单号, 客户, 下单日期, 金额"
    )


def test_an_xlsx_with_a_title_row_merged_cells_and_formulas(tmp_path):
    db = tmp_path / "w.duckdb"
    path = write_xlsx(
        tmp_path / "订单.xlsx",
        {
            "订单": [
                ["2026年9月 订单明细", None, None, None],
                ["单号", "客户", "日期", "金额"],
                ["A1", "华联", "2026/9/1", Formula("B3*0+100", 100)],
                ["A2", None, 46266, "¥2,000"],
                ["A3", "云启", "2026年9月3日", 30.5],
            ]
        },
        merged={"订单": ["A1:D1", "B3:B4"]},
    )
    (result,) = import_files([path], db, mapping=_mapping(tmp_path, ORDERS_MAPPING))
    assert (result.encoding, result.rows_read, result.rows_loaded) == ("xlsx", 3, 3)
    assert _rows(db, "select order_id, customer_id, order_date::varchar, amount from orders order by order_id") == [
        ("A1", "华联", "2026-09-01", Decimal("100.00")),
        ("A2", "华联", "2026-09-01", Decimal("2000.00")),  # merged B3:B4 gives row 4 its customer
        ("A3", "云启", "2026-09-03", Decimal("30.50")),
    ]


def test_a_header_written_twice_is_told_apart_with_a_suffix(tmp_path):
    db = tmp_path / "w.duckdb"
    mapping = _mapping(
        tmp_path,
        """
feeds:
  - table: orders
    columns: {order_id: Id, customer_id: Amount.1, order_date: Date, amount: Amount}
""",
    )
    import_files([_write(tmp_path / "r.csv", "Id,Amount,Date,Amount\nO1,10,2026-09-01,C9\n")], db, mapping=mapping)
    assert _rows(db, "select customer_id, amount from orders") == [("C9", Decimal("10.00"))]


def test_semicolon_and_tab_separated_exports_are_read(tmp_path):
    db = tmp_path / "w.duckdb"
    mapping = _mapping(tmp_path, ORDERS_MAPPING)
    semi = _write(tmp_path / "a.csv", '单号;客户;日期;金额\nA1;C1;2025-09-09;"1,5"\n'.replace('"1,5"', "15"))
    tab = _write(tmp_path / "b.tsv", "单号\t客户\t日期\t金额\nB1\tC1\t2025-09-09\t16\n", "utf-16")
    results = import_files([semi, tab], db, mapping=mapping)
    assert [r.encoding for r in results] == ["utf-8", "utf-16"]
    assert _rows(db, "select order_id, amount from orders order by 1") == [
        ("A1", Decimal("15.00")),
        ("B1", Decimal("16.00")),
    ]


def test_expressions_parse_names_numbers_texts_and_functions():
    node = parse_expression("coalesce([Close Date], `Created Date`) ")
    assert node.op == "call" and node.names() == ["Close Date", "Created Date"]
    node = parse_expression("round(Quantity * (Price - 0.5) / 2, 2)")
    assert node.names() == ["Quantity", "Price"] and node.numeric_names() == ["Quantity", "Price"]
    assert parse_expression("concat(省份, '-', 城市)").names() == ["省份", "城市"]
    with pytest.raises(MappingError, match="cannot read the expression 'Quantity \\*'"):
        parse_expression("Quantity *")


def test_a_wrong_mapping_file_is_an_error_that_says_what_is_wrong():
    with pytest.raises(MappingError, match=r"feeds\[0\]: table 'deal' is not a canonical table"):
        parse_mapping("feeds: [{table: deal, columns: {deal_id: id}}]", name="m")
    with pytest.raises(MappingError, match="'amount_usd' is not a column of orders"):
        parse_mapping("feeds: [{table: orders, columns: {amount_usd: x}}]", name="m")
    with pytest.raises(MappingError, match="no source for required columns order_date, amount"):
        parse_mapping("feeds: [{table: orders, columns: {order_id: a, customer_id: b}}]", name="m")
    with pytest.raises(
        MappingError, match="stage_map maps 'Negotiation' to 'negotiation', which is not a funnel stage"
    ):
        parse_mapping(
            "stage_map: {Negotiation: negotiation}\nfeeds: [{table: deals, columns: {deal_id: a, stage: b}}]", name="m"
        )


def test_a_failing_file_loads_nothing_of_the_whole_call(tmp_path):
    db = tmp_path / "w.duckdb"
    mapping = _mapping(tmp_path, SNAPSHOT_MAPPING)
    good = _write(tmp_path / "a.csv", "编号,阶段,创建日期,成交日期\nS1,报价,2026-07-01,\n")
    import_files([good], db, mapping=mapping, exported_at=datetime(2026, 7, 6))
    later = _write(tmp_path / "b.csv", "编号,阶段,创建日期,成交日期\nS1,成交,2026-07-01,2026-07-08\n")
    bad = _write(tmp_path / "c.csv", "编号,阶段,创建日期,成交日期\nS2,谈判,2026-07-01,\n")
    with pytest.raises(ImportFileError, match="'谈判'"):
        import_files([later, bad], db, mapping=mapping, exported_at=datetime(2026, 7, 13))
    assert _rows(db, "select deal_id, stage from deals") == [("S1", "proposal")]
    assert _rows(db, "select count(*) from imports") == [(1,)]
    assert _rows(db, "select count(*) from deal_snapshots") == [(1,)]


def test_the_mapping_reference_example_is_a_valid_mapping():
    import re

    from crmreview.importing.mapping import ADAPTERS_DIR

    text = (ADAPTERS_DIR / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```yaml\n(.*?)```", text, re.S)
    mapping = parse_mapping(example, name="reference")
    (feed,) = mapping.feeds
    assert (mapping.name, feed.table, feed.columns["customer_id"].alternatives) == ("my_crm", "deals", ("客户",))


def test_day_first_dates_mixed_with_iso_ones_in_a_mapped_column(tmp_path):
    db = tmp_path / "w.duckdb"
    path = _write(
        tmp_path / "orders.csv",
        "单号,客户,日期,金额\nA1,C1,2025-01-05,1\nA2,C1,13/1/2025,1\nA3,C1,2/3/2025,1\nA4,C1,2025年2月1日,1\n",
    )
    import_files([path], db, mapping=_mapping(tmp_path, ORDERS_MAPPING))
    assert _rows(db, "select order_id, order_date::varchar from orders order by order_id") == [
        ("A1", "2025-01-05"),
        ("A2", "2025-01-13"),
        ("A3", "2025-03-02"),
        ("A4", "2025-02-01"),
    ]
