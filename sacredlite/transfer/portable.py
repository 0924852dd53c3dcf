"""Read one whole run from any :class:`~sacredlite.store.base.RunStore` (internal).

Everything goes through the store's reader interface, so any backend that implements it
(file storage, MongoDB, and the readers of Sacred's other observers) can be copied and
exported. Contents are read lazily by the writer, one file or metric at a time.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

from ..formats.file import PortableFile, PortableRun
from ..store import NotFound
from ..store.base import RunId, RunStore

NOT_ENTRY_KEYS = frozenset(
    {"_id", "config", "info", "omniboard", "format", "captured_out", "sacredlite"}
)
"""Keys of a store record that are not run-entry fields (the record's own sections, and
a MongoDB document's bookkeeping, which each writer makes anew)."""


def _artifact(store: RunStore, run_id: RunId, item: dict[str, Any]) -> PortableFile | None:
    """Return an artifact to copy (``None`` when its content is missing in the store)."""
    name = str(item["name"])
    try:
        content, _ = store.artifact(run_id, name)
    except NotFound:
        return None
    if isinstance(content, Path):
        return PortableFile(name, content.read_bytes, path=str(content))
    return PortableFile(name, lambda: content, content_type=item.get("content_type"))


def _md5(text: Any) -> str | None:
    value = str(text or "")
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None


def read_run(store: RunStore, run_id: RunId) -> PortableRun:
    """Return the run *run_id* of *store* with everything it stored.

    Artifacts, sources or resources whose content is missing in the store are left out
    (the run itself is still copied).
    """
    record = store.run(run_id)
    entry = {k: v for k, v in record.items() if k not in NOT_ENTRY_KEYS}
    sources = [
        PortableFile(item["path"], partial(store.source, run_id, item["path"]), _md5(item["md5"]))
        for item in store.sources(run_id)
    ]
    resources = []
    for item in record.get("resources") or []:
        if isinstance(item, (list, tuple)) and len(item) >= 2:
            path = str(item[0])
            md5 = _md5(item[1]) or _md5(os.path.splitext(str(item[1]))[0].rpartition("_")[2])
            try:
                data = store.resource(run_id, path)
            except NotFound:
                continue
            resources.append(PortableFile(path, partial(bytes, data), md5))
    found = (_artifact(store, run_id, item) for item in store.artifacts(run_id))
    artifacts = [artifact for artifact in found if artifact is not None]
    output = store.output(run_id)["text"]
    board = record.get("omniboard") or {}
    return PortableRun(
        entry=entry,
        config=record.get("config") or {},
        info=record.get("info") or {},
        output=output,
        tags=list(board.get("tags") or []),
        notes=str(board.get("notes") or ""),
        sources=sources,
        resources=resources,
        artifacts=artifacts,
        metric_names=store.metric_names(run_id),
        read_metric=partial(store.metric_points, run_id),
    )


def count_points(run: PortableRun, tally: Any) -> None:
    """Make *run* add the points of each metric the writer reads to ``tally.points``."""
    read = run.read_metric

    def counted(name: str) -> dict[str, list[Any]]:
        points = read(name)
        tally.points += len(points["steps"])
        return points

    run.read_metric = counted
