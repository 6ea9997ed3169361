"""Running the SQL files of ``queries/``: values are always bound parameters."""

from __future__ import annotations

from functools import cache
from typing import Any

import duckdb
import pandas as pd

from . import config

__all__ = ["sql_text", "run"]


@cache
def sql_text(name: str) -> str:
    """The text of ``queries/<name>.sql`` (e.g. ``metrics/funnel/stages``)."""
    path = config.QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no query {name!r} at {path}")
    return path.read_text(encoding="utf-8")


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pd.DataFrame:
    """Run one query file with bound parameters and return its (aggregated) result."""
    return con.execute(sql_text(name), params).df()
