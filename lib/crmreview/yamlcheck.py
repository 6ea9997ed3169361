"""YAML files checked against a declared schema: the settings file and mapping files.

:func:`read_yaml` reads a text and remembers the line of every key and list item;
:func:`check` validates the data with a pydantic model (a :class:`StrictModel`) and turns
every problem into one line that names the file, the key path (``feeds[2].columns.amount``)
with its line, the value and what was expected, e.g.::

    crm-review.yml: stale_days (line 3): 'abc' is not a whole number (expected days, e.g. 30)
    my_crm.yml: unknown key feeds[0].colums (line 5); did you mean columns? known keys: table, ...

What was expected comes from each field's ``description``. An unknown key is refused with
the closest known key as a suggestion (:func:`did_you_mean`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from types import UnionType
from typing import Annotated, Any, ClassVar, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError

__all__ = ["Lines", "SchemaError", "StrictModel", "UNION_TAGS", "check", "did_you_mean", "one_of_kinds", "read_yaml"]

#: key -> line (1-based) for every key and list item of a YAML document, by path
Lines = dict[tuple[Any, ...], int]

#: tags of the members of a tagged union; they appear in pydantic's error locations and are
#: no key of the file, so they are left out of the key path
UNION_TAGS = frozenset({"<text>", "<mapping>"})


class SchemaError(ValueError):
    """A YAML file that does not fit its schema; the message has one line per problem."""


def did_you_mean(word: object, choices: Iterable[object]) -> str | None:
    """The choice closest to ``word`` when one is close enough (``stale_day`` -> ``stale_days``)."""
    names = {str(c).lower(): str(c) for c in choices}
    close = difflib.get_close_matches(str(word).lower(), list(names), n=1, cutoff=0.6)
    return names[close[0]] if close else None


def read_yaml(text: str) -> tuple[Any, Lines]:
    """The data of a YAML text (``yaml.safe_load``) and the line of each key and list item.

    Raises ``yaml.YAMLError`` when the text is not YAML."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _bounded(node)
        data = loader.construct_document(node)
        lines: Lines = {}
        _note_lines(loader, node, (), lines)
        return data, lines
    finally:
        loader.dispose()


#: values a settings or mapping file may expand to, aliases counted each time they are used
MAX_NODES = 100_000


def _bounded(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it past ``MAX_NODES`` values (a "billion laughs"
    file: a few lines that nest references to references), before anything walks it."""
    seen = 0
    stack = [root]
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise yaml.YAMLError(
                f"the file expands to more than {MAX_NODES:,} values through repeated aliases (*name); "
                "write the values out instead"
            )
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack += (key, value)
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value


def _note_lines(loader: yaml.SafeLoader, node: yaml.Node, path: tuple[Any, ...], lines: Lines) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = loader.construct_object(key_node)
            lines.setdefault((*path, key), key_node.start_mark.line + 1)
            _note_lines(loader, value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _note_lines(loader, item, (*path, i), lines)


class StrictModel(BaseModel):
    """A block of a YAML file: only the declared keys (an unknown key is refused with a
    suggestion), values of the declared types (no conversion: ``'30'`` is no number)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    #: what a key of this block is called in messages ("unknown setting stagez")
    key_noun: ClassVar[str] = "key"
    #: what the whole file should be, for a file that is no mapping of keys
    file_expected: ClassVar[str] = "a mapping of keys to values"


def one_of_kinds(*kinds: type, expected: str) -> Any:
    """A value of one of ``kinds`` (a bool counts as a number only when ``bool`` is listed),
    else the error "``value`` is not ``expected``"."""

    def check_kind(value: Any) -> Any:
        if isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool)):
            return value
        raise ValueError(f"{_show(value)} is not {expected}")

    return Annotated[Any, PlainValidator(check_kind)]


M = TypeVar("M", bound=BaseModel)


def check(model: type[M], data: Any, *, where: str, lines: Lines) -> M:
    """``data`` validated by ``model``; raises :class:`SchemaError` with one line per problem,
    in the order of the file."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = sorted(
            (_describe(error, model, where, lines) for error in exc.errors(include_url=False)),
            key=lambda problem: problem[0],
        )
        raise SchemaError("\n".join(text for _, text in problems)) from None


# ----------------------------------------------------------------------------- messages

_KIND = {
    "int_type": "is not a whole number",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_type": "is not a number",
    "float_parsing": "is not a number",
    "string_type": "is not a text",
    "string_pattern_mismatch": "is not in the expected form",
    "bool_type": "is not true or false",
    "bool_parsing": "is not true or false",
    "list_type": "is not a list",
    "dict_type": "is not a mapping (key: value)",
    "model_type": "is not a mapping (key: value)",
    "model_attributes_type": "is not a mapping (key: value)",
}
_BOUND = {
    "greater_than": ("gt", "must be greater than"),
    "greater_than_equal": ("ge", "must be at least"),
    "less_than": ("lt", "must be less than"),
    "less_than_equal": ("le", "must be at most"),
}


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _path_text(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line(loc: tuple[Any, ...], lines: Lines) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _declared(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Any, str | None]:
    """What is declared at ``loc``: its annotation (a model class for a block) and the
    ``description`` of the deepest field on the way."""
    description, annotation = getattr(model, "file_expected", None), model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return None, description
            description = field.description or description
            annotation = field.annotation
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]
        else:
            return None, description
    return _unwrap(annotation), description


def _unwrap(annotation: Any) -> Any:
    """``X`` out of ``Annotated[X, ...]``; out of a union, its model or container member."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        members = [_unwrap(member) for member in get_args(annotation)]
        for member in members:
            if (isinstance(member, type) and issubclass(member, BaseModel)) or get_origin(member) in (list, dict):
                return member
    return annotation


def _describe(error: dict[str, Any], model: type[BaseModel], where: str, lines: Lines) -> tuple[int, str]:
    loc = tuple(part for part in error["loc"] if part not in UNION_TAGS)
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "extra_forbidden":
        block, _ = _declared(model, loc[:-1])
        known = [field.alias or name for name, field in block.model_fields.items()] if block else []
        noun = getattr(block, "key_noun", "key")
        line = _line(loc, lines)
        at = f" (line {line})" if line else ""
        suggestion = did_you_mean(loc[-1], known)
        hint = f"did you mean {suggestion}? " if suggestion else ""
        return line or 0, f"{where}: unknown {noun} {_path_text(loc)}{at}; {hint}known {noun}s: {', '.join(known)}"
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
        value = loc[-1]
    line = _line(loc, lines)
    at = f" (line {line})" if line else ""
    _, expected = _declared(model, loc)
    if kind == "value_error":
        problem = str(ctx["error"])
        expected = None
    elif kind == "missing":
        problem = "is missing"
    elif kind in _KIND and value is None and not loc:
        problem = "the file is empty"
    elif kind in _KIND and value is None:
        problem = "has no value"
    elif kind in _KIND:
        problem = f"{_show(value)} {_KIND[kind]}"
    elif kind in _BOUND:
        key, words = _BOUND[kind]
        bound = ctx[key]
        bound = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
        problem = f"{_show(value)} {words} {bound}"
    elif kind == "literal_error":
        choices = re.findall(r"'((?:[^'\\]|\\.)*)'", str(ctx.get("expected", "")))
        suggestion = did_you_mean(value, choices) if isinstance(value, str) else None
        problem = f"{_show(value)} is not one of {', '.join(choices)}"
        if suggestion:
            problem += f"; did you mean {suggestion}?"
        expected = None
    elif kind == "too_short":
        count = ctx.get("min_length", 1)
        problem = f"needs at least {count} item{'s' if count != 1 else ''}"
    else:
        problem = f"{_show(value)}: {error['msg']}"
    if expected:
        problem += f" (expected {expected})"
    key = _path_text(loc)
    return line or 0, f"{where}: {key}{at}: {problem}" if key else f"{where}{at}: {problem}"
