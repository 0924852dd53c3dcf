"""Collection names and run-document shapes of the MongoDB format (internal; documented in
:mod:`sacredlite.formats.mongo`)."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

from ..events import RunStatus
from ._io import md5_bytes, md5_file
from ._mongo_ops import StoreFile

__all__ = [
    "COUNTERS",
    "FILES_ONCE",
    "MICROS",
    "OMNIBOARD_NOTES",
    "OMNIBOARD_TAGS",
    "RESERVED_COLLECTIONS",
    "VERSION",
    "Collections",
    "apply_set",
    "artifact_filename",
    "ended_fields",
    "experiment_files",
    "run_document",
]

VERSION = "MongoObserver-0.7.0"
"""The ``format`` field of a run document: Sacred 0.8's schema."""
COUNTERS = "sacredlite_counters"
"""The collection of run-id counters: ``{_id: <runs collection>, seq}``."""
FILES_ONCE = "sacredlite_files"
"""The collection naming the one GridFS file of each content:
``{_id: "<bucket>:<md5>:<filename>", file_id}``."""
MICROS = "sacredlite_micros"
"""A metric document's (or part's) microseconds within the millisecond of each timestamp,
kept when a run with exact times is copied in (BSON dates hold milliseconds)."""
OMNIBOARD_TAGS = "omniboard.tags"
"""Omniboard's tags of a run (a list of strings); sacredlite's board writes them too."""
OMNIBOARD_NOTES = "omniboard.notes"
"""Omniboard's notes on a run (a string)."""
RESERVED_COLLECTIONS = frozenset(
    {"fs.files", "fs.chunks", "_properties", "system.indexes", "search_space", "search_spaces"}
)
"""Names a runs or metrics collection may not have (Sacred's list)."""


@dataclass(frozen=True, slots=True)
class Collections:
    """The names of the collections one set of runs lives in.

    Attributes:
        runs: the runs collection (``runs``, ``<prefix>_runs``, or Sacred's deprecated
            ``collection``).
        metrics: the metrics collection (``metrics`` or ``<prefix>_metrics``).
    """

    runs: str = "runs"
    metrics: str = "metrics"
    fs: str = "fs"
    """The GridFS bucket (``fs.files``, ``fs.chunks``)."""
    counters: str = COUNTERS
    files_once: str = FILES_ONCE

    @property
    def fs_files(self) -> str:
        """The GridFS files collection (``fs.files``)."""
        return f"{self.fs}.files"

    @property
    def output(self) -> str:
        """Where captured output past the run document's limit goes: ``<runs>_output``."""
        return f"{self.runs}_output"

    @property
    def overflow(self) -> str:
        """Where metric points past a metric document's limit go: ``<metrics>_overflow``."""
        return f"{self.metrics}_overflow"

    @classmethod
    def with_prefix(cls, prefix: str = "") -> Collections:
        """Return the names for Sacred's ``collection_prefix`` (``""``: ``runs``, ``metrics``)."""
        start = f"{prefix}_" if prefix else ""
        return cls(f"{start}runs", f"{start}metrics")

    @classmethod
    def from_options(cls, collection: str = "runs", prefix: str = "") -> Collections:
        """Return the names for ``MongoObserver(collection=..., collection_prefix=...)``.

        As in Sacred, *collection* other than ``runs`` is deprecated (with a warning) and
        keeps ``metrics``; a reserved name is refused.

        Raises:
            ValueError: both *collection* and *prefix* are given.
            KeyError: a name is reserved (:data:`RESERVED_COLLECTIONS`).
        """
        if collection != "runs":
            warnings.warn(
                'Argument "collection" is deprecated. Please use "collection_prefix" instead.',
                DeprecationWarning,
                stacklevel=3,
            )
            if prefix:
                raise ValueError("Cannot pass both collection and a collection prefix.")
            names = cls(collection, "metrics")
        else:
            names = cls.with_prefix(prefix)
        for name in (names.runs, names.metrics):
            if name in RESERVED_COLLECTIONS:
                raise KeyError(f'Collection name "{name}" is reserved. Please use a different one.')
        return names


def run_document(
    experiment: dict[str, Any],
    command: str,
    host: dict[str, Any],
    time: Any,
    config: Any,
    meta: dict[str, Any],
    *,
    queued: bool = False,
) -> dict[str, Any]:
    """Return a new run's document: Sacred's fields, nothing else, for a run that starts at
    *time*; a QUEUED run's (*queued*) records, beyond Sacred, when it was queued
    (``queue_time``), and gets Sacred's other fields when a worker starts it."""
    doc = {
        "experiment": dict(experiment),
        "format": VERSION,
        "command": command,
        "host": dict(host),
        "start_time": time,
        "config": config,
        "meta": meta,
        "status": RunStatus.RUNNING.value,
        "resources": [],
        "artifacts": [],
        "captured_out": "",
        "info": {},
        "heartbeat": None,
    }
    if not queued:
        return doc
    kept = ("experiment", "command", "host", "config", "meta", "status")
    return {**{k: doc[k] for k in kept}, "status": RunStatus.QUEUED.value, "queue_time": time}


def ended_fields(
    stop_time: Any, status: RunStatus | str, fail_trace: list[str] | None = None
) -> dict[str, Any]:
    """Return the fields that end a run (``fail_trace`` for a failed one)."""
    fields = {"stop_time": stop_time, "status": str(status)}
    if fail_trace is not None:
        fields["fail_trace"] = fail_trace
    return fields


def artifact_filename(runs: str, run_id: Any, name: str) -> str:
    """Return an artifact's GridFS filename, ``artifact://<runs>/<run id>/<name>`` (Sacred's)."""
    return f"artifact://{runs}/{run_id}/{name}"


def experiment_files(doc: dict[str, Any]) -> list[StoreFile]:
    """Return the GridFS uploads of a run's sources and repository diffs.

    Rewrites *doc*'s ``experiment`` in place: each source ``[name, md5]`` becomes
    ``[name, file_id]`` (GridFS ``filename``: the source's absolute path, with its ``md5``),
    and a repository's ``diff`` text becomes ``diff_file_id`` (``filename``
    ``gitdiff://<commit>``). Both are stored once per content.
    """
    from bson import ObjectId

    experiment = doc["experiment"]
    ops: list[StoreFile] = []
    sources = []
    for name, _md5 in experiment.get("sources", []):
        path = os.path.join(experiment.get("base_dir", ""), name)
        file_id = ObjectId()
        md5 = md5_file(path)
        ops.append(StoreFile(file_id, filename=path, md5=md5, dedupe=True, src=path))
        sources.append([name, file_id])
    experiment["sources"] = sources
    repos = []
    for repo in experiment.get("repositories", []):
        repo = dict(repo)
        diff = repo.pop("diff", None)
        if diff:
            data = diff.encode("utf-8")
            file_id = ObjectId()
            name = f"gitdiff://{repo.get('commit')}"
            md5 = md5_bytes(data)
            ops.append(StoreFile(file_id, filename=name, md5=md5, dedupe=True, data=data))
            repo["diff_file_id"] = file_id
        repos.append(repo)
    if "repositories" in experiment:
        experiment["repositories"] = repos
    return ops


def apply_set(entry: dict[str, Any], fields: dict[str, Any], unset: Any = ()) -> None:
    """Apply a ``$set`` of *fields* and an ``$unset`` of *unset* (keys may be dotted
    paths) to a local copy *entry*."""
    for path in unset:
        *parents, key = path.split(".")
        target: Any = entry
        for part in parents:
            target = target.get(part) if isinstance(target, dict) else None
        if isinstance(target, dict):
            target.pop(key, None)
    for path, value in fields.items():
        *parents, key = path.split(".")
        target = entry
        for part in parents:
            child = target.get(part)
            if not isinstance(child, dict):
                child = target[part] = {}
            target = child
        target[key] = value
