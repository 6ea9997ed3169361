"""Shared fixtures: an in-memory warehouse with the canonical schema."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from crmreview import warehouse
from crmreview.importing import import_files
from crmreview.sample import generate

VALIDATION_DATA = Path(
    os.environ.get("CRM_REVIEW_VALIDATION_DATA", Path(__file__).resolve().parents[2] / "shared" / "validation-data")
)


ONLINE_RETAIL = VALIDATION_DATA / "online_retail_ii_2009_2010" / "online_retail_ii_2009_2010.parquet"

# Online Retail II as canonical orders: one order per invoice (lines without a Customer ID
# dropped; invoices starting with C are cancellations, with negative quantities), amount =
# sum of Quantity * Price rounded to cents; one customer per Customer ID, created_at unknown.
_ONLINE_RETAIL_ORDERS = """
insert into orders (order_id, customer_id, order_date, amount)
select
    "Invoice",
    cast(cast("Customer ID" as bigint) as varchar),
    min(cast("InvoiceDate" as timestamp))::date,
    round(sum("Quantity" * "Price"::decimal(18, 3)), 2)::decimal(18, 2),
from read_parquet($path)
where "Customer ID" is not null
group by "Invoice", "Customer ID"
"""


def _in_memory_warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    warehouse._migrate(con, warehouse.migrations())
    warehouse.install_macros(con)
    return con


@pytest.fixture
def empty_warehouse() -> duckdb.DuckDBPyConnection:
    """An in-memory database with the current canonical schema and shared macros."""
    con = _in_memory_warehouse()
    yield con
    con.close()


@pytest.fixture(scope="session")
def online_retail_warehouse() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding Online Retail II's invoices as orders and its
    customers (read only by the tests that use it); skipped without the validation data."""
    if not ONLINE_RETAIL.is_file():
        pytest.skip(f"validation data not found at {ONLINE_RETAIL}")
    con = _in_memory_warehouse()
    con.execute(_ONLINE_RETAIL_ORDERS, {"path": str(ONLINE_RETAIL)})
    con.execute("insert into customers (customer_id) select distinct customer_id from orders")
    yield con
    con.close()


@pytest.fixture(scope="session")
def imported_sample(tmp_path_factory):
    """Factory: the sample export of ``(seed, size)``, generated and imported once per
    session. Returns a namespace with ``folder`` (the CSVs), ``db`` (the warehouse file),
    ``manifest`` (the generator's known totals) and ``results`` (the import results)."""
    made: dict[tuple[int, float], SimpleNamespace] = {}

    def make(seed: int, size: float) -> SimpleNamespace:
        if (seed, size) not in made:
            folder = tmp_path_factory.mktemp(f"sample-{seed}-{size}")
            manifest = generate(folder, seed=seed, size=size)
            db = folder / "w.duckdb"
            results = import_files(sorted(folder.glob("*.csv")), db)
            made[(seed, size)] = SimpleNamespace(folder=folder, db=db, manifest=manifest, results=results)
        return made[(seed, size)]

    return make
