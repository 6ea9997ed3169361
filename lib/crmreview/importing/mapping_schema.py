"""The shape of a mapping file, declared key by key (see ``crmreview/adapters/README.md``).

:func:`check_mapping_file` checks what a file may hold whatever it maps: its keys, their
types and allowed values. What depends on the canonical model or the settings (a table's
columns, the columns a table requires, the funnel stages, expressions) is checked by
:func:`crmreview.importing.mapping.parse_mapping` once the shape is right.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, StrictBool, StrictInt, StrictStr, Tag, model_validator

from ..yamlcheck import Lines, StrictModel, check, one_of_kinds

__all__ = ["MappingFile", "FeedSpec", "SourceSpec", "UnpivotSpec", "check_mapping_file"]

#: a YAML scalar read as text: a header, a constant, a stage name (2024 and 2024-01-01 too)
Scalar = one_of_kinds(str, int, float, bool, date, datetime, expected="a text or a number")
#: a column name, or a list of them
Names = one_of_kinds(str, int, float, list, expected="a column name or a list of column names")


def _names(value: Any) -> Any:
    if isinstance(value, list) and not all(isinstance(v, (str, int, float)) for v in value):
        raise ValueError(f"{value!r} is not a column name or a list of column names")
    return value


def _formats(value: Any) -> Any:
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return value
    raise ValueError(f"{value!r}: a date format is a strptime pattern such as '%d/%m/%Y', or a list of them")


def _requires(value: Any) -> Any:
    items = [value] if isinstance(value, str) else value
    if isinstance(items, list) and all(
        isinstance(item, str) or (isinstance(item, list) and item and all(isinstance(n, str) for n in item))
        for item in items
    ):
        return value
    raise ValueError(f"{value!r} is not a list of column names (each a name or a list of alternative names)")


def _pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid pattern: {exc}") from None
    return value


ColumnNames = Annotated[Names, AfterValidator(_names)]
DateFormats = Annotated[Any, AfterValidator(_formats)]
Requires = Annotated[Any, AfterValidator(_requires)]
NullValues = list[Scalar | None]
StageMap = dict[Scalar, StrictStr]


class SourceSpec(StrictModel):
    """A canonical column's source written as a mapping: exactly one of column, expr,
    value and generate, with options."""

    column: ColumnNames = Field(None, description="a header, or a list of headers of which the first present is used")
    expr: StrictStr = Field(None, description="an expression over columns, e.g. Quantity * Price")
    value: Scalar = Field(None, description="a constant")
    generate: Literal["row", "hash"] = Field(
        None, description="row (an id from the row's line) or hash (of the columns in 'of')"
    )
    prefix: Scalar = Field(None, description="text put before a generated id, e.g. 'J-'")
    of: ColumnNames = Field(None, description="the columns whose values make a hashed id")
    format: DateFormats = Field(None, description="a strptime pattern such as '%d/%m/%Y', or a list of them")
    map: dict[Scalar, Scalar | None] = Field(None, description="values replaced, e.g. {官网: web, 展会: event}")
    optional: StrictBool = Field(None, description="true when the file may lack the column")

    @model_validator(mode="after")
    def _one_source(self) -> SourceSpec:
        kinds = [k for k in ("column", "expr", "value", "generate") if k in self.model_fields_set]
        if len(kinds) != 1:
            raise ValueError("needs exactly one of column, expr, value, generate")
        if self.generate == "hash" and not self.of:
            raise ValueError("generate: hash needs 'of', the columns whose values make the id")
        if isinstance(self.column, list) and not any(str(c).strip() for c in self.column):
            raise ValueError("has an empty list of columns")
        return self


def _source_kind(value: Any) -> str:
    return "<mapping>" if isinstance(value, dict) else "<text>"


#: a header or an expression (``Quantity * Price``), or a :class:`SourceSpec`
Source = Annotated[
    Annotated[SourceSpec, Tag("<mapping>")]
    | Annotated[one_of_kinds(str, int, float, expected="a column name, an expression or a mapping"), Tag("<text>")],
    Discriminator(_source_kind),
]


class UnpivotSpec(StrictModel):
    """Columns whose header matches ``headers`` become one row each."""

    headers: Annotated[StrictStr, AfterValidator(_pattern)] = Field(
        description="a regular expression over headers; named groups fill columns of the same name"
    )
    value: StrictStr = Field(description="the canonical column that receives the matched columns' values")
    exits: StrictBool = Field(
        None,
        description="true: the columns say when the deal left the stage (HubSpot's Date exited): the "
        "deal's last exit, when it is after every stage it entered, is when it entered its current stage",
    )


class FeedSpec(StrictModel):
    """One feed: the files it takes and the canonical table it fills."""

    table: StrictStr = Field(description="a canonical table, e.g. deals")
    file: Scalar = Field(None, description="a file name pattern, e.g. '商机*.xlsx'")
    description: Scalar = Field(None, description="a text")
    columns: dict[StrictStr, Source] = Field(None, description="canonical columns mapped to their sources")
    stage_map: StageMap = Field(None, description="the CRM's stage names mapped to funnel stages, e.g. {赢单: won}")
    combine: Literal["sum", "first", "last"] | None = Field(None, description="sum, first or last")
    unpivot: UnpivotSpec = Field(None, description="{headers: '<pattern>', value: <canonical column>}")
    history: Literal["auto", "snapshots", "none"] = Field(None, description="snapshots or none")
    date_format: DateFormats = Field(None, description="a strptime pattern such as '%d/%m/%Y', or a list of them")
    timezone: StrictStr = Field(None, description="a time zone, e.g. Asia/Shanghai")
    null_values: NullValues = Field(None, description="a list of texts that mean 'no value'")
    sheet: one_of_kinds(str, int, expected="a sheet name or number") = Field(None, description="a sheet name or number")
    header_row: StrictInt = Field(None, ge=1, description="the header's row number, 1 = the first row")
    delimiter: StrictStr = Field(None, description="the CSV separator, e.g. ';'")
    skip_if_empty: ColumnNames = Field(None, description="the columns whose empty rows feed nothing")
    requires: Requires = Field(None, description="columns a file must have, each a name or a list of alternatives")


class MappingFile(StrictModel):
    """A whole mapping file: a name, defaults for every feed, and the feeds."""

    file_expected = "a mapping with a name and a list of feeds"

    name: Scalar = Field(None, description="the mapping's name, shown in errors")
    description: Scalar = Field(None, description="a text")
    feeds: list[FeedSpec] = Field(min_length=1, description="a list of feeds, each with table and columns")
    stage_map: StageMap = Field(None, description="the CRM's stage names mapped to funnel stages, e.g. {赢单: won}")
    date_format: DateFormats = Field(None, description="a strptime pattern such as '%d/%m/%Y', or a list of them")
    timezone: StrictStr = Field(None, description="a time zone, e.g. Asia/Shanghai")
    null_values: NullValues = Field(None, description="a list of texts that mean 'no value'")


def check_mapping_file(data: Any, *, where: str, lines: Lines) -> MappingFile:
    """``data`` checked against :class:`MappingFile`; raises
    :class:`~crmreview.yamlcheck.SchemaError` with one line per problem."""
    return check(MappingFile, data, where=where, lines=lines)
