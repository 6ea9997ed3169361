"""The expression language of mapping files: ``Quantity * Price``, ``coalesce([Close Date], [Created Date])``.

Expressions use column names (bare when they are one word, else in backticks or square
brackets: ``[Customer ID]``), numbers, 'text', ``+ - * /`` (operands read as amounts) and
the functions of :data:`FUNCTIONS` (``from_epoch_ms``, ``from_epoch_s`` and ``duration_days`` read
vendors' epoch times and Chinese durations such as ``0天3小时``). A parse error is a
:class:`crmreview.importing.errors.MappingError` quoting the expression and where it stops.

Public names: :func:`parse_expression`, :class:`Expr` (the parsed tree), :data:`FUNCTIONS`
and :class:`Function` (what each function takes and whether its result is a number). How an
expression becomes SQL over a file's columns is :mod:`crmreview.importing.mapped`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from .errors import MappingError

__all__ = ["FUNCTIONS", "Expr", "Function", "parse_expression"]


class Function(NamedTuple):
    min_args: int
    max_args: int
    numeric: bool  # the result is a number
    reads_amounts: bool | None = None  # its arguments are read as amounts (default: when numeric or in arithmetic)


FUNCTIONS = {
    "coalesce": Function(1, 16, False),
    "concat": Function(1, 16, False),
    "lower": Function(1, 1, False),
    "upper": Function(1, 1, False),
    "trim": Function(1, 1, False),
    "left": Function(2, 2, False),
    "right": Function(2, 2, False),
    "replace": Function(3, 3, False),
    "round": Function(1, 2, True),
    "abs": Function(1, 1, True),
    "nullif": Function(2, 2, False),  # nullif([赢丢单状态], '未定'): null when the two are equal
    # vendor quirks (queries/import/parse_values.sql): times as epoch milliseconds or seconds
    # (纷享销客, 销售易 API exports) become ISO times in UTC, converted to the import's zone;
    # Chinese durations ("0天3小时", "2小时30分") become days
    "from_epoch_ms": Function(1, 1, False),
    "from_epoch_s": Function(1, 1, False),
    "duration_days": Function(1, 1, True, reads_amounts=False),
}


@dataclass(frozen=True)
class Expr:
    """A parsed expression: op is num | str | name | neg | + | - | * | / | call."""

    op: str
    args: tuple = ()
    text: str = ""  # literal text, column name or function name

    def names(self) -> list[str]:
        if self.op == "name":
            return [self.text]
        return [n for a in self.args for n in a.names()]

    def numeric_names(self, numeric: bool = False) -> list[str]:
        """Column names read as numbers (operands of arithmetic or numeric functions)."""
        if self.op == "name":
            return [self.text] if numeric else []
        if self.op == "call" and FUNCTIONS[self.text].reads_amounts is not None:
            inner = FUNCTIONS[self.text].reads_amounts  # duration_days reads text wherever it stands
        else:
            inner = (
                numeric
                or self.op in {"+", "-", "*", "/", "neg"}
                or (self.op == "call" and FUNCTIONS[self.text].numeric)
            )
        if self.op == "call" and self.text in {"left", "right"}:
            return self.args[0].numeric_names(numeric)
        return [n for a in self.args for n in a.numeric_names(inner)]

    @property
    def numeric(self) -> bool:
        return self.op in {"num", "+", "-", "*", "/", "neg"} or (self.op == "call" and FUNCTIONS[self.text].numeric)


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>\d+(?:\.\d+)?)(?![^\s()+\-*/,])
      | '(?P<str>(?:[^']|'')*)'
      | `(?P<bq>[^`]+)`
      | \[(?P<br>[^\]]+)\]
      | (?P<op>[()+\-*/,])
      | (?P<word>[^\s()+\-*/,'`\[\]]+)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise MappingError(f"cannot read the expression {text!r} at {text[pos:]!r}")
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind in {"bq", "br"}:
            kind, value = "word", value.strip()
        elif kind == "str":
            value = value.replace("''", "'")
        out.append((kind, value))
    return out


def parse_expression(text: str) -> Expr:
    """Parse ``Quantity * Price``, ``coalesce([Close Date], [Created Date])``, …"""
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(expected: str | None = None) -> tuple[str, str]:
        nonlocal pos
        token = peek()
        if token is None or (expected and token[1] != expected):
            raise MappingError(f"cannot read the expression {text!r}: expected {expected or 'more'}")
        pos += 1
        return token

    def expr() -> Expr:
        node = term()
        while (t := peek()) and t[0] == "op" and t[1] in "+-":
            take()
            node = Expr(t[1], (node, term()))
        return node

    def term() -> Expr:
        node = factor()
        while (t := peek()) and t[0] == "op" and t[1] in "*/":
            take()
            node = Expr(t[1], (node, factor()))
        return node

    def factor() -> Expr:
        kind, value = take()
        if kind == "num":
            return Expr("num", text=value)
        if kind == "str":
            return Expr("str", text=value)
        if kind == "op" and value == "-":
            return Expr("neg", (factor(),))
        if kind == "op" and value == "(":
            node = expr()
            take(")")
            return node
        if kind == "word":
            nxt = peek()
            if nxt == ("op", "(") and value.lower() in FUNCTIONS:
                take("(")
                args = [expr()]
                while peek() == ("op", ","):
                    take()
                    args.append(expr())
                take(")")
                low, high = FUNCTIONS[value.lower()][:2]
                if not low <= len(args) <= high:
                    raise MappingError(f"{value}() takes {low}..{high} arguments in {text!r}")
                if value.lower() in {"left", "right"} and args[1].op != "num":
                    raise MappingError(f"{value}() takes a number of characters in {text!r}")
                return Expr("call", tuple(args), value.lower())
            return Expr("name", text=value)
        raise MappingError(f"cannot read the expression {text!r} at {value!r}")

    node = expr()
    if pos != len(tokens):
        raise MappingError(f"cannot read the expression {text!r} at {tokens[pos][1]!r}")
    return node
