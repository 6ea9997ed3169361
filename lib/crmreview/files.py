"""Writing output files: whole or not at all, with the permissions the user asked for.

A file is written under a temporary name in its folder, synced, given its mode and renamed
into place, so a reader never sees half of it. Its mode is what the user's umask allows for
a new file (``0666 & ~umask``: 0644 under the usual 022, owner-only under 077) and, when it
is made from an owner-only warehouse, owner-only whatever the umask: a report of a private
warehouse is as private as the warehouse.

Public names: :func:`file_mode`, :func:`write_atomic`.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = ["file_mode", "write_atomic"]


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)  # no other way to read it; set back at once
    os.umask(current)
    return current


def file_mode(like: str | os.PathLike | None = None) -> int:
    """The mode of a new output file: the umask's, owner-only when ``like`` (a warehouse) is."""
    mode = 0o666 & ~_umask()
    if like is not None and Path(like).exists():
        source = stat.S_IMODE(Path(like).stat().st_mode)
        if not source & 0o077:
            mode &= 0o600
    return mode


def write_atomic(path: str | os.PathLike, data: bytes, *, like: str | os.PathLike | None = None) -> None:
    """Write ``data`` to ``path`` atomically, with :func:`file_mode` (``like``: the warehouse)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, file_mode(like))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
