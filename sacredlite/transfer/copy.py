"""Copy runs between stores: ``sacredlite copy SRC DST`` and :func:`copy_runs`.

Every run is copied whole (config, meta, host, experiment, sources, artifacts, resources,
metrics with their overflow, captured output, tags and notes) through the reader of its
store (:mod:`sacredlite.store`) and the writer of the destination's format
(:func:`sacredlite.formats.file.write_run`, :func:`sacredlite.formats.mongo.write_run`).
Runs are read and written one at a time: only the list of ids and one run are in memory.

Each copy records ``meta.copied_from = {"store": <source location, no credentials>, "id":
<source id>}``; a run whose source is already at the destination (that record, or the
run's own ``copied_from`` naming a run of the destination) is skipped, so copying twice
adds nothing. Ids are kept where free at the destination, else the next free id is used
and the change printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from ..store import StoreError
from ..store.base import RunId, RunStore
from ..store.records import get_path
from .location import opened, writer
from .portable import count_points, read_run
from .progress import Progress
from .selection import Selection, selection_of

COPIED_FROM = "copied_from"
"""The ``meta`` key naming where a copied run came from."""


@dataclass
class CopyReport:
    """What a copy did.

    Attributes:
        copied: ``(source id, destination id)`` of each run copied, in order.
        skipped: source ids left out because they are at the destination already.
        points: metric points read from the source.
        artifacts: artifacts read from the source.
        verified_runs: copied runs found at the destination afterwards.
        verified_points: metric points found there.
        verified_artifacts: artifacts found there.
    """

    copied: list[tuple[RunId, RunId]] = field(default_factory=list)
    skipped: list[RunId] = field(default_factory=list)
    points: int = 0
    artifacts: int = 0
    verified_runs: int = 0
    verified_points: int = 0
    verified_artifacts: int = 0

    @property
    def remapped(self) -> dict[RunId, RunId]:
        """Source ids that got another id at the destination."""
        return {old: new for old, new in self.copied if old != new}

    @property
    def verified(self) -> bool:
        """Whether the destination holds every run, point and artifact copied."""
        return (self.verified_runs, self.verified_points, self.verified_artifacts) == (
            len(self.copied),
            self.points,
            self.artifacts,
        )


def _origin(record: dict[str, Any]) -> tuple[str, str] | None:
    found = get_path(record, f"meta.{COPIED_FROM}")
    if isinstance(found, dict) and "store" in found and "id" in found:
        return str(found["store"]), str(found["id"])
    return None


def _identity(store: RunStore) -> str:
    return store.identity or store.location


def _counts(store: RunStore, run_id: RunId) -> tuple[int, int]:
    """Return the metric points and artifacts *store* holds for *run_id*."""
    names = store.metric_names(run_id)
    points = sum(len(store.metric_points(run_id, name)["steps"]) for name in names)
    return points, len(store.artifacts(run_id))


def copy_runs(
    src: Any,
    dst: Any,
    *,
    status: list[str] | str | None = None,
    experiment: str | None = None,
    ids: str | None = None,
    since: datetime | str | None = None,
    progress: bool = False,
    out: TextIO | None = None,
) -> CopyReport:
    """Copy runs from *src* to *dst*; return what was copied and verified.

    Args:
        src: where runs come from: a storage directory, a ``mongodb://`` URL, a
            :class:`~sacredlite.transfer.location.Location` or an open store.
        dst: where they go (a missing directory is created).
        status: copy only runs with one of these statuses.
        experiment: copy only runs of this experiment.
        ids: copy only these ids (``"3-17,20"``).
        since: copy only runs started at or after this time.
        progress: show a progress bar on standard error.
        out: where to print id changes (nothing printed when ``None``).
    """
    selection = selection_of(status, experiment, ids, since)
    with opened(src) as source, opened(dst, create=True, read_only=False) as target:
        return _copy(source, target, selection, progress, out)


def _copy(
    source: RunStore, target: RunStore, selection: Selection, progress: bool, out: TextIO | None
) -> CopyReport:
    source_name, target_name = _identity(source), _identity(target)
    if source_name == target_name:
        raise StoreError(
            f"Source and destination are the same store ({source_name}): "
            "copy into another directory or database."
        )
    write = writer(target)
    present: set[tuple[str, str]] = set()
    target_ids: set[str] = set()
    for record in target.records(()):
        origin = _origin(record)
        if origin is not None and target.is_incomplete(record):
            target.delete_run(record["_id"])  # left halfway by a killed copy: copy it again
            continue
        target_ids.add(str(record["_id"]))
        if origin is not None:
            present.add(origin)
    report = CopyReport()
    records = selection.records(source)
    bar = Progress(len(records), "runs", enabled=progress)
    try:
        for record in records:
            old = record["_id"]
            origin = _origin(record)
            if (source_name, str(old)) in present or (
                origin is not None and origin[0] == target_name and origin[1] in target_ids
            ):
                report.skipped.append(old)
                bar.advance()
                continue
            run = read_run(source, old)
            run.entry["meta"] = {
                **(run.entry.get("meta") or {}),
                COPIED_FROM: {"store": source_name, "id": old},
            }
            count_points(run, report)
            report.artifacts += len(run.artifacts)
            new = write(run, old)
            report.copied.append((old, new))
            points, artifacts = _counts(target, new)
            report.verified_runs += 1
            report.verified_points += points
            report.verified_artifacts += artifacts
            bar.advance()
    finally:
        bar.close()
    if out is not None and report.remapped:
        print("Run ids changed (source -> destination):", file=out)
        for old, new in report.remapped.items():
            print(f"  {old} -> {new}", file=out)
    return report


def summary(report: CopyReport, source: str, target: str) -> str:
    """Return the closing lines of ``sacredlite copy``."""
    lines = [
        f"Copied {len(report.copied):,} runs from {source} to {target}"
        + (f" ({len(report.skipped):,} already there, skipped)" if report.skipped else "")
        + f": {report.points:,} metric points, {report.artifacts:,} artifacts.",
        f"Verified at the destination: {report.verified_runs:,} runs, "
        f"{report.verified_points:,} metric points, {report.verified_artifacts:,} artifacts"
        + (" (all there)." if report.verified else " (MISMATCH: check the destination)."),
    ]
    return "\n".join(lines)
