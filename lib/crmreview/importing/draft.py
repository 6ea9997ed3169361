"""A mapping file drafted from an export's headers and values, to review (``crm-review mapping draft``).

:func:`draft_mapping` reads each file with the import's own reader
(:class:`crmreview.importing.readers.ExportFile`: CSV in any encoding it reads, XLSX, title
rows, totals rows and footers skipped) and writes a mapping file
(``crmreview/adapters/README.md``) that says, for each file, which canonical table it feeds,
which column fills each canonical column, the dates and amounts it saw, and a stage map over
every distinct value of the stage column. Every guess carries a YAML comment with its
evidence; what cannot be guessed is an explicit ``TODO``, which the import refuses, naming the
key (:func:`crmreview.importing.mapping.parse_mapping`). A draft without a TODO imports as it is.

The guesses come from a dictionary of header labels and stage names (``adapters/labels.yml``:
Chinese, simplified and traditional, and English labels of the CRMs crm-review knows and of
common Excel templates) and from the built-in adapters and example mappings themselves (their
headers, stage maps and unpivoted columns). Headers are compared without case, spaces,
punctuation or a unit in brackets, and with traditional characters read as simplified
(:func:`fold`).

Public names: :func:`draft_mapping`, :class:`Draft`, :class:`Dictionary`, :func:`dictionary`,
:func:`fold`, ``TODO``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import yaml

from .. import config
from ..schema import TABLE_SPECS
from .errors import MappingError, ReadError
from .expressions import parse_expression
from .limits import ReadLimits
from .mapping import DEFAULT_NULL_VALUES
from .patterns import match_headers
from .readers import ExportFile

__all__ = ["TODO", "Dictionary", "Draft", "dictionary", "draft_mapping", "fold"]

#: what the draft writes where it cannot guess; the import refuses a mapping that holds it
TODO = "TODO"
#: rows of a file whose values are sampled (the stage and status columns are read in full)
SAMPLE_ROWS = 5000
_FUNNEL = ("lead", "qualified", "proposal", "won", "lost")
_ONE = {"customers": "customer", "reps": "rep", "targets": "target", "deals": "deal", "orders": "order"}
_ONE |= {"deal_stage_history": "stage change", "activities": "follow-up", "TODO": "record"}
_UNIT = re.compile(r"[(（]\s*(元|万元|万|千元|¥|￥|rmb|cny|usd|%|％)\s*[)）]", re.IGNORECASE)
_WAN = re.compile(r"[(（]\s*万元?\s*[)）]")
_DATED_NAME = re.compile(r"\d{4}[-_.年]?\d{1,2}[-_.月]?\d{1,2}日?")


# ----------------------------------------------------------------------------- the dictionary


@dataclass(frozen=True)
class Dictionary:
    """Header labels and stage names, each with where it comes from."""

    # table -> canonical column -> [(folded label, label, source)] in order of preference
    labels: dict[str, dict[str, list[tuple[str, str, str]]]]
    deal_names: list[tuple[str, str, str]]
    signals: dict[str, set[str]]  # table -> folded headers that point to it
    stages: dict[str, tuple[str, str]]  # folded stage name -> (funnel stage, source)
    outcomes: dict[str, tuple[str, str]]  # folded status value -> (outcome, source)
    unpivots: list[tuple[str, dict, str]]  # (adapter name, its feed as written, source)
    stage_maps: list[tuple[str, dict[str, str]]]  # (source, folded stage name -> funnel stage) per adapter
    amount_pairs: list[tuple[str, str]]  # (won amount, expected amount) headers, folded
    line_amounts: list[tuple[str, str]]  # (quantity, unit price) headers, folded
    traditional: dict[int, int]


@functools.cache
def dictionary() -> Dictionary:
    """The dictionary: ``adapters/labels.yml``, then the built-in adapters and example mappings."""
    data = yaml.safe_load((config.ADAPTERS_DIR / "labels.yml").read_text(encoding="utf-8"))
    traditional = str.maketrans(data["traditional"]["from"], data["traditional"]["to"])
    folder = functools.partial(_fold, table=traditional)
    sources = data["sources"]
    labels: dict[str, dict[str, list[tuple[str, str, str]]]] = {}
    for table, columns in data["labels"].items():
        if table == "deal_names":
            continue
        for column, groups in columns.items():
            for source, names in groups.items():
                labels.setdefault(table, {}).setdefault(column, []).extend(
                    (folder(str(n)), str(n), sources[source]) for n in names
                )
    deal_names = [
        (folder(str(n)), str(n), sources[source])
        for source, names in data["labels"]["deal_names"].items()
        for n in names
    ]
    stages = {folder(str(n)): (stage, "common stage names") for stage, names in data["stages"].items() for n in names}
    outcomes = {folder(str(n)): (o, "common status values") for o, names in data["outcomes"].items() for n in names}
    unpivots, stage_maps = [], []
    for path in sorted(config.ADAPTERS_DIR.glob("*.yml")) + sorted((config.ADAPTERS_DIR / "examples").glob("*.yml")):
        if path.name == "labels.yml":
            continue
        mapping = yaml.safe_load(path.read_text(encoding="utf-8"))
        origin = f"the {mapping['name']} {'example' if path.parent.name == 'examples' else 'adapter'}"
        if mapping.get("stage_map"):
            stage_maps.append((origin, {folder(str(k)): v for k, v in mapping["stage_map"].items()}))
        for feed in mapping["feeds"]:
            if feed.get("unpivot"):
                unpivots.append((mapping["name"], feed, origin))
                continue
            for column, spec in (feed.get("columns") or {}).items():
                for name in _headers_of(spec):
                    entries = labels.setdefault(feed["table"], {}).setdefault(column, [])
                    if all(f != folder(name) for f, _, _ in entries):
                        entries.append((folder(name), name, origin))
    signals = {table: {folder(str(n)) for n in names} for table, names in data["signals"].items()}
    pairs = [(folder(w), folder(e)) for w, e in data["amount_pairs"]]
    lines = [(folder(q), folder(p)) for q, p in data["line_amounts"]]
    return Dictionary(labels, deal_names, signals, stages, outcomes, unpivots, stage_maps, pairs, lines, traditional)


def _headers_of(spec) -> list[str]:
    """The headers a mapping's column source names (none for constants, ids and expressions)."""
    if isinstance(spec, dict):
        column = spec.get("column")
        return [str(c) for c in column] if isinstance(column, list) else [str(column)] if column else []
    try:
        node = parse_expression(str(spec))
    except MappingError:
        return [str(spec)]
    return [str(spec)] if node.op == "name" else []


def _fold(text: str, table: dict[int, int]) -> str:
    text = _UNIT.sub("", str(text).translate(table))
    return re.sub(r"[\W_]+", "", text.casefold())


def fold(text: str) -> str:
    """A header or stage name as the draft compares it: traditional characters as simplified,
    no unit in brackets, no case, spaces or punctuation (``預計簽單金額(元)`` -> ``预计签单金额``)."""
    return _fold(text, dictionary().traditional)


# ----------------------------------------------------------------------------- reading a file


@dataclass
class Column:
    """One column of a file, profiled on a sample of its rows."""

    position: int
    header: str
    folded: str
    values: list[str]  # the sample's non-empty values
    rows: int  # rows in the sample
    kind: str = "text"  # text | date | epoch_ms | epoch_s | amount
    formats: list[str] = field(default_factory=list)  # strptime formats the draft writes (day/month order)
    ambiguous: bool = False  # dates such as 3/4/2025 that read either way
    note: str = ""

    @property
    def distinct(self) -> int:
        return len(set(self.values))


@dataclass
class Profile:
    path: Path
    header: tuple[str, ...]
    columns: list[Column]
    rows: int
    skipped: list[tuple[str, int]]  # non-data lines by reason
    encoding: str
    distinct: dict[int, list[tuple[str, int]]]  # position -> every distinct value with its rows (stage, status)
    status_stages: dict[str, tuple[str, int]] = field(default_factory=dict)  # won/lost status values -> (stage, rows)
    sheet: str | None = None  # the sheet read, for a workbook of several sheets

    @property
    def label(self) -> str:
        """The file's name, with the sheet's for a workbook of several."""
        return self.path.name if self.sheet is None else f"{self.path.name} (sheet {self.sheet})"


_DMY = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(\s+\d{1,2}:\d{2}(:\d{2})?(\s*[AaPp][Mm])?)?$")
_DATE = re.compile(
    r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?"
    r"|\d{4}年\d{1,2}月\d{1,2}日(\s*\d{1,2}[:时]\d{2}.*)?|\d{8}|[A-Z][a-z]{2,8} \d{1,2}, \d{4}.*|\d{1,2} [A-Z][a-z]{2} \d{4}.*)$"
)
_AMOUNT = re.compile(r"^[(（]?\s*[-+]?\s*(¥|￥|\$|€|£|RMB|CNY|USD)?\s*[-+]?\d[\d,，]*(\.\d+)?\s*(万|亿|元)?\s*[)）]?$")


def _classify(column: Column) -> None:
    values = column.values
    if not values:
        column.note = "empty in the sample"
        return
    example = values[0]
    if all(re.fullmatch(r"1\d{12}", v) for v in values):
        column.kind, column.note = "epoch_ms", f"epoch milliseconds such as {example!r}"
        return
    if all(re.fullmatch(r"1\d{9}", v) for v in values) and _is_time_label(column):
        column.kind, column.note = "epoch_s", f"epoch seconds such as {example!r}"
        return
    dmy = [m for m in (_DMY.match(v) for v in values) if m]
    if dmy and len(dmy) == len(values):
        first = [int(m.group(1)) for m in dmy]
        second = [int(m.group(3)) for m in dmy]
        seps = {m.group(2) for m in dmy}
        day_first, month_first = max(first) > 12, max(second) > 12
        clocks = {_clock(m.group(5)) for m in dmy}
        column.kind = "date"
        if day_first == month_first:
            column.ambiguous = True
            column.note = f"dates such as {example!r} that read as day/month or month/day"
            return
        order = "%d{0}%m{0}%Y" if day_first else "%m{0}%d{0}%Y"
        column.formats = [order.format(sep) + clock for sep in sorted(seps) for clock in sorted(clocks, reverse=True)]
        column.note = f"{'day' if day_first else 'month'}-first dates such as {example!r}"
        return
    if all(_DATE.match(v) for v in values):
        column.kind, column.note = "date", f"dates such as {example!r} (read as they are)"
        return
    if all(re.fullmatch(r"[1-9]\d{4}(\.\d+)?", v) for v in values) and _is_time_label(column):
        column.kind, column.note = "date", f"Excel date numbers such as {example!r} (read as they are)"
        return
    if all(_AMOUNT.match(v) for v in values):
        column.kind = "amount"
        shown = next((v for v in values if not re.fullmatch(r"-?\d+(\.\d+)?", v)), example)
        column.note = f"amounts such as {shown!r} (read as they are)"


def _clock(text: str | None) -> str:
    if not text:
        return ""
    text = text.strip()
    if re.search(r"[AaPp][Mm]$", text):
        return " %I:%M:%S %p" if text.count(":") == 2 else " %I:%M %p"
    return " %H:%M:%S" if text.count(":") == 2 else " %H:%M"


def _is_time_label(column: Column) -> bool:
    return bool(re.search(r"时间|日期|time|date|_at$|at$", column.folded + " " + column.header.casefold()))


def profiles(path: Path, limits: ReadLimits | None = None) -> list[Profile]:
    """The profile of ``path``; of each sheet that holds a table for a workbook of several
    sheets (an empty sheet, or one of notes without a header row, is passed over)."""
    limits = limits or ReadLimits.from_settings(config.DEFAULT_SETTINGS)
    with ExportFile(path, limits) as export:
        sheets = export.sheet_names()
    if len(sheets) < 2:
        return [profile(path, limits)]
    found = []
    for sheet in sheets:
        try:
            found.append(profile(path, limits, sheet=sheet))
        except ReadError:  # empty, or no header row in its first rows
            continue
    return found or [profile(path, limits)]


def profile(path: Path, limits: ReadLimits | None = None, *, sheet: str | None = None) -> Profile:
    """Read ``path`` (its sheet ``sheet``) with the import's reader into an in-memory database and profile its columns."""
    con = duckdb.connect()
    try:
        with ExportFile(path, limits or ReadLimits.from_settings(config.DEFAULT_SETTINGS)) as export:
            layout = export.layout(is_header=_looks_like_header, sheet=sheet)
            scan = export.scan(con, layout, 1)
            width = len(scan.header)
            # work-table and positional column names are ours; every value is bound
            sample = con.execute(
                f"select * from {scan.raw_table} order by rowid limit $n", {"n": SAMPLE_ROWS}
            ).fetchall()
            skipped = con.execute(
                f"select regexp_extract(reason, $pattern, 1) as kind, count(*) "
                f"from {scan.refused_table} where starts_with(reason, $prefix) group by 1 order by 2 desc",
                {"pattern": r"^not a record \(skipped\): ([^,]*)", "prefix": "not a record"},
            ).fetchall()
            columns = []
            for i, header in enumerate(scan.header):
                values = [str(row[i]).strip() for row in sample if i < len(row) and _filled(row[i])]
                column = Column(i + 1, header, fold(header), values, len(sample))
                _classify(column)
                columns.append(column)
            distinct = {}
            for column in columns:
                if column.kind == "text" and 0 < column.distinct <= 60:
                    distinct[column.position] = con.execute(
                        f"select trim(c{column.position}) as v, count(*) from {scan.raw_table} "
                        f"where nullif(trim(c{column.position}), $empty) is not null group by 1 order by min(rowid)",
                        {"empty": ""},
                    ).fetchall()
            if width and any(c.ambiguous for c in columns):
                for column in columns:
                    if column.ambiguous:
                        _settle_ambiguous(con, scan.raw_table, column)
            return Profile(path, scan.header, columns, scan.rows, skipped, scan.encoding, distinct, sheet=sheet)
    finally:
        con.close()


def _looks_like_header(row: list[str]) -> bool:
    """A row with two or more different cells the dictionary knows as headers (a merged title
    row repeats one text across the width and is none)."""
    known = _known_headers()
    return sum(1 for cell in set(row) if cell and fold(cell) in known) >= 2


@functools.cache
def _known_headers() -> frozenset[str]:
    d = dictionary()
    labels = {f for columns in d.labels.values() for entries in columns.values() for f, _, _ in entries}
    return frozenset(labels | {f for f, _, _ in d.deal_names} | {f for names in d.signals.values() for f in names})


def _filled(value) -> bool:
    """A value the import would read (the null markers of a mapping, #N/A or -, are none)."""
    return value is not None and str(value).strip() not in DEFAULT_NULL_VALUES


def _settle_ambiguous(con: duckdb.DuckDBPyConnection, raw: str, column: Column) -> None:
    """Dates that read either way in the sample: look at the whole column."""
    first, second = con.execute(
        f"select max(try_cast(regexp_extract(c{column.position}, '^(\\d{{1,2}})[/.-](\\d{{1,2}})[/.-]\\d{{4}}', 1) as int)), "
        f"max(try_cast(regexp_extract(c{column.position}, '^(\\d{{1,2}})[/.-](\\d{{1,2}})[/.-]\\d{{4}}', 2) as int)) "
        f"from {raw}"
    ).fetchall()[0]
    if (first or 0) > 12 and (second or 0) <= 12:
        order = "%d/%m/%Y"
    elif (second or 0) > 12 and (first or 0) <= 12:
        order = "%m/%d/%Y"
    else:
        return
    sep = _DMY.match(column.values[0]).group(2)
    clocks = {_clock(m.group(5)) for m in (_DMY.match(v) for v in column.values) if m}
    column.ambiguous = False
    column.formats = [order.replace("/", sep) + clock for clock in sorted(clocks, reverse=True)]
    column.note = f"{'day' if order.startswith('%d') else 'month'}-first dates such as {column.values[0]!r} (from the whole column)"


# ----------------------------------------------------------------------------- guessing


@dataclass
class Guess:
    """One canonical column's source in a feed, with its evidence."""

    name: str
    source: object  # a header, a dict (column + options, generate, value) or TODO
    evidence: str
    header: str | None = None


@dataclass
class FeedDraft:
    table: str
    file: str
    evidence: str
    guesses: list[Guess]
    combine: str | None = None
    skip_if_empty: str | None = None
    unpivot: dict | None = None
    requires: list | None = None
    unused: list[str] = field(default_factory=list)
    header_stages: list[str] = field(default_factory=list)  # stages named by unpivoted headers
    sheet: str | None = None  # the workbook's sheet it reads, for a workbook of several


@dataclass
class Draft:
    """A drafted mapping: its text (YAML with comments), its TODOs and what it read."""

    text: str
    todos: list[str]
    feeds: list[FeedDraft]
    profiles: list[Profile]
    stage_map: dict[str, str]


def _find(columns: list[Column], table: str, canonical: str, used: set[int]) -> tuple[Column, str, str] | None:
    """The file's column that fills ``table.canonical`` (the dictionary's order), with the label
    and its source."""
    entries = dictionary().labels.get(table, {}).get(canonical, [])
    by_fold = {}
    for column in columns:
        by_fold.setdefault(column.folded, column)
    for folded, label, source in entries:
        column = by_fold.get(folded)
        if column is not None and column.position not in used:
            return column, label, source
    return None


def _evidence(column: Column, table: str, canonical: str, label: str, source: str) -> str:
    same = "" if fold(label) == column.folded and label == column.header else f" (as {label!r})"
    filled = (
        f"{len(column.values):,} of {column.rows:,} {'sampled ' if column.rows == SAMPLE_ROWS else ''}rows filled"
        if column.rows
        else "no rows"
    )
    kind = TABLE_SPECS[table].column(canonical).kind
    relevant = (kind in {"date", "timestamp"} and column.kind not in {"text", "amount"}) or (
        kind == "decimal" and column.kind == "amount"
    )
    note = f"; {column.note}" if column.note and relevant else ""
    return f"{table}.{canonical} in {source}{same}; {filled}{note}"


def _column_source(column: Column, canonical: str, kind: str) -> tuple[object, str]:
    """The source written for a column: its header, or a mapping with a format or an expression."""
    header = column.header
    if kind in {"timestamp", "date"}:
        if column.kind == "epoch_ms":
            return {"expr": f"from_epoch_ms({_ref(header)})"}, " (read with from_epoch_ms)"
        if column.kind == "epoch_s":
            return {"expr": f"from_epoch_s({_ref(header)})"}, " (read with from_epoch_s)"
        if column.ambiguous:
            return {"column": header, "format": TODO}, ""
        if column.formats:
            return {"column": header, "format": column.formats if len(column.formats) > 1 else column.formats[0]}, ""
    if kind == "decimal" and _WAN.search(header):
        return {"expr": f"{_ref(header)} * 10000"}, " (the header says 万: times 10,000)"
    return header, ""


def _ref(header: str) -> str:
    return (
        header
        if re.fullmatch(r"[^\s()+\-*/,'`\[\]]+", header) and not re.fullmatch(r"\d+(\.\d+)?", header)
        else f"[{header}]"
    )


def _line_amount(profile: Profile) -> tuple[Column, Column] | None:
    """A quantity and a unit price (invoice lines): their product is the line's amount."""
    d = dictionary()
    by_fold = {c.folded: c for c in profile.columns}
    for quantity, price in d.line_amounts:
        if quantity in by_fold and price in by_fold:
            return by_fold[quantity], by_fold[price]
    return None


def _pick_tables(profile: Profile, name: str) -> list[tuple[str, str]]:
    """The tables a file feeds, each with why."""
    d = dictionary()
    found = {t: [c for c in TABLE_SPECS[t].names if _find(profile.columns, t, c, set())] for t in TABLE_SPECS}
    signal = {t: sorted(c.header for c in profile.columns if c.folded in d.signals.get(t, set())) for t in d.signals}
    tables = []
    has_stage = "stage" in found["deals"]
    history_name = re.search(r"histor|历史|歷史|变更|變更|stage.?change", name, re.IGNORECASE)
    if has_stage and (signal["deal_stage_history"] or history_name) and "entered_at" in found["deal_stage_history"]:
        why = f"columns {', '.join(signal['deal_stage_history'])}" if signal["deal_stage_history"] else "its name"
        tables.append(("deal_stage_history", f"a stage history: {why}, a stage and a time of change"))
        return tables
    if has_stage:
        tables.append(("deals", "a stage column: one deal per row"))
    elif signal["orders"] and ("amount" in found["orders"] or _line_amount(profile)):
        tables.append(("orders", f"order columns ({', '.join(signal['orders'][:3])}) with an amount"))
    if signal["activities"] and "occurred_at" in found["activities"] and (tables or not signal["orders"]):
        tables.append(("activities", f"follow-up columns ({', '.join(signal['activities'][:3])})"))
    if signal["customers"] and "customer_id" in found["customers"]:
        tables.append(("customers", f"customer columns ({', '.join(signal['customers'][:3])})"))
    if not tables and signal["reps"] and "rep_id" in found["reps"]:
        tables.append(("reps", f"team columns ({', '.join(signal['reps'][:3])})"))
    if not tables and "customer_id" in found["customers"]:
        tables.append(("customers", "a customer column and nothing of a deal, order or follow-up"))
    return tables


def _feed(profile: Profile, table: str, why: str, file_pattern: str, primary: bool) -> FeedDraft:
    spec = TABLE_SPECS[table]
    d = dictionary()
    guesses: list[Guess] = []
    used: set[int] = set()
    shared = {("customers", "name"), ("reps", "name")}  # may reuse the id's column
    by_name = {}
    for column in spec.columns:
        if column.name == "outcome":
            continue
        hit = _find(profile.columns, table, column.name, set() if (table, column.name) in shared else used)
        if table == "deals" and column.name == "deal_id" and hit is None:
            names = {c.folded: c for c in profile.columns}
            for folded, label, source in d.deal_names:
                if folded in names:
                    col = names[folded]
                    unique = col.distinct == len(col.values)
                    guesses.append(
                        Guess(
                            "deal_id",
                            col.header,
                            f"no deal id column: the deal name {label!r} ({source}) stands for it; "
                            + ("all distinct in the sample" if unique else "NOT unique in the sample: check it"),
                            col.header,
                        )
                    )
                    used.add(col.position)
                    break
            if guesses and guesses[-1].name == "deal_id":
                continue
        if hit is None:
            continue
        col, label, source = hit
        if table == "deals" and column.name == "stage" and col.kind != "text":
            continue
        source_value, how = _column_source(col, column.name, column.kind)
        guesses.append(
            Guess(column.name, source_value, _evidence(col, table, column.name, label, source) + how, col.header)
        )
        used.add(col.position)
        by_name[column.name] = col
    if table == "deals":
        _status_and_amount(profile, guesses, used)
    line = _line_amount(profile) if table == "orders" and all(g.name != "amount" for g in guesses) else None
    if line is not None:
        quantity, price = line
        guesses.append(
            Guess(
                "amount",
                {"expr": f"{_ref(quantity.header)} * {_ref(price.header)}"},
                f"lines of an order: {quantity.header} × {price.header}, the lines of one order summed (combine: sum)",
            )
        )
        used.update({quantity.position, price.position})
    if table == "activities" and all(g.name != "kind" for g in guesses):
        chinese = any(re.search(r"[\u4e00-\u9fff]", h) for h in profile.header)
        kind = "跟进" if chinese else "follow-up"
        guesses.append(Guess("kind", {"value": kind}, f"no kind column: each row is a follow-up ({kind})"))
    present = {g.name for g in guesses}
    for column in spec.columns:
        if not column.required or column.name in present or (table == "deals" and column.name == "outcome"):
            continue
        guesses.append(_missing(profile, table, column.name, by_name, used))
    order = {c.name: i for i, c in enumerate(spec.columns)}
    guesses.sort(key=lambda g: order[g.name])
    feed = FeedDraft(table, file_pattern, why, guesses)
    if line is not None:
        feed.combine = "sum"
    if not primary:
        key = spec.key[0]
        key_guess = next((g for g in guesses if g.name == key), None)
        feed.combine = "last" if table == "customers" else "first"
        if key_guess is not None and key_guess.header:
            feed.skip_if_empty = key_guess.header
    if table == "activities":
        occurred = next((g for g in guesses if g.name == "occurred_at" and g.header), None)
        if occurred is not None and not primary:
            feed.skip_if_empty = occurred.header
    feed.unused = [c.header for c in profile.columns if c.position not in used]
    return feed


def _status_and_amount(profile: Profile, guesses: list[Guess], used: set[int]) -> None:
    """用友's 赢丢单状态 beside its 商机阶段: a won or lost status is the deal's stage, an open one
    leaves the stage column to speak (so that stage and outcome agree); a won amount beside an
    expected one (赢单金额, 预计签单金额): the won amount, else the expected one."""
    d = dictionary()
    stage = next((g for g in guesses if g.name == "stage" and g.header), None)
    status = _find(profile.columns, "deals", "outcome", used)
    if stage is not None and status is not None and status[0].position in profile.distinct:
        col, _label, source = status
        values = profile.distinct[col.position]
        outcome = {v: d.outcomes.get(fold(v), (None, ""))[0] for v, _ in values}
        if all(outcome.values()):
            opens = [v for v, o in outcome.items() if o == "open"]
            expr = _ref(col.header)
            for value in opens:
                expr = f"nullif({expr}, {_quoted(value)})"
            stage.source = {"expr": f"coalesce({expr}, {_ref(stage.header)})"}
            stage.evidence += (
                f"; the status {col.header!r} ({source}: "
                + ", ".join(f"{v!r} {o}" for v, o in outcome.items())
                + ") is the stage once won or lost"
            )
            stage.header = None
            used.add(col.position)
            profile.status_stages.update(
                {v: (o, n) for (v, n), o in zip(values, outcome.values(), strict=True) if o != "open"}
            )
    amount = next((g for g in guesses if g.name == "amount" and g.header), None)
    if amount is not None:
        by_fold = {c.folded: c for c in profile.columns}
        for won, expected in d.amount_pairs:
            if won in by_fold and expected in by_fold:
                won_col, expected_col = by_fold[won], by_fold[expected]
                amount.source = {"expr": f"coalesce({_ref(won_col.header)}, {_ref(expected_col.header)})"}
                amount.evidence = (
                    f"{won_col.header!r} once won, else {expected_col.header!r} (a won and an expected amount); "
                    + amount.evidence
                )
                used.update({won_col.position, expected_col.position})
                break


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _missing(profile: Profile, table: str, canonical: str, found: dict[str, Column], used: set[int]) -> Guess:
    """A required column the dictionary finds no header for: a generated id when the row has
    what identifies it, else a TODO."""
    if canonical in {"activity_id", "deal_id"}:
        parts = [
            c
            for name in ("customer_id", "occurred_at", "created_at", "deal_id")
            if (c := found.get(name)) is not None and name != canonical
        ]
        if len(parts) >= 2:
            of = [c.header for c in parts[:2]]
            prefix = "A-" if canonical == "activity_id" else "D-"
            return Guess(
                canonical,
                {"generate": "hash", "of": of, "prefix": prefix},
                f"no {canonical} column: an id from {' and '.join(of)} (the same values give the same id in a later export)",
            )
    unused = [c.header for c in profile.columns if c.position not in used]
    return Guess(
        canonical,
        TODO,
        f"no column looks like {table}.{canonical}; name one of: {', '.join(unused) or '(no column left)'}",
    )


def _unpivot_feeds(profile: Profile, file_pattern: str) -> list[FeedDraft]:
    """Feeds of the built-in adapters whose unpivot pattern matches the file's headers
    (HubSpot's ``Date entered "<Stage> (<Pipeline>)"`` columns), copied."""
    out = []
    adapter = None  # the first adapter whose pattern matches; its other unpivots (exits) too
    for name, feed, origin in dictionary().unpivots:
        if adapter not in (None, name):
            continue
        matched = match_headers(feed["unpivot"]["headers"], profile.header)
        ids = [h for spec in (feed.get("columns") or {}).values() for h in _headers_of(spec)]
        if matched and all(any(fold(h) == c.folded for c in profile.columns) for h in ids):
            columns = {
                k: next(c.header for c in profile.columns if c.folded == fold(_headers_of(v)[0]))
                for k, v in feed["columns"].items()
            }
            guesses = [Guess(k, v, f"as in {origin}", v) for k, v in columns.items()]
            out.append(
                FeedDraft(
                    feed["table"],
                    file_pattern,
                    f"{len(matched)} columns such as {matched[0].header!r} are stages "
                    f"{'exited' if feed['unpivot'].get('exits') else 'entered'}, as in {origin}",
                    guesses,
                    unpivot=dict(feed["unpivot"]),
                    header_stages=[m.groups["stage"] for m in matched if m.groups and m.groups.get("stage")],
                )
            )
            adapter = name
    return out


def _same_deal_key(feeds: list[tuple[Profile, FeedDraft]]) -> None:
    """A stage-history file that names deals by a column the deals file also has (Zoho's Deal
    Name): the deals are keyed by that column too, so that the history finds its deals."""
    history = [
        g.header
        for _, f in feeds
        if f.table == "deal_stage_history"
        for g in f.guesses
        if g.name == "deal_id" and g.header
    ]
    # a follow-up or customer feed of the deals file names the deal and customer as the deals do
    for profile, feed in feeds:
        deals = next((f for p, f in feeds if p is profile and f.table == "deals"), None)
        if deals is None or feed is deals:
            continue
        for key in ("deal_id", "customer_id"):
            theirs = next((g for g in deals.guesses if g.name == key and g.header), None)
            mine = next((g for g in feed.guesses if g.name == key and g.header), None)
            if theirs is not None and mine is not None and mine.header != theirs.header:
                if mine.header not in feed.unused:
                    feed.unused.append(mine.header)
                mine.source, mine.header = theirs.source, theirs.header
                mine.evidence = f"as the deals of this file: {theirs.header!r}"
                if theirs.header in feed.unused:
                    feed.unused.remove(theirs.header)
    # a customers file keyed as the other files name their customers (by name, say)
    named = {
        g.header for _, f in feeds if f.table != "customers" for g in f.guesses if g.name == "customer_id" and g.header
    }
    for profile, feed in feeds:
        guess = next((g for g in feed.guesses if g.name == "customer_id" and g.header), None)
        if feed.table != "customers" or guess is None or guess.header in named:
            continue
        column = next((c for c in profile.columns if c.header in named), None)
        if column is not None:
            if guess.header not in feed.unused:
                feed.unused.append(guess.header)
            guess.source, guess.header = column.header, column.header
            guess.evidence = (
                f"the other files name customers by {column.header!r}, so the customers are keyed by it too"
            )
            if column.header in feed.unused:
                feed.unused.remove(column.header)
    for profile, feed in feeds:
        if feed.table != "deals":
            continue
        guess = next((g for g in feed.guesses if g.name == "deal_id"), None)
        for header in history:
            column = next((c for c in profile.columns if c.folded == fold(header)), None)
            if guess is not None and column is not None and guess.header != column.header:
                unique = column.distinct == len(column.values)
                guess.source, guess.header = column.header, column.header
                guess.evidence = f"the stage history names deals by {header!r}, so the deals are keyed by it too; " + (
                    "all distinct in the sample" if unique else "NOT unique in the sample: check it"
                )
                if column.header in feed.unused:
                    feed.unused.remove(column.header)
                break


def _stage_map(
    profiles: list[Profile], feeds: list[tuple[Profile, FeedDraft]]
) -> tuple[dict[str, str], dict[str, str]]:
    """Every distinct value of the stage columns (and every stage an unpivoted header names)
    -> a funnel stage or TODO, with the evidence."""
    d = dictionary()
    counts: dict[str, int] = {}
    for profile, feed in feeds:
        for value in feed.header_stages:  # HubSpot's Date entered "<Stage> (<Pipeline>)"
            counts.setdefault(value, 0)
        if feed.table == "deals":
            for value, (_, n) in profile.status_stages.items():
                counts[value] = counts.get(value, 0) + n
        stage = next((g for g in feed.guesses if g.name == "stage"), None)
        header = stage.header or (_find(profile.columns, feed.table, "stage", set()) or [None])[0] if stage else None
        if header is None:
            continue
        column = header if isinstance(header, Column) else next(c for c in profile.columns if c.header == header)
        values = profile.distinct.get(column.position)
        if values is None:  # more than 60 distinct values: not a stage column after all
            values = [(v, 1) for v in dict.fromkeys(column.values)]
        for value, n in values:
            counts[value] = counts.get(value, 0) + n
    stages, evidence = {}, {}
    # the stage map of the adapter that knows most of these names speaks for them (Salesforce's
    # Qualification is a qualified stage, Zoho's a lead one); then the dictionary's common names
    folded = {fold(v) for v in counts}
    known = [(sum(1 for f in folded if f in names), origin, names) for origin, names in d.stage_maps]
    best = max(known, key=lambda k: k[0], default=(0, "", {}))
    for value, n in counts.items():
        if best[0] and fold(value) in best[2]:
            rows = f"{n} row{'s' if n != 1 else ''}" if n else "named by a column header"
            stages[value] = best[2][fold(value)]
            evidence[value] = f"{rows}; as in {best[1]}, which knows {best[0]} of these {len(folded)} names"
            continue
        hit = d.stages.get(fold(value))
        rows = f"{n} row{'s' if n != 1 else ''}" if n else "named by a column header"
        if hit is not None:
            stages[value], evidence[value] = hit[0], f"{rows}; {hit[1]}"
            continue
        guess = _stage_by_word(value)
        if guess is not None:
            stages[value], evidence[value] = guess, f"{rows}; the name says so ({guess})"
        else:
            stages[value] = TODO
            evidence[value] = f"{rows}; not in the dictionary: lead, qualified, proposal, won or lost?"
    rank = {s: i for i, s in enumerate(_FUNNEL)}
    ordered = sorted(stages, key=lambda v: rank.get(stages[v], len(_FUNNEL)))
    return {v: stages[v] for v in ordered}, evidence


def _stage_by_word(value: str) -> str | None:
    text = fold(value)
    if re.search(r"赢|成交|签约|won|win", text):
        return "won"
    if re.search(r"输|丢|失败|流失|lost|lose", text):
        return "lost"
    if re.search(r"报价|谈判|方案|合同|proposal|quote|negotiat", text):
        return "proposal"
    if re.search(r"需求|意向|qualif", text):
        return "qualified"
    if re.search(r"线索|接洽|接触|初步|lead|prospect", text):
        return "lead"
    return None


def draft_mapping(paths: Iterable[str | Path], *, name: str = "draft", limits: ReadLimits | None = None) -> Draft:
    """The draft of a mapping for these export files (see the module docstring).

    Raises :class:`crmreview.importing.errors.ReadError` (or an encoding error) for a file the
    reader cannot read."""
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.is_file():
            raise ReadError(f"{path}: no such file")
    read = [prof for p in paths for prof in profiles(p, limits)]
    # a workbook's sheets that feed no table are left out (a sheet of notes), unless none does
    feeding = {id(prof) for prof in read if _pick_tables(prof, prof.label)}
    kept = [
        prof for prof in read if id(prof) in feeding or not any(id(o) in feeding for o in read if o.path == prof.path)
    ]
    passed = [prof for prof in read if prof not in kept]
    feeds: list[tuple[Profile, FeedDraft]] = []
    for prof in kept:
        pattern = _DATED_NAME.sub("*", prof.path.name)
        tables = _pick_tables(prof, prof.label)
        for i, (table, why) in enumerate(tables):
            feeds.append((prof, _feed(prof, table, why, pattern, primary=i == 0)))
        for feed in _unpivot_feeds(prof, pattern):
            feeds.append((prof, feed))
        if not tables:
            feeds.append(
                (
                    prof,
                    FeedDraft(
                        TODO,
                        pattern,
                        "no table recognised (no stage, order, follow-up or customer columns): name one of "
                        + ", ".join(TABLE_SPECS)
                        + "; a list of leads without a stage is deals with stage: {value: lead}; a file of none"
                        + " of them (a product list) is left out: delete this feed and leave the file out of the import",
                        [Guess(TODO, TODO, "and the columns that fill it")],
                        unused=list(prof.header),
                    ),
                )
            )
    for prof, feed in feeds:
        feed.sheet = prof.sheet
    _same_deal_key(feeds)
    stage_map, stage_evidence = _stage_map(kept, feeds)
    text, todos = _write(name, kept, [f for _, f in feeds], stage_map, stage_evidence, passed)
    return Draft(text, todos, [f for _, f in feeds], kept, stage_map)


# ----------------------------------------------------------------------------- writing


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _scalar(value) -> str:
    text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10_000).strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


def _flow(value, inner: bool = False) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flow(k, True)}: {_flow(v, True)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v, True) for v in value) + "]"
    if inner and isinstance(value, str) and re.search(r"[,\[\]{}:#'\"]|^\s|\s$", value):
        return yaml.safe_dump(value, allow_unicode=True, default_style='"', width=10_000).strip()
    return _scalar(value)


def _write(
    name: str,
    profiles: list[Profile],
    feeds: list[FeedDraft],
    stage_map: dict[str, str],
    evidence: dict[str, str],
    passed: list[Profile],
) -> tuple[str, list[str]]:
    todos: list[str] = []
    names = list(dict.fromkeys(p.path.name for p in profiles))
    lines = [
        f"# A mapping drafted by crm-review mapping draft on {date.today().isoformat()} from: {', '.join(names)}",
        "# Review every guess: its comment says what it rests on. Replace every TODO (the import refuses",
        "# a mapping that still has one), then import:",
        f"#   crm-review import {' '.join(names)} --mapping {name}.yml",
    ]
    for prof in profiles:
        skipped = "; ".join(f"{n} {kind}" for kind, n in prof.skipped)
        lines.append(
            f"# {prof.label}: {prof.rows:,} rows, {len(prof.header)} columns, {prof.encoding}"
            + (f"; skipped lines that are no record: {skipped}" if skipped else "")
        )
    for prof in passed:
        lines.append(f"# {prof.label}: left out, no table recognised ({len(prof.header)} columns, {prof.rows:,} rows)")
    lines += [f"name: {_scalar(name)}"]
    if stage_map:
        lines.append("stage_map:   # every value of the stage column -> lead, qualified, proposal, won or lost")
        for value, stage in stage_map.items():
            lines.append(f"  {_scalar(value)}: {stage}   # {evidence[value]}")
            if stage == TODO:
                todos.append(f"stage_map.{value}")
    lines.append("feeds:")
    for index, feed in enumerate(feeds):
        lines.append(f"  - file: {_scalar(feed.file)}")
        if feed.sheet is not None:
            lines.append(f"    sheet: {_scalar(feed.sheet)}")
        lines.append(f"    table: {feed.table}   # {feed.evidence}")
        if feed.table == TODO:
            todos.append(f"feeds[{index}].table")
        if feed.combine:
            what = "its lines summed" if feed.combine == "sum" else "one record"
            lines.append(f"    combine: {feed.combine}   # {_a(_ONE[feed.table])} on several rows: {what}")
        if feed.skip_if_empty:
            lines.append(
                f"    skip_if_empty: {_scalar(feed.skip_if_empty)}   # rows without it are no {_ONE[feed.table]}"
            )
        lines.append("    columns:")
        for guess in feed.guesses:
            lines.append(f"      {guess.name}: {_flow(guess.source)}   # {guess.evidence}")
            if guess.source == TODO or (isinstance(guess.source, dict) and TODO in _leaves(guess.source)):
                todos.append(f"feeds[{index}].columns.{guess.name}")
        if feed.unpivot:
            lines.append("    unpivot:")
            lines.append(f"      headers: {_scalar(feed.unpivot['headers'])}")
            lines.append(f"      value: {feed.unpivot['value']}")
            if feed.unpivot.get("exits"):
                lines.append("      exits: true")
        if feed.unused and not feed.unpivot:
            lines.append(f"    # not mapped (no canonical column): {', '.join(feed.unused)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n", todos


def _leaves(value) -> list:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]
