"""Metric results kept on disk per warehouse snapshot, shared by every process exploring it.

Each visitor of the served dashboard gets a kernel of its own, and a JupyterLab user restarts
theirs: without a store, every one of them computes the same key numbers again. A
:class:`ResultStore` keeps each result the explorer computes as a JSON file in a folder beside
the warehouse (``<warehouse>.explore-cache/``), one subfolder per **context**: the snapshot
(the published file's inode, modification time and size, which every import changes, since it
publishes by renaming a new file into place), the settings, how names are shown (masked or
not, in which language) and the code computing them (a digest of the package's Python and SQL
files). A result is found again only in the same context, so a newer import, other settings or
another release never read an older result.

Writing is best effort and atomic: a result is written to a temporary file and renamed into
place, so a reader sees a whole file or none, and two processes writing the same result write
the same text. A result is stored only when its JSON text reads back equal to it (numbers,
text, lists, mappings, null, and the small tables a view lists as columns with their types,
compared after reading back); anything else stays in the process's memory only. A folder that
cannot be written (a read-only share) leaves the store empty and the explorer computes as
before. Files and folders take the warehouse file's permissions, so the results are readable
by whoever can read the warehouse and nobody else. Opening a new context removes the contexts
not used for :data:`KEEP_DAYS` days.

Public names: ``ResultStore``, ``code_digest``, ``KEEP_DAYS``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import math
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__, config
from ..config import Settings

__all__ = ["ResultStore", "code_digest", "KEEP_DAYS", "SUFFIX"]

#: the store's folder is the warehouse file's name with this suffix, beside it
SUFFIX = ".explore-cache"
#: a context not used for this many days is removed when another is opened
KEEP_DAYS = 7


@functools.cache
def code_digest() -> str:
    """A digest of the package's Python files and of ``queries/``: results computed by other
    code are not read again."""
    digest = hashlib.sha256(__version__.encode())
    # installed, queries/ lies inside the package: each file is read once
    files: dict[Path, str] = {}
    for root in (config.PACKAGE_DIR, config.QUERIES_DIR):
        for path in root.rglob("*"):
            if path.suffix in (".py", ".sql") and "__pycache__" not in path.parts:
                files.setdefault(path.resolve(), str(path.relative_to(root)))
    for path, name in sorted(files.items(), key=lambda item: item[1]):
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _same(value: Any, back: Any) -> bool:
    """Whether ``back`` (read from JSON) equals ``value``, NaN equal to NaN and a tuple never
    equal to a list (it would come back as one)."""
    if isinstance(value, float) and isinstance(back, float):
        return value == back or (math.isnan(value) and math.isnan(back))
    if type(value) is not type(back):
        return False
    if isinstance(value, dict):
        return value.keys() == back.keys() and all(_same(v, back[k]) for k, v in value.items())
    if isinstance(value, list):
        return len(value) == len(back) and all(_same(v, b) for v, b in zip(value, back, strict=True))
    return value == back


def _frame_text(frame: pd.DataFrame) -> dict[str, Any]:
    """A table as JSON: its columns' names, types and values (times as ISO text, missing as
    null); :func:`_frame` reads it back."""
    columns = []
    for name, column in frame.items():
        if not isinstance(name, str):
            raise TypeError(f"column name {name!r} is not text")
        if pd.api.types.is_datetime64_any_dtype(column):
            values = [None if pd.isna(v) else v.isoformat() for v in column]
        else:
            values = column.astype(object).where(column.notna(), None).tolist()
        columns.append({"name": name, "type": str(column.dtype), "values": values})
    return {"table": columns, "rows": len(frame)}


def _frame(text: dict[str, Any]) -> pd.DataFrame:
    data = {}
    for column in text["table"]:
        values = pd.Series(column["values"], dtype=object, index=pd.RangeIndex(text["rows"]))
        if column["type"].startswith("datetime64"):
            values = pd.to_datetime(values, format="ISO8601")
        data[column["name"]] = values.astype(column["type"])
    return pd.DataFrame(data, index=pd.RangeIndex(text["rows"]), columns=[c["name"] for c in text["table"]])


def _encode(value: Any) -> Any:
    return _frame_text(value) if isinstance(value, pd.DataFrame) else value


def _decode(value: Any) -> Any:
    return _frame(value) if isinstance(value, dict) and set(value) == {"table", "rows"} else value


def _exact(value: Any, back: Any) -> bool:
    if isinstance(value, pd.DataFrame):
        return (
            isinstance(back, pd.DataFrame)
            and value.index.equals(pd.RangeIndex(len(value)))
            and list(value.columns) == list(back.columns)
            and list(value.dtypes) == list(back.dtypes)
            and value.equals(back)
        )
    return _same(value, back)


def _modes(warehouse: Path) -> tuple[int, int]:
    """(file mode, folder mode) following the warehouse file's read and write bits."""
    bits = stat.S_IMODE(warehouse.stat().st_mode) & 0o666
    readable = (bits & 0o444) >> 2  # a folder is entered by whoever may read in it
    return bits, bits | readable | 0o700


@dataclasses.dataclass
class ResultStore:
    """The results of one context of the warehouse file at ``warehouse`` (see the module).

    ``stamp`` is the snapshot read: (inode, modification time in ns, size) of the published
    file when the explorer opened it.
    """

    warehouse: Path
    stamp: tuple[int, int, int]
    settings: Settings
    read_options: Mapping[str, Any]
    folder: Path | None = dataclasses.field(default=None, init=False)

    def __post_init__(self) -> None:
        context = json.dumps(
            {
                "snapshot": list(self.stamp),
                "settings": dataclasses.asdict(self.settings),
                "read": dict(self.read_options),
                "code": code_digest(),
            },
            sort_keys=True,
            default=str,
        )
        name = hashlib.sha256(context.encode()).hexdigest()[:32]
        root = self.warehouse.with_name(self.warehouse.name + SUFFIX)
        try:
            self._file_mode, folder_mode = _modes(self.warehouse)
            fresh = not (root / name).is_dir()
            for folder in (root, root / name):
                if not folder.is_dir():  # a folder another user made keeps its owner's mode
                    folder.mkdir(mode=folder_mode, exist_ok=True)
                    os.chmod(folder, folder_mode)  # mkdir's mode is narrowed by the umask
        except OSError:
            return  # not writable here: results stay in memory
        with contextlib.suppress(OSError):
            os.utime(root / name)  # in use: kept by the next pruning
        self.folder = root / name
        if fresh:
            _prune(root, keep=name)

    def _path(self, key: tuple) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / (hashlib.sha256(repr(key).encode()).hexdigest()[:40] + ".json")

    def get(self, key: tuple) -> Any | None:
        """The result kept under ``key`` (a tuple whose ``repr`` names it), or None."""
        path = self._path(key)
        if path is None:
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
        try:
            kept = json.loads(text)
        except ValueError:  # a file cut short by a full disk: computed again
            return None
        if not (isinstance(kept, dict) and kept.get("key") == repr(key)):
            return None
        try:
            return _decode(kept["value"])
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, key: tuple, value: Any) -> bool:
        """Keep ``value`` under ``key`` when JSON holds it exactly; True when written."""
        path = self._path(key)
        if path is None:
            return False
        try:
            text = json.dumps({"key": repr(key), "value": _encode(value)}, ensure_ascii=False)
            back = _decode(json.loads(text)["value"])
        except (TypeError, ValueError):
            return False
        if not _exact(value, back):
            return False
        try:
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(temporary, self._file_mode)
            os.replace(temporary, path)
        except OSError:
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(temporary)
            return False
        return True

    def clear(self) -> None:
        """Remove every result of this context."""
        if self.folder is not None:
            for path in self.folder.glob("*.json"):
                with contextlib.suppress(OSError):
                    path.unlink()

    def __contains__(self, key: tuple) -> bool:
        path = self._path(key)
        return path is not None and path.is_file()


def _prune(root: Path, *, keep: str) -> None:
    """Remove the contexts under ``root`` not used for :data:`KEEP_DAYS` days."""
    limit = time.time() - KEEP_DAYS * 86400
    with contextlib.suppress(OSError):
        for folder in root.iterdir():
            with contextlib.suppress(OSError):
                if folder.name != keep and folder.is_dir() and folder.stat().st_mtime < limit:
                    shutil.rmtree(folder)
