"""Shared fixtures: an in-memory warehouse with the canonical schema, the sample export and
the public validation datasets, each imported once per session and shared read-only."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest

from crmreview import warehouse
from crmreview.importing import import_files
from crmreview.importing.mapping import ADAPTERS_DIR
from crmreview.sample import generate

VALIDATION_DATA = Path(
    os.environ.get("CRM_REVIEW_VALIDATION_DATA", Path(__file__).resolve().parents[2] / "shared" / "validation-data")
)

#: the public datasets imported through their example mappings (adapters/examples/):
#: name -> (files under VALIDATION_DATA, mapping, the quarter their reports cover)
VALIDATION_IMPORTS = {
    "retail": (
        ["online_retail_ii_2009_2010/online_retail_ii_2009_2010.csv.gz"],
        "online_retail_ii.yml",
        "2010Q3",
    ),
    "maven": (
        [
            "maven_crm_sales_opportunities/sales_pipeline.csv",
            "maven_crm_sales_opportunities/accounts.csv",
            "maven_crm_sales_opportunities/sales_teams.csv",
        ],
        "maven_crm.yml",
        "2017Q3",
    ),
    "olist": (
        [
            "olist_marketing_funnel/olist_marketing_qualified_leads_dataset.csv",
            "olist_marketing_funnel/olist_closed_deals_dataset.csv",
        ],
        "olist_funnel.yml",
        "2018Q2",
    ),
    "salesforce": (
        ["salesforce_demo_prodly/Opportunity.csv", "salesforce_demo_prodly/Account.csv"],
        "salesforce_prodly.yml",
        "2021Q4",
    ),
}
EXAMPLE_MAPPINGS = ADAPTERS_DIR / "examples"

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


def _made_once(tmp_path_factory, key: str, make: Callable[[Path], Any]) -> Any:
    """``make(folder)`` run once for the whole test run, also when pytest-xdist runs it in
    several worker processes: the first worker to ask makes it in the run's shared temporary
    folder under a lock and leaves the result pickled there; the others wait and read it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None or os.name != "posix":
        return make(tmp_path_factory.mktemp(key))
    import fcntl

    shared = tmp_path_factory.getbasetemp().parent  # pytest-N/, the parent of every popen-gwN/
    with open(shared / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / f"{key}.pickle"
        if not done.exists():
            folder = shared / key
            folder.mkdir()
            done.write_bytes(pickle.dumps(make(folder)))
        return pickle.loads(done.read_bytes())


def import_funnel_q3(db: Path) -> Path:
    """The hand-counted funnel case (tests/sql/funnel_q3: deals, stage history, reps)
    imported into the warehouse file ``db``."""
    case = Path(__file__).parent / "sql" / "funnel_q3"
    import_files([case / "deals.csv", case / "deal_stage_history.csv", case / "reps.csv"], db)
    return db


@pytest.fixture(scope="session")
def funnel_q3_db(tmp_path_factory) -> Path:
    """The hand-counted funnel case imported once per run (shared read-only)."""
    return _made_once(tmp_path_factory, "funnel_q3", lambda folder: import_funnel_q3(folder / "w.duckdb"))


@pytest.fixture(scope="session")
def imported_sample(tmp_path_factory):
    """Factory: the sample export of ``(seed, size)``, generated and imported once per
    run (shared read-only). Returns a namespace with ``folder`` (the CSVs), ``db`` (the
    warehouse file), ``manifest`` (the generator's known totals) and ``results`` (the import
    results)."""
    made: dict[tuple[int, float], SimpleNamespace] = {}

    def import_sample(seed: int, size: float, folder: Path) -> SimpleNamespace:
        manifest = generate(folder, seed=seed, size=size)
        db = folder / "w.duckdb"
        results = import_files(sorted(folder.glob("*.csv")), db)
        return SimpleNamespace(folder=folder, db=db, manifest=manifest, results=results)

    def make(seed: int, size: float) -> SimpleNamespace:
        if (seed, size) not in made:
            made[(seed, size)] = _made_once(
                tmp_path_factory, f"sample-{seed}-{size}", lambda folder: import_sample(seed, size, folder)
            )
        return made[(seed, size)]

    return make


@pytest.fixture(scope="session")
def validation_import(tmp_path_factory):
    """Factory: public dataset ``name`` (a key of :data:`VALIDATION_IMPORTS`) imported through
    its example mapping once per run; skipped without the validation data. Returns a
    namespace with ``db`` (the warehouse file: tests only read it), ``results`` (the import
    results) and ``period`` (the quarter its reports cover)."""
    made: dict[str, SimpleNamespace] = {}

    def import_dataset(name: str, folder: Path) -> SimpleNamespace:
        files, mapping, period = VALIDATION_IMPORTS[name]
        db = folder / "w.duckdb"
        results = import_files([VALIDATION_DATA / f for f in files], db, mapping=EXAMPLE_MAPPINGS / mapping)
        return SimpleNamespace(db=db, results=results, period=period)

    def make(name: str) -> SimpleNamespace:
        if name not in made:
            missing = [f for f in VALIDATION_IMPORTS[name][0] if not (VALIDATION_DATA / f).is_file()]
            if missing:
                pytest.skip(f"validation data not found: {VALIDATION_DATA / missing[0]}")
            made[name] = _made_once(tmp_path_factory, f"validation-{name}", lambda folder: import_dataset(name, folder))
        return made[name]

    return make
