"""Shared fixtures: an in-memory warehouse with the canonical schema."""
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from crmreview import warehouse

VALIDATION_DATA = Path(
    os.environ.get("CRM_REVIEW_VALIDATION_DATA", Path(__file__).resolve().parents[2] / "shared" / "validation-data")
)


@pytest.fixture
def empty_warehouse() -> duckdb.DuckDBPyConnection:
    """An in-memory database with the current canonical schema and shared macros."""
    con = duckdb.connect()
    warehouse._migrate(con, warehouse.migrations())
    warehouse.install_macros(con)
    yield con
    con.close()
