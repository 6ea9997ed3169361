"""Mapping files: how an export's columns become canonical columns.

A mapping file (YAML) lists **feeds**. A feed takes the files whose name matches ``file``
(a glob, default every file) and fills one canonical ``table``; one file may feed several
tables. For each canonical column a feed gives its source::

    name: my_crm
    feeds:
      - file: "商机*.xlsx"
        table: deals
        columns:
          deal_id: 商机编号                         # a column, by its header
          amount: Quantity * Price                  # an expression over columns
          customer_id: {column: 客户名称}
          created_at: {column: 创建日期, format: "%d/%m/%Y"}
          pipeline: {value: 直销}                    # a constant
          order_id: {generate: row, prefix: "J-"}   # an id from the row's line
          lost_reason: {column: 状态, map: {丢单-价格: price}}
        stage_map: {初步接触: lead, 需求确认: qualified, 方案报价: proposal, 赢单: won, 输单: lost}

Expressions are :mod:`crmreview.importing.expressions` (column names, numbers, 'text',
``+ - * /`` and the functions ``coalesce, concat, lower, upper, trim, left, right, replace,
round, abs``).
Other keys: ``combine`` (``sum``: lines with the same key become one record, amounts added;
``first``/``last``: keep one line per key), ``unpivot`` (columns whose header matches a
pattern become one row each, e.g. HubSpot's ``Date entered "Stage (Pipeline)"``; with
``exits: true`` the columns say when the deal left each stage, HubSpot's ``Date exited``: a
deal's last exit, when it is later than every stage it entered, dates its entry into its
current stage),
``history`` (``snapshots``/``none``: whether a deals feed without stage history rebuilds it
from successive exports), ``date_format``, ``timezone``, ``null_values``, ``sheet``,
``header_row``, ``delimiter``, ``requires`` (columns a file must have for this feed to take
it, each a name or a list of alternative names: tells apart exports that share column names), ``skip_if_empty`` (rows where that column is empty are
no record of this feed, e.g. a follow-up table's blank last-contact date). Top-level ``stage_map``, ``date_format``, ``timezone`` and
``null_values`` apply to every feed that does not set its own.

:func:`load_mapping` reads and checks a file (:func:`parse_mapping` its text);
:func:`builtin_mapping` returns a built-in adapter (``salesforce``, ``hubspot``, ``zoho``,
``jiandaoyun``, ``neocrm``, ``fxiaoke``, ``yonyou``), itself a mapping file in ``crmreview/adapters/``.
A value ``TODO`` anywhere in a mapping (what ``crm-review mapping draft`` could not guess) is
refused, naming each key and its line. The model: a
:class:`Mapping` has feeds (:class:`Feed`), a feed a :class:`Source` per canonical column
(and maybe an :class:`Unpivot`). :func:`find_header` locates a mapping's column name in a
file's header (exactly, else ignoring case and spacing); :meth:`Feed.missing` and
:meth:`Feed.header_test` use it to tell whether a file fits a feed.

Public names: ``ADAPTERS_DIR``, ``BUILTIN_ADAPTERS``, ``DEFAULT_NULL_VALUES``, :class:`Feed`,
:class:`Mapping`, :class:`MappingError` (from :mod:`crmreview.importing.errors`),
:class:`Source`, :class:`Unpivot`, :func:`builtin_mapping`, :func:`find_header`,
:func:`load_mapping`, :func:`parse_mapping`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .. import config
from ..schema import TABLE_SPECS
from ..yamlcheck import SchemaError, did_you_mean, read_yaml
from .errors import MappingError
from .expressions import parse_expression
from .mapping_schema import check_mapping_file
from .patterns import match_headers

__all__ = [
    "ADAPTERS_DIR",
    "BUILTIN_ADAPTERS",
    "DEFAULT_NULL_VALUES",
    "Feed",
    "Mapping",
    "MappingError",
    "Source",
    "Unpivot",
    "builtin_mapping",
    "find_header",
    "load_mapping",
    "parse_mapping",
    "unknown_source",
]

ADAPTERS_DIR = config.ADAPTERS_DIR
BUILTIN_ADAPTERS = ("salesforce", "hubspot", "zoho", "jiandaoyun", "neocrm", "fxiaoke", "yonyou")
DEFAULT_NULL_VALUES = ("", "-", "--", "#N/A", "N/A", "NULL", "null", "#NULL!")


def find_header(header: tuple[str, ...], name: str) -> int | None:
    """1-based position of the column ``name`` in ``header``: exact, else ignoring case and spacing."""
    if name in header:
        return header.index(name) + 1
    folded = re.sub(r"\s+", " ", name).strip().casefold()
    for i, h in enumerate(header, start=1):
        if re.sub(r"\s+", " ", h).strip().casefold() == folded:
            return i
    return None


# ----------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Source:
    """Where one canonical column comes from."""

    kind: str  # column | auto (a header, else an expression) | expr | value | generate
    text: str = ""  # header, expression or constant
    alternatives: tuple[str, ...] = ()  # more headers for a column: the first present is used
    optional: bool = False  # a column the file may lack (the canonical column is then left alone)
    generate: str | None = None  # row | hash
    prefix: str = ""
    of: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    value_map: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Unpivot:
    headers: str  # a regular expression over header names
    value: str  # the canonical column that receives the matched columns' values
    groups: tuple[tuple[str, str], ...] = ()  # (regex group, canonical column)
    exits: bool = False  # the values say when the deal left the stage, not when it entered it


@dataclass(frozen=True)
class Feed:
    table: str
    file: str
    columns: dict[str, Source]
    stage_map: tuple[tuple[str, str], ...] = ()
    combine: str | None = None
    unpivot: Unpivot | None = None
    history: str = "auto"
    date_format: tuple[str, ...] = ()
    timezone: str | None = None
    null_values: tuple[str, ...] = DEFAULT_NULL_VALUES
    sheet: str | int | None = None
    header_row: int | None = None
    delimiter: str | None = None
    skip_if_empty: tuple[str, ...] = ()  # rows where these source columns are empty feed nothing
    requires: tuple[tuple[str, ...], ...] = ()  # columns a file must have (each: any of the names)

    def matches(self, path: Path) -> bool:
        return fnmatch.fnmatch(path.name.lower(), self.file.lower())

    def referenced(self) -> list[str]:
        """Source columns this feed needs (optional ones and alternatives aside)."""
        names: list[str] = [names[0] for names in self.requires if len(names) == 1]
        for source in self.columns.values():
            if source.optional or source.alternatives:
                continue
            if source.kind == "column":
                names.append(source.text)
            elif source.kind == "expr":
                names.extend(parse_expression(source.text).names())
            elif source.kind == "auto":
                names.append(source.text)
            names.extend(source.of)
        return names

    def header_test(self) -> Callable[[list[str]], bool] | None:
        """Whether a row of a file is this feed's header: it has every column the feed needs
        (None when the feed names no column: the reader then takes the first row)."""
        wanted = self.referenced()
        if not wanted:
            return None
        return lambda row: all(find_header(tuple(row), name) is not None for name in wanted)

    def missing(self, header: tuple[str, ...]) -> list[str]:
        """The needed source columns that ``header`` lacks."""
        missing = [
            " or ".join(repr(n) for n in names)
            for names in self.requires
            if all(find_header(header, n) is None for n in names)
        ]
        if self.unpivot and not match_headers(self.unpivot.headers, header):
            missing.append(f"a column matching {self.unpivot.headers!r}")
        for source in self.columns.values():
            if source.optional:
                continue
            if source.kind == "column":
                if all(find_header(header, n) is None for n in (source.text, *source.alternatives)):
                    missing.append(" or ".join(repr(n) for n in (source.text, *source.alternatives)))
            elif source.kind == "auto":
                if find_header(header, source.text) is None:
                    try:
                        node = parse_expression(source.text)
                    except MappingError:
                        node = None
                    if node is None or (node.op == "name" and node.text == source.text):
                        missing.append(repr(source.text))
                    else:
                        missing.extend(repr(n) for n in node.names() if find_header(header, n) is None)
            elif source.kind == "expr":
                missing.extend(repr(n) for n in parse_expression(source.text).names() if find_header(header, n) is None)
            missing.extend(repr(n) for n in source.of if find_header(header, n) is None)
        return missing


@dataclass(frozen=True)
class Mapping:
    name: str
    path: Path | None
    sha256: str
    feeds: tuple[Feed, ...]
    description: str = ""

    def feeds_for(self, path: Path) -> list[Feed]:
        return [feed for feed in self.feeds if feed.matches(path)]


def _as_formats(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _as_pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    return tuple((str(k).strip(), str(v).strip()) for k, v in value.items())


def _as_names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _source(name: str, spec: Any, where: str) -> Source:
    """The source of canonical column ``name``; ``spec`` has the shape mapping_schema.SourceSpec declares."""
    if not isinstance(spec, dict):
        if not str(spec).strip():
            raise MappingError(f"{where}: column {name} has an empty source")
        return Source("auto", str(spec).strip())
    (kind,) = [k for k in ("column", "expr", "value", "generate") if k in spec]
    formats = _as_formats(spec.get("format"))
    value_map = _as_pairs(spec.get("map"))
    if kind == "generate":
        of = spec.get("of") or []
        if isinstance(of, str):
            of = [of]
        prefix = spec.get("prefix")
        return Source(
            "generate",
            generate=spec["generate"],
            prefix="" if prefix is None else str(prefix),
            of=tuple(str(o) for o in of),
        )
    optional = bool(spec.get("optional", False))
    if kind == "column" and isinstance(spec["column"], list):
        names = [str(c).strip() for c in spec["column"] if str(c).strip()]
        return Source(
            "column", names[0], alternatives=tuple(names[1:]), formats=formats, value_map=value_map, optional=optional
        )
    text = str(spec[kind])
    if kind == "expr":
        parse_expression(text)
    return Source(kind, text, formats=formats, value_map=value_map, optional=optional)


def _suggest(word: object, choices) -> str:
    suggestion = did_you_mean(word, choices)
    return f" (did you mean {suggestion}?)" if suggestion else ""


def _feed(raw: dict, index: int, defaults: dict, where: str, settings: config.Settings) -> Feed:
    """One feed; ``raw`` has the shape mapping_schema.FeedSpec declares."""
    here = f"{where}: feeds[{index}]"
    table = raw["table"]
    if table not in TABLE_SPECS:
        raise MappingError(
            f"{here}: table {table!r} is not a canonical table{_suggest(table, TABLE_SPECS)}; "
            f"one of: {', '.join(TABLE_SPECS)}"
        )
    spec = TABLE_SPECS[table]
    here = f"{where}: feed {table}" + (f" ({raw['file']})" if raw.get("file") else "")
    columns = {}
    for name, value in (raw.get("columns") or {}).items():
        if name not in spec.names:
            raise MappingError(
                f"{here}: {name!r} is not a column of {table}{_suggest(name, spec.names)}; "
                f"columns: {', '.join(spec.names)}"
            )
        columns[name] = _source(name, value, here)
    unpivot = None
    if raw.get("unpivot") is not None:
        u = raw["unpivot"]
        pattern = re.compile(u["headers"])
        if u["value"] not in spec.names:
            raise MappingError(
                f"{here}: unpivot value {u['value']!r} is not a column of {table}{_suggest(u['value'], spec.names)}"
            )
        groups = tuple((g, g) for g in pattern.groupindex)
        for group, column in groups:
            if column not in spec.names:
                raise MappingError(f"{here}: pattern group {group!r} is not a column of {table}")
        unpivot = Unpivot(str(u["headers"]), str(u["value"]), groups, bool(u.get("exits")))
        if unpivot.exits and (table != "deal_stage_history" or unpivot.value != "entered_at"):
            raise MappingError(f"{here}: unpivot exits applies to deal_stage_history with value entered_at")
    provided = set(columns) | ({unpivot.value, *(c for _, c in unpivot.groups)} if unpivot else set())
    derived = {"outcome"} if table == "deals" else set()
    missing = [c for c in spec.required if c not in provided and c not in derived]
    if missing:
        raise MappingError(
            f"{here}: no source for required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        )
    stage_map = _as_pairs(raw.get("stage_map", defaults.get("stage_map")))
    for crm_stage, canonical in stage_map:
        if canonical not in settings.all_stages:
            raise MappingError(
                f"{here}: stage_map maps {crm_stage!r} to {canonical!r}, which is not a funnel stage"
                f"{_suggest(canonical, settings.all_stages)}; stages: {', '.join(settings.all_stages)}"
            )
    null_values = raw.get("null_values", defaults.get("null_values", list(DEFAULT_NULL_VALUES)))
    return Feed(
        table=table,
        file=str(raw.get("file", "*")),
        columns=columns,
        stage_map=stage_map,
        combine=raw.get("combine"),
        unpivot=unpivot,
        history=raw.get("history", "auto"),
        date_format=_as_formats(raw.get("date_format", defaults.get("date_format"))),
        timezone=raw.get("timezone", defaults.get("timezone")),
        null_values=tuple("" if v is None else str(v) for v in null_values),
        sheet=raw.get("sheet"),
        header_row=raw.get("header_row"),
        delimiter=raw.get("delimiter"),
        skip_if_empty=_as_names(raw.get("skip_if_empty")),
        requires=tuple(
            tuple(_as_names(item))
            for item in ([raw["requires"]] if isinstance(raw.get("requires"), str) else raw.get("requires") or ())
        ),
    )


def parse_mapping(
    text: str, *, name: str, path: Path | None = None, settings: config.Settings = config.DEFAULT_SETTINGS
) -> Mapping:
    """Read and check a mapping file's text: first its shape (mapping_schema), then what
    depends on the canonical tables and the settings; raises :class:`MappingError` naming
    the file, the key and its line, the value and what was expected."""
    where = str(path) if path else name
    try:
        data, lines = read_yaml(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"{where}: not valid YAML: {exc}") from None
    _refuse_todos(data, where, lines)
    try:
        check_mapping_file(data, where=where, lines=lines)
    except SchemaError as exc:
        raise MappingError(str(exc)) from None
    defaults = {k: data[k] for k in ("stage_map", "date_format", "timezone", "null_values") if k in data}
    feeds = tuple(_feed(raw, i, defaults, where, settings) for i, raw in enumerate(data["feeds"]))
    return Mapping(
        name=str(data.get("name") or name),
        path=path,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        feeds=feeds,
        description=str(data.get("description") or ""),
    )


def _todos(value: Any, path: tuple) -> list[tuple]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _todos(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _todos(v, (*path, i))]
    return [path] if isinstance(value, str) and re.match(r"TODO\b", value.strip()) else []


def _refuse_todos(data: Any, where: str, lines: dict) -> None:
    """A drafted mapping (crm-review mapping draft) whose TODOs are not all filled in is refused,
    each key named with its line."""
    found = _todos(data, ())
    if not found:
        return
    keys = "; ".join(
        "".join(f"[{k}]" if isinstance(k, int) else (f".{k}" if i else str(k)) for i, k in enumerate(path))
        + (f" (line {lines[path]})" if path in lines else "")
        for path in found
    )
    raise MappingError(
        f"{where}: still TODO, to fill in before importing: {keys}; replace each TODO with what its "
        "comment asks for (a column of the file, a date format, a funnel stage or a table)"
    )


def load_mapping(path: str | Path, *, settings: config.Settings = config.DEFAULT_SETTINGS) -> Mapping:
    """Read and check a mapping file; raises :class:`MappingError` naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise MappingError(f"{path}: no such mapping file")
    return parse_mapping(path.read_text(encoding="utf-8-sig"), name=path.stem, path=path, settings=settings)


def unknown_source(source: str) -> str:
    """The message for a source that is no built-in adapter, with the closest one as a suggestion."""
    return f"unknown source {source!r}{_suggest(source, BUILTIN_ADAPTERS)}; built-in adapters: {', '.join(BUILTIN_ADAPTERS)}"


def builtin_mapping(source: str, *, settings: config.Settings = config.DEFAULT_SETTINGS) -> Mapping:
    """The built-in adapter for ``source`` (one of :data:`BUILTIN_ADAPTERS`)."""
    if source not in BUILTIN_ADAPTERS:
        raise MappingError(unknown_source(source))
    return load_mapping(ADAPTERS_DIR / f"{source}.yml", settings=settings)
