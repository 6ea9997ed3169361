"""Values are trimmed of the spaces trim() removes; a file none of whose values begins or ends
with one is read without trimming, with the same result."""

import pytest

from crmreview.importing import import_files
from crmreview.importing.records import scan_records
from tests.importing.files import rows as _rows
from tests.importing.files import write as _write

HEADER = "customer_id,name,industry,region,size_band,owner_rep_id,source_channel,created_at\n"


@pytest.mark.parametrize(
    ("body", "spaced"),
    [
        ("C1,Nina Zhang,IT,华东,1-49,R1,官网,2025-01-02 10:00:00\n", False),  # spaces inside values only
        ('C1,"Acme Co., Ltd.",IT,华东,1-49,R1,官网,2025-01-02\n', False),  # ", " inside quotes
        ("C1,“引号”…—,IT,华东,1-49,R1,官网,2025-01-02\n", False),  # other 3-byte punctuation
        ("C1, Nina,IT,华东,1-49,R1,官网,2025-01-02\n", True),  # a space after the delimiter
        ("C1,Nina ,IT,华东,1-49,R1,官网,2025-01-02\n", True),  # before the delimiter
        ("C1,Nina,IT,华东,1-49,R1,官网,2025-01-02 \n", True),  # before the line end
        ("C1,Nina,IT,华东,1-49,R1,官网,2025-01-02 \r\n", True),  # before a CRLF
        (" C1,Nina,IT,华东,1-49,R1,官网,2025-01-02\n", True),  # at the start of a line
        ('C1," Nina",IT,华东,1-49,R1,官网,2025-01-02\n', True),  # inside quotes, after the opening one
        ("C1,\u3000张三,IT,华东,1-49,R1,官网,2025-01-02\n", True),  # an ideographic space
        ("C1,张三\u00a0,IT,华东,1-49,R1,官网,2025-01-02\n", True),  # a no-break space
        ("C1,张\u2003三,IT,华东,1-49,R1,官网,2025-01-02\n", True),  # an em space, even inside a value
        ("C1,Nina,IT,华东,1-49,R1,官网,2025-01-02 ", True),  # at the end of the file
    ],
)
def test_the_record_scan_tells_whether_a_value_may_begin_or_end_with_a_space(tmp_path, body, spaced):
    path = _write(tmp_path / "customers.csv", HEADER + body)
    assert scan_records(path, 1 << 20).spaced is spaced


def test_a_tab_separated_file_counts_spaces_next_to_tabs(tmp_path):
    clean = _write(tmp_path / "a.tsv", "a\tb\nx y\tz\n")
    padded = _write(tmp_path / "b.tsv", "a\tb\nx \tz\n")
    assert (scan_records(clean, 1 << 20, "\t").spaced, scan_records(padded, 1 << 20, "\t").spaced) == (False, True)


def test_padded_values_are_trimmed_canonical_and_mapped_and_clean_ones_kept_as_written(tmp_path):
    padded = _write(
        tmp_path / "customers.csv",
        HEADER
        + " C1 ,\u3000张三\u00a0,IT,华东,1-49,R1,官网, 2025-01-02 \n"
        + 'C2,"Acme Co., Ltd.",IT,华东,1-49, R2,  ,2025-01-03\n',
    )
    db = tmp_path / "w.duckdb"
    (result,) = import_files([padded], db)
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
    expected = [
        ("C1", "张三", "R1", "官网", "2025-01-02 00:00:00"),
        ("C2", "Acme Co., Ltd.", "R2", None, "2025-01-03 00:00:00"),
    ]
    sql = "select customer_id, name, owner_rep_id, source_channel, created_at::varchar from customers order by 1"
    assert _rows(db, sql) == expected

    (tmp_path / "clean").mkdir()
    clean = _write(
        tmp_path / "clean" / "customers.csv",
        HEADER + "C1,张三,IT,华东,1-49,R1,官网,2025-01-02\n" + 'C2,"Acme Co., Ltd.",IT,华东,1-49,R2,,2025-01-03\n',
    )
    assert not scan_records(clean, 1 << 20).spaced
    db = tmp_path / "clean.duckdb"
    import_files([clean], db)
    assert _rows(db, sql) == expected

    mapping = _write(
        tmp_path / "m.yml",
        "name: m\nfeeds:\n  - table: customers\n    columns:\n      customer_id: 编号\n      name: 名称\n"
        "      owner_rep_id: 负责人\n",
    )
    for name, text in [("padded", " C1 ,\u3000张三 , R1\nC2,李四,#N/A \n"), ("clean", "C1,张三,R1\nC2,李四,#N/A\n")]:
        path = _write(tmp_path / f"{name}.csv", "编号,名称,负责人\n" + text)
        db = tmp_path / f"{name}-mapped.duckdb"
        import_files([path], db, mapping=mapping)
        assert _rows(db, "select customer_id, name, owner_rep_id from customers order by 1") == [
            ("C1", "张三", "R1"),
            ("C2", "李四", None),
        ]
