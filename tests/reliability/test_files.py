"""Output files honour the umask, and are owner-only when the warehouse is."""

from __future__ import annotations

import os
import stat

import pytest

from crmreview.files import write_atomic


@pytest.fixture
def umask():
    previous = os.umask(0o022)
    yield lambda value: os.umask(value)
    os.umask(previous)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_written_file_takes_the_mode_the_umask_allows(tmp_path, umask, mask, mode):
    umask(mask)
    path = tmp_path / "report.html"
    write_atomic(path, b"<html></html>")
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_bytes() == b"<html></html>"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_file_made_from_an_owner_only_warehouse_is_owner_only(tmp_path, umask):
    umask(0o022)
    warehouse = tmp_path / "crm.duckdb"
    warehouse.write_bytes(b"")
    warehouse.chmod(0o600)
    path = tmp_path / "report.html"
    write_atomic(path, b"x", like=warehouse)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
