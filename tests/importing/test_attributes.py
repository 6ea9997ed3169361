"""Custom fields travel: the columns of an export that no canonical column takes are kept per
customer and deal record, in ``attributes`` (header -> value; an empty cell is no entry)."""

import pytest

from crmreview.importing import ImportFileError, import_files
from crmreview.warehouse import connect_read
from tests.importing.files import rows as _rows
from tests.importing.files import write as _write


def test_a_canonical_customers_file_keeps_its_extra_columns_as_attributes(tmp_path):
    db = tmp_path / "w.duckdb"
    customers = _write(
        tmp_path / "customers.csv",
        "customer_id,name,合同类型,客户标签\nC1,甲,年框,价格敏感、决策链复杂\nC2,乙,,\nC3,丙,单次, 价格敏感 \n",
    )
    (result,) = import_files([customers], db)
    assert (result.rows_loaded, result.rows_rejected) == (3, 0)
    assert _rows(db, "select customer_id, attributes from customers order by 1") == [
        ("C1", {"合同类型": "年框", "客户标签": "价格敏感、决策链复杂"}),
        ("C2", {}),
        ("C3", {"合同类型": "单次", "客户标签": "价格敏感"}),
    ]


def test_a_canonical_column_misspelt_is_still_an_error_not_an_attribute(tmp_path):
    deals = _write(tmp_path / "deals.csv", "deal_id,stage,outcome,creatd_at\nD1,lead,open,2026-07-01\n")
    with pytest.raises(
        ImportFileError, match=r"column 4 'creatd_at' is not a column of deals \(did you mean created_at\?\)"
    ):
        import_files([deals], tmp_path / "w.duckdb")


def test_tables_without_attributes_still_refuse_an_unknown_column(tmp_path):
    orders = _write(tmp_path / "orders.csv", "order_id,customer_id,order_date,amount,渠道\nO1,C1,2026-07-01,5,线上\n")
    with pytest.raises(ImportFileError, match="column 5 '渠道' is not a column of orders"):
        import_files([orders], tmp_path / "w.duckdb")


MAPPING = """
name: crm
stage_map: {初步接洽: lead, 方案报价: proposal, 赢单: won, 输单: lost}
feeds:
  - file: "商机*.csv"
    table: deals
    columns:
      deal_id: 商机编号
      customer_id: 客户名称
      stage: 销售阶段
      amount: 金额 * 1
  - file: "商机*.csv"
    table: customers
    columns:
      customer_id: 客户名称
      name: 客户名称
"""


def test_a_mapped_export_keeps_the_columns_no_feed_mentions_and_a_newer_export_replaces_its_own(tmp_path):
    db = tmp_path / "w.duckdb"
    mapping = _write(tmp_path / "crm.yml", MAPPING)
    first = _write(
        tmp_path / "商机_2026-08-31.csv",
        "商机编号,客户名称,销售阶段,金额,合同类型,备注\nD1,甲,初步接洽,100,年框,老客户\nD2,乙,方案报价,50,#N/A,\n",
    )
    results = import_files([first], db, mapping=mapping)
    assert [(r.table, r.rows_loaded) for r in results] == [("customers", 2), ("deals", 2)]
    # every column of the file that a feed mentions (金额 as an operand too) is no attribute;
    # the customers feed of the same file keeps the same unmapped columns
    assert _rows(db, "select deal_id, attributes from deals order by 1") == [
        ("D1", {"合同类型": "年框", "备注": "老客户"}),
        ("D2", {}),
    ]
    assert _rows(db, "select customer_id, attributes from customers order by 1") == [
        ("乙", {}),
        ("甲", {"合同类型": "年框", "备注": "老客户"}),
    ]
    # a newer export without 备注: 合同类型 takes its new values (emptied for D1), 备注 stays
    second = _write(
        tmp_path / "商机_2026-09-30.csv",
        "商机编号,客户名称,销售阶段,金额,合同类型,客户标签\nD1,甲,赢单,100,,价格敏感\nD2,乙,方案报价,50,单次,\n",
    )
    import_files([second], db, mapping=mapping)
    assert _rows(db, "select deal_id, attributes from deals order by 1") == [
        ("D1", {"备注": "老客户", "客户标签": "价格敏感"}),
        ("D2", {"合同类型": "单次"}),
    ]


def test_a_masked_read_hides_the_attributes_which_may_hold_names(tmp_path):
    db = tmp_path / "w.duckdb"
    customers = _write(tmp_path / "customers.csv", "customer_id,name,联系人\nC1,甲公司,王经理\n")
    deals = _write(tmp_path / "deals.csv", "deal_id,customer_id,stage,outcome,商机名称\nD1,C1,lead,open,甲公司-年框\n")
    import_files([customers, deals], db)
    with connect_read(db, mask_pii=True) as con:
        assert con.execute("select attributes from customers").fetchall() == [(None,)]
        assert con.execute("select attributes from deals").fetchall() == [(None,)]
    with connect_read(db) as con:
        assert con.execute("select attributes from deals").fetchall() == [({"商机名称": "甲公司-年框"},)]


def test_the_upgrade_adds_attributes_and_export_dates_to_a_version_3_warehouse_and_keeps_its_rows(tmp_path):
    import duckdb

    from crmreview import warehouse

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    warehouse._migrate(con, warehouse.migrations()[:3])
    con.execute("insert into customers (customer_id, name) values ('C1', 'Acme')")
    con.execute("insert into deals (deal_id, stage, outcome) values ('D1', 'lead', 'open')")
    con.close()
    assert warehouse.upgrade(db) == (3, 4)
    assert _rows(db, "select customer_id, attributes, exported_at from customers") == [("C1", None, None)]
    assert _rows(db, "select deal_id, attributes, exported_at, missing_since from deals") == [("D1", None, None, None)]
    # an import into the upgraded warehouse keeps its extra columns
    deals = _write(tmp_path / "deals.csv", "deal_id,stage,outcome,合同类型\nD1,qualified,open,年框\n")
    import_files([deals], db)
    assert _rows(db, "select stage, attributes from deals") == [("qualified", {"合同类型": "年框"})]
