"""The reader interface every store backend implements (internal).

The board, the query API and the ``ls``/``show`` commands read runs only through
:class:`RunStore`; :func:`sacredlite.store.open_store` picks the backend.
"""

from __future__ import annotations

import mimetypes
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from ..events import RunStatus
from .limits import MAX_NOTES_CHARS, MAX_TAG_CHARS, MAX_TAGS, check_limit
from .records import NotFound, ReadOnlyError, Record, RunQuery, StoreError, get_path, select
from .series import Series

RunId = int | str
VOLATILE_SECONDS = 1.0
"""How long a cached listing that depends on the clock (status, duration) is reused."""
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
        self._series: OrderedDict[tuple[RunId, str], tuple[Any, Series, int]] = OrderedDict()
        """Cached series by (run, metric): the version, the series, its points when stored."""
        self._series_points = 0
        """Points held by ``_series`` (kept as entries come and go, never re-summed)."""
        self._rollups: dict[RunId, tuple[Any, dict[str, dict[str, Any]]]] = {}
        self._loading: dict[tuple[RunId, str], threading.Lock] = {}
        self._selections: OrderedDict[Any, tuple[float, list[Record]]] = OrderedDict()
        self._select_lock = threading.Lock()
        self._running: tuple[Any, bool] = (None, False)
        self._derived: OrderedDict[Any, tuple[Any, Series]] = OrderedDict()
        """Series against other x axes (:mod:`.curves`), keyed by run, metric and axis."""

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
        records = self.records(need)
        generation = self.generation
        whole = RunQuery(filters=query.filters, search=query.search, sort=query.sort)
        if generation is not None:
            self._has_running(records, generation)
        if generation is None or any(p.startswith("metric:") for p in paths):
            total, rows = select(records, whole, self.metric_column)
        else:
            rows = self._selected(records, whole, generation, need, paths)
            total = len(rows)
        end = None if query.limit is None else query.offset + query.limit
        return total, rows[query.offset : end]

    generation: Any = None
    """A token that changes whenever any run is added, changed or removed (``None``: the
    backend cannot tell, and listings are not cached)."""

    def listing_is_stable(self) -> bool:
        """Return whether the last listing's answer holds until :attr:`generation` changes:
        no run is RUNNING, so no status or duration moves with the clock."""
        generation = self.generation
        return generation is not None and self._running == (generation, False)

    def _has_running(self, records: list[Record], generation: Any) -> bool:
        """Return whether any run is RUNNING (only then does the clock change answers)."""
        if self._running[0] != generation:
            running = any(r.get("status") == RunStatus.RUNNING.value for r in records)
            self._running = (generation, running)
        return self._running[1]

    def _selected(
        self,
        records: list[Record],
        query: RunQuery,
        generation: Any,
        need: Collection[str],
        paths: list[str],
    ) -> list[Record]:
        """Return the records matching *query*, sorted: cached until the runs change (and at
        most :data:`VOLATILE_SECONDS` when the answer depends on the clock: status, duration,
        text search), so concurrent listings do not filter and sort the runs again."""
        key = (generation, repr(query.filters), query.search, query.sort, tuple(sorted(need)))
        volatile = (
            bool(query.search.strip())
            or any(p.split(".")[0] in ("status", "duration", "heartbeat") for p in paths)
        ) and self._has_running(records, generation)
        with self._select_lock:  # one computation per key; the others wait for it
            hit = self._selections.get(key)
            now = time.monotonic()
            if hit is not None and (not volatile or now - hit[0] <= VOLATILE_SECONDS):
                self._selections.move_to_end(key)
                return hit[1]
            _, rows = select(records, query, self.metric_column)
            self._selections[key] = (now, rows)
            while len(self._selections) > 32:
                self._selections.popitem(last=False)
            return rows

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
                self._forget_series(key)
                self._series[key] = (version, series, len(series))
                self._series_points += len(series)
                while len(self._series) > 1 and (
                    len(self._series) > 512 or self._series_points > 30_000_000
                ):
                    self._forget_series(next(iter(self._series)))
            return series

    def _forget_series(self, key: tuple[RunId, str]) -> None:
        """Drop one cached series (the caller holds the lock)."""
        old = self._series.pop(key, None)
        if old is not None:
            self._series_points -= old[2]

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

    def column_value(self, record: Record, path: str) -> Any:
        """Return what the runs table shows in column *path* for *record* (metric summaries
        as ``metric:NAME:last|min|max``, anything else a dotted path or short name)."""
        if path.startswith("metric:"):
            return self.metric_column(record, path)
        return get_path(record, path)

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

    # -- saved views (see :mod:`.views`) -----------------------------------------------
    @abstractmethod
    def _read_views(self) -> dict[str, dict[str, Any]]:
        """Return the stored views: ``{name: {"state", "created", "updated"}}``."""

    @abstractmethod
    def _put_view(self, name: str, view: dict[str, Any]) -> None:
        """Store one view (creating or replacing it)."""

    @abstractmethod
    def _drop_view(self, name: str) -> bool:
        """Remove one view; return whether it existed."""

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
