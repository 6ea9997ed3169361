"""The 销售易, 纷享销客 and 用友 adapters import sample exports written from the vendors' documented
field labels (tests/fixtures/exports/<source>/), with their quirks: epoch-millisecond times,
19-digit ids kept as text, GBK files, traditional-Chinese headers, totals rows; the expected
tables are written out by hand."""

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from crmreview.check import check_warehouse
from crmreview.importing import ImportFileError, import_files
from tests.importing.files import rows as _rows
from tests.paths import EXPORTS
from tests.xlsxfile import write_xlsx


def _counts(results):
    return [(Path(r.file).name, r.table, r.rows_read, r.rows_loaded, r.rows_rejected) for r in results]


def test_neocrm_exports_keep_19_digit_ids_and_read_epoch_milliseconds(tmp_path):
    db = tmp_path / "w.duckdb"
    files = sorted((EXPORTS / "neocrm").glob("*.csv"))
    results = import_files(files, db, source="neocrm", timezone="Asia/Shanghai")
    assert _counts(results) == [
        ("客户.csv", "customers", 4, 4, 0),
        # five opportunities and the 合计 row, skipped
        ("机会_2026-09-30.csv", "deals", 6, 5, 1),
        ("订单.csv", "orders", 4, 3, 1),
        ("活动记录.csv", "activities", 4, 4, 0),
    ]
    # 创建日期 1780449600000 ms = 2026-06-03 01:20 UTC = 09:20 in Shanghai
    assert _rows(
        db, "select deal_id, customer_id, stage, outcome, amount::double, created_at::varchar from deals order by 1"
    ) == [
        ("1543209876543210011", "恒达物流", "won", "won", 48000.0, "2026-06-03 09:20:00"),
        ("1543209876543210012", "金龙食品", "proposal", "open", 125000.0, "2026-05-19 10:45:00"),
        ("1543209876543210013", "明华零售", "lost", "lost", 36500.0, "2026-04-28 16:10:00"),
        ("1543209876543210014", "恒达物流", "qualified", "open", None, "2026-08-30 11:00:00"),
        ("1543209876543210015", "泰和制药", "lead", "open", 18000.0, "2026-09-10 13:30:00"),
    ]
    assert _rows(db, "select lost_reason, closed_at::date::varchar from deals where outcome = 'lost'") == [
        ("价格高于竞品", "2026-07-22")
    ]
    assert _rows(db, "select activity_id, deal_id, kind, occurred_at::varchar from activities order by 1")[0] == (
        "1543209876543299001",
        "1543209876543210011",
        "拜访",
        "2026-06-10 11:00:00",
    )
    assert _rows(db, "select sum(amount) from orders") == [(Decimal("66800.00"),)]
    assert check_warehouse(db) == []


def test_neocrm_xlsx_with_ids_as_text_cells_keeps_every_digit(tmp_path):
    rows = [
        ["机会编号", "机会名称", "客户名称", "销售阶段", "销售金额", "创建日期"],
        ["1543209876543210011", "恒达物流-扫码枪", "恒达物流", "赢单", 48000, "2026-06-03 09:20"],
        ["1543209876543210019", "金龙食品-ERP", "金龙食品", "方案报价", 125000, "2026-05-19 10:45"],
    ]
    path = write_xlsx(tmp_path / "机会.xlsx", {"机会": rows})
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db, source="neocrm", exported_at=datetime(2026, 9, 30))
    assert (result.rows_read, result.rows_loaded) == (2, 2)
    # the dates written out pass through from_epoch_ms unchanged
    assert _rows(db, "select deal_id, created_at::varchar from deals order by 1") == [
        ("1543209876543210011", "2026-06-03 09:20:00"),
        ("1543209876543210019", "2026-05-19 10:45:00"),
    ]


def test_fxiaoke_gbk_exports_with_a_renamed_amount_header_and_epoch_order_dates(tmp_path):
    db = tmp_path / "w.duckdb"
    files = sorted((EXPORTS / "fxiaoke").glob("*.csv"))
    results = import_files(files, db, source="fxiaoke", timezone="Asia/Shanghai")
    assert _counts(results) == [
        ("客户_20260930.csv", "customers", 4, 4, 0),
        ("商机2.0_20260930.csv", "deals", 6, 5, 1),
        ("销售订单_20260930.csv", "orders", 3, 3, 0),
        ("跟进记录_20260930.csv", "activities", 3, 3, 0),
    ]
    assert {r.encoding for r in results} == {"gb18030"}
    assert _rows(db, "select deal_id, stage, outcome, amount::double from deals order by created_at") == [
        ("蓝天零售BI", "lost", "lost", 42000.0),
        ("华信医药LIMS", "won", "won", 86000.0),
        ("华信医药扩容", "proposal", "open", 30000.0),
        ("远洋航运CRM", "qualified", "open", None),
        ("星辰教育", "lead", "open", 15000.0),  # 1.5万
    ]
    # 下单日期 in epoch milliseconds: 2026-09-12 02:00 UTC is 2026-09-12 in Shanghai
    assert _rows(db, "select order_id, order_date::varchar, amount from orders order by 1") == [
        ("SO-2025-0107", "2025-10-11", Decimal("15000.00")),
        ("SO-2026-0001", "2026-09-12", Decimal("86000.00")),
        ("SO-2026-0002", "2026-09-28", Decimal("9800.00")),
    ]
    assert _rows(db, "select customer_id, industry, region from customers order by 1")[0] == (
        "华信医药",
        "医疗健康",
        "北京",
    )
    assert check_warehouse(db) == []


def test_yonyou_exports_in_simplified_and_traditional_chinese(tmp_path):
    db = tmp_path / "w.duckdb"
    files = sorted((EXPORTS / "yonyou").glob("*.csv"))
    results = import_files(files, db, source="yonyou")
    assert _counts(results) == [
        ("商机_2026-09-30.csv", "deals", 4, 4, 0),
        ("商機_繁體_2026-09-30.csv", "deals", 2, 2, 0),
        ("销售订单.csv", "orders", 3, 2, 1),
        # the deal without a 最近跟进时间 gives no follow-up
        ("商机_2026-09-30.csv", "activities", 4, 4, 0),
    ]
    # won or lost by 赢丢单状态, else the 商机阶段; the won amount, else the expected one
    assert _rows(db, "select deal_id, customer_id, stage, outcome, amount::double from deals order by 1") == [
        ("SJ202605001", "光明乳业", "won", "won", 180000.0),
        ("SJ202606002", "海天调味", "proposal", "open", 90000.0),
        ("SJ202606003", "三一重工", "lost", "lost", 350000.0),
        ("SJ202607004", "格力电器", "lead", "open", 60000.0),
        ("SJ202608101", "統一企業", "won", "won", 118000.0),
        ("SJ202608102", "鴻海精密", "qualified", "open", 500000.0),
    ]
    assert _rows(db, "select count(*) from activities") == [(3,)]
    assert check_warehouse(db) == []


def test_an_unknown_source_suggests_the_new_adapters(tmp_path):
    path = EXPORTS / "yonyou" / "销售订单.csv"
    with pytest.raises(ImportFileError, match="did you mean yonyou"):
        import_files([path], tmp_path / "w.duckdb", source="yonyu")


MAPPING = """
name: quirks
feeds:
  - table: activities
    columns:
      activity_id: ID
      customer_id: 客户
      occurred_at: from_epoch_ms(时间)
      kind: concat(类型, '/', duration_days(时长) * 24, 'h')
"""


def test_expressions_read_epoch_times_and_chinese_durations(tmp_path):
    path = tmp_path / "活动.csv"
    path.write_text(
        "ID,客户,时间,类型,时长\n"
        "1,甲,1780449600000,拜访,0天3小时\n"
        "2,乙,2026-06-04 10:00,电话,2小时30分\n"
        "3,丙,1780449600000,会议,1天12時\n"
        "4,丁,1780449600,会议,45分钟\n"
        "5,戊,下周二,会议,1天\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yml"
    mapping.write_text(MAPPING, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db, mapping=mapping, timezone="UTC")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (5, 3, 2)
    # 1780449600000 ms = 2026-06-03 01:20 UTC; a date written out passes through unchanged;
    # 0天3小时 = 3 hours, 2小时30分 = 2.5 hours, 1天12時 (traditional) = 36 hours
    assert _rows(db, "select activity_id, occurred_at::varchar, kind from activities order by 1") == [
        ("1", "2026-06-03 01:20:00", "拜访/3.00000000h"),
        ("2", "2026-06-04 10:00:00", "电话/2.50000000h"),
        ("3", "2026-06-03 01:20:00", "会议/36.00000000h"),
    ]
    # ten digits are epoch seconds, not milliseconds: no date, and said so
    expected = "expected a date such as 2025-09-09, 2025/9/9, 2025年9月9日 or an Excel date number"
    assert _rows(db, 'select line, "column", value, reason from rejects order by line') == [
        (5, "occurred_at = from_epoch_ms(时间)", "1780449600", expected),
        (6, "occurred_at = from_epoch_ms(时间)", "下周二", expected),
    ]
