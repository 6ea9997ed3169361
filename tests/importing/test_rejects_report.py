"""--show-rejects summarises per file; --rejects-out writes every reject as UTF-8 CSV with BOM."""

import csv

from crmreview.cli import main
from crmreview.importing import import_files
from crmreview.importing.rejects import FileRejects, summarise_rejects
from crmreview.warehouse import connect_read
from tests.importing.files import write as _write

AMOUNT = "expected an amount such as 1234.50, ¥1,234.50, 1.2万 or (300)"
DATE = "expected a date such as 2025-09-09, 2025/9/9, 2025年9月9日 or an Excel date number"
HEADER = "deal_id,customer_id,stage,outcome,amount,created_at\n"
# line 2: amount and date both bad (one row, two rejects); lines 3 and 5: amount; line 4 loads
DEALS = (
    HEADER
    + "D1,C1,lead,open,很多,明天\nD2,C1,lead,open,x,2026-07-01\nD3,C1,lead,open,5,2026-07-01\nD4,C1,lead,open,y,2026-07-02\n"
)


def test_the_summary_counts_rows_by_column_and_reason_and_shows_each_line_once(tmp_path):
    path = _write(tmp_path / "deals.csv", DEALS)
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 1, 3)
    with connect_read(db) as con:
        summary = summarise_rejects(con, [result.import_id], examples=2)
    assert summary == [
        FileRejects(
            str(path.resolve()),
            3,
            [("amount", AMOUNT, 3), ("created_at", DATE, 1)],
            [(2, "amount", "很多", AMOUNT), (3, "amount", "x", AMOUNT)],
        )
    ]


def test_the_import_command_prints_the_summary_and_writes_every_reject_to_a_csv_excel_reads(tmp_path, capsys):
    path = _write(tmp_path / "deals.csv", DEALS)
    out_csv = tmp_path / "rejects.csv"
    db = tmp_path / "w.duckdb"
    assert main(["import", str(path), "--db", str(db), "--show-rejects", "--rejects-out", str(out_csv)]) == 0
    printed = capsys.readouterr().out
    assert f"{path.resolve()}: 3 rows rejected\n" in printed
    assert f"       3  amount: {AMOUNT}\n       1  created_at: {DATE}\n" in printed
    assert f"    line 2, amount: '很多': {AMOUNT}\n    line 3, amount: 'x': {AMOUNT}\n" in printed
    assert "line 2, created_at" not in printed  # line 2 is shown once
    assert "wrote 4 rejected values to" in printed
    assert out_csv.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(out_csv, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    file = str(path.resolve())
    assert rows == [
        ["file", "line", "column", "value", "reason"],
        [file, "2", "amount", "很多", AMOUNT],
        [file, "2", "created_at", "明天", DATE],
        [file, "3", "amount", "x", AMOUNT],
        [file, "5", "amount", "y", AMOUNT],
    ]
