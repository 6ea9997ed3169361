"""Every CSV crm-review writes goes through here, safe to open in a spreadsheet.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel, LibreOffice and Google Sheets as a formula (CSV or "formula" injection: a rep
named ``=HYPERLINK("http://…")`` would become a live link). As OWASP recommends, such a
text is written with a leading single quote, which the spreadsheet shows as text; numbers
(negative ones included) are written as numbers.

Public names: :func:`neutralise`, :func:`write_csv`, :func:`frame_csv`, ``FORMULA_STARTS``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

import pandas as pd

__all__ = ["FORMULA_STARTS", "frame_csv", "neutralise", "write_csv"]

#: first characters that make a spreadsheet read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` as a cell that no spreadsheet runs: a text starting like a formula gets a
    leading ``'``; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(handle: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write ``header`` and ``rows`` to ``handle`` (opened with ``newline=""``); returns the rows written."""
    writer = csv.writer(handle)
    writer.writerow([neutralise(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
        count += 1
    return count


def frame_csv(frame: pd.DataFrame) -> str:
    """A data frame as CSV text (no index), its text cells neutralised."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS)).astype(bool)
        if risky.any():  # only such columns change, and only their risky cells
            values = values.astype(object)
            values[risky] = "'" + values[risky].astype(str)
            safe[column] = values
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    out = io.StringIO()
    safe.to_csv(out, index=False)
    return out.getvalue()
