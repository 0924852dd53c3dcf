"""Write runs brought in from other tools, once each (internal; used by the importers).

Every imported run records where it came from in ``meta.imported_from`` (``{"kind":
"mlflow"|"tensorboard", "source": <location, no credentials>, "id": <the run's id
there>}``); a run already imported into the destination is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..formats.file import PortableRun
from ..store.base import RunId, RunStore
from ..store.records import get_path
from .location import opened, writer
from .portable import count_points
from .progress import Progress

IMPORTED_FROM = "imported_from"
"""The ``meta`` key naming where an imported run came from."""


@dataclass
class ImportReport:
    """What an import did.

    Attributes:
        kind: ``mlflow`` or ``tensorboard``.
        source: where runs came from.
        imported: ``(their id, new run id)`` of each run imported.
        skipped: their ids of runs imported before.
        points: metric points imported.
        artifacts: artifacts imported.
    """

    kind: str
    source: str
    imported: list[tuple[str, RunId]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    points: int = 0
    artifacts: int = 0

    def text(self) -> str:
        """Return the report as the command line prints it."""
        skipped = f" ({len(self.skipped):,} imported before, skipped)" if self.skipped else ""
        return (
            f"Imported {len(self.imported):,} runs from {self.kind} at {self.source}{skipped}: "
            f"{self.points:,} metric points, {self.artifacts:,} artifacts."
        )


def origin(kind: str, source: str, their_id: str) -> dict[str, Any]:
    """Return the ``meta.imported_from`` value of a run."""
    return {"kind": kind, "source": source, "id": their_id}


def already_imported(store: RunStore, kind: str) -> set[tuple[str, str]]:
    """Return ``(source, id)`` of the runs of *kind* imported into *store* before."""
    found = set()
    for record in store.records(()):
        mark = get_path(record, f"meta.{IMPORTED_FROM}")
        if isinstance(mark, dict) and mark.get("kind") == kind:
            found.add((str(mark.get("source")), str(mark.get("id"))))
    return found


def import_runs(
    dst: Any,
    kind: str,
    source: str,
    runs: Iterable[tuple[str, Any]],
    *,
    total: int | None = None,
    progress: bool = False,
) -> ImportReport:
    """Write the runs of *runs* (``(their id, make)`` where ``make()`` returns the
    :class:`PortableRun`) into *dst*, skipping those imported before.

    Args:
        dst: the destination store (a directory, a URL, a Location or an open store).
        kind: ``mlflow`` or ``tensorboard``.
        source: where they come from, as recorded (no credentials).
        runs: the runs, made one at a time.
        total: how many there are, for the progress bar.
        progress: show a progress bar.
    """
    report = ImportReport(kind, source)
    with opened(dst, create=True, read_only=False) as store:
        write = writer(store)
        seen = already_imported(store, kind)
        bar = Progress(total or 0, "runs", enabled=progress)
        try:
            for their_id, make in runs:
                bar.advance()
                if (source, their_id) in seen:
                    report.skipped.append(their_id)
                    continue
                run: PortableRun = make()
                run.entry.setdefault("meta", {})[IMPORTED_FROM] = origin(kind, source, their_id)
                count_points(run, report)
                report.artifacts += len(run.artifacts)
                report.imported.append((their_id, write(run, None)))
        finally:
            bar.close()
    return report


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Yield *items* in lists of at most *size*."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
