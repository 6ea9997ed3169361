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

The import's ``memory_limit`` bounds the whole process, not only DuckDB:
:func:`duckdb_memory_limit` gives DuckDB's buffer manager what is left of it once the
process's resident memory at the start of the import (the interpreter and its libraries) and
a reserve (``MEMORY_RESERVE``, ``MEMORY_RESERVE_PER_THREAD`` for each of DuckDB's threads and
``MEMORY_RESERVE_PER_INPUT_BYTE`` of the data imported:
what the import holds outside DuckDB's buffers, the CSV record scan and DuckDB's own working
memory outside its limit, the bookkeeping of the rows written) are set aside. An XLSX sheet is held by python-calamine besides
(bounded by ``xlsx_max_bytes``).

Public names: :class:`ReadLimits`, ``DEFAULT_LIMITS``, :func:`duckdb_memory_limit`,
:func:`parse_size`, :func:`input_bytes`, ``MEMORY_RESERVE``, ``MEMORY_RESERVE_PER_THREAD``,
``MEMORY_RESERVE_PER_INPUT_BYTE``, ``MIN_DUCKDB_MEMORY``.
"""

from __future__ import annotations

import os
import re
import resource
from dataclasses import dataclass

__all__ = [
    "DEFAULT_LIMITS",
    "MEMORY_RESERVE",
    "MEMORY_RESERVE_PER_INPUT_BYTE",
    "MEMORY_RESERVE_PER_THREAD",
    "MIN_DUCKDB_MEMORY",
    "ReadLimits",
    "duckdb_memory_limit",
    "input_bytes",
    "parse_size",
]

_MIB = 1024 * 1024
#: resident memory an import uses besides the interpreter and DuckDB's buffer manager: the
#: CSV record scan (a few 4 MB chunks and their index arrays, about 40 MB), then per DuckDB
#: thread its allocations outside its memory limit (thread-local allocator caches, the vectors
#: in flight), and a share of the data imported: DuckDB's bookkeeping of the rows an open
#: transaction has written (outside its limit) grows with them, by about 85 MiB per GB of CSV
#: (measured on 2 cores: 50 M orders rows, 1.9 GB, took 164 MiB more at the end than at the start)
MEMORY_RESERVE = 64 * _MIB
MEMORY_RESERVE_PER_THREAD = 48 * _MIB
MEMORY_RESERVE_PER_INPUT_BYTE = 0.1
#: the least memory DuckDB is given: below it, an import of any size spills all the time
MIN_DUCKDB_MEMORY = 96 * _MIB
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b|%)?\s*", re.IGNORECASE)


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


def parse_size(text: str) -> int | None:
    """Bytes of a size as DuckDB reads it (``2GB`` = 2·10⁹, ``2GiB`` = 2·2³⁰, ``80%`` of the
    machine's memory); None for a text that is no size."""
    match = _SIZE.fullmatch(str(text))
    if match is None:
        return None
    number, unit = float(match[1]), (match[2] or "").lower()
    if unit == "%":
        return int(number / 100 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    return int(number * _UNITS[unit])


def resident_bytes() -> int:
    """This process's resident memory now."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # no /proc: the peak so far (kilobytes on Linux, bytes on macOS)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if os.uname().sysname == "Darwin" else peak * 1024


def duckdb_memory_limit(limit: str, threads: int | None = None, input_bytes: int = 0) -> str:
    """DuckDB's share of an import's ``limit`` (the whole process's), as a DuckDB size.

    ``threads``: DuckDB's threads (by default one per CPU, as DuckDB starts); ``input_bytes``:
    the size of the data imported (as text, uncompressed). Raises
    ValueError when the limit leaves DuckDB less than ``MIN_DUCKDB_MEMORY``. A text that is no
    size is returned as it is (DuckDB refuses it with a clear error).
    """
    total = parse_size(limit)
    if total is None:
        return limit
    resident = resident_bytes()
    reserve = MEMORY_RESERVE + MEMORY_RESERVE_PER_THREAD * (threads or os.cpu_count() or 1)
    reserve += int(MEMORY_RESERVE_PER_INPUT_BYTE * input_bytes)
    share = total - resident - reserve
    if share < MIN_DUCKDB_MEMORY:
        least = -(-(resident + reserve + MIN_DUCKDB_MEMORY) // _MIB)
        raise ValueError(
            f"a memory limit of {limit.strip()} is too small for an import: the program itself takes "
            f"{resident / _MIB:,.0f} MiB and an import {'of these files ' if input_bytes else ''}needs "
            f"{(reserve + MIN_DUCKDB_MEMORY) // _MIB:,} MiB more; give at least {least}MiB (setting memory_limit "
            "or --memory-limit)"
        )
    return f"{share // 1024}KiB"


#: how many times its size a compressed export (gzip, Parquet, XLSX) holds as text, about
_UNPACKED = 4


def input_bytes(paths) -> int:
    """The size of the exports at ``paths`` as text, about (compressed files count four times)."""
    total = 0
    for path in paths:
        size = os.path.getsize(path)
        compressed = str(path).lower().endswith((".gz", ".parquet", ".parq", ".xlsx", ".xlsm"))
        total += size * (_UNPACKED if compressed else 1)
    return total
