"""Which file feeds which table: the jobs of one import call, in load order.

A canonical call has one job per file. With a mapping, a file goes to every feed whose file
pattern matches its name and whose needed columns its header has (one file may feed several
tables); the header is found once per file and feed layout, from the file's first rows
(:meth:`crmreview.importing.readers.ExportFile.layout`), and kept in the job so that the load
reads the file the same way. Jobs run in :data:`crmreview.schema.LOAD_ORDER`.

Public names: :class:`Job`, :func:`plan_jobs`, :func:`resolve_mapping`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..schema import LOAD_ORDER
from .errors import ImportFileError, MappingError
from .mapping import Feed, Mapping, builtin_mapping, load_mapping
from .readers import ExportFile, Layout, ReadError
from .textfiles import DAMAGED, EncodingError

__all__ = ["Job", "plan_jobs", "resolve_mapping"]


@dataclass(frozen=True)
class Job:
    """One (file, table) load."""

    export: ExportFile
    feed: Feed | None  # the mapping's feed, or None for a canonical file
    layout: Layout | None = None  # where the feed's header is (a canonical file's is read in the load)
    history: str = "none"  # snapshots | none (deals feeds)

    @property
    def path(self) -> Path:
        return self.export.path


def resolve_mapping(
    mapping: str | Path | Mapping | None, source: str | None, settings: Settings
) -> tuple[Mapping | None, str]:
    """(the mapping, the adapter name the import log records: canonical, a source, mapping:<name>)."""
    if mapping is not None and source is not None:
        raise ImportFileError("give either a mapping file or a source, not both")
    try:
        if source is not None:
            return builtin_mapping(source, settings=settings), source
        if mapping is None:
            return None, "canonical"
        if not isinstance(mapping, Mapping):
            mapping = load_mapping(mapping, settings=settings)
    except MappingError as exc:
        raise ImportFileError(str(exc)) from None
    return mapping, f"mapping:{mapping.name}"


def _feeds_for(export: ExportFile, mapping: Mapping) -> list[tuple[Feed, Layout]]:
    """The feeds of ``mapping`` that take this file, each with the file's layout for it: its
    name matches the feed's pattern and its header has every column the feed needs."""
    path = export.path
    candidates = mapping.feeds_for(path)
    if not candidates:
        patterns = ", ".join(sorted({f.file for f in mapping.feeds}))
        raise ImportFileError(
            f"{path}: the mapping {mapping.name} has no feed for this file name (its feeds take: {patterns})"
        )
    fitting, misses = [], []
    for feed in candidates:
        layout = export.layout(
            is_header=feed.header_test(),
            header_row=feed.header_row,
            sheet=feed.sheet,
            delimiter=feed.delimiter,
        )
        missing = feed.missing(layout.header)
        if missing:
            misses.append((len(missing), feed, missing, layout.header))
        else:
            fitting.append((feed, layout))
    if fitting:
        return fitting
    _, feed, missing, header = min(misses, key=lambda m: m[0])
    raise ImportFileError(
        f"{path}: column{'s' if len(missing) > 1 else ''} {', '.join(missing)} (needed by the "
        f"{feed.table} feed of the mapping {mapping.name}) "
        f"{'are' if len(missing) > 1 else 'is'} not in the file; the file has: {', '.join(header)}"
    )


def plan_jobs(exports: list[ExportFile], mapping: Mapping | None) -> list[Job]:
    """The jobs of one call, in load order (a file's feeds in the mapping's order)."""
    if mapping is None:
        return [Job(export, None) for export in exports]
    triples = []
    for export in exports:
        try:
            feeds = _feeds_for(export, mapping)
        except (EncodingError, ReadError) as exc:
            raise ImportFileError(str(exc)) from None
        except DAMAGED as exc:
            raise ImportFileError(f"{export.path}: a damaged compressed file ({exc})") from None
        triples.extend((export, feed, layout) for feed, layout in feeds)
    with_history = any(feed.table == "deal_stage_history" for _, feed, _ in triples)
    jobs = []
    for export, feed, layout in triples:
        history = "none"
        if feed.table == "deals":
            history = feed.history if feed.history != "auto" else ("none" if with_history else "snapshots")
        jobs.append(Job(export, feed, layout, history))
    jobs.sort(key=lambda j: LOAD_ORDER.index(j.feed.table))
    return jobs
