"""notebooks/import.ipynb under papermill: parameters, the import summary, rejects by reason
with examples, and the data-quality table."""

from __future__ import annotations

import nbformat
import papermill
import pytest

from crmreview import config, warehouse
from crmreview.sample import generate

NOTEBOOK = config.NOTEBOOKS_DIR / "import.ipynb"


def _html(path) -> str:
    nb = nbformat.read(str(path), as_version=4)
    return "\n".join(
        out.get("data", {}).get("text/html", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


def test_import_notebook_declares_its_parameters():
    params = papermill.inspect_notebook(str(NOTEBOOK))
    assert set(params) == {"files", "source", "mapping", "db_path", "lang"}
    assert all(p["inferred_type_name"] == "str" for p in params.values())


@pytest.mark.slow
def test_import_notebook_loads_a_folder_and_shows_rejects_and_quality(tmp_path):
    exports = tmp_path / "exports"
    manifest = generate(exports, seed=5, size=0.05)
    deals = exports / "deals.csv"
    lines = deals.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    bad = lines[2].split(",")
    bad[header.index("amount")] = "lots"
    lines[2] = ",".join(bad)
    deals.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={"files": str(exports), "db_path": str(db), "lang": "en"},
        kernel_name="python3",
        execution_timeout=600,
        progress_bar=False,
    )
    html = _html(out)
    total = sum(manifest["rows"].values())
    assert f"{len(manifest['rows'])} files: {total - 1:,} rows loaded, 1 rejected." in html
    assert "deals.csv: 1 rows rejected" in html
    assert "<td" in html and ">3<" in html and "&#x27;lots&#x27;" in html  # line 3, the value as read
    with warehouse.connect_read(db) as con:
        loaded = con.execute("select count(*) from deals").fetchall()[0][0]
    assert loaded == manifest["rows"]["deals"] - 1
    assert "Data quality" in html and ">deals<" in html and ">amount<" in html
