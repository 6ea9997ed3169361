"""The sample's exact bytes, pinned: any change to the generator that alters the data fails here.

The digests below were taken from the generator (reps.csv since reps gained an email column; numpy 2.4.6,
duckdb 2.0.0, as in requirements.lock). A failure means the files changed: a moved or added
random draw, a changed knob or label, a different CSV formatting, or a numpy or DuckDB upgrade
that changed a random stream or the text of a number. If the change is meant, check the data
with the other tests in this folder and pin the new digests the failure prints.

Also here: the package's modules import each other in one direction only.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
from pathlib import Path

import pytest

from crmreview.sample import generate

PINNED_SMALL = {
    "activities.csv": "4956c272e9c0a4882d2caa1fdcf5c1382e8a51ed65b896ed8ec71af9583f3a2f",
    "customers.csv": "9f3574eab70da28704d46eb80e6232c617a926764410a0c81369897cb62fa1dd",
    "deal_stage_history.csv": "71aecb57661864372ff74fe3103c011dab12c035b8297dc7acde982f8ef823bd",
    "deals.csv": "3f4637d35fb47eef67db88240cec3392483d7c4e525aa8353cfc6f3cf963e167",
    "manifest.json": "89011b1ca5d3bbd7b96ac71f01a6e5c61ae7c41249128cb3ca7601ab36f6e2af",
    "orders.csv": "404997fbcff6e0fa65f79b09cf0fd5575a33257d4537fee77857b19bd7037499",
    "reps.csv": "ad2c974f08765583ca8efa1d2ac9ee69302ee933d7d7d2c9df6e9ffa7e8c8e92",
    "targets.csv": "2dd86371b94a13f167e89c094c0d8443f7a2ea3a3bffd91bd26508bb3f7b9f72",
}

#: 5,001 customers: a full block of BLOCK_CUSTOMERS and a second block of one customer
PINNED_TWO_BLOCKS = {
    "activities.csv": "b42d4887e74dc1067544f9abbcd4638a02a8381e3ec04332032dcee955617e53",
    "customers.csv": "26682828a4b65d54e724facf09424338d4c85bb9a34941460599c820bcae742d",
    "deal_stage_history.csv": "b1e55c5740b2568da3345ffc62117605e3999c59d2c2a655fe569a2d435c40c2",
    "deals.csv": "c5842d1b1172b88d28ff669f6115e91d011b23f14a8d557f2ee96f021ee4d445",
    "manifest.json": "165d9c0cb49fbb690bda979eb6bdca846f21b3abb6a6316d86ea69e66f160b74",
    "orders.csv": "f9410b7a6ac7a4b282165ada1a3c58f6013d720e92bb9974ceeda6a640074308",
    "reps.csv": "a90cc2593eb41c8f2f72148e656a1431f7c43766260eb55ab233a6ccaedc5ba2",
    "targets.csv": "38cec1e2ba6f17bce8e9509f71df87a912c1d77b929cc0a1c9ea5b320bcfcd60",
}

#: the package's modules, each allowed to import only those before it
LAYERS = ("vocabulary", "calendar", "generator", "writer", "manifest", "__init__")


def _sha256(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_seed_7_at_size_0_05_writes_exactly_the_pinned_files(tmp_path):
    manifest = generate(tmp_path, seed=7, size=0.05)
    assert manifest["rows"] == {
        "customers": 100,
        "reps": 8,
        "targets": 64,
        "deals": 405,
        "deal_stage_history": 1182,
        "orders": 798,
        "activities": 2392,
    }
    digests = _sha256(tmp_path)
    assert digests == PINNED_SMALL, f"the sample changed; new digests: {digests}"


@pytest.mark.slow
def test_two_blocks_of_customers_write_exactly_the_pinned_files(tmp_path):
    manifest = generate(tmp_path, seed=7, size=2.5005)
    assert manifest["rows"] == {
        "customers": 5001,
        "reps": 38,
        "targets": 304,
        "deals": 20457,
        "deal_stage_history": 58657,
        "orders": 44955,
        "activities": 124291,
    }
    digests = _sha256(tmp_path)
    assert digests == PINNED_TWO_BLOCKS, f"the sample changed; new digests: {digests}"


def _sibling_imports(module_name: str) -> set[str]:
    """The modules of crmreview.sample that ``module_name`` imports (``from .x import …``)."""
    module = importlib.import_module(
        "crmreview.sample" if module_name == "__init__" else f"crmreview.sample.{module_name}"
    )
    found = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.add(node.module or "__init__")
    return found


@pytest.mark.parametrize("module_name", LAYERS)
def test_each_sample_module_imports_only_the_modules_below_it(module_name):
    below = set(LAYERS[: LAYERS.index(module_name)])
    assert _sibling_imports(module_name) <= below


def test_the_manifest_and_the_writer_do_not_import_each_other():
    assert "manifest" not in _sibling_imports("writer")
    assert "writer" not in _sibling_imports("manifest")
