"""Read runs from MongoDB in Sacred's schema, including sacredlite's overflow format (internal).

Works on databases written by Sacred's MongoObserver and by ours: ``runs``, ``metrics``,
GridFS for sources and artifacts, Omniboard's ``omniboard.tags``/``omniboard.notes``, and
our overflow collections. Everything the schema says is known by
:mod:`sacredlite.formats.mongo`, which this module reads through (collection names, the
reassembly of overflowed output and metrics, what a run's deletion removes).

The run list is cached: runs that are still live, new and deleted runs are picked up on
every listing, and everything is re-read at least every :data:`FULL_REFRESH` seconds (so
tags edited elsewhere, e.g. in Omniboard, show up within that time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable
from typing import Any

from ..events import RunStatus
from .base import SECTIONS, RunId, RunStore, clean_notes, clean_tags, content_type
from .records import NotFound, Record, RunNotFound, RunQuery, StoreError
from .series import Series

try:
    import pymongo
    import pymongo.errors

    from ..formats.mongo import (
        ARTIFACTS,
        OMNIBOARD_NOTES,
        OMNIBOARD_TAGS,
        SOURCES,
        WRITING,
        Collections,
        Target,
        artifact_files,
        as_recorded,
        delete_run,
        delete_view_document,
        describe_access_error,
        describe_hosts,
        metric_names,
        put_view_document,
        read_captured_out,
        read_metric,
        read_views_collection,
        redact_url,
        source_files,
        split_credentials,
        with_diffs,
    )
except ImportError:  # pragma: no cover - pymongo is a dependency
    raise StoreError("Reading MongoDB needs pymongo: pip install pymongo.") from None

FULL_REFRESH = 30.0
"""Seconds after which the cached run list is re-read in full."""
RECHECK = 1.0
"""Seconds during which a listing is answered from the cache without asking the server."""

_LIST_PROJECTION = {"captured_out": 0, "fail_trace": 0}
_LIVE = (RunStatus.RUNNING.value, RunStatus.QUEUED.value)


def _bad_url(url: str, reason: str) -> str:
    password = split_credentials(url)[1]
    if password:
        reason = reason.replace(password, "***")
    return f"Invalid MongoDB URL {redact_url(url)!r}: {reason}"


def _open_error(exc: Exception, url: str, db_name: str) -> str:
    """Return the one line that says why the database cannot be read."""
    access = describe_access_error(exc, url, db_name)
    if access is not None:
        return access
    hosts = describe_hosts(url)
    if isinstance(exc, pymongo.errors.ConnectionFailure):
        return (
            f"Cannot reach MongoDB at {hosts} ({type(exc).__name__}); "
            "start the server or fix -m URL."
        )
    return f"MongoDB at {hosts} refused to list runs in {db_name!r}: {str(exc)[:200]}"


def _normalize(doc: dict[str, Any]) -> Record:
    record = dict(as_recorded(doc))
    board = record.get("omniboard")
    board = board if isinstance(board, dict) else {}
    tags = board.get("tags")
    record["omniboard"] = {
        "tags": list(tags) if isinstance(tags, list) else [],
        "notes": board.get("notes") or "",
    }
    for key in ("config", "info", "meta", "experiment", "host"):
        if not isinstance(record.get(key), dict):
            record[key] = {}
    return record


class MongoStore(RunStore):
    """Runs stored by ``MongoObserver`` (ours or Sacred's) in one database.

    Args:
        url: a ``mongodb://`` URL.
        db_name: the database.
        collection_prefix: Sacred's ``collection_prefix`` (``""`` for ``runs``/``metrics``).
        read_only: refuse tags, notes and deletes.
        client: an existing ``pymongo.MongoClient`` to use instead of *url*.
        timeout: seconds to wait for the server.
    """

    backend = "mongo"

    def __init__(
        self,
        url: str,
        db_name: str = "sacred",
        *,
        collection_prefix: str = "",
        read_only: bool = False,
        client: Any = None,
        timeout: float = 5.0,
    ) -> None:
        super().__init__(read_only=read_only)
        self._own_client = client is None
        try:
            self.client = client or pymongo.MongoClient(
                url,
                serverSelectionTimeoutMS=int(timeout * 1000),
                connectTimeoutMS=int(timeout * 1000),
                tz_aware=True,
            )
        except (pymongo.errors.PyMongoError, ValueError, TypeError) as exc:
            raise StoreError(_bad_url(url, str(exc))) from None
        try:
            self.db = self.client[db_name]
        except (pymongo.errors.PyMongoError, ValueError, TypeError) as exc:
            self.close()
            raise StoreError(f"Invalid MongoDB database name {db_name!r}: {exc}") from None
        self.names = Collections.with_prefix(collection_prefix)
        self._target = Target.in_database(self.db, self.names)
        self.runs = self._target.runs
        self.metrics = self._target.metrics
        self.fs = self._target.fs
        self.location = f"{url.split('@')[-1]} db={db_name}"
        self.identity = f"mongodb://{describe_hosts(url)}/{db_name}"
        self._cache: dict[Any, Record] = {}
        self._list: list[Record] | None = None
        self._loaded_at = self._checked_at = 0.0
        self.recheck = RECHECK
        try:
            self.client.admin.command("ping")
            # A server may answer ping without a login and refuse everything else.
            self.runs.find_one({}, {"_id": 1})
        except pymongo.errors.PyMongoError as exc:
            if self._own_client:
                self.client.close()
            raise StoreError(_open_error(exc, url, db_name)) from None

    @property
    def target(self) -> Target:
        """The collections of this store, for writers (``sacredlite copy``)."""
        return self._target

    # -- listing ---------------------------------------------------------------------
    generation = 0
    """Changes whenever a listed run is added, changed or removed."""

    def list_runs(
        self, query: RunQuery | None = None, columns: Iterable[str] = ()
    ) -> tuple[int, list[Record]]:
        """Return ``(total matching, page)``; before the run list is cached, a page sorted
        by id is asked of the server (by ``_id``, its index) while the cache loads in the
        background, so a first page does not wait for every run to arrive."""
        query = query or RunQuery()
        columns = list(columns)
        simple = not (
            query.filters
            or query.search.strip()
            or query.sort.lstrip("-+") not in ("id", "_id")
            or any(c.startswith("metric:") for c in columns)
        )
        with self._lock:
            cached = bool(self._cache)
        if cached or not simple:
            return super().list_runs(query, columns)
        order = pymongo.DESCENDING if query.sort.startswith("-") else pymongo.ASCENDING
        cursor = self.runs.find({}, _LIST_PROJECTION).sort("_id", order).skip(query.offset)
        if query.limit is not None:
            cursor = cursor.limit(query.limit)
        page = [_normalize(doc) for doc in cursor]
        total = self.runs.estimated_document_count()  # no filter: the collection's count
        threading.Thread(target=self.records, name="sacredlite-run-list", daemon=True).start()
        return total, page

    def records(self, need: Collection[str] = SECTIONS) -> list[Record]:
        """Return every run's record (cached; live, new and deleted runs refreshed)."""
        with self._lock:
            now = time.monotonic()
            if now - self._loaded_at > FULL_REFRESH or not self._cache:
                docs = self.runs.find({}, _LIST_PROJECTION)
                fresh = {d["_id"]: _normalize(d) for d in docs}
                if fresh != self._cache:
                    self._cache = fresh
                    self._changed()
                self._loaded_at = self._checked_at = now
                return self._listed()
            if now - self._checked_at < self.recheck:
                return self._listed()
            self._checked_at = now
            live = [i for i, r in self._cache.items() if r.get("status") in _LIVE]
            if live:  # lookups by _id use the index everywhere
                for doc in self.runs.find({"_id": {"$in": live}}, _LIST_PROJECTION):
                    record = _normalize(doc)
                    if record != self._cache.get(doc["_id"]):
                        self._cache[doc["_id"]] = record
                        self._changed()
            if self.runs.estimated_document_count() != len(self._cache):
                # Runs were added or deleted: compare all ids (a swap of one for another
                # between two listings shows at the next full refresh).
                ids = {d["_id"] for d in self.runs.find({}, {"_id": 1})}
                for gone in set(self._cache) - ids:
                    del self._cache[gone]
                    self._changed()
                missing = list(ids - set(self._cache))
                if missing:
                    for doc in self.runs.find({"_id": {"$in": missing}}, _LIST_PROJECTION):
                        self._cache[doc["_id"]] = _normalize(doc)
                    self._changed()
            return self._listed()

    def _changed(self) -> None:
        self.generation += 1
        self._list = None

    def _listed(self) -> list[Record]:
        if self._list is None:
            self._list = list(self._cache.values())
        return self._list

    # -- one run -----------------------------------------------------------------------
    def _doc(self, run_id: RunId, projection: dict[str, int] | None = None) -> dict[str, Any]:
        doc = self.runs.find_one({"_id": run_id}, projection)
        if doc is None:
            raise RunNotFound(run_id, self.location)
        return doc  # type: ignore[no-any-return]

    def run(self, run_id: RunId) -> Record:
        """Return the full record of a run (captured output excluded; see :meth:`output`)."""
        record = _normalize(self._doc(run_id, {"captured_out": 0}))
        record["experiment"] = with_diffs(record["experiment"], self.fs)
        return record

    def output(self, run_id: RunId, offset: int = 0, tail: int | None = None) -> dict[str, Any]:
        """Return captured output, reassembled from overflow chunks when needed."""
        doc = self._doc(run_id, {"captured_out": 1, "sacredlite": 1})
        data = read_captured_out(self.db, doc).encode("utf-8")
        size = len(data)
        start = max(0, size - tail) if tail is not None else min(max(0, offset), size)
        return {"text": data[start:].decode("utf-8", "replace"), "start": start, "end": size}

    # -- metrics -----------------------------------------------------------------------
    def metric_names(self, run_id: RunId) -> list[str]:
        """Return the names of the run's metrics (from the metrics collection)."""
        names = metric_names(self.db, run_id, self.names.metrics)
        if not names:
            self._doc(run_id, {"_id": 1})  # raise RunNotFound for unknown runs
        return names

    def _metric_version(self, run_id: RunId, name: str) -> Any:
        # Metrics grow at heartbeats; a finished run's metrics do not change.
        doc = self.runs.find_one({"_id": run_id}, {"heartbeat": 1, "stop_time": 1, "status": 1})
        if doc is None:
            raise RunNotFound(run_id, self.location)
        return (doc.get("heartbeat"), doc.get("stop_time"), doc.get("status"))

    def _load_series(self, run_id: RunId, name: str, cached: Series | None) -> Series:
        # without timestamps: decoding a million BSON dates is most of the cost of a long
        # metric, and plots do not need them
        points = read_metric(self.db, run_id, name, self.names.metrics, fields=("steps", "values"))
        if points is None:
            raise NotFound(f"Run {run_id!r} has no metric {name!r}.")
        return Series(points["steps"], points["values"])

    def metric_points(self, run_id: RunId, name: str) -> dict[str, list[Any]]:
        """Return a whole metric (all overflow parts joined)."""
        points = read_metric(self.db, run_id, name, self.names.metrics)
        if points is None:
            raise NotFound(f"Run {run_id!r} has no metric {name!r}.")
        return points

    # -- files -------------------------------------------------------------------------
    def _file_info(self, file_id: Any) -> dict[str, Any] | None:
        return self.db[self.names.fs_files].find_one({"_id": file_id}, {"length": 1, "md5": 1})

    def artifacts(self, run_id: RunId) -> list[dict[str, Any]]:
        """Return the run's artifacts with sizes and content types."""
        out = []
        for name, file_id in artifact_files(self._doc(run_id, {ARTIFACTS: 1})):
            info = self._file_info(file_id) or {}
            size = info.get("length")
            out.append({"name": name, "size": size, "content_type": content_type(name)})
        return out

    def artifact(self, run_id: RunId, name: str) -> tuple[bytes, str]:
        """Return an artifact's bytes from GridFS."""
        for stored, file_id in artifact_files(self._doc(run_id, {ARTIFACTS: 1})):
            if stored == name:
                return bytes(self.fs.get(file_id).read()), content_type(name)
        raise NotFound(f"Run {run_id!r} has no artifact {name!r}.")

    def sources(self, run_id: RunId) -> list[dict[str, Any]]:
        """Return the run's source files as recorded in ``experiment.sources``."""
        out = []
        for path, file_id in source_files(self._doc(run_id, {SOURCES: 1})):
            info = self._file_info(file_id) or {}
            out.append({"path": path, "stored": str(file_id), "md5": info.get("md5")})
        return out

    def source(self, run_id: RunId, path: str) -> bytes:
        """Return a source file's content from GridFS."""
        for stored, file_id in source_files(self._doc(run_id, {SOURCES: 1})):
            if stored == path:
                return bytes(self.fs.get(file_id).read())
        raise NotFound(f"Run {run_id!r} has no source file {path!r}.")

    def resource(self, run_id: RunId, path: str) -> bytes:
        """Return a resource's content from GridFS (stored under its path and md5)."""
        for item in self._doc(run_id, {"resources": 1}).get("resources") or []:
            if isinstance(item, (list, tuple)) and len(item) >= 2 and item[0] == path:
                found = self.fs.find_one({"filename": path, "md5": item[1]})
                if found is not None:
                    return bytes(found.read())
        raise NotFound(f"Run {run_id!r} has no stored resource {path!r}.")

    def is_incomplete(self, record: Record) -> bool:
        """Return whether a copy is (or was, when killed) still writing the run."""
        key, field = WRITING.split(".")
        return bool((record.get(key) or {}).get(field))

    # -- writes ------------------------------------------------------------------------
    def _set(self, run_id: RunId, field: str, value: Any) -> None:
        result = self.runs.update_one({"_id": run_id}, {"$set": {field: value}})
        if result.matched_count == 0:
            raise RunNotFound(run_id, self.location)
        with self._lock:
            cached = self._cache.get(run_id)
            if cached is not None:
                cached["omniboard"] = {**cached["omniboard"], field.split(".", 1)[1]: value}
                self._changed()

    def set_tags(self, run_id: RunId, tags: list[str]) -> None:
        """Replace ``omniboard.tags`` (Omniboard's field)."""
        self._check_writable("change tags")
        self._set(run_id, OMNIBOARD_TAGS, clean_tags(tags))

    def set_notes(self, run_id: RunId, notes: str) -> None:
        """Replace ``omniboard.notes`` (Omniboard's field)."""
        self._check_writable("change notes")
        self._set(run_id, OMNIBOARD_NOTES, clean_notes(notes))

    def _read_views(self) -> dict[str, dict[str, Any]]:
        return read_views_collection(self.db)

    def _put_view(self, name: str, view: dict[str, Any]) -> None:
        put_view_document(self.db, name, view)

    def _drop_view(self, name: str) -> bool:
        return delete_view_document(self.db, name)

    def delete_run(self, run_id: RunId) -> None:
        """Delete the run, its metrics (with overflow parts), output overflow and artifacts."""
        self._check_writable("delete runs")
        if not delete_run(self._target, run_id):
            raise RunNotFound(run_id, self.location)
        with self._lock:
            self._cache.pop(run_id, None)
            self._changed()
            for key in [k for k in self._series if k[0] == run_id]:
                self._forget_series(key)

    def close(self) -> None:
        """Close the client if this store opened it."""
        if self._own_client:
            self.client.close()
