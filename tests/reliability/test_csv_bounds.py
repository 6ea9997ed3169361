"""Every CSV record is loaded or rejected with a reason, at its true line, whatever its size."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest

from crmreview.config import DEFAULT_SETTINGS
from crmreview.importing import ImportFileError, import_files

HEADER = "order_id,customer_id,order_date,amount\n"


def _rejects(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute('select line, "column", reason from rejects order by line').fetchall()


def _orders(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select order_id from orders order by order_id").fetchall()


def _log(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select rows_read, rows_loaded, rows_rejected from imports").fetchall()


@pytest.mark.parametrize("size", [3_000_000, 40_000_000])
def test_a_line_over_the_limit_is_rejected_with_its_line_and_a_reason_and_counted(tmp_path, size):
    path = tmp_path / "orders.csv"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(HEADER + "o1,c1,2026-01-02,10\n")
        handle.write('o2,c1,2026-01-03,"' + "9" * size + '"\n')
        handle.write("o3,c1,2026-01-04,30\n")
    settings = dataclasses.replace(DEFAULT_SETTINGS, max_line_bytes=2_000_000)
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db, settings=settings)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    assert _orders(db) == [("o1",), ("o3",)]
    ((line, column, reason),) = _rejects(db)
    assert (line, column) == (3, None)
    assert f"{size + len('o2,c1,2026-01-03,') + 2:,} bytes long" in reason and "max_line_bytes" in reason
    assert _log(db) == [(3, 2, 1)]


def test_a_line_of_three_megabytes_loads_under_the_default_limit(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,name\nc1," + "n" * 3_000_000 + "\nc2,b\n", encoding="utf-8")
    (result,) = import_files([path], tmp_path / "w.duckdb")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 2, 0)


def test_reject_lines_stay_true_after_empty_lines(tmp_path):
    path = tmp_path / "orders.csv"
    # line 1 header, 2 o1, 3 empty, 4 o2, 5 empty (CRLF), 6 o3 bad amount, 7 empty, 8 o4 bad date
    path.write_bytes(
        (
            HEADER + "o1,c1,2026-01-02,10\n\no2,c1,2026-01-03,20\n\r\no3,c1,2026-01-04,abc\n\n" + "o4,c1,someday,5\n"
        ).encode()
    )
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 2, 2)
    assert [(line, column) for line, column, _ in _rejects(db)] == [(6, "amount"), (8, "order_date")]


def test_a_duplicate_after_an_empty_line_names_the_first_lines_true_number(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "\n\no1,c1,2026-01-02,10\n\no1,c1,2026-01-03,20\n", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    import_files([path], db)
    ((line, _, reason),) = _rejects(db)
    assert line == 6 and "first at line 4" in reason


def test_a_header_wider_than_max_columns_is_refused_before_the_rows_are_read(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(",".join(f"col{i}" for i in range(5_000)) + "\n" + "x," * 4_999 + "x\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"5,000 columns, more than the limit of 2,000 \(setting max_columns\)"):
        import_files([path], tmp_path / "w.duckdb")
    assert not (tmp_path / "w.duckdb").exists()


def test_a_lone_carriage_return_outside_quotes_rejects_its_line_and_later_lines_stay_true(tmp_path):
    path = tmp_path / "orders.csv"
    # line 2 holds an unquoted CR (DuckDB would end a line there), line 3 a quoted one (data),
    # line 4 is over the limit, line 5 loads
    path.write_bytes(
        (
            HEADER + "o1,c\r1,2026-01-02,10\n" + 'o2,"c\r2",2026-01-03,20\n' + "o3,c3,2026-01-04," + "9" * 310 + "\n"
        ).encode()
        + b"o4,c4,2026-01-05,40\n"
    )
    db = tmp_path / "w.duckdb"
    (result,) = import_files([path], db, settings=dataclasses.replace(DEFAULT_SETTINGS, max_line_bytes=300))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 2, 2)
    assert _orders(db) == [("o2",), ("o4",)]
    rejects = _rejects(db)
    assert [(line, column) for line, column, _ in rejects] == [(2, None), (4, None)]
    assert "line break (CR or LF) outside quotes" in rejects[0][2]
    assert "max_line_bytes" in rejects[1][2]
    assert _log(db) == [(4, 2, 2)]


def test_a_file_whose_only_rows_hold_a_lone_cr_or_are_too_long_fails_with_both_reasons(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes((HEADER + ",\r,2025/9/9,0.00\no0,,2025/9/9," + "9" * 310 + "\n").encode())
    settings = dataclasses.replace(DEFAULT_SETTINGS, max_line_bytes=300)
    with pytest.raises(ImportFileError, match=r"none of its 2 rows.*line break.*line 2.*max_line_bytes.*line 3"):
        import_files([path], tmp_path / "w.duckdb", settings=settings)
