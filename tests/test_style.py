"""The style tools hold the house style (STYLE.md): ruff for Python, sqlfluff for queries/,
and notebooks committed without outputs. Each runs from the project's venv; a missing tool
fails the test rather than skipping it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(tool: str, *args: str) -> None:
    executable = BIN / tool
    assert executable.is_file(), f"{tool} is not installed in {BIN}: run python3 dev.py setup"
    done = subprocess.run([str(executable), *args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"{tool} {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"


def test_ruff_finds_no_lint_errors():
    _run("ruff", "check", ".")


def test_python_is_formatted_by_ruff():
    _run("ruff", "format", "--check", ".")


@pytest.mark.slow
def test_sqlfluff_finds_no_style_errors_in_queries():
    _run("sqlfluff", "lint", "queries/")


def _cells_with_outputs(paths: list[Path]) -> list[str]:
    return [
        f"{path.name} cell {index}"
        for path in paths
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]


def test_notebooks_are_committed_without_outputs_or_execution_counts():
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "no notebooks found under notebooks/"
    dirty = _cells_with_outputs(notebooks)
    assert not dirty, f"notebooks carry outputs (run nbstripout on them): {', '.join(dirty)}"


def test_the_notebook_check_names_a_cell_with_an_execution_count(tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# r"), nbformat.v4.new_code_cell("1 + 1", execution_count=3)]
    )
    path = tmp_path / "dirty.ipynb"
    nbformat.write(notebook, path)
    assert _cells_with_outputs([path]) == ["dirty.ipynb cell 1"]
