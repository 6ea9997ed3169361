"""Import throughput against a bare DuckDB read_csv of the same file.

    .venv/bin/python benchmarks/import_throughput.py [--size 100] [--tables deals activities]

Generates the sample CRM export at ``--size`` (100 = about 10 M rows in all; deals.csv and
activities.csv are the big files) under benchmarks/results/data/size<N>/ (reused when present;
``--data DIR`` or $CRM_REVIEW_BENCH_DATA points at another folder of size<N>/ exports), then
for each table times, each in a fresh process-local database file:

* ``bare``: ``create table t as select * from read_csv(file)`` (DuckDB's own type detection);
* ``canonical``: ``crmreview.importing.import_files([file])`` (read, check every value, record
  rejects and the import, publish the warehouse);
* ``mapped``: the same file through a mapping file (every column by header), the path any
  CRM export takes.

With ``--all``, one more row (``all files``) times every table's file in one call of each:
the bare scans into one database, and ``import_files`` of all of them (one transaction).

It prints a table and writes import_throughput.json and .md to ``--out`` (default
benchmarks/results/). The figure of merit is the ratio import time / bare read_csv time
(aim: <= 1.5 canonical, <= 2 mapped). Timings are wall clock, best of ``--repeat`` runs. Not a
test: nothing here asserts a time. To compare two checkouts side by side, run this file with
each one's interpreter on the same ``--data`` (each row has its own bare scan):

    /path/to/before/.venv/bin/python benchmarks/import_throughput.py --size 10 --data D --out B
    .venv/bin/python benchmarks/import_throughput.py --size 10 --data D --out A
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import time
from pathlib import Path

import duckdb

from crmreview.config import DEFAULT_SETTINGS, Settings
from crmreview.importing import import_files
from crmreview.sample import COLUMNS, generate

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
#: where generated exports are kept, one folder per size (size1/, size100/)
DATA_ENV = "CRM_REVIEW_BENCH_DATA"


def data_root(given: Path | None = None) -> Path:
    """The folder of generated exports: ``given``, else $CRM_REVIEW_BENCH_DATA, else results/data/."""
    return Path(given or os.environ.get(DATA_ENV) or RESULTS / "data")


def sample_data(root: Path, size: float) -> Path:
    """The sample export at ``size`` in ``root``/size<N>/, generated when it is not there yet."""
    data = root / f"size{size:g}"
    if not (data / "manifest.json").exists():
        print(f"generating the sample at size {size:g} in {data} ...", flush=True)
        shutil.rmtree(data, ignore_errors=True)
        generate(data, size=size)
    return data


def _fresh(path: Path) -> Path:
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    return path


#: the DuckDB memory limit of the bare scans and the import's memory_limit (--memory-limit)
MEMORY_LIMIT: str | None = None


def _settings() -> Settings:
    return dataclasses.replace(DEFAULT_SETTINGS, memory_limit=MEMORY_LIMIT) if MEMORY_LIMIT else DEFAULT_SETTINGS


def _bare_connect(db: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(db))
    if MEMORY_LIMIT:
        con.execute("set memory_limit = $limit", {"limit": MEMORY_LIMIT})
    return con


def bare_scan(csv_path: Path, work: Path) -> float:
    db = _fresh(work / "bare.duckdb")
    started = time.perf_counter()
    con = _bare_connect(db)
    con.execute("create table t as select * from read_csv($path)", {"path": str(csv_path)})
    con.close()
    return time.perf_counter() - started


def bare_all(csv_paths: list[Path], work: Path) -> float:
    db = _fresh(work / "bare.duckdb")
    started = time.perf_counter()
    con = _bare_connect(db)
    for number, csv_path in enumerate(csv_paths, start=1):
        con.execute(f"create table t{number} as select * from read_csv($path)", {"path": str(csv_path)})
    con.close()
    return time.perf_counter() - started


def import_all(csv_paths: list[Path], work: Path) -> tuple[float, int]:
    db = _fresh(work / "canonical.duckdb")
    started = time.perf_counter()
    results = import_files(csv_paths, db, settings=_settings())
    return time.perf_counter() - started, sum(r.rows_loaded for r in results)


def canonical_import(csv_path: Path, work: Path) -> tuple[float, int]:
    db = _fresh(work / "canonical.duckdb")
    started = time.perf_counter()
    (result,) = import_files([csv_path], db, settings=_settings())
    return time.perf_counter() - started, result.rows_loaded


def _mapping_file(table: str, work: Path) -> Path:
    columns = "\n".join(f"      {c}: {c}" for c in COLUMNS[table])
    path = work / f"{table}_mapping.yml"
    path.write_text(
        f"name: benchmark_{table}\nfeeds:\n  - table: {table}\n    history: none\n    columns:\n{columns}\n",
        encoding="utf-8",
    )
    return path


def mapped_import(csv_path: Path, table: str, work: Path) -> tuple[float, int]:
    db = _fresh(work / "mapped.duckdb")
    mapping = _mapping_file(table, work)
    started = time.perf_counter()
    (result,) = import_files([csv_path], db, mapping=mapping, settings=_settings())
    return time.perf_counter() - started, result.rows_loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=float, default=100.0, help="sample size (100 = about 10 M rows in all)")
    parser.add_argument("--tables", nargs="+", default=["deals", "activities"], choices=list(COLUMNS))
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is kept")
    parser.add_argument("--no-mapped", action="store_true", help="skip the mapped-import measurement")
    parser.add_argument("--all", action="store_true", help="also time all the tables' files in one import")
    parser.add_argument(
        "--memory-limit", default=None, help="DuckDB memory limit of the bare scans and the imports' memory_limit (2GB)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results (default: results/)")
    parser.add_argument(
        "--data", type=Path, default=None, help=f"folder of size<N>/ exports (default: ${DATA_ENV} or results/data)"
    )
    args = parser.parse_args()
    global MEMORY_LIMIT
    MEMORY_LIMIT = args.memory_limit

    data = sample_data(data_root(args.data), args.size)
    out = args.out
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)

    rows = []
    for table in args.tables:
        csv_path = data / f"{table}.csv"
        bare = min(bare_scan(csv_path, work) for _ in range(args.repeat))
        canonical_runs = [canonical_import(csv_path, work) for _ in range(args.repeat)]
        canonical = min(t for t, _ in canonical_runs)
        loaded = canonical_runs[0][1]
        row = {
            "table": table,
            "rows": loaded,
            "mb": round(csv_path.stat().st_size / 1e6, 1),
            "bare_s": round(bare, 2),
            "canonical_s": round(canonical, 2),
            "canonical_ratio": round(canonical / bare, 2),
        }
        if not args.no_mapped:
            mapped = min(mapped_import(csv_path, table, work)[0] for _ in range(args.repeat))
            row |= {"mapped_s": round(mapped, 2), "mapped_ratio": round(mapped / bare, 2)}
        rows.append(row)
        print(json.dumps(row), flush=True)

    if args.all:
        paths = [data / f"{table}.csv" for table in args.tables]
        bare = min(bare_all(paths, work) for _ in range(args.repeat))
        runs = [import_all(paths, work) for _ in range(args.repeat)]
        canonical = min(t for t, _ in runs)
        row = {
            "table": "all files",
            "rows": runs[0][1],
            "mb": round(sum(p.stat().st_size for p in paths) / 1e6, 1),
            "bare_s": round(bare, 2),
            "canonical_s": round(canonical, 2),
            "canonical_ratio": round(canonical / bare, 2),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)

    shutil.rmtree(work, ignore_errors=True)
    report = {
        "size": args.size,
        "memory_limit": args.memory_limit,
        "repeat": args.repeat,
        "duckdb": duckdb.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    (out / "import_throughput.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    header = "| table | rows | MB | bare read_csv s | import s | ratio | mapped import s | ratio |\n|---|---|---|---|---|---|---|---|\n"
    lines = [
        f"| {r['table']} | {r['rows']:,} | {r['mb']} | {r['bare_s']} | {r['canonical_s']} | {r['canonical_ratio']} "
        f"| {r.get('mapped_s', '-')} | {r.get('mapped_ratio', '-')} |"
        for r in rows
    ]
    text = (
        f"size {args.size:g}, DuckDB {duckdb.__version__}, {os.cpu_count()} CPUs\n\n" + header + "\n".join(lines) + "\n"
    )
    (out / "import_throughput.md").write_text(text, encoding="utf-8")
    print("\n" + text)


if __name__ == "__main__":
    main()
