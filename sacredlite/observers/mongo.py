"""MongoObserver: runs stored in MongoDB exactly as Sacred 0.8 stores them.

The schema is Sacred's ``MongoObserver-0.7.0``, so Omniboard and Incense read it unchanged;
every collection and field, and what sacredlite adds, is documented in
:mod:`sacredlite.formats.mongo`, the only code that knows it: this observer turns events
into that module's typed write operations and hands them to a writer. Times are stored as
given: naive datetimes are UTC, as Sacred's.

The observer works on any collections that speak pymongo's ``Collection`` API
(:meth:`MongoObserver.create_from`), and raises what Sacred raises: a write that fails
raises from the event that made it, and a failed final save leaves
``sacred_mongo_fail_<id>_*.pickle`` in ``failure_dir``.

Beyond Sacred (what is stored beyond Sacred's schema is listed in the format's module):

* Nothing is lost when the database goes away. A write that fails is kept, in order,
  with every later one, in a spool on disk (``spool_dir``, else ``failure_dir``, else
  ``./.sacredlite-spool``) and stored when the database is back, at the end of the run,
  or by ``sacredlite sync``. The error raised is marked as kept
  (:func:`~sacredlite.observers.base.mark_event_kept`), so the run's dispatcher warns
  once and does not send the event again. The end of a run waits for an unreachable
  database at most ``join_timeout`` seconds without a write getting through, then logs
  the ``sacredlite sync`` command that stores the rest.
* Every value is made storable before it is sent: what BSON refuses is stored as its
  string form, with one warning naming it, so a run never stays RUNNING over one value.
  The final status is written apart from the result.
* New metric points arrive compactly (:meth:`MongoObserver.metrics_event`) and become
  Python lists one ``$push/$each`` batch at a time.
* If the database is unreachable when a run starts, :class:`ObserverError` says so in one
  line, naming the host but never the password.
"""

from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

try:
    import gridfs
    import pymongo
except ImportError as exc:  # pragma: no cover - pymongo is a dependency, but may be removed
    raise ImportError("MongoObserver needs pymongo: pip install 'pymongo>=4'") from exc

from ..errors import ObserverError
from ..events import MetricPoints, RunStatus, StoredRun
from ..formats.mongo import (
    METRIC_PART_POINTS,
    OUTPUT_LIMIT,
    RESERVED_COLLECTIONS,
    VERSION,
    Collections,
    Target,
    artifact_filename,
    describe_client,
    describe_hosts,
    ended_fields,
    metric_tails,
    new_warner,
    redact_url,
    run_document,
    stored,
    url_options,
)
from ..formats.mongo import force_bson_encodeable as force_bson_encodeable
from ..formats.mongo import force_valid_bson_key as force_valid_bson_key
from ..formats.mongo import parse_mongo_db_arg as parse_mongo_db_arg
from ..formats.mongo import read_captured_out as read_captured_out
from ..formats.mongo import read_metric as read_metric
from .base import RunObserver
from .mongo_errors import close_quietly, guard, save_failed_run
from .mongo_run import MongoRun, RunSettings

if TYPE_CHECKING:  # at run time, __getattr__ (at the end) imports it on first use
    from .mongo_queued import QueuedMongoObserver as QueuedMongoObserver

__all__ = [
    "DEFAULT_MONGO_PRIORITY",
    "METRIC_PART_POINTS",
    "OUTPUT_LIMIT",
    "MongoObserver",
    "QueuedMongoObserver",
    "force_bson_encodeable",
    "force_valid_bson_key",
    "parse_mongo_db_arg",
    "read_captured_out",
    "read_metric",
]

DEFAULT_MONGO_PRIORITY = 30


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
        join_timeout: seconds the end of a run waits while no write reaches the database,
            before leaving the rest in the spool (default
            ``SETTINGS.DEFAULT_JOIN_TIMEOUT``, read when the run starts).
        **client_kwargs: passed to ``pymongo.MongoClient``; ``serverSelectionTimeoutMS``
            defaults to 5000 so an unreachable server is reported within seconds. A write
            concern is one of them (``w="majority"``, ``wtimeoutMS=...``), or an option of
            *url* (``mongodb://h1,h2,h3/db?replicaSet=rs0&w=majority``). Retryable writes
            stay on (pymongo's default): every write is safe to retry; turning them off
            (``retryWrites=false``) warns.

    Raises:
        ValueError: *client* is not a ``pymongo.MongoClient``, or both *client* and *url*,
            or both *collection* and *collection_prefix* are given (Sacred's messages).
        KeyError: a collection name is reserved (``fs.files``, ...).
    """

    COLLECTION_NAME_BLACKLIST = RESERVED_COLLECTIONS
    VERSION = VERSION

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
        join_timeout: float | None = None,
        **client_kwargs: Any,
    ) -> None:
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
            _warn_if_retries_off(url, client_kwargs)
            # looked up at call time, so a test may substitute the client class
            client = pymongo.MongoClient(url, **client_kwargs)
            # our own client: closed when the observer goes (pymongo warns about unclosed ones)
            weakref.finalize(self, close_quietly, client)
        names = Collections.from_options(collection, collection_prefix)
        database = client[db_name]
        self._initialize(
            database[names.runs],
            gridfs.GridFS(database),
            overwrite=overwrite,
            metrics_collection=database[names.metrics],
            failure_dir=failure_dir,
            priority=priority,
            hosts=hosts,
            spool_dir=spool_dir,
            output_limit=output_limit,
            metric_part_points=metric_part_points,
            retry_interval=retry_interval,
            join_timeout=join_timeout,
            sync_target=redact_url(url) if url else hosts,
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
                ``retry_interval``, ``join_timeout`` as for the constructor.
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
        output_limit: int = OUTPUT_LIMIT,
        metric_part_points: int = METRIC_PART_POINTS,
        retry_interval: float = 10.0,
        join_timeout: float | None = None,
        sync_target: str | None = None,
    ) -> None:
        self._target = Target(runs_collection, metrics_collection, fs)
        self.runs = runs_collection
        self.metrics = metrics_collection
        self.fs = fs
        self.db_name = str(runs_collection.database.name)
        self.hosts = hosts
        self.priority = priority
        self.failure_dir = failure_dir
        self._spool_dir = spool_dir
        self.output_limit = output_limit
        self.metric_part_points = metric_part_points
        self.retry_interval = retry_interval
        self.join_timeout = join_timeout
        self._sync_target = sync_target or hosts
        self._queue_options: dict[str, Any] | None = None
        self._run: MongoRun | None = None
        self._seen_for_resume: dict[str, Any] | None = None
        self.overwrite: dict[str, Any] | None = None
        if overwrite is not None:
            found = guard(lambda: self.runs.find_one({"_id": int(overwrite)}), hosts, self.db_name)
            if found is None:
                raise ObserverError(
                    f"Cannot overwrite run {overwrite!r}: no run with that _id in "
                    f"{self.db_name}.{self.runs.name} at {self.hosts}. Check the id (or drop "
                    "overwrite)."
                )
            self.overwrite = found

    @property
    def spool_dir(self) -> str | os.PathLike[str] | None:
        """Where unstored writes are kept: *spool_dir*, else *failure_dir* (else the default)."""
        return self._spool_dir if self._spool_dir is not None else self.failure_dir

    def _use_queue(
        self, interval: float, retry_interval: float, join_timeout: float | None
    ) -> None:
        """Switch to queued mode (called by :class:`QueueObserver`)."""
        self._queue_options = {
            "interval": interval,
            "retry_interval": retry_interval,
            "join_timeout": join_timeout,
        }

    @property
    def spool_path(self) -> str | None:
        """The spool file holding writes not yet stored, if any."""
        return self._run.writer.spool_path if self._run is not None else None

    @property
    def run_entry(self) -> dict[str, Any] | None:
        """A local copy of the current run's document."""
        return self._run.entry if self._run is not None else None

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
        doc = run_document(ex_info, command, host_info, queue_time, config, meta_info, queued=True)
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
        doc = run_document(ex_info, command, host_info, start_time, config, meta_info)
        return self._begin(doc, _id)

    # -- resuming ----------------------------------------------------------------------------
    def stored_run(self, run_id: Any) -> StoredRun | None:
        """Return what is stored of run *run_id* (to resume it), or ``None``."""
        run_id = _run_id(run_id)
        projection = {
            "status": 1, "heartbeat": 1, "start_time": 1, "config": 1, "meta": 1, "worker": 1
        }  # fmt: skip
        doc = guard(lambda: self.runs.find_one({"_id": run_id}, projection), *self._where())
        if doc is None:
            return None
        # the resume applies only while the run is still as seen here (claim_resume)
        self._seen_for_resume = {k: doc.get(k) for k in ("_id", "status", "heartbeat")}
        tails = {}
        if self.metrics is not None:
            tails = guard(
                lambda: metric_tails(self.runs.database, run_id, self.metrics.name), *self._where()
            )
        alive = doc.get("heartbeat") or doc.get("start_time")
        return StoredRun(
            run_id=run_id,
            status=str(doc.get("status")),
            alive_at=alive.replace(tzinfo=None) if alive is not None else None,
            config=dict(doc.get("config") or {}),
            last_steps={k: int(last) for k, (_, _, last) in tails.items() if last is not None},
            resumes=list((doc.get("meta") or {}).get("resumes") or []),
            point=(doc.get("meta") or {}).get("resume_point"),
            claimed=_claimed_here(doc.get("worker")),
        )

    def stored_config_form(self, config: dict[str, Any]) -> dict[str, Any]:
        """Return *config* as the run document would hold it once read back."""
        import bson

        doc = bson.decode(bson.encode({"config": stored(config, "config", new_warner())}))
        return dict(doc["config"])

    def resumed_event(self, _id: Any, start_time: Any, resume: dict[str, Any]) -> Any:
        """Continue the stored run *_id* in its document: RUNNING again, ``meta.resumes``
        extended by *resume*, metrics and output continued."""
        run = MongoRun(self._target, self._settings(), _run_id(_id))
        seen, self._seen_for_resume = self._seen_for_resume, None
        if seen is not None and seen["_id"] != run.run_id:
            seen = None
        run.resume(start_time, resume, seen)
        self._run = run
        return run.run_id

    def resume_point_event(self, point: dict[str, Any]) -> None:
        """Record where the interrupted run can be resumed (``meta.resume_point``)."""
        self._current().submit([], {"meta.resume_point": point})

    def open_artifact(self, run_id: Any, name: str) -> Any:
        """Open the artifact *name* of run *run_id* from GridFS (the newest upload of that
        name; a file object with ``read``), or ``None`` if it has none."""
        filename = artifact_filename(self.runs.name, _run_id(run_id), name)
        return guard(
            lambda: self.fs.find_one({"filename": filename}, sort=[("uploadDate", -1)]),
            *self._where(),
        )

    def _where(self) -> tuple[str, str]:
        return self.hosts, self.db_name

    def _settings(self) -> RunSettings:
        return RunSettings.resolve(
            hosts=self.hosts,
            sync_target=self._sync_target,
            spool_dir=self.spool_dir,
            queue=self._queue_options,
            retry_interval=self.retry_interval,
            join_timeout=self.join_timeout,
            output_limit=self.output_limit,
            metric_part_points=self.metric_part_points,
        )

    def _begin(self, doc: dict[str, Any], _id: Any) -> Any:
        if self._run is not None and self.overwrite is not None:
            raise ObserverError("Cannot overwrite more than once: create a new MongoObserver.")
        settings = self._settings()
        run_id = self.overwrite["_id"] if self.overwrite is not None else _id
        run = MongoRun(self._target, settings, run_id)
        run.begin(doc, overwrite=self.overwrite is not None)
        self._run = run
        return run.run_id

    def _current(self) -> MongoRun:
        if self._run is None:
            raise ObserverError("MongoObserver got an event before started_event/queued_event.")
        return self._run

    # -- during the run ----------------------------------------------------------------------
    def heartbeat_event(
        self, info: dict[str, Any], captured_out: str, beat_time: Any, result: Any
    ) -> None:
        """Store info, the captured output (the whole text), the beat time and the result."""
        self._current().heartbeat(info, captured_out, beat_time, result)

    def log_metrics(self, metrics_by_name: dict[str, Any], info: dict[str, Any]) -> None:
        """Append new points, Sacred's ``{name: {steps, values, timestamps}}``: one
        ``$push/$each`` per metric name (per overflow part).

        Like Sacred's, a new metric's reference ``{"name", "id"}`` is added to
        ``info["metrics"]``; nothing is stored without a metrics collection.
        """
        if self.metrics is not None:
            self._current().sacred_metrics(metrics_by_name, info)

    def metrics_event(self, points: Mapping[str, MetricPoints], info: dict[str, Any]) -> None:
        """Append new points as the run buffers them (what the dispatcher hands over).

        The same writes as :meth:`log_metrics`, but each batch becomes Python lists only
        when it is stored: a long series never sits in memory as lists of objects. Times
        are stored at BSON's precision (milliseconds), one datetime per millisecond.
        """
        if self.metrics is not None:
            self._current().compact_metrics(points, info)

    def resource_event(self, filename: str) -> None:
        """Store a resource file in GridFS (once per content) and list it in ``resources``."""
        self._current().resource(filename)

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
        self._current().artifact(name, filename, metadata, content_type)

    # -- the end -----------------------------------------------------------------------------
    def _final(self, fields: dict[str, Any], **before: Any) -> None:
        """Store the run's last fields. Like Sacred's final save this does not raise: what
        cannot be stored now is in the spool, and with ``failure_dir`` the run document is
        also left there as ``sacred_mongo_fail_<id>_*.pickle``, as Sacred leaves it.

        *before* (the result) is stored by a write of its own, before the status: a value
        the database refuses (a document past 16 MB) cannot keep the run RUNNING.
        """
        run = self._current()
        if not run.end(fields, before) and self.failure_dir is not None:
            save_failed_run(run.entry, self.failure_dir)

    def completed_event(self, stop_time: Any, result: Any) -> None:
        """Mark the run COMPLETED with its result."""
        self._final(
            ended_fields(stop_time, RunStatus.COMPLETED),
            result=stored(result, "result", self._current().warn),
        )

    def interrupted_event(self, interrupt_time: Any, status: str) -> None:
        """Mark the run with its interrupt status (INTERRUPTED, TIMEOUT, ...)."""
        self._final(ended_fields(interrupt_time, status))

    def failed_event(self, fail_time: Any, fail_trace: list[str]) -> None:
        """Mark the run FAILED with its traceback."""
        self._final(ended_fields(fail_time, RunStatus.FAILED, fail_trace))

    def join(self) -> None:
        """Store what is pending; whatever cannot be stored stays in the spool (logged)."""
        if self._run is not None:
            self._run.writer.finish()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MongoObserver):
            return bool(self.runs == other.runs)
        return False

    def __hash__(self) -> int:
        return hash((self.db_name, self.runs.name))


def _warn_if_retries_off(url: str | None, client_kwargs: dict[str, Any]) -> None:
    """Warn when retryable writes are turned off (a failover then fails writes)."""
    option = url_options(url).get("retrywrites", "")
    if option.lower() == "false" or client_kwargs.get("retryWrites") is False:
        warnings.warn(
            f"MongoObserver for {describe_hosts(url)}: retryWrites=false means a write caught "
            "by a replica-set failover fails instead of being retried; sacredlite's writes "
            "are safe to retry, so leave retryWrites on.",
            stacklevel=3,
        )


def _claimed_here(worker: Any) -> bool:
    """Whether a run's ``worker`` claim was made by this process."""
    import socket

    return (
        isinstance(worker, dict)
        and worker.get("host") == socket.gethostname()
        and worker.get("pid") == os.getpid()
    )


def _run_id(run_id: Any) -> Any:
    """A run id as the runs collection holds it: ``"7"`` (from the command line) is 7."""
    if isinstance(run_id, str) and run_id.isdigit():
        return int(run_id)
    return run_id


def __getattr__(name: str) -> Any:
    """Give ``QueuedMongoObserver`` at Sacred's path; it lives in ``mongo_queued``, which
    imports this module."""
    if name == "QueuedMongoObserver":
        from .mongo_queued import QueuedMongoObserver

        return QueuedMongoObserver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
