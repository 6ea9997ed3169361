"""Write every metric's output for the sample warehouse, or compare two such snapshots.

A refactoring that must not change behaviour is checked with it:

    python -m tests.tools.metric_snapshot write /tmp/before     # on the old code
    python -m tests.tools.metric_snapshot write /tmp/after      # on the new code
    python -m tests.tools.metric_snapshot compare /tmp/before /tmp/after

Each output is the ``crm-review metrics`` command's stdout (json, csv and table) for every
metric, three periods of the sample, plain, ``--by rep``, ``--compare prev`` and both.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

PERIODS = ("2026Q1", "2026Q2", "2026Q3")
VARIANTS = {
    "plain": [],
    "by_rep": ["--by", "rep"],
    "compare_prev": ["--compare", "prev"],
    "by_rep_compare_prev": ["--by", "rep", "--compare", "prev"],
}
FORMATS = ("json", "csv", "table")


def _run(argv: list[str]) -> str:
    from crmreview.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    if code != 0:
        raise SystemExit(f"crm-review {' '.join(argv)} exited {code}")
    return out.getvalue()


def write(folder: Path, metrics: list[str] | None = None) -> int:
    """Generate the sample, import it and write one file per metric, period, variant and format."""
    from crmreview.cli import main

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        sample, db = Path(tmp) / "sample", Path(tmp) / "sample.duckdb"
        with contextlib.redirect_stdout(io.StringIO()):
            main(["generate", "--out", str(sample)])
            main(["import", *sorted(map(str, sample.glob("*.csv"))), "--db", str(db)])
        names = metrics or ["funnel", "tiers", "followup", "repurchase", "retention", "churn"]
        count = 0
        for name in names:
            for period in PERIODS:
                for variant, extra in VARIANTS.items():
                    for fmt in FORMATS:
                        text = _run(["metrics", name, "--period", period, *extra, "--format", fmt, "--db", str(db)])
                        (folder / f"{name}_{period}_{variant}.{fmt}").write_text(text.replace(tmp, "<tmp>"))
                        count += 1
    print(f"wrote {count} outputs to {folder}")
    return 0


def compare(before: Path, after: Path) -> int:
    """Byte-compare two snapshots; list every file that differs or is missing."""
    names = sorted({p.name for p in before.iterdir()} | {p.name for p in after.iterdir()})
    differ = [
        n
        for n in names
        if not (before / n).exists()
        or not (after / n).exists()
        or (before / n).read_bytes() != (after / n).read_bytes()
    ]
    for name in differ:
        print(f"differs: {name}")
    print(f"{len(names) - len(differ)} of {len(names)} outputs identical")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("folder", type=Path)
    w.add_argument("--metric", action="append", dest="metrics")
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "write":
        return write(args.folder, args.metrics)
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
