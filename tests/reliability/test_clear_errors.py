"""User mistakes and hostile inputs end in one clear line, never a traceback."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from crmreview.cli import main
from crmreview.config import DEFAULT_SETTINGS
from crmreview.csvout import neutralise
from crmreview.importing import ImportFileError, import_files
from crmreview.importing.patterns import match_headers
from tests.reliability import unprivileged
from tests.xlsxfile import write_xlsx

FIXTURE = Path(__file__).resolve().parents[1] / "sql" / "funnel_q3"
CLI = [sys.executable, "-m", "crmreview.cli"]


@pytest.fixture
def fixture_db(tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    assert main(["import", str(FIXTURE / "deals.csv"), str(FIXTURE / "deal_stage_history.csv"), "--db", str(db)]) == 0
    capsys.readouterr()
    return db


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_a_read_only_folder_is_a_clear_error():
    # a user that permissions bind (nobody, when the tests run as root) imports into a folder
    # it owns but may not write
    owner = unprivileged.user()
    if owner is None:
        pytest.skip("running as root with no unprivileged user to switch to")
    with unprivileged.folder(owner) as home:
        folder = home / "ro"
        folder.mkdir()
        os.chown(folder, *owner)
        folder.chmod(0o555)
        done = unprivileged.run(
            owner,
            "import sys; from crmreview.cli import main; sys.exit(main(sys.argv[1:]))",
            *["import", str(FIXTURE / "deals.csv"), "--db", str(folder / "w.duckdb")],
            cwd=home,
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith("crm-review: error: ") and "permission denied" in done.stderr
        assert not (folder / "w.duckdb").exists()


def test_a_rejects_file_in_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "no" / "such" / "rejects.csv"
    code = main(["import", str(FIXTURE / "deals.csv"), "--db", str(tmp_path / "w.duckdb"), "--rejects-out", str(bad)])
    assert code == 2
    assert f"crm-review: error: {bad}: No such file or directory" in _error(capsys)


def test_a_settings_file_with_an_alias_bomb_is_refused(tmp_path, capsys):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = tmp_path / "crm-review.yml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["import", str(FIXTURE / "deals.csv"), "--db", str(tmp_path / "w.duckdb"), "--config", str(bomb)]) == 2
    assert "more than 100,000 values through repeated aliases" in _error(capsys)


def test_an_exponential_header_pattern_is_matched_in_linear_time():
    # Python's re would take about 2**50 steps on this header
    headers = ["id", "a" * 50 + "b", "aaa"]
    assert [m.header for m in match_headers(r"^(a+)+$", headers)] == ["aaa"]


def test_an_xlsx_declaring_a_whole_sheet_of_cells_is_refused_before_it_is_opened(tmp_path):
    path = tmp_path / "deals.xlsx"
    write_xlsx(path, {"Sheet1": [["deal_id", "stage"], ["d1", "lead"]]})
    _patch_sheet(path, lambda xml: xml.replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>', 1))
    with pytest.raises(ImportFileError, match=r"declares 17,179,869,184 cells .* \(setting xlsx_max_cells\)"):
        import_files([path], tmp_path / "w.duckdb")


def test_an_xlsx_with_broken_xml_is_a_clear_error(tmp_path):
    path = tmp_path / "deals.xlsx"
    write_xlsx(path, {"Sheet1": [["deal_id", "stage"], ["d1", "lead"]]})
    _patch_sheet(path, lambda xml: xml[: len(xml) // 2])
    with pytest.raises(ImportFileError, match=r"deals\.xlsx"):
        import_files([path], tmp_path / "w.duckdb")


def test_an_xlsx_repeating_a_long_shared_text_is_refused(tmp_path):
    path = tmp_path / "customers.xlsx"
    write_xlsx(
        path, {"Sheet1": [["customer_id", "name"], ["c0", "n" * 5_000], *[[f"c{i}", "x"] for i in range(1, 300)]]}
    )
    # every name cell points at the one long shared text (index 3): 300 x 5,000 characters once read
    _patch_sheet(path, lambda xml: re.sub(rb'(<c r="B(?:[2-9]|\d\d+)" t="s"><v>)\d+(</v>)', rb"\g<1>3\g<2>", xml))
    settings = dataclasses.replace(DEFAULT_SETTINGS, xlsx_max_bytes=1_000_000)
    with pytest.raises(ImportFileError, match=r"repeat shared texts to more than 1,000,000 characters"):
        import_files([path], tmp_path / "w.duckdb", settings=settings)


def _patch_sheet(path: Path, change) -> None:
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    name = next(n for n in parts if n.startswith("xl/worksheets/"))
    parts[name] = change(parts[name])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for part, data in parts.items():
            book.writestr(part, data)


def test_metrics_piped_into_head_ends_quietly(fixture_db):
    pipeline = subprocess.run(
        f"{sys.executable} -m crmreview.cli metrics funnel --period 2026Q3 --format json --db {fixture_db} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        check=True,
    )
    assert pipeline.stdout == "{\n"
    assert "Traceback" not in pipeline.stderr and "BrokenPipe" not in pipeline.stderr


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_formula_like_text_is_written_as_text(text):
    assert neutralise(text) == "'" + text
    assert neutralise("Alice") == "Alice" and neutralise(-5) == -5


def test_rejects_csv_neutralises_values_that_start_like_formulas(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(
        'order_id,customer_id,order_date,amount\no1,c1,2026-01-02,10\no2,c1,2026-01-03,"=HYPERLINK(""http://x"")"\n',
        encoding="utf-8",
    )
    out = tmp_path / "rejects.csv"
    assert main(["import", str(path), "--db", str(tmp_path / "w.duckdb"), "--rejects-out", str(out)]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[1][3] == '\'=HYPERLINK("http://x")'


def test_metrics_csv_neutralises_rep_names_that_start_like_formulas(tmp_path, capsys):
    reps = tmp_path / "reps.csv"
    reps.write_text("rep_id,name,team,region\nr1,Ann,=cmd|x,North\n", encoding="utf-8")
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "deal_id,customer_id,owner_rep_id,stage,outcome,amount,created_at,closed_at\n"
        "d1,c1,r1,won,won,100,2026-07-01,2026-08-01\n",
        encoding="utf-8",
    )
    db = tmp_path / "w.duckdb"
    assert main(["import", str(reps), str(deals), "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["metrics", "funnel", "--period", "2026Q3", "--by", "team", "--format", "csv", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "'=cmd|x" in out and "\n=cmd" not in out and ",=cmd" not in out


@pytest.mark.parametrize(
    "data",
    ["Lost to a CDN outage", 'href="http://competitor.example"', "see //intranet/wiki", "url(https://x.example)"],
)
def test_data_text_in_a_report_is_no_network_reference(data):
    from html import escape

    from crmreview.report.offline import network_references

    page = f"<html><body><table><tr><td>{escape(data)}</td></tr></table><p>{escape(data)}</p></body></html>"
    assert network_references(page) == []
    assert network_references(f'<img src="https://tracker.example/p.gif"><p>{escape(data)}</p>')


def test_a_memory_limit_smaller_than_the_program_itself_is_a_clear_error(tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    assert main(["import", str(FIXTURE / "deals.csv"), "--db", str(db), "--memory-limit", "100MB"]) == 2
    error = _error(capsys)
    assert "a memory limit of 100MB is too small for an import: the program itself takes" in error
    assert re.search(r"give at least \d+MiB \(setting memory_limit or --memory-limit\)", error), error
    assert not db.exists()
