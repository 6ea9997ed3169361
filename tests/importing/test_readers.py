"""Each export file is read once per import call, however many tables it feeds."""

from decimal import Decimal
from pathlib import Path

import pytest

from crmreview.importing import import_files, readers
from crmreview.warehouse import connect_read
from tests.xlsxfile import write_xlsx

MAPPING = """
name: shop
feeds:
  - file: "invoices*"
    table: orders
    combine: sum
    columns:
      order_id: Invoice
      customer_id: Customer
      order_date: Date
      amount: Quantity * Price
  - file: "invoices*"
    table: customers
    combine: first
    columns:
      customer_id: Customer
      region: Country
"""

# 销售 in GBK keeps the file from decoding as UTF-8
INVOICES = """Invoice,Customer,Date,Quantity,Price,Country
A1,C1,2026-07-01,2,10.5,销售
A1,C1,2026-07-01,1,4,销售
A2,C2,2026-07-03,3,2,France
"""


@pytest.fixture
def counted(monkeypatch):
    calls = {"scan": 0, "detect_encoding": 0}
    scan, detect = readers.ExportFile.scan, readers.detect_encoding

    def counting_scan(self, con, layout, slot):
        calls["scan"] += 1
        return scan(self, con, layout, slot)

    def counting_detect(path, **kwargs):
        calls["detect_encoding"] += 1
        return detect(path, **kwargs)

    monkeypatch.setattr(readers.ExportFile, "scan", counting_scan)
    monkeypatch.setattr(readers, "detect_encoding", counting_detect)
    return calls


def test_a_gbk_file_feeding_two_tables_is_decoded_once_and_scanned_once(tmp_path: Path, counted):
    path = tmp_path / "invoices_2026.csv"
    path.write_bytes(INVOICES.encode("gb18030"))
    mapping = tmp_path / "shop.yml"
    mapping.write_text(MAPPING, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    results = import_files([path], db, mapping=mapping)
    assert [(r.table, r.rows_read, r.rows_loaded, r.encoding) for r in results] == [
        ("customers", 3, 3, "gb18030"),
        ("orders", 3, 3, "gb18030"),
    ]
    assert counted == {"scan": 1, "detect_encoding": 1}
    with connect_read(db) as con:
        # A1 = 2 * 10.5 + 1 * 4 = 25.00; A2 = 3 * 2 = 6.00
        assert con.execute("select order_id, amount from orders order by order_id").fetchall() == [
            ("A1", Decimal("25.00")),
            ("A2", Decimal("6.00")),
        ]
        assert con.execute("select customer_id, region from customers order by customer_id").fetchall() == [
            ("C1", "销售"),
            ("C2", "France"),
        ]


def test_an_unchanged_canonical_file_is_not_scanned_again(tmp_path: Path, counted):
    path = tmp_path / "reps.csv"
    path.write_text("rep_id,name,team,region\nR1,Ann,East,North\n", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    import_files([path], db)
    assert counted["scan"] == 1
    (again,) = import_files([path], db)
    assert (again.status, again.rows_read, counted["scan"]) == ("unchanged", 0, 1)


def test_an_xlsx_sheet_streams_in_batches_with_true_lines_and_merged_cells(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_XLSX_BATCH", 2)  # seven data rows: four batches
    rows = [["order_id", "customer_id", "order_date", "amount"]]
    rows += [[f"o{i}", "c1" if i != 3 else None, "2025-09-09", 10 * i] for i in range(1, 5)]
    rows += [[None, None, None, None]]  # line 6: an empty row, no record
    rows += [["o5", "c2", "2025-09-10", 50], ["o6", None, "2025-09-10", 60], ["o7", "c3", "2025-09-11", "x"]]
    path = tmp_path / "orders.xlsx"
    write_xlsx(path, {"Sheet1": rows}, merged={"Sheet1": ["B7:B8"]})  # o6 takes o5's customer
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (7, 5, 2)
    with connect_read(db) as con:
        assert con.execute("select order_id, customer_id from orders order by order_id").fetchall() == [
            ("o1", "c1"),
            ("o2", "c1"),
            ("o4", "c1"),
            ("o5", "c2"),
            ("o6", "c2"),
        ]
        assert con.execute('select line, "column" from rejects order by line').fetchall() == [
            (4, "customer_id"),
            (9, "amount"),
        ]
