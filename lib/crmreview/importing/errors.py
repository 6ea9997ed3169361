"""What goes wrong in an import, and how it is said.

Owns the two errors an import raises and the wording shared by the plans that check values,
so that a reject reads the same whichever way a file came in.

Public names: :class:`ImportFileError` (a file that cannot be imported at all: nothing of
the call is loaded), :class:`MappingError` (a mapping file that is not valid, or does not fit
the file), and the reject vocabulary: ``AMOUNT_EXAMPLES``, ``DATE_EXAMPLES``, ``MISSING_VALUE``, ``NEGATIVE_AMOUNT``,
``EXPECTED_OUTCOME``, ``NUL_BYTE``. Errors of reading a file are :class:`crmreview.importing.readers.ReadError`
and :class:`crmreview.importing.textfiles.EncodingError`; the load turns every one of them into
an :class:`ImportFileError`.
"""

from __future__ import annotations

__all__ = [
    "AMOUNT_EXAMPLES",
    "DATE_EXAMPLES",
    "EXPECTED_OUTCOME",
    "MISSING_VALUE",
    "NEGATIVE_AMOUNT",
    "NUL_BYTE",
    "ImportFileError",
    "MappingError",
    "ReadError",
]


class ImportFileError(ValueError):
    """A file that cannot be imported at all (nothing of the call is loaded)."""


class ReadError(ValueError):
    """A file that cannot be read as a table at all (:mod:`crmreview.importing.readers`)."""


class MappingError(ValueError):
    """A mapping file that is not valid, or that does not fit the file being imported."""


#: the amounts and dates a column reads (canonical or mapped), as a reject names them
AMOUNT_EXAMPLES = "such as 1234.50, ¥1,234.50, 1.2万 or (300)"
DATE_EXAMPLES = "such as 2025-09-09, 2025/9/9, 2025年9月9日 or an Excel date number"
MISSING_VALUE = "missing required value"
NEGATIVE_AMOUNT = "negative amount; expected zero or more"
EXPECTED_OUTCOME = "expected one of: open, won, lost"
NUL_BYTE = "contains a NUL byte (shown as \\x00), which is no text; the export is damaged"
