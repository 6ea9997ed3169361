"""Bounds on what one export may hold, so that a hostile or broken file costs bounded memory.

A file past a bound is never half-read: a CSV record longer than ``max_line_bytes`` and a
Parquet row holding a value longer than ``max_cell_chars`` are rejected with their line and a
reason (the other rows load); a header wider than
``max_columns``, an XLSX sheet that declares more cells than ``xlsx_max_cells``, unpacks to
more than ``xlsx_max_bytes`` or holds a value longer than ``max_cell_chars`` is refused
before it is read, with an error naming the file, the size and the setting to raise.

The defaults hold every real export we know with a wide margin (a Salesforce opportunity
export has about 60 columns; the widest validation file 400) and keep one import well under
a laptop's memory. Each is a key of the settings file.

Public names: :class:`ReadLimits`, ``DEFAULT_LIMITS``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "ReadLimits"]


@dataclass(frozen=True)
class ReadLimits:
    max_columns: int = 2_000
    max_line_bytes: int = 8 * 1024 * 1024
    max_cell_chars: int = 1_000_000
    xlsx_max_cells: int = 50_000_000
    xlsx_max_bytes: int = 1024 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings) -> ReadLimits:
        """The limits of a :class:`crmreview.config.Settings` (its keys of the same names)."""
        return cls(**{name: getattr(settings, name, default) for name, default in vars(cls()).items()})


DEFAULT_LIMITS = ReadLimits()
