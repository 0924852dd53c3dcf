"""A store read whole into memory and re-read when its source changes (internal).

The base of the readers for Sacred's other observers (TinyDB, SQL, S3): each says how to
load every run's record and, per run, its output, metrics and files; this class answers
the :class:`~sacredlite.store.base.RunStore` questions from that, keeps the records until
the backend's change token moves (or :attr:`SnapshotStore.recheck` seconds pass without
one), and refuses writes with one line saying where tags and notes can live.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Collection
from datetime import datetime
from typing import Any

from .base import SECTIONS, RunId, RunStore, content_type
from .records import NotFound, ReadOnlyError, Record, RunNotFound, parse_time

TIME_FIELDS = ("start_time", "heartbeat", "stop_time", "queue_time")


def normalize(record: Record) -> Record:
    """Return *record* with aware-UTC times, dict sections and an ``omniboard`` entry."""
    out = dict(record)
    for field in TIME_FIELDS:
        if field in out:
            out[field] = parse_time(out[field])
    for key in ("config", "info", "meta", "experiment", "host"):
        if not isinstance(out.get(key), dict):
            out[key] = {}
    board = out.get("omniboard")
    board = board if isinstance(board, dict) else {}
    tags = board.get("tags")
    out["omniboard"] = {
        "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
        "notes": str(board.get("notes") or ""),
    }
    return out


def slice_output(text: str, offset: int = 0, tail: int | None = None) -> dict[str, Any]:
    """Return ``{"text", "start", "end"}`` of *text* from byte *offset*, or its last *tail*
    bytes."""
    data = text.encode("utf-8")
    size = len(data)
    start = max(0, size - tail) if tail is not None else min(max(0, offset), size)
    return {"text": data[start:].decode("utf-8", "replace"), "start": start, "end": size}


def aware_times(points: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Return a metric with its timestamps as aware-UTC datetimes."""
    stamps = [parse_time(t) if isinstance(t, (str, datetime)) else t for t in points["timestamps"]]
    return {"steps": list(points["steps"]), "values": list(points["values"]), "timestamps": stamps}


class SnapshotStore(RunStore):
    """Runs loaded whole by a backend (see the module docstring).

    Subclasses set :attr:`backend` and :attr:`location` and implement :meth:`_token`,
    :meth:`_load`, :meth:`_output_text`, :meth:`_metrics`, :meth:`_artifact_index`,
    :meth:`_artifact_bytes`, :meth:`_source_index` and :meth:`_source_bytes`.
    """

    recheck = 1.0
    """Seconds during which the records are answered without asking for the change token."""

    def __init__(self, *, read_only: bool = False) -> None:
        super().__init__(read_only=read_only)
        self._records: dict[RunId, Record] = {}
        self._loaded_token: Any = object()
        self._checked_at = float("-inf")

    # -- what a backend says -------------------------------------------------------------
    @abstractmethod
    def _token(self) -> Any:
        """Return a value that changes whenever the stored runs change (or ``None`` when
        that cannot be told cheaply: then the runs are re-read every :attr:`recheck`)."""

    @abstractmethod
    def _load(self) -> dict[RunId, Record]:
        """Return every run's record (Sacred's run-document shape, not normalized)."""

    @abstractmethod
    def _output_text(self, run_id: RunId) -> str:
        """Return the run's whole captured output."""

    @abstractmethod
    def _metrics(self, run_id: RunId) -> dict[str, dict[str, list[Any]]]:
        """Return ``{name: {"steps", "values", "timestamps"}}`` of the run."""

    @abstractmethod
    def _artifact_index(self, run_id: RunId) -> dict[str, int | None]:
        """Return ``{artifact name: size in bytes or None}``."""

    @abstractmethod
    def _artifact_bytes(self, run_id: RunId, name: str) -> bytes:
        """Return an artifact's content (the name is one of :meth:`_artifact_index`)."""

    @abstractmethod
    def _source_index(self, run_id: RunId) -> list[dict[str, Any]]:
        """Return ``[{"path", "md5"}]`` of the run's stored sources."""

    @abstractmethod
    def _source_bytes(self, run_id: RunId, path: str) -> bytes:
        """Return a stored source file's content (the path is one of the index's)."""

    # -- listing ---------------------------------------------------------------------------
    def records(self, need: Collection[str] = SECTIONS) -> list[Record]:
        """Return every run's record, re-read when the backend's change token moves."""
        with self._lock:
            now = time.monotonic()
            if now - self._checked_at >= self.recheck:
                self._checked_at = now
                token = self._token()
                if token is None or token != self._loaded_token:
                    self._records = {key: normalize(doc) for key, doc in self._load().items()}
                    self._loaded_token = token
            return list(self._records.values())

    def _key(self, run_id: RunId) -> RunId:
        self.records()
        for key in (run_id, str(run_id)):
            if key in self._records:
                return key
        if (
            isinstance(run_id, str)
            and run_id.lstrip("-").isdigit()
            and int(run_id) in self._records
        ):
            return int(run_id)
        raise RunNotFound(run_id, self.location)

    def parse_id(self, text: str) -> RunId:
        """Return the id as stored: text ids (TinyDB's hex ids, SQL's) stay text."""
        try:
            return self._key(text)
        except RunNotFound:
            return super().parse_id(text)

    def run(self, run_id: RunId) -> Record:
        """Return the run's record."""
        return self._records[self._key(run_id)]

    def output(self, run_id: RunId, offset: int = 0, tail: int | None = None) -> dict[str, Any]:
        """Return captured output (byte offsets, as the other stores)."""
        return slice_output(self._output_text(self._key(run_id)), offset, tail)

    # -- metrics ---------------------------------------------------------------------------
    def metric_names(self, run_id: RunId) -> list[str]:
        """Return the names of the run's metrics, sorted."""
        return sorted(self._metrics(self._key(run_id)))

    def metric_points(self, run_id: RunId, name: str) -> dict[str, list[Any]]:
        """Return a whole metric with aware-UTC timestamps."""
        points = self._metrics(self._key(run_id)).get(name)
        if points is None:
            raise NotFound(f"Run {run_id!r} has no metric {name!r}.")
        return aware_times(points)

    def _metric_version(self, run_id: RunId, name: str) -> Any:
        record = self.run(run_id)
        return (record.get("heartbeat"), record.get("stop_time"), record.get("status"))

    # -- files -----------------------------------------------------------------------------
    def artifacts(self, run_id: RunId) -> list[dict[str, Any]]:
        """Return ``[{"name", "size", "content_type"}]``."""
        index = self._artifact_index(self._key(run_id))
        return [
            {"name": name, "size": size, "content_type": content_type(name)}
            for name, size in index.items()
        ]

    def artifact(self, run_id: RunId, name: str) -> tuple[bytes, str]:
        """Return an artifact's bytes and content type."""
        key = self._key(run_id)
        if name not in self._artifact_index(key):
            raise NotFound(f"Run {run_id!r} has no artifact {name!r}.")
        return self._artifact_bytes(key, name), content_type(name)

    def sources(self, run_id: RunId) -> list[dict[str, Any]]:
        """Return ``[{"path", "md5"}]`` of the run's source files."""
        return self._source_index(self._key(run_id))

    def source(self, run_id: RunId, path: str) -> bytes:
        """Return a source file's content."""
        key = self._key(run_id)
        if not any(item["path"] == path for item in self._source_index(key)):
            raise NotFound(f"Run {run_id!r} has no source file {path!r}.")
        return self._source_bytes(key, path)

    # -- writes ----------------------------------------------------------------------------
    def _refuse(self, what: str) -> None:
        self._check_writable(what)
        raise ReadOnlyError(
            f"Cannot {what}: runs in {self.backend} storage ({self.location}) are read-only "
            "in sacredlite; copy them to a directory or MongoDB with 'sacredlite copy' to "
            "tag, annotate or delete them."
        )

    def set_tags(self, run_id: RunId, tags: list[str]) -> None:
        """Refuse: this backend keeps no tags."""
        self._refuse("change tags")

    def set_notes(self, run_id: RunId, notes: str) -> None:
        """Refuse: this backend keeps no notes."""
        self._refuse("change notes")

    def delete_run(self, run_id: RunId) -> None:
        """Refuse: deleting is left to the backend's own tools."""
        self._refuse("delete runs")

    # -- saved views: none are kept in these backends ---------------------------------------
    def _read_views(self) -> dict[str, dict[str, Any]]:
        return {}

    def _put_view(self, name: str, view: dict[str, Any]) -> None:
        self._refuse("save views")

    def _drop_view(self, name: str) -> bool:
        self._refuse("delete views")
        return False
