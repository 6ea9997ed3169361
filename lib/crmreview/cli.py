"""The ``crm-review`` command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from . import __version__, config
from . import metrics as metric_registry
from .csvout import frame_csv
from .metrics.common import ALL_BREAKDOWNS, offers
from .periods import COMPARE_MODES, PeriodError, parse_period, quarter
from .schedule import cli as schedule_cli

__all__ = ["main", "build_parser"]

DEMO_SEED = 7


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str | None:
        # a flag's default is its absence, None or "" is no default to show, and a help that
        # names its default already says it
        if action.nargs == 0 or action.default in (None, "") or "(default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def _builtin_source(text: str) -> str:
    from .importing.mapping import BUILTIN_ADAPTERS, unknown_source

    if text not in BUILTIN_ADAPTERS:
        raise argparse.ArgumentTypeError(unknown_source(text))
    return text


def _date_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time (expected YYYY-MM-DD or YYYY-MM-DD HH:MM)"
        ) from None


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="warehouse file (default: $CRM_REVIEW_DB or data/crm.duckdb)",
    )


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="settings file (YAML: funnel stages, tier thresholds, cadences, …); default: "
        "$CRM_REVIEW_CONFIG or crm-review.yml in the project folder, else the built-in settings",
    )


def _add_period(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--period",
        required=required,
        help="2026Q3, 2026-07, 2026, 2026-07-01..2026-09-30, last-quarter or last-month",
    )
    parser.add_argument(
        "--compare",
        choices=COMPARE_MODES,
        default=None,
        help="comparison period: prev (the previous period of equal kind) or yoy (a year earlier)",
    )
    parser.add_argument(
        "--as-of",
        type=_date,
        default=None,
        metavar="DATE",
        help="take every state at the end of this day instead of the period's last day",
    )


def _breakdowns() -> tuple[str, ...]:
    """Every ``--by`` some registered metric offers, in ``common.ALL_BREAKDOWNS`` order."""
    offered = {by for entry in metric_registry.REGISTRY.values() for by in entry.breakdowns}
    return tuple(by for by in ALL_BREAKDOWNS if by in offered)


def _breakdown(value: str) -> str:
    """An argparse type for ``--by``: a fixed breakdown, or ``attr:NAME`` / ``tag:NAME``."""
    if not offers(value, _breakdowns()):
        raise argparse.ArgumentTypeError(
            f"invalid choice: {value!r} (choose from {', '.join(_breakdowns())}; NAME is an attribute: "
            "a column of the export kept per customer or deal)"
        )
    return value


def _metric_options() -> dict[metric_registry.Option, list[str]]:
    """Each per-metric option of the registry, with the metrics that take it."""
    options: dict[metric_registry.Option, list[str]] = {}
    for entry in metric_registry.REGISTRY.values():
        for option in entry.options:
            options.setdefault(option, []).append(entry.name)
    return options


def _metrics_epilog() -> str:
    lines = ["metrics:"]
    for entry in metric_registry.REGISTRY.values():
        takes = [f"--by {'|'.join(entry.breakdowns)}" if entry.breakdowns else "no --by"]
        takes += [f"{option.flag} {'|'.join(option.choices or (option.metavar,))}" for option in entry.options]
        if not entry.compares:
            takes.append("no --compare")
        lines.append(f"  {entry.name:<11} {entry.help}")
        lines.append(f"  {'':<11} ({'; '.join(takes)})")
    lines += ["", "examples:", "  crm-review metrics funnel --period 2026Q3 --compare prev --by team --format json"]
    lines.append("  crm-review metrics quality --period 2026Q3")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm-review",
        formatter_class=_Formatter,
        description=(
            "Quarterly sales reviews from CRM exports: load the exports into a DuckDB "
            "warehouse, compute funnel metrics, render the review report."
        ),
        epilog=(
            "examples:\n"
            "  crm-review demo\n"
            "  crm-review import exports/*.csv --db data/crm.duckdb\n"
            "  crm-review metrics funnel --period 2026Q3 --compare prev --format json\n"
            "  crm-review report --period last-quarter --lang zh --out reports/"
        ),
    )
    parser.add_argument("--version", action="version", version=f"crm-review {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        formatter_class=_Formatter,
        help="sample data -> warehouse -> quarterly report (the main job)",
        description=(
            "Generate the bundled sample CRM export (data/sample/), import it into a fresh "
            "demo warehouse (data/demo.duckdb) and render the quarterly review of the "
            "sample's last quarter in English and Chinese, as HTML and, when Chromium is "
            "installed, as PDF. Prints the paths of the files written."
        ),
    )
    demo.add_argument(
        "--lang", choices=("en", "zh"), action="append", default=None, help="report language (default: both)"
    )
    demo.add_argument("--out", type=Path, default=config.REPORTS_DIR, help="report folder")
    demo.add_argument("--no-pdf", action="store_true", help="skip the PDF even when Chromium is installed")

    generate = sub.add_parser(
        "generate",
        formatter_class=_Formatter,
        help="write a synthetic CRM export in the canonical CSV layout",
        description=(
            "Write a deterministic synthetic CRM export (customers, reps, targets, deals, "
            "deal_stage_history, orders, activities) plus manifest.json with its known totals. "
            "The same seed and size give the same files."
        ),
    )
    generate.add_argument("--out", type=Path, default=config.SAMPLE_DIR, help="output folder")
    generate.add_argument("--seed", type=int, default=DEMO_SEED, help="random seed")
    generate.add_argument(
        "--size",
        type=float,
        default=1.0,
        help="scale: 1 = about 2,000 customers and 8,000 deals; rows grow linearly",
    )
    generate.add_argument("--end", type=_date, default=date(2026, 9, 30), help="last day of the data")

    imp = sub.add_parser(
        "import",
        formatter_class=_Formatter,
        help="load CRM exports (CSV, XLSX) into the warehouse",
        description=(
            "Import files in one transaction: all are loaded or none. Without --source or "
            "--mapping, each file is a canonical CSV named after the table it feeds (customers, "
            "reps, targets, deals, deal_stage_history, orders, activities) with its canonical "
            "column names. --source reads a CRM's own export with a built-in adapter; --mapping "
            "reads any export with a mapping file (YAML: columns by header or expression, stage "
            "map, date formats, lines summed per key). CSV may be UTF-8 (with or without BOM), "
            "GBK/GB18030 or UTF-16; XLSX is read from its first sheet unless the mapping names "
            "one. Refused rows are recorded in the rejects table with line, column, value and "
            "reason; a file already imported (same content and mapping) is skipped."
        ),
        epilog=(
            "examples:\n"
            "  crm-review import exports/deals.csv exports/customers.csv\n"
            "  crm-review import Opportunity.csv OpportunityHistory.csv --source salesforce\n"
            "  crm-review import 客户跟进表.xlsx --source jiandaoyun --show-rejects\n"
            "  crm-review import lines.csv --mapping my_shop.yml --exported-at 2026-09-30\n"
            "built-in adapters are mapping files you can copy: see crm-review import --list-sources"
        ),
    )
    imp.add_argument("files", nargs="*", type=Path, metavar="FILE", help="CSV or XLSX files to import")
    _add_db(imp)
    _add_config(imp)
    how = imp.add_mutually_exclusive_group()
    how.add_argument(
        "--source",
        type=_builtin_source,
        metavar="NAME",
        default=None,
        help="read the CRM's own export with a built-in adapter: salesforce, hubspot, zoho, jiandaoyun, "
        "neocrm (销售易), fxiaoke (纷享销客) or yonyou (用友 YonSuite)",
    )
    how.add_argument(
        "--mapping",
        type=Path,
        default=None,
        metavar="FILE.yml",
        help="read the files with this mapping file",
    )
    imp.add_argument(
        "--exported-at",
        type=_date_time,
        default=None,
        metavar="WHEN",
        help="when the export was taken (YYYY-MM-DD[ HH:MM]); dates stage changes seen between "
        "snapshots of a current-stage-only export (default: a date in the file name, else the "
        "latest date in the file; never its modification time), and the customers and deals it "
        "writes: an older export never overwrites a record a newer one wrote",
    )
    imp.add_argument(
        "--full-snapshot",
        action="store_true",
        help="the deals files are an export of every deal the CRM holds: a deal of the warehouse "
        "they no longer have is marked missing since that export's date (deals.missing_since) and "
        "counted in the summary; crm-review check lists them; needs the export's date (--exported-at or a date in the file name)",
    )
    imp.add_argument(
        "--timezone",
        default=None,
        metavar="ZONE",
        help="local time zone that times with an offset (2026-06-03T01:20:00Z) are converted "
        "to, e.g. Asia/Shanghai (default: the mapping's, else this machine's)",
    )
    imp.add_argument(
        "--show-rejects",
        action="store_true",
        help="summarise the rows this import refused: per file, counts by column and reason, "
        "then the first few with line, column, value and reason",
    )
    imp.add_argument(
        "--rejects-out",
        type=Path,
        default=None,
        metavar="FILE.csv",
        help="write every refused value (file, line, column, value, reason) to this CSV "
        "(UTF-8 with BOM, so that Excel shows Chinese text)",
    )
    imp.add_argument(
        "--memory-limit",
        default=None,
        metavar="SIZE",
        help="memory the import may use, the whole process (e.g. 2GB, 512MB); beyond it, work spills to "
        "a temporary folder next to the warehouse (default: the memory_limit setting, 2GB)",
    )
    imp.add_argument(
        "--list-sources",
        action="store_true",
        help="print the built-in adapters' mapping files (copy one to start your own) and exit",
    )

    metrics = sub.add_parser(
        "metrics",
        formatter_class=_Formatter,
        help="compute a metric for a period",
        description="Compute a metric for a period. JSON keys follow the design's metric definitions; rates are fractions.",
        epilog=_metrics_epilog(),
    )
    metrics.add_argument("name", choices=metric_registry.NAMES, help="the metric (listed below)")
    _add_period(metrics)
    metrics.add_argument(
        "--by",
        type=_breakdown,
        default=None,
        metavar="|".join(_breakdowns()),
        help="repeat the result per owner rep, team, source channel, region, customer tier, industry, size "
        "band or pipeline; attr:NAME per value of a custom field (a column of the export kept per "
        "customer or deal, e.g. attr:合同类型); tag:NAME per tag of a field holding several "
        "(客户标签 '价格敏感、决策链复杂': a customer counts under each tag) "
        "(which ones each metric offers is listed below)",
    )
    for option, names in _metric_options().items():
        metrics.add_argument(
            option.flag,
            dest=option.name,
            choices=option.choices,
            metavar=None if option.choices else option.metavar,
            default=argparse.SUPPRESS,
            help=f"{option.help} ({', '.join(names)} only"
            + (f"; default {option.default})" if option.default is not None else ")"),
        )
    metrics.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="table for reading, json (design keys) or csv (the table's rows) for scripts",
    )
    _add_db(metrics)
    _add_config(metrics)

    report = sub.add_parser(
        "report",
        formatter_class=_Formatter,
        help="render a review report (HTML, PDF) with papermill",
        description=(
            "Execute a report notebook with papermill and write a self-contained HTML file "
            "(no code, charts embedded, readable offline), and with --pdf its A4 PDF, named "
            "<report>_<period>_<scope>_<lang> in the output folder; the executed notebook, "
            "with the parameters used, is kept in its audit/ subfolder. Progress (each "
            "section with its time) is printed on stderr, the paths written on stdout."
        ),
        epilog=(
            "examples:\n"
            "  crm-review report --period 2026Q3 --pdf\n"
            "  crm-review report monthly_review --period last-month --lang zh\n"
            "  crm-review report --list"
        ),
    )
    report.add_argument(
        "name",
        nargs="?",
        default=None,
        help="report template in notebooks/ (see --list; default: monthly_review for a month, "
        "quarterly_review otherwise)",
    )
    _add_period(report, required=False)
    report.add_argument("--out", type=Path, default=config.REPORTS_DIR, help="output folder")
    report.add_argument("--lang", choices=("en", "zh"), default="en", help="report language")
    report.add_argument(
        "--pdf",
        action="store_true",
        help="also print the report to an A4 PDF (needs Chromium: apt-get install chromium fonts-noto-cjk)",
    )
    report.add_argument("--list", action="store_true", help="list the report templates and their parameters, then exit")
    scope = report.add_argument_group(
        "scope",
        "restrict every section to one team, region or rep, and/or one pipeline; the title and file name say so",
    )
    scope.add_argument("--team", default="", metavar="T", help="only this team's reps, customers and deals")
    scope.add_argument("--region", default="", metavar="R", help="only this region (the customer's, else its owner's)")
    scope.add_argument("--rep", default="", metavar="ID", help="only this rep (rep_id); rep_scorecard requires it")
    scope.add_argument("--pipeline", default="", metavar="P", help="only this pipeline's deals")
    report.add_argument(
        "--mask-pii",
        action="store_true",
        help="replace customer and rep names by stable pseudonyms (ids stay), for wide circulation",
    )
    report.add_argument(
        "--by",
        type=_breakdown,
        default=None,
        metavar="BREAKDOWN",
        help="one more breakdown of the funnel detail, beside rep and channel: team, region, tier, pipeline, "
        "industry, size_band, attr:NAME or tag:NAME (as metrics --by)",
    )
    _add_db(report)
    _add_config(report)

    check = sub.add_parser(
        "check",
        formatter_class=_Formatter,
        help="verify the warehouse: keys, references, stage order, durations, import log, schema",
        description=(
            "Verify a warehouse: natural keys unique, references resolve, stages in the configured "
            "funnel and matching outcomes, no negative durations, the import log's accounting "
            "(rows_read = rows_loaded + rows_rejected) and the schema version. Prints what is wrong "
            "and exits with status 1 when anything is."
        ),
    )
    _add_db(check)
    _add_config(check)
    _add_targets(sub)
    _add_mapping(sub)
    explore = sub.add_parser(
        "explore",
        formatter_class=_Formatter,
        help="the exploration notebook as a web app (filters, drill-down)",
        description=(
            "Serve notebooks/explore.ipynb with Voila, code hidden: filters, the review's views "
            "and drill-down over a read-only snapshot of the warehouse. Works with no network."
        ),
    )
    _add_db(explore)
    explore.add_argument("--port", type=int, default=8866, help="port to listen on")
    explore.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    explore.add_argument("--mask-pii", action="store_true", help="mask customer, contact and rep names")
    explore.add_argument(
        "--no-warm",
        dest="warm",
        action="store_false",
        help="do not compute the dashboard's results ahead of visitors (by default a process beside the "
        "server keeps them, for each newer import, in WAREHOUSE.explore-cache/)",
    )
    explore.add_argument(
        "--prepare",
        action="store_true",
        help="compute the dashboard's results for the warehouse as it is now, keep them for every later "
        "visitor and exit, without serving (e.g. after a scheduled import)",
    )

    upgrade = sub.add_parser(
        "upgrade",
        formatter_class=_Formatter,
        help="upgrade a warehouse file written by an older release",
        description="Apply this release's schema migrations to a warehouse file.",
    )
    _add_db(upgrade)

    schedule_cli.add_parser(sub, _Formatter)
    return parser


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share (expected a fraction such as 0.05)") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1 (e.g. 0.05 for 5 %)")
    return value


def _add_mapping(sub) -> None:
    mapping = sub.add_parser(
        "mapping",
        formatter_class=_Formatter,
        help="draft a mapping file from an export's headers and values, to review",
        description="Mapping files for exports the built-in adapters do not know.",
    )
    actions = mapping.add_subparsers(dest="mapping_command", required=True, metavar="ACTION")
    draft = actions.add_parser(
        "draft",
        formatter_class=_Formatter,
        help="write a mapping file guessed from the files' headers and a sample of their values",
        description=(
            "Read each file's header and a sample of its values (CSV in UTF-8, GBK or UTF-16; XLSX) "
            "(every sheet of a workbook; a sheet of notes is left out) "
            "and write a mapping file to review: the canonical table each file feeds, the column that "
            "fills each canonical column, the dates and amounts seen, and a stage map over every "
            "value of the stage column. Guesses come from a dictionary of CRM header labels and "
            "stage names (Chinese and English) and from the built-in adapters; each carries a "
            "comment with its evidence. What cannot be guessed is a TODO, which the import refuses "
            "until it is filled in; a draft without a TODO imports as it is."
        ),
        epilog=(
            "examples:\n"
            "  crm-review mapping draft 商机导出.xlsx 客户.csv --out my_crm.yml\n"
            "  crm-review import 商机导出.xlsx 客户.csv --mapping my_crm.yml"
        ),
    )
    draft.add_argument("files", nargs="+", type=Path, metavar="FILE", help="CSV or XLSX exports")
    draft.add_argument(
        "--out", type=Path, default=None, metavar="FILE.yml", help="write the draft here (default: print it)"
    )
    draft.add_argument("--name", default=None, help="the mapping's name (default: the --out file's name, else draft)")
    draft.add_argument("--force", action="store_true", help="overwrite an existing --out file")


def _cmd_mapping(args: argparse.Namespace) -> int:
    from .files import write_atomic
    from .importing import ImportFileError
    from .importing.draft import draft_mapping
    from .importing.errors import ReadError

    name = args.name or (args.out.stem if args.out is not None else "draft")
    if args.out is not None and args.out.exists() and not args.force:
        raise ImportFileError(f"{args.out}: already exists; choose another --out or add --force to overwrite it")
    try:
        draft = draft_mapping(args.files, name=name)
    except ReadError as exc:
        raise ImportFileError(str(exc)) from None
    if args.out is None:
        print(draft.text, end="")
    else:
        write_atomic(args.out, draft.text.encode("utf-8"))
        print(f"wrote {args.out}", file=sys.stderr)
    for feed in draft.feeds:
        mapped = sum(1 for g in feed.guesses if g.source != "TODO")
        print(f"crm-review: {feed.file} -> {feed.table}: {mapped} columns mapped", file=sys.stderr)
    if draft.todos:
        print(f"crm-review: {len(draft.todos)} TODO to fill in: {', '.join(draft.todos)}", file=sys.stderr)
    else:
        print("crm-review: every needed column was recognised; review the guesses, then import", file=sys.stderr)
    return 0


def _add_targets(sub) -> None:
    from .targets import METHODS

    targets = sub.add_parser(
        "targets",
        formatter_class=_Formatter,
        help="make targets: split a team target to reps and customers (业绩目标拆解)",
        description="Make targets from the warehouse's history.",
    )
    actions = targets.add_subparsers(dest="targets_command", required=True, metavar="ACTION")
    split = actions.add_parser(
        "split",
        formatter_class=_Formatter,
        help="split a team's target among its reps (and their customers)",
        description=(
            "Split a target amount among the reps of a team (or of the whole warehouse): by their share of "
            "the won revenue of the previous periods (history; the target_history_periods setting), of the "
            "pipeline open at the period's start (pipeline), or equally. A rep with nothing to go by gets "
            "the team's median share, or --new-rep-share. Amounts are rounded to a unit (the "
            "target_rounding setting, or --unit) and sum exactly to the amount. The rep targets are "
            "imported into the warehouse's targets (the file is kept in targets/ beside the warehouse), or "
            "written to --out to edit and import later; --customers also writes each rep's target spread "
            "over the customers the rep owns by tier (the target_tier_weights setting: A 1, B 0.5, C 0)."
        ),
        epilog=(
            "examples:\n"
            "  crm-review targets split --period 2026Q4 --amount 1000000 --team 华东一组\n"
            "  crm-review targets split --period 2026Q4 --amount 100万 --method equal --out q4_targets.csv\n"
            "  crm-review targets split --period 2026Q4 --amount 5000000 --customers q4_customers.csv"
        ),
    )
    _add_period(split)
    split.add_argument("--amount", required=True, help="the team target, e.g. 1000000, 1,000,000 or 100万")
    split.add_argument("--team", default=None, help="split among this team's reps (default: every rep)")
    split.add_argument("--method", choices=METHODS, default="history", help="what the shares follow")
    split.add_argument(
        "--new-rep-share",
        type=_share,
        default=None,
        metavar="SHARE",
        help="the share of a rep without history or pipeline (default: the team's median share)",
    )
    split.add_argument(
        "--unit", default=None, metavar="AMOUNT", help="round to this unit (default: the target_rounding setting)"
    )
    split.add_argument(
        "--customers",
        type=Path,
        default=None,
        metavar="FILE.csv",
        help="also write each rep's target spread over the customers the rep owns, by tier",
    )
    split.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE.csv",
        help="write the rep targets to this CSV (the canonical targets layout) instead of importing them",
    )
    _add_db(split)
    _add_config(split)


def _cmd_targets(args: argparse.Namespace) -> int:
    from .targets import import_split, split_lines, split_target, write_customers_csv, write_targets_csv
    from .warehouse import connect_read

    if args.compare:
        raise metric_registry.MetricError("targets split takes no --compare")
    period = parse_period(args.period, as_of=args.as_of)
    settings = config.load_settings(args.config)
    with connect_read(args.db) as con:
        split = split_target(
            con,
            period,
            args.amount,
            team=args.team,
            method=args.method,
            new_rep_share=args.new_rep_share,
            customers=args.customers is not None,
            unit=args.unit,
            settings=settings,
        )
    for line in split_lines(split):
        print(line)
    if args.out is not None:
        print(f"wrote {write_targets_csv(split, args.out)} (import it with crm-review import)")
    else:
        path, result = import_split(split, args.db, settings=settings)
        print(f"imported {path} into the targets ({result.status}, import {result.import_id})")
    if args.customers is not None:
        allocated = split.customers[split.customers["customer_id"].notna()]
        print(
            f"wrote {write_customers_csv(split, args.customers)}: {len(allocated):,} customers"
            + "".join(
                f"; {rep} keeps {amount:,.2f} unallocated (no customer of a weighted tier)"
                for rep, amount in split.customers.loc[
                    split.customers["customer_id"].isna(), ["rep_id", "target_amount"]
                ].itertuples(index=False)
            )
        )
    return 0


def _print_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(columns))
    print(frame.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:,.3f}"))


def _cmd_generate(args: argparse.Namespace) -> int:
    from .sample import generate

    manifest = generate(args.out, seed=args.seed, size=args.size, end=args.end)
    rows = ", ".join(f"{table} {count:,}" for table, count in manifest["rows"].items())
    print(f"wrote {args.out} ({rows})")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from datetime import time

    from .importing import ImportFileError, import_files
    from .importing.mapping import ADAPTERS_DIR, BUILTIN_ADAPTERS
    from .importing.nondata import skipped_counts
    from .importing.rejects import summarise_rejects, write_rejects_csv
    from .warehouse import connect_read

    if args.list_sources:
        for name in BUILTIN_ADAPTERS:
            print(f"{name:<12} {ADAPTERS_DIR / (name + '.yml')}")
        print(f"{'examples':<12} {ADAPTERS_DIR / 'examples'}")
        return 0
    if not args.files:
        raise ImportFileError("no files given to import")
    settings = config.load_settings(args.config)
    if args.memory_limit is not None:
        settings = dataclasses.replace(settings, memory_limit=args.memory_limit)
    results = import_files(
        args.files,
        args.db,
        settings=settings,
        mapping=args.mapping,
        source=args.source,
        exported_at=args.exported_at,
        timezone=args.timezone,
        full_snapshot=args.full_snapshot,
    )
    _print_table(
        [vars(r) for r in results],
        ["file", "table", "status", "rows_read", "rows_loaded", "rows_rejected", "encoding"],
    )
    for r in results:
        if r.exported_at is not None:
            when = r.exported_at.strftime("%Y-%m-%d" if r.exported_at.time() == time(0) else "%Y-%m-%d %H:%M")
            print(f"{r.file}: exported at {when} ({r.exported_at_source})")
        if r.records_kept_newer:
            print(
                f"{r.file}: {r.records_kept_newer:,} {r.table} kept as they were: the warehouse holds "
                "them from a newer export"
            )
        if r.missing_from_snapshot is not None:
            print(
                f"{r.file}: {r.missing_from_snapshot:,} deals of the warehouse are missing from this full "
                "snapshot: marked missing (crm-review check lists them)"
            )
    ids = [r.import_id for r in results if r.status == "loaded"]
    with connect_read(args.db) as con:
        skipped = skipped_counts(con, ids)
    for r in results:
        if r.import_id in skipped and r.status == "loaded":
            kinds = skipped[r.import_id]
            total = sum(n for _, n in kinds)
            print(
                f"{r.file}: {total} line{'s are' if total != 1 else ' is'} no record (skipped: "
                + ", ".join(f"{n} {kind}" for kind, n in kinds)
                + "), counted among the rejected rows"
            )
    if args.show_rejects:
        with connect_read(args.db) as con:
            summaries = summarise_rejects(con, ids)
        if not summaries:
            print("\nno rows rejected")
        for s in summaries:
            print(f"\n{s.file}: {s.rows} row{'s' if s.rows != 1 else ''} rejected")
            for column, reason, n in s.reasons:
                print(f"  {n:>6,}  {column or '(row)'}: {reason}")
            print("  first rejected lines:")
            for line, column, value, reason in s.examples:
                shown = "(empty)" if value is None else repr(value)
                print(f"    line {line}, {column or '(row)'}: {shown}: {reason}")
    if args.rejects_out is not None:
        with connect_read(args.db) as con:
            written = write_rejects_csv(con, ids, args.rejects_out)
        print(f"wrote {written:,} rejected value{'s' if written != 1 else ''} to {args.rejects_out}")
    return 0


def _cmd_metrics(args: argparse.Namespace) -> int:
    from . import metrics
    from .warehouse import connect_read

    period = parse_period(args.period, as_of=args.as_of)
    settings = config.load_settings(args.config)
    entry = metrics.metric(args.name)
    options = {}
    for option, names in _metric_options().items():
        if hasattr(args, option.name):
            if entry.option(option.name) is None:
                raise metrics.MetricError(f"{option.flag} applies to {', '.join(names)}, not to {args.name}")
            options[option.name] = getattr(args, option.name)
    with connect_read(args.db, memory_limit=settings.memory_limit) as con:
        result = metrics.compute(con, args.name, period, compare=args.compare, by=args.by, settings=settings, **options)
    module = entry.load()
    for item in result.get("warnings", []):
        print(f"crm-review: warning: {item['message']}", file=sys.stderr)
    for name in result.get("missing_inputs", []):
        print(f"crm-review: missing input: {name} (numbers that need it are left empty)", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    elif args.format == "csv":
        print(frame_csv(module.rows(result)), end="")
    else:
        lines = module.summary(result)
        print(lines[0])
        print(module.rows(result).to_string(index=False, na_rep="-", float_format=lambda v: f"{v:,.3f}"))
        print("\n".join(lines[1:]))
    return 0


def _progress(line: str) -> None:
    print(f"crm-review: {line}", file=sys.stderr, flush=True)


def _print_templates() -> None:
    from .report.render import notebook_parameters, templates

    for name in templates():
        print(name)
        for param in notebook_parameters(name).values():
            print(
                f"  --{param['name']:<12} {param['inferred_type_name']:<5} default {param['default']:<16} {param['help']}"
            )


def _render(args: argparse.Namespace, *, name: str | None, period: str, lang: str, pdf: bool) -> list[Path]:
    """Render one report; returns the files written (the HTML, then the PDF)."""
    from .report.render import render_report

    html = render_report(
        name,
        period=period,
        compare=getattr(args, "compare", None) or "prev",
        db=args.db,
        out_dir=args.out,
        lang=lang,
        as_of=args.as_of.isoformat() if getattr(args, "as_of", None) else "",
        config_path=getattr(args, "config", None),
        team=getattr(args, "team", ""),
        region=getattr(args, "region", ""),
        rep=getattr(args, "rep", ""),
        pipeline=getattr(args, "pipeline", ""),
        mask_pii=getattr(args, "mask_pii", False),
        by=getattr(args, "by", "") or "",
        pdf=pdf,
        progress=_progress,
    )
    return [html, html.with_suffix(".pdf")] if pdf else [html]


def _cmd_report(args: argparse.Namespace) -> int:
    from .report.render import PdfUnavailable

    if args.list:
        _print_templates()
        return 0
    if not args.period:
        raise PeriodError("--period is required (e.g. --period 2026Q3 or --period last-month)")
    try:
        written = _render(args, name=args.name, period=args.period, lang=args.lang, pdf=args.pdf)
    except PdfUnavailable as exc:
        print(exc.html_path)
        raise
    for path in written:
        print(path)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .browser import INSTALL_HINT
    from .importing import import_files
    from .report.pdf import pdf_available
    from .sample import generate

    sample_dir = config.SAMPLE_DIR
    db = config.demo_db_path()
    end = date(2026, 9, 30)
    print(f"generating the sample CRM export in {sample_dir}", file=sys.stderr)
    manifest = generate(sample_dir, seed=DEMO_SEED, size=1.0, end=end)
    db.unlink(missing_ok=True)
    files = sorted(sample_dir / f"{table}.csv" for table in manifest["rows"])
    print(f"importing {len(files)} files into {db}", file=sys.stderr)
    for result in import_files(files, db):
        print(
            f"  {Path(result.file).name}: {result.rows_loaded:,} rows loaded, {result.rows_rejected:,} rejected",
            file=sys.stderr,
        )
    period = quarter(end.year, end.month)
    pdf = not args.no_pdf and pdf_available()
    if not args.no_pdf and not pdf:
        print(
            f"crm-review: no Chromium, so no PDF; {INSTALL_HINT}, then: crm-review report "
            f"--period {period.label} --db {db} --pdf",
            file=sys.stderr,
        )
    args.db = db
    for lang in args.lang or ("en", "zh"):
        print(f"rendering the {period.label} quarterly review ({lang})", file=sys.stderr)
        for path in _render(args, name="quarterly_review", period=period.label, lang=lang, pdf=pdf):
            print(path)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .check import check_warehouse

    problems = check_warehouse(args.db, settings=config.load_settings(args.config))
    for problem in problems:
        print(problem)
    if problems:
        print(f"crm-review: {len(problems)} problem{'s' if len(problems) != 1 else ''} found", file=sys.stderr)
        return 1
    print("no problems found: keys, references, stages, durations, import log and schema are in order")
    return 0


def _cmd_explore(args: argparse.Namespace) -> int:
    from .explore.serve import serve

    if args.prepare:
        from .explore import warm

        return warm.main([f"--db={args.db or ''}", *(["--mask-pii"] if args.mask_pii else [])])
    return serve(args.db, port=args.port, host=args.host, mask_pii=args.mask_pii, warm=args.warm)


def _cmd_upgrade(args: argparse.Namespace) -> int:
    from .warehouse import upgrade

    old, new = upgrade(args.db)
    print(f"schema version {old} -> {new}" if old != new else f"already at schema version {new}")
    return 0


_COMMANDS = {
    "demo": _cmd_demo,
    "generate": _cmd_generate,
    "import": _cmd_import,
    "metrics": _cmd_metrics,
    "report": _cmd_report,
    "targets": _cmd_targets,
    "mapping": _cmd_mapping,
    "explore": _cmd_explore,
    "upgrade": _cmd_upgrade,
    "check": _cmd_check,
    "schedule": schedule_cli.command,
}


#: the errors a user's mistake raises (module, class): printed as one line, never a traceback.
#: Named, not imported: a command imports only what it runs (``crm-review metrics`` loads no
#: importer, report renderer or plotting library), and an error class whose module was never
#: imported cannot have been raised.
_USER_ERRORS = (
    ("crmreview.periods", "PeriodError"),
    ("crmreview.importing.errors", "ImportFileError"),
    ("crmreview.importing.textfiles", "EncodingError"),
    ("crmreview.warehouse", "WarehouseError"),
    ("crmreview.metrics", "MetricError"),
    ("crmreview.config", "SettingsError"),
    ("crmreview.scope", "ScopeError"),
    ("crmreview.targets", "TargetSplitError"),
    ("crmreview.report.render", "ReportError"),
)


def _is_user_error(exc: BaseException) -> bool:
    for module_name, class_name in _USER_ERRORS:
        error = getattr(sys.modules.get(module_name), class_name, None)
        if error is not None and isinstance(exc, error):
            return True
    return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        try:
            return _COMMANDS[args.command](args)
        except Exception as exc:
            if not _is_user_error(exc):
                raise
            print(f"crm-review: error: {exc}", file=sys.stderr)
            return 2
    except BrokenPipeError:
        return _closed_output()
    except OSError as exc:  # a folder that cannot be written, a full disk, a bad --out
        print(f"crm-review: error: {os_error_text(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print(
            "crm-review: error: out of memory; lower the work (fewer files at once) or --memory-limit", file=sys.stderr
        )
        return 2


def os_error_text(exc: OSError) -> str:
    """An operating-system error as one line: what failed, on which file, why."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _closed_output() -> int:
    """The reader of our output went away (``crm-review metrics … | head``): stop quietly,
    the way command-line tools do, without a second error while Python flushes stdout."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1


if __name__ == "__main__":
    sys.exit(main())
