"""MongoObserver: runs stored in MongoDB exactly as Sacred 0.8 stores them.

The schema is Sacred's ``MongoObserver-0.7.0`` (DESIGN.md section 4), so Omniboard and
Incense read it unchanged: ``runs`` documents, ``metrics`` documents (one per run and
name, extended with ``$push/$each`` once per name per heartbeat and referenced from
``info.metrics`` as ``{"name", "id"}``), and GridFS files for sources (``filename`` = the
source's absolute path, plus the ``md5`` field pymongo 4 no longer writes, which we use to
store each source once), resources and artifacts (``artifact://<runs>/<id>/<name>``).
Config, info and result are flattened with jsonpickle like Sacred's, and keys are made
BSON-safe the way Sacred's ``force_valid_bson_key`` does (a leading ``$`` becomes ``@``,
``.`` becomes ``,``). Times are stored as given: naive datetimes are UTC, as Sacred's.

The observer works on any collections that speak pymongo's ``Collection`` API
(:meth:`MongoObserver.create_from`), and raises what Sacred raises: a write that fails
raises from the event that made it, and a failed final save leaves
``sacred_mongo_fail_<id>_*.pickle`` in ``failure_dir``.

Beyond Sacred:

* Nothing is lost when the database goes away. A write that fails is kept, in order,
  with every later one, in a spool on disk (``spool_dir``, else ``failure_dir``, else
  ``./.sacredlite-spool``) and stored when the database is back, at the end of the run,
  or by ``sacredlite sync``. The error raised is marked as kept
  (:func:`~sacredlite.observers.base.mark_event_kept`), so the run's dispatcher warns
  once and does not send the event again.
* Run ids are allocated atomically (see :mod:`sacredlite.observers.mongo_store`), so any
  number of processes never collide.
* Updates ``$set`` single fields and never replace the document: Omniboard's
  ``omniboard.tags`` and ``omniboard.notes`` survive.
* No document reaches the 16 MB limit: long captured output and long metric series
  overflow into ``<runs>_output`` and ``<metrics>_overflow``; :func:`read_captured_out` and
  :func:`read_metric` reassemble them (format in :mod:`sacredlite.observers.mongo_store`).
* A repository's uncommitted ``diff`` is stored in GridFS (``filename`` ``gitdiff://<commit>``,
  deduplicated by ``md5``) and replaced by ``"diff_file_id"`` in ``experiment.repositories``.
* If the database is unreachable when a run starts, :class:`ObserverError` says so in one
  line, naming the host but never the password.
"""

from __future__ import annotations

import mimetypes
import os
import warnings
import weakref
from typing import TYPE_CHECKING, Any

try:
    import gridfs
    import pymongo
    import pymongo.errors
    from bson import ObjectId
except ImportError as exc:  # pragma: no cover - pymongo is a dependency, but may be removed
    raise ImportError("MongoObserver needs pymongo: pip install 'pymongo>=4'") from exc

from ..errors import ObserverError
from .base import RunObserver, event_was_kept, mark_event_kept
from .mongo_doc import (
    _close_quietly,
    _md5_file,
    _op,
    _safe,
    _store,
    experiment_files,
    save_failed_run,
)
from .mongo_doc import force_bson_encodeable as force_bson_encodeable
from .mongo_doc import force_valid_bson_key as force_valid_bson_key
from .mongo_metrics import MetricSeries
from .mongo_output import OutputTail
from .mongo_store import Executor, Target, is_transient, read_captured_out, read_metric
from .mongo_url import describe_client, describe_hosts, redact_url
from .mongo_url import parse_mongo_db_arg as parse_mongo_db_arg
from .mongo_writer import Writer
from .spool import DEFAULT_SPOOL_DIR, Spool

if TYPE_CHECKING:  # at run time, __getattr__ (at the end) imports it on first use
    from .mongo_queued import QueuedMongoObserver as QueuedMongoObserver

__all__ = [
    "DEFAULT_MONGO_PRIORITY",
    "MongoObserver",
    "QueuedMongoObserver",
    "force_bson_encodeable",
    "force_valid_bson_key",
    "parse_mongo_db_arg",
    "read_captured_out",
    "read_metric",
]

DEFAULT_MONGO_PRIORITY = 30
OUTPUT_LIMIT = 1_000_000
"""Characters of captured output kept in the run document before older text overflows."""
METRIC_PART_POINTS = 200_000
"""Points per metric document (about 9 MB) before later points go to overflow parts."""


class MongoObserver(RunObserver):
    """Store runs in MongoDB in Sacred's schema.

    Args:
        url: a MongoDB URL or ``host:port`` (default ``localhost:27017``).
        db_name: the database.
        collection: the runs collection (deprecated in Sacred, like here).
        collection_prefix: store runs in ``<prefix>_runs`` and metrics in ``<prefix>_metrics``.
        overwrite: ``_id`` of an existing run to store this run into.
        priority: observers with higher priority are called first (default 30).
        client: a ``pymongo.MongoClient`` to use instead of ``url``.
        failure_dir: where a final save that fails leaves the run document as a pickle
            (Sacred's); also the spool directory when *spool_dir* is not given.
        spool_dir: where unstored writes are kept (default ``./.sacredlite-spool``).
        output_limit: characters of captured output kept in the run document.
        metric_part_points: points per metric document before overflow parts begin.
        retry_interval: seconds between reconnection attempts while the database is away.
        **client_kwargs: passed to ``pymongo.MongoClient``; ``serverSelectionTimeoutMS``
            defaults to 5000 so an unreachable server is reported within seconds.

    Raises:
        ValueError: *client* is not a ``pymongo.MongoClient``, or both *client* and *url*,
            or both *collection* and *collection_prefix* are given (Sacred's messages).
        KeyError: a collection name is reserved (``fs.files``, ...).
    """

    COLLECTION_NAME_BLACKLIST = frozenset(
        {"fs.files", "fs.chunks", "_properties", "system.indexes", "search_space", "search_spaces"}
    )
    VERSION = "MongoObserver-0.7.0"

    @classmethod
    def create(cls, *args: Any, **kwargs: Any) -> MongoObserver:
        """Deprecated in Sacred 0.8 as here: call ``MongoObserver(...)`` instead."""
        warnings.warn(
            "MongoObserver.create(...) is deprecated. Please use MongoObserver(...) instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return cls(*args, **kwargs)

    def __init__(
        self,
        url: str | None = None,
        db_name: str = "sacred",
        collection: str = "runs",
        collection_prefix: str = "",
        overwrite: int | str | None = None,
        priority: int = DEFAULT_MONGO_PRIORITY,
        client: Any = None,
        failure_dir: str | os.PathLike[str] | None = None,
        *,
        spool_dir: str | os.PathLike[str] | None = None,
        output_limit: int = OUTPUT_LIMIT,
        metric_part_points: int = METRIC_PART_POINTS,
        retry_interval: float = 10.0,
        **client_kwargs: Any,
    ) -> None:
        sync_target = None
        if client is not None:
            if not isinstance(client, pymongo.MongoClient):
                raise ValueError(
                    f"client needs to be a pymongo.MongoClient, but is {type(client)} instead"
                )
            if url is not None:
                raise ValueError("Cannot pass both a client and a url.")
            hosts = describe_client(client)
        else:
            client_kwargs.setdefault("serverSelectionTimeoutMS", 5000)
            client_kwargs.setdefault("connectTimeoutMS", 5000)
            hosts = describe_hosts(url)
            sync_target = redact_url(url)  # the `sacredlite sync -m` hint keeps the user
            # looked up at call time, so a test may substitute the client class
            client = pymongo.MongoClient(url, **client_kwargs)
            # our own client: closed when the observer goes (pymongo warns about unclosed ones)
            weakref.finalize(self, _close_quietly, client)
        runs_name, metrics_name = self._collection_names(collection, collection_prefix)
        database = client[db_name]
        self._initialize(
            database[runs_name],
            gridfs.GridFS(database),
            overwrite=overwrite,
            metrics_collection=database[metrics_name],
            failure_dir=failure_dir,
            priority=priority,
            hosts=hosts,
            sync_target=sync_target,
            spool_dir=spool_dir,
            output_limit=output_limit,
            metric_part_points=metric_part_points,
            retry_interval=retry_interval,
        )

    @classmethod
    def create_from(
        cls,
        runs_collection: Any,
        fs: Any,
        overwrite: int | str | None = None,
        metrics_collection: Any = None,
        failure_dir: str | os.PathLike[str] | None = None,
        priority: int = DEFAULT_MONGO_PRIORITY,
        **options: Any,
    ) -> MongoObserver:
        """Create an observer on existing collections (Sacred's alternative constructor).

        Args:
            runs_collection: the runs collection; any object with pymongo's ``Collection``
                API (a pymongo collection, or mongomock's in Sacred's tests).
            fs: the ``gridfs.GridFS`` for sources, resources and artifacts.
            overwrite: ``_id`` of an existing run to store this run into.
            metrics_collection: the metrics collection; without one, metrics are not
                stored (as in Sacred).
            failure_dir: where a failed final save leaves a pickle of the run.
            priority: the observer's priority.
            **options: ``spool_dir``, ``output_limit``, ``metric_part_points``,
                ``retry_interval`` as for the constructor.
        """
        self = cls.__new__(cls)
        self._initialize(
            runs_collection,
            fs,
            overwrite=overwrite,
            metrics_collection=metrics_collection,
            failure_dir=failure_dir,
            priority=priority,
            hosts=describe_client(getattr(runs_collection.database, "client", None)),
            **options,
        )
        return self

    def _initialize(
        self,
        runs_collection: Any,
        fs: Any,
        overwrite: int | str | None,
        metrics_collection: Any,
        failure_dir: str | os.PathLike[str] | None,
        priority: int,
        hosts: str,
        spool_dir: str | os.PathLike[str] | None = None,
        sync_target: str | None = None,
        output_limit: int = OUTPUT_LIMIT,
        metric_part_points: int = METRIC_PART_POINTS,
        retry_interval: float = 10.0,
    ) -> None:
        self._target = Target(runs_collection, metrics_collection, fs)
        self.runs = runs_collection
        self.metrics = metrics_collection
        self.fs = fs
        self.db_name = str(runs_collection.database.name)
        self.hosts = hosts
        self.sync_target = sync_target or hosts
        self.priority = priority
        self.failure_dir = failure_dir
        self._spool_dir = spool_dir
        self.output_limit = output_limit
        self.metric_part_points = metric_part_points
        self.retry_interval = retry_interval
        self.run_entry: dict[str, Any] | None = None
        self._queue_options: dict[str, float] | None = None
        self._writer: Writer | None = None
        self.overwrite: dict[str, Any] | None = None
        if overwrite is not None:
            found = self._guard(lambda: self.runs.find_one({"_id": int(overwrite)}))
            if found is None:
                raise ObserverError(
                    f"Cannot overwrite run {overwrite!r}: no run with that _id in "
                    f"{self.db_name}.{self.runs.name} at {self.hosts}. Check the id (or drop "
                    "overwrite)."
                )
            self.overwrite = found

    @classmethod
    def _collection_names(cls, collection: str, prefix: str) -> tuple[str, str]:
        if collection != "runs":
            warnings.warn(
                'Argument "collection" is deprecated. Please use "collection_prefix" instead.',
                DeprecationWarning,
                stacklevel=3,
            )
            if prefix:
                raise ValueError("Cannot pass both collection and a collection prefix.")
            names = (collection, "metrics")
        else:
            prefix = f"{prefix}_" if prefix else ""
            names = (f"{prefix}runs", f"{prefix}metrics")
        for name in names:
            if name in cls.COLLECTION_NAME_BLACKLIST:
                raise KeyError(f'Collection name "{name}" is reserved. Please use a different one.')
        return names

    @property
    def spool_dir(self) -> str | os.PathLike[str] | None:
        """Where unstored writes are kept: *spool_dir*, else *failure_dir* (else the default)."""
        return self._spool_dir if self._spool_dir is not None else self.failure_dir

    def _guard(self, action: Any) -> Any:
        """Run a database call needed to start; turn "unreachable" into one clear line."""
        try:
            return action()
        except pymongo.errors.PyMongoError as exc:
            if is_transient(exc):
                raise ObserverError(
                    f"Cannot reach MongoDB at {self.hosts} ({type(exc).__name__}). Start the "
                    "server or fix the -m/url value; to run anyway and store the run later, "
                    "wrap the observer: QueueObserver(MongoObserver(...))."
                ) from None
            if isinstance(exc, pymongo.errors.OperationFailure) and exc.code in (13, 18):
                raise ObserverError(
                    f"MongoDB at {self.hosts} refused access (code {exc.code}): check the user, "
                    "password and authSource in the URL, and the user's roles on "
                    f"{self.db_name!r}."
                ) from None
            raise

    def _use_queue(self, interval: float, retry_interval: float, join_timeout: float) -> None:
        """Switch to queued mode (called by :class:`QueueObserver`)."""
        self._queue_options = {
            "interval": interval,
            "retry_interval": retry_interval,
            "join_timeout": join_timeout,
        }

    @property
    def spool_path(self) -> str | None:
        """The spool file holding writes not yet stored, if any."""
        return self._writer.spool_path if self._writer is not None else None

    # -- starting ----------------------------------------------------------------------------
    def queued_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        queue_time: Any,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: Any,
    ) -> Any:
        """Store a QUEUED run (``-q``) and return its id.

        Beyond Sacred, the document records ``queue_time`` (``sacredlite worker`` claims
        the oldest runs first).
        """
        if self.overwrite is not None:
            raise ObserverError("Cannot overwrite a run with a QUEUED run: drop overwrite.")
        doc = {
            "experiment": dict(ex_info),
            "command": command,
            "host": dict(host_info),
            "config": config,
            "meta": meta_info,
            "status": "QUEUED",
            "queue_time": queue_time,
        }
        return self._begin(doc, _id)

    def started_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        start_time: Any,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: Any,
    ) -> Any:
        """Store the new run document (Sacred's fields, nothing else) and return its id."""
        doc = {
            "experiment": dict(ex_info),
            "format": self.VERSION,
            "command": command,
            "host": dict(host_info),
            "start_time": start_time,
            "config": config,
            "meta": meta_info,
            "status": "RUNNING",
            "resources": [],
            "artifacts": [],
            "captured_out": "",
            "info": {},
            "heartbeat": None,
        }
        return self._begin(doc, _id)

    def _begin(self, doc: dict[str, Any], _id: Any) -> Any:
        if self._writer is not None and self.overwrite is not None:
            raise ObserverError("Cannot overwrite more than once: create a new MongoObserver.")
        self._metrics = MetricSeries(self.metric_part_points)
        self._output = OutputTail(self.output_limit)
        self._resources: list[list[str]] = []
        self._artifacts: list[dict[str, Any]] = []
        run_id = self.overwrite["_id"] if self.overwrite is not None else _id
        file_ops = experiment_files(doc)
        doc["config"] = _store(doc["config"])
        doc = _safe(doc)
        start = {"op": "start", "doc": doc, "exists_ok": self.overwrite is not None}
        executor = Executor(self._target, run_id)
        spool_dir = os.path.abspath(self.spool_dir or DEFAULT_SPOOL_DIR)

        def make_spool() -> Spool:
            return Spool.create(
                spool_dir, self.db_name, self.runs.name, self._target.metrics_name, executor.run_id
            )

        queue = self._queue_options or {}
        self._writer = Writer(
            executor,
            make_spool,
            self.hosts,
            sync_target=self.sync_target,
            retry_interval=queue.get("retry_interval", self.retry_interval),
            queued=self._queue_options is not None,
            interval=queue.get("interval", 20.0),
            join_timeout=queue.get("join_timeout", 30.0),
        )
        try:
            for op in [*file_ops, start]:
                self._guard(lambda op=op: executor.apply(op))
        except pymongo.errors.DuplicateKeyError:
            self._abandon()
            raise ObserverError(
                f"A run with _id {run_id!r} already exists in {self.db_name}.{self.runs.name}; "
                f"pass overwrite={run_id!r} to store this run into it."
            ) from None
        except ObserverError:
            if self._queue_options is None:
                self._abandon()
                raise
            # queued: the database may come back; keep everything on disk until then
            if run_id is None:
                doc["sacredlite"] = {"spool_key": os.urandom(16).hex()}
            for op in [*file_ops, {**start, "exists_ok": True}]:
                self._writer.submit(op)
        if self.overwrite is not None and self.metrics is not None:
            self._metrics.load(self.metrics, executor.run_id)
        self.run_entry = {"_id": executor.run_id, **doc}
        return executor.run_id

    def _abandon(self) -> None:
        """Drop the writer of a run that could not start."""
        if self._writer is not None:
            self._writer.finish()
            self._writer = None

    # -- during the run ----------------------------------------------------------------------
    def _submit(self, ops: list[dict[str, Any]], fields: dict[str, Any] | None = None) -> None:
        """Store *ops*, then ``$set`` *fields*; raise (marked kept) if some had to be kept.

        Every operation is handed to the writer before anything is raised: what could not
        be stored is in the spool, in order, and is stored later.
        """
        if self._writer is None:
            raise ObserverError("MongoObserver got an event before started_event/queued_event.")
        if fields:
            if self.run_entry is not None:
                _apply_set(self.run_entry, fields)
            ops = [*ops, {"op": "set", "fields": fields}]
        failure = None
        for op in ops:
            failure = self._writer.submit(op) or failure
        if failure is not None:
            raise mark_event_kept(failure)

    def heartbeat_event(
        self, info: dict[str, Any], captured_out: str, beat_time: Any, result: Any
    ) -> None:
        """Store info, the captured output (the whole text), the beat time and the result."""
        stored_info = _store(info)  # may raise: before any state changes, so a retry is exact
        stored_result = _store(result)
        refs = self._metrics.refs
        if refs and isinstance(stored_info, dict):
            have = stored_info.get("metrics")
            if isinstance(have, list):
                stored_info["metrics"] = have + [r for r in refs if r not in have]
            else:
                stored_info["metrics"] = list(refs)
        ops, fields = self._output.update(captured_out or "", self._target.output.name)
        fields.update(info=stored_info, heartbeat=beat_time, result=stored_result)
        self._submit(ops, fields)

    def log_metrics(self, metrics_by_name: dict[str, Any], info: dict[str, Any]) -> None:
        """Append new points: one ``$push/$each`` per metric name (per overflow part).

        Like Sacred's, a new metric's reference ``{"name", "id"}`` is added to
        ``info["metrics"]``; nothing is stored without a metrics collection.
        """
        if self.metrics is None:
            return
        known = len(self._metrics.refs)
        ops = self._metrics.ops(metrics_by_name, info)
        new_refs = len(self._metrics.refs) > known
        self._submit(ops, {"info.metrics": list(self._metrics.refs)} if new_refs else None)

    def resource_event(self, filename: str) -> None:
        """Store a resource file in GridFS (once per content) and list it in ``resources``."""
        md5 = _md5_file(filename)
        if [filename, md5] in self._resources:
            return
        self._resources.append([filename, md5])
        op = _op("file", file_id=ObjectId(), filename=filename, md5=md5, dedupe=True, src=filename)
        self._submit([op], {"resources": [list(r) for r in self._resources]})

    def artifact_event(
        self,
        name: str,
        filename: str,
        metadata: dict[str, Any] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Store an artifact in GridFS as ``artifact://<runs>/<id>/<name>``.

        Without *content_type*, it is guessed from the file name and the guess is printed,
        as Sacred prints it.
        """
        if content_type is None:
            content_type = mimetypes.guess_type(filename)[0]
            if content_type is not None:
                print(f"Added {content_type} as content-type of artifact {filename}.")
            else:
                print(f"Failed to detect content-type automatically for artifact {filename}.")
        file_id = ObjectId()
        self._artifacts.append({"name": name, "file_id": file_id})
        op = _op(
            "file",
            file_id=file_id,
            artifact=name,
            src=filename,
            metadata=metadata,
            content_type=content_type,
        )
        self._submit([op], {"artifacts": list(self._artifacts)})

    # -- the end -----------------------------------------------------------------------------
    def _final(self, fields: dict[str, Any]) -> None:
        """Store the run's last fields. Like Sacred's final save this does not raise: what
        cannot be stored now is in the spool, and with ``failure_dir`` the run document is
        also left there as ``sacred_mongo_fail_<id>_*.pickle``, as Sacred leaves it."""
        try:
            self._submit([], fields)
        except Exception as exc:
            if not event_was_kept(exc):
                raise
        if self._writer is None or self._queue_options is not None:
            return  # queued: the QueueObserver waits for the background writer
        if not self._writer.drain(force=True) and self.failure_dir is not None:
            save_failed_run(self.run_entry or {}, self.failure_dir)

    def completed_event(self, stop_time: Any, result: Any) -> None:
        """Mark the run COMPLETED with its result."""
        self._final({"stop_time": stop_time, "result": _store(result), "status": "COMPLETED"})

    def interrupted_event(self, interrupt_time: Any, status: str) -> None:
        """Mark the run with its interrupt status (INTERRUPTED, TIMEOUT, ...)."""
        self._final({"stop_time": interrupt_time, "status": status})

    def failed_event(self, fail_time: Any, fail_trace: list[str]) -> None:
        """Mark the run FAILED with its traceback."""
        self._final({"stop_time": fail_time, "status": "FAILED", "fail_trace": fail_trace})

    def join(self) -> None:
        """Store what is pending; whatever cannot be stored stays in the spool (logged)."""
        if self._writer is not None:
            self._writer.finish()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MongoObserver):
            return bool(self.runs == other.runs)
        return False

    def __hash__(self) -> int:
        return hash((self.db_name, self.runs.name))


def _apply_set(entry: dict[str, Any], fields: dict[str, Any]) -> None:
    """Apply a ``$set`` of *fields* (keys may be dotted paths) to the local copy *entry*."""
    for path, value in fields.items():
        *parents, key = path.split(".")
        target = entry
        for part in parents:
            child = target.get(part)
            if not isinstance(child, dict):
                child = target[part] = {}
            target = child
        target[key] = value


def __getattr__(name: str) -> Any:
    """Give ``QueuedMongoObserver`` at Sacred's path; it lives in ``mongo_queued``, which
    imports this module."""
    if name == "QueuedMongoObserver":
        from .mongo_queued import QueuedMongoObserver

        return QueuedMongoObserver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
