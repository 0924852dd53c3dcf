"""The reader interface every store backend implements (internal).

The board, the query API and the ``ls``/``show`` commands read runs only through
:class:`RunStore`; :func:`sacredlite.store.open_store` picks the backend.
"""

from __future__ import annotations

import mimetypes
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from .limits import MAX_NOTES_CHARS, MAX_TAG_CHARS, MAX_TAGS, check_limit
from .records import NotFound, ReadOnlyError, Record, RunQuery, StoreError, select
from .series import Series

RunId = int | str
SECTIONS = frozenset({"config", "info"})
"""The parts of a record that listings may leave out unless a query needs them."""


def content_type(name: str) -> str:
    """Guess a file's content type from its name (text/plain for unknown text-like names)."""
    guessed, _ = mimetypes.guess_type(name)
    if guessed:
        return guessed
    suffix = Path(name).suffix.lower()
    if suffix in (".log", ".txt", ".cfg", ".ini", ".toml", ".yaml", ".yml", ".md", ".csv", ""):
        return "text/plain"
    return "application/octet-stream"


class RunStore(ABC):
    """Read (and, unless read-only, annotate or delete) the runs of one storage location.

    Args:
        read_only: refuse tags, notes and deletes.
    """

    location: str = ""
    backend: str = ""
    identity: str = ""
    """The store named the same way however it was given (no credentials): what a copy
    records in ``meta.copied_from``; the location when empty."""

    def __init__(self, *, read_only: bool = False) -> None:
        self.read_only = read_only
        self._lock = threading.RLock()
        self._series: OrderedDict[tuple[RunId, str], tuple[Any, Series]] = OrderedDict()
        self._rollups: dict[RunId, tuple[Any, dict[str, dict[str, Any]]]] = {}
        self._loading: dict[tuple[RunId, str], threading.Lock] = {}

    # -- listing ---------------------------------------------------------------------
    @abstractmethod
    def records(self, need: Collection[str] = SECTIONS) -> list[Record]:
        """Return every run's record (without captured output or metric series).

        Args:
            need: which of the big sections (``config``, ``info``) must be present; a
                backend may leave others out to list faster.
        """

    def list_runs(
        self, query: RunQuery | None = None, columns: Iterable[str] = ()
    ) -> tuple[int, list[Record]]:
        """Return ``(total matching, page of records)`` for *query*.

        Args:
            query: filters, sort and page.
            columns: paths the caller will read from the records (so they are loaded).
        """
        query = query or RunQuery()
        paths = [f.path for f in query.filters] + [query.sort.lstrip("-+"), *columns]
        need = {section for section in SECTIONS for p in paths if p.split(".")[0] == section}
        return select(self.records(need), query, self.metric_column)

    def parse_id(self, text: str) -> RunId:
        """Turn a run id from a URL or the command line into the store's id type.

        Canonical integers (``"7"``, not ``"007"``) become ints, as Sacred's ids are;
        anything else stays text.
        """
        try:
            number = int(text)
        except ValueError:
            return text
        return number if str(number) == text else text

    # -- one run -----------------------------------------------------------------------
    @abstractmethod
    def run(self, run_id: RunId) -> Record:
        """Return the full record of a run (including ``fail_trace``)."""

    @abstractmethod
    def output(self, run_id: RunId, offset: int = 0, tail: int | None = None) -> dict[str, Any]:
        """Return captured output: ``{"text", "start", "end"}`` (byte offsets).

        Args:
            run_id: the run.
            offset: return the output from this byte on (for live tailing).
            tail: return at most this many bytes from the end instead.
        """

    @abstractmethod
    def metric_names(self, run_id: RunId) -> list[str]:
        """Return the names of the run's metrics, sorted."""

    @abstractmethod
    def metric_points(self, run_id: RunId, name: str) -> dict[str, list[Any]]:
        """Return a whole metric: ``{"steps", "values", "timestamps"}`` (aware datetimes)."""

    @abstractmethod
    def _metric_version(self, run_id: RunId, name: str) -> Any:
        """Return a token that changes whenever the metric gains points."""

    def _load_series(self, run_id: RunId, name: str, cached: Series | None) -> Series:
        points = self.metric_points(run_id, name)
        return Series(points["steps"], points["values"])

    def series(self, run_id: RunId, name: str) -> Series:
        """Return the metric as a cached :class:`Series` (reloaded when it changes)."""
        key = (run_id, name)
        with self._lock:
            loading = self._loading.setdefault(key, threading.Lock())
        # One load per metric at a time: the plot and the roll-ups ask together, and a
        # long series must not be read twice in parallel.
        with loading:
            version = self._metric_version(run_id, name)
            with self._lock:
                hit = self._series.get(key)
                if hit is not None and hit[0] == version:
                    self._series.move_to_end(key)
                    return hit[1]
            series = self._load_series(run_id, name, hit[1] if hit else None)
            with self._lock:
                self._series[key] = (version, series)
                while len(self._series) > 32:
                    self._series.popitem(last=False)
            return series

    def metric(
        self,
        run_id: RunId,
        name: str,
        start: float | None = None,
        stop: float | None = None,
        points: int = 2000,
    ) -> dict[str, Any]:
        """Return at most *points* points of a metric between steps *start* and *stop*."""
        if name not in self.metric_names(run_id):
            raise NotFound(
                f"Run {run_id!r} has no metric {name!r}; it has {self.metric_names(run_id)}."
            )
        return {"name": name, **self.series(run_id, name).window(start, stop, points)}

    def rollups(self, run_id: RunId) -> dict[str, dict[str, Any]]:
        """Return ``{metric: {"last", "min", "max", "count"}}`` for every metric of a run."""
        names = self.metric_names(run_id)
        version = tuple(self._metric_version(run_id, n) for n in names)
        hit = self._rollups.get(run_id)
        if hit is not None and hit[0] == version:
            return hit[1]
        result = {n: self.series(run_id, n).rollup() for n in names}
        self._rollups[run_id] = (version, result)
        return result

    def metric_column(self, record: Record, path: str) -> Any:
        # path is "metric:NAME:last|min|max"; NAME may itself contain colons.
        body, _, kind = path[len("metric:") :].rpartition(":")
        if not body:
            body, kind = kind, "last"
        try:
            return self.rollups(record["_id"]).get(body, {}).get(kind)
        except StoreError:
            return None

    @abstractmethod
    def artifacts(self, run_id: RunId) -> list[dict[str, Any]]:
        """Return ``[{"name", "size", "content_type"}]`` for the run's artifacts."""

    @abstractmethod
    def artifact(self, run_id: RunId, name: str) -> tuple[Path | bytes, str]:
        """Return an artifact's content (a path inside the store, or bytes) and its type."""

    @abstractmethod
    def sources(self, run_id: RunId) -> list[dict[str, Any]]:
        """Return ``[{"path", "md5"}]`` for the run's source files."""

    @abstractmethod
    def source(self, run_id: RunId, path: str) -> bytes:
        """Return a source file's content."""

    def resource(self, run_id: RunId, path: str) -> bytes:
        """Return the stored content of a resource the run opened (*path* as recorded in
        its ``resources``)."""
        raise NotFound(f"Run {run_id!r}: {self.backend or 'this'} store keeps no resource files.")

    def is_incomplete(self, record: Record) -> bool:
        """Return whether *record* is a run still being written by a copy (or left so by
        a copy that was killed)."""
        return False

    # -- writes ------------------------------------------------------------------------
    def _check_writable(self, what: str) -> None:
        if self.read_only:
            raise ReadOnlyError(f"Cannot {what}: the store {self.location!r} is open read-only.")

    @abstractmethod
    def set_tags(self, run_id: RunId, tags: list[str]) -> None:
        """Replace the run's tags (Omniboard's ``omniboard.tags``)."""

    @abstractmethod
    def set_notes(self, run_id: RunId, notes: str) -> None:
        """Replace the run's notes (Omniboard's ``omniboard.notes``)."""

    @abstractmethod
    def delete_run(self, run_id: RunId) -> None:
        """Delete a run with its metrics, artifacts and overflow data."""

    def close(self) -> None:  # noqa: B027 - optional hook; most backends hold nothing
        """Release connections and caches."""


def clean_tags(tags: Any) -> list[str]:
    """Validate tags from a request: a list of non-empty strings, deduplicated in order.

    Raises:
        StoreError: not a list of strings.
        LimitError: more than :data:`~sacredlite.store.limits.MAX_TAGS` tags, or one longer
            than :data:`~sacredlite.store.limits.MAX_TAG_CHARS` (checked before any other work).
    """
    if not isinstance(tags, list):
        raise StoreError(f"Tags must be a list of strings, got {_short(tags)}.")
    check_limit("Tags per run", len(tags), MAX_TAGS)
    for tag in tags:
        if not isinstance(tag, str):
            raise StoreError(f"Tags must be a list of strings, got the tag {_short(tag)}.")
        check_limit("Characters per tag", len(tag), MAX_TAG_CHARS, " characters")
    # dict keeps the first of each, in order, in linear time (issue 9: was quadratic).
    return list(dict.fromkeys(tag for tag in (t.strip() for t in tags) if tag))


def clean_notes(notes: Any) -> str:
    """Validate notes from a request: a string of at most ``MAX_NOTES_CHARS`` characters."""
    if not isinstance(notes, str):
        raise StoreError(f"Notes must be a string, got {_short(notes)}.")
    check_limit("Characters of notes", len(notes), MAX_NOTES_CHARS, " characters")
    return notes


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."
