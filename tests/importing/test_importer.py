from pathlib import Path

import pytest

from crmreview.importing import ImportFileError, import_files
from crmreview.warehouse import connect_read


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _rows(db, sql, params=None):
    with connect_read(db) as con:
        return con.execute(sql, params).fetchall()


DEALS = """deal_id,customer_id,stage,outcome,amount,created_at,closed_at
D1,C1,lead,open,100,2026-07-01,
D2,C1,proposal,won,250.5,2026-07-02 10:00:00,2026-08-01
D3,C2,qualified,open,x,2026-13-01,
D1,C3,lead,open,1,2026-07-01,
D4,C4,won,won,10,2026-07-05,2026-07-01
"D5","C5","lead","open, again
on two lines",,,
D6,C6,lead
D7,C7,qualified,OPEN,-5,2026-07-09,
"""


@pytest.fixture
def deals_import(tmp_path):
    db = tmp_path / "w.duckdb"
    path = _write(tmp_path / "deals.csv", DEALS)
    return db, path, import_files([path], db)


def test_every_row_read_is_loaded_or_rejected(deals_import):
    db, _path, (result,) = deals_import
    assert (result.table, result.rows_read, result.rows_loaded, result.rows_rejected) == ("deals", 8, 2, 6)
    assert _rows(db, "select rows_read, rows_loaded, rows_rejected, adapter from imports") == [(8, 2, 6, "canonical")]
    assert _rows(db, "select deal_id, amount::double, outcome from deals order by deal_id") == [
        ("D1", 100.0, "open"),
        ("D2", 250.5, "won"),
    ]


def test_each_rejected_value_is_kept_with_line_column_value_and_reason(deals_import):
    # lines are rows as a spreadsheet numbers them (header = 1): the quoted value spanning
    # two physical lines is one row, line 7
    db, path, _ = deals_import
    rejects = _rows(db, 'select file, line, "column", value, reason from rejects order by line, "column"')
    assert {r[0] for r in rejects} == {str(path.resolve())}
    assert [r[1:] for r in rejects] == [
        (4, "amount", "x", "expected an amount such as 1234.50, ¥1,234.50, 1.2万 or (300)"),
        (
            4,
            "created_at",
            "2026-13-01",
            "expected a date such as 2025-09-09, 2025/9/9, 2025年9月9日 or an Excel date number",
        ),
        (5, "deal_id", "D1", "duplicate deal_id within the file (first at line 2)"),
        (6, "closed_at", "2026-07-01", "closed_at is before created_at"),
        (7, "outcome", "open, again\non two lines", "expected one of: open, won, lost"),
        (8, "outcome", "D6,C6,lead", "missing columns: Expected Number of Columns: 7 Found: 3"),
        (9, "amount", "-5", "negative amount; expected zero or more"),
    ]


def test_importing_the_same_file_again_changes_nothing(deals_import):
    db, path, _ = deals_import
    (again,) = import_files([path], db)
    assert again.status == "unchanged"
    assert _rows(db, "select count(*) from imports") == [(1,)]
    assert _rows(db, "select count(*) from deals") == [(2,)]


def test_a_later_export_updates_records_by_key(deals_import, tmp_path):
    db, _, _ = deals_import
    (tmp_path / "later").mkdir()
    later = _write(
        tmp_path / "later" / "deals.csv",
        "deal_id,stage,outcome,amount,created_at,closed_at\nD1,won,won,120,2026-07-01,2026-09-01\nD9,lead,open,5,2026-09-02,\n",
    )
    (result,) = import_files([later], db)
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
    assert _rows(db, "select deal_id, stage, amount::double from deals order by deal_id") == [
        ("D1", "won", 120.0),
        ("D2", "proposal", 250.5),
        ("D9", "lead", 5.0),
    ]


def test_a_missing_required_column_fails_the_whole_call_and_names_file_and_column(tmp_path):
    db = tmp_path / "w.duckdb"
    good = _write(tmp_path / "reps.csv", "rep_id,name,team\nR1,Ann,East\n")
    bad = _write(tmp_path / "orders.csv", "order_id,customer_id,amount\nO1,C1,10\n")
    with pytest.raises(ImportFileError) as info:
        import_files([good, bad], db)
    message = str(info.value)
    assert "orders.csv" in message and "order_date" in message and "order_id, customer_id, amount" in message
    assert not db.exists()


def test_an_unknown_column_is_an_error_listing_the_expected_ones(tmp_path):
    bad = _write(tmp_path / "reps.csv", "rep_id,nmae\nR1,Ann\n")
    with pytest.raises(
        ImportFileError,
        match=r"column 2 'nmae' is not a column of reps; expected columns: rep_id, name, team, region, email",
    ):
        import_files([bad], tmp_path / "w.duckdb")


def test_an_empty_file_is_an_error(tmp_path):
    with pytest.raises(ImportFileError, match=r"reps.csv: the file is empty"):
        import_files([_write(tmp_path / "reps.csv", "")], tmp_path / "w.duckdb")


def test_a_header_only_file_imports_zero_rows(tmp_path):
    db = tmp_path / "w.duckdb"
    (result,) = import_files([_write(tmp_path / "reps.csv", "rep_id,name\n")], db)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (0, 0, 0)


def test_a_gbk_file_from_windows_excel_is_read(tmp_path):
    db = tmp_path / "w.duckdb"
    path = _write(
        tmp_path / "customers.csv", "customer_id,name,region\nC1,上海华联贸易有限公司,华东\nC2,𠮷野家,华北\n", "gb18030"
    )
    (result,) = import_files([path], db)
    assert result.encoding == "gb18030"
    assert _rows(db, "select name, region from customers order by customer_id") == [
        ("上海华联贸易有限公司", "华东"),
        ("𠮷野家", "华北"),
    ]


def test_a_file_not_named_after_a_table_is_matched_by_its_header(tmp_path):
    db = tmp_path / "w.duckdb"
    path = _write(tmp_path / "export_2026.csv", "order_id,customer_id,order_date,amount\nO1,C1,2026-07-01,-20\n")
    (result,) = import_files([path], db)
    assert (result.table, result.rows_loaded) == ("orders", 1)
    assert _rows(db, "select amount::double from orders") == [(-20.0,)]


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(ImportFileError, match=r"nope.csv: no such file"):
        import_files([tmp_path / "nope.csv"], tmp_path / "w.duckdb")


def test_a_gbk_file_whose_first_megabytes_are_plain_ascii_is_still_read_as_gbk(tmp_path):
    # the encoding is guessed from the file's beginning; a later GBK byte makes DuckDB refuse
    # the line as not UTF-8, and the whole file is then read again as GB18030
    db = tmp_path / "w.duckdb"
    lines = ["customer_id,name,region", *(f"C{i},Company {i},East" for i in range(160_000)), "C_last,上海华联,华东"]
    path = _write(tmp_path / "customers.csv", "\n".join(lines) + "\n", "gb18030")
    assert path.stat().st_size > 4 * 1024 * 1024
    (result,) = import_files([path], db)
    assert (result.encoding, result.rows_read, result.rows_loaded) == ("gb18030", 160_001, 160_001)
    assert _rows(db, "select name, region from customers where customer_id = 'C_last'") == [("上海华联", "华东")]


def test_a_utf8_file_with_a_bom_and_crlf_line_ends_is_read(tmp_path):
    db = tmp_path / "w.duckdb"
    path = _write(tmp_path / "reps.csv", "\ufeffrep_id,name,team\r\nR1,王芳,华东\r\nR2,Li Wei,华南\r\n")
    (result,) = import_files([path], db)
    assert (result.encoding, result.rows_loaded) == ("utf-8-sig", 2)
    assert _rows(db, "select rep_id, name, team from reps order by rep_id") == [
        ("R1", "王芳", "华东"),
        ("R2", "Li Wei", "华南"),
    ]
