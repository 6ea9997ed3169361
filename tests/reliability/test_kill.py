"""SIGKILL at random moments of a large import: the warehouse stays as it was, the next run
removes what the killed one left, and the same import then succeeds."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crmreview.check import check_warehouse
from crmreview.warehouse import connect_read

ROWS = 400_000
KILLS = 5


def _write_orders(path: Path, rows: int, start: int = 0) -> None:
    """A GBK-encoded orders export (so that the import makes a transcoded temporary copy)."""
    with open(path, "w", encoding="gb18030", newline="") as handle:
        handle.write("order_id,customer_id,order_date,amount\n")
        chunk = []
        for i in range(start, start + rows):
            chunk.append(f"订单{i},客户{i % 5000},2026-{1 + i % 12:02d}-{1 + i % 28:02d},{(i % 997) + 0.5}\n")
            if len(chunk) == 100_000:
                handle.write("".join(chunk))
                chunk = []
        handle.write("".join(chunk))


def _import(files: list[Path], db: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "crmreview.cli", "import", *map(str, files), "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _state(db: Path) -> tuple[int, int]:
    with connect_read(db) as con:
        return (
            con.execute("select count(*) from orders").fetchall()[0][0],
            con.execute("select count(*) from imports").fetchall()[0][0],
        )


@pytest.mark.slow
def test_sigkill_at_random_points_of_an_import_leaves_the_warehouse_as_it_was(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    small, big = tmp_path / "small" / "orders.csv", tmp_path / "big" / "orders.csv"
    small.parent.mkdir()
    big.parent.mkdir()
    _write_orders(small, 1_000, start=10_000_000)
    _write_orders(big, ROWS)
    db = tmp_path / "crm.duckdb"
    first = _import([small], db, env)
    assert first.wait() == 0, first.stderr.read()
    before = _state(db)
    assert before == (1_000, 1)

    # how long a whole import takes here, to spread the kills over it (nothing is asserted on time)
    scratch = tmp_path / "scratch.duckdb"
    started = time.monotonic()
    whole = _import([big], scratch, env)
    assert whole.wait() == 0, whole.stderr.read()
    duration = time.monotonic() - started
    scratch.unlink()

    after = (1_000 + ROWS, 2)
    rng = random.Random(15)
    for _ in range(KILLS):
        run = _import([big], db, env)
        time.sleep(rng.uniform(0.05, duration * 0.95))
        run.send_signal(signal.SIGKILL)
        run.wait()
        # all or nothing: killed after publishing, the import is whole
        assert _state(db) in (before, after)
        assert check_warehouse(db) == []

    done = _import([big], db, env)
    assert done.wait() == 0, done.stderr.read()
    assert _state(db) == after
    assert [p.name for p in tmp_path.iterdir() if ".writing-" in p.name] == []
    assert [p.name for p in temp.iterdir() if p.name.startswith("crm-review-")] == []
