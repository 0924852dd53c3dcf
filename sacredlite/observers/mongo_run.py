"""One run recorded in MongoDB (internal): the MongoObserver's state from the start of a run
to its join.

:class:`MongoRun` turns the run's events into the typed write operations of
:mod:`sacredlite.formats.mongo`, makes every value storable, and hands the operations to
its :class:`~.mongo_writer.Writer`, which stores them or keeps them in the run's spool.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pymongo
import pymongo.errors
from bson import ObjectId

from ..errors import ObserverError
from ..events import MetricPoints, RunStatus
from ..formats._io import md5_file
from ..formats.mongo import (
    Executor,
    MetricSeries,
    Op,
    OutputTail,
    SetFields,
    StartRun,
    StoreFile,
    Target,
    apply_set,
    claim_resume,
    experiment_files,
    known_reachable,
    metric_tails,
    ms_datetimes,
    new_warner,
    read_captured_out,
    safe_keys,
    storable,
    stored,
)
from ._retry import join_timeout as resolve_join_timeout
from .base import event_was_kept, mark_event_kept
from .mongo_errors import guard
from .mongo_writer import Writer
from .spool import DEFAULT_SPOOL_DIR, Spool

__all__ = ["MongoRun", "RunSettings"]

QUEUED_START_WAIT = 1.0
"""Seconds a queued observer's start waits for a database it knows nothing about yet."""


@dataclass(frozen=True, slots=True)
class RunSettings:
    """How one run's writes reach the database (the observer's options as the run starts).

    Attributes:
        hosts: ``host:port`` list for messages (never a password).
        sync_target: the ``-m`` value printed in the ``sacredlite sync`` hint.
        spool_dir: where the run's spool goes (an absolute path).
        queued: write ahead to the spool and store from a background thread.
        interval: seconds between background flushes (queued).
        retry_interval: seconds between attempts while the database is away.
        join_timeout: seconds the end waits while no write gets through.
        output_limit: characters of captured output kept in the run document.
        metric_part_points: points per metric document before overflow parts begin.
    """

    hosts: str
    sync_target: str
    spool_dir: str
    queued: bool
    interval: float
    retry_interval: float
    join_timeout: float
    output_limit: int
    metric_part_points: int

    @classmethod
    def resolve(
        cls,
        *,
        hosts: str,
        sync_target: str,
        spool_dir: str | os.PathLike[str] | None,
        queue: dict[str, Any] | None,
        retry_interval: float,
        join_timeout: float | None,
        output_limit: int,
        metric_part_points: int,
    ) -> RunSettings:
        """Return the settings of a run starting now.

        Args:
            queue: the queued mode's ``interval``, ``retry_interval`` and
                ``join_timeout`` (they win), or ``None`` for the direct mode.
            spool_dir: the spool directory (default ``./.sacredlite-spool``).
            join_timeout: the observer's; without one (nor the queue's),
                ``SETTINGS.DEFAULT_JOIN_TIMEOUT`` as it is now.
            hosts, sync_target, retry_interval, output_limit, metric_part_points: as the
                attributes.
        """
        options = queue or {}
        return cls(
            hosts=hosts,
            sync_target=sync_target,
            spool_dir=os.path.abspath(spool_dir or DEFAULT_SPOOL_DIR),
            queued=queue is not None,
            interval=options.get("interval", 20.0),
            retry_interval=options.get("retry_interval", retry_interval),
            join_timeout=resolve_join_timeout(options.get("join_timeout"), join_timeout),
            output_limit=output_limit,
            metric_part_points=metric_part_points,
        )


class MongoRun:
    """The writes of one run.

    Args:
        target: the collections to write to.
        settings: how the writes are delivered.
        run_id: the run's id, or ``None`` to have the database allocate one.
    """

    def __init__(self, target: Target, settings: RunSettings, run_id: Any) -> None:
        self.target = target
        self.settings = settings
        self.executor = Executor(target, run_id)
        db_name = str(target.db.name)
        names = target.names

        def make_spool() -> Spool:
            return Spool.create(
                settings.spool_dir, db_name, names.runs, names.metrics, self.executor.run_id
            )

        self.writer = Writer(
            self.executor,
            make_spool,
            settings.hosts,
            retry_interval=settings.retry_interval,
            queued=settings.queued,
            interval=settings.interval,
            join_timeout=settings.join_timeout,
            sync_target=settings.sync_target,
        )
        self.metrics = MetricSeries(settings.metric_part_points)
        self.output = OutputTail(settings.output_limit)
        self.resources: list[list[str]] = []
        self.artifacts: list[dict[str, Any]] = []
        self.warn = new_warner()  # one warning per unstorable place, per run
        self.entry: dict[str, Any] = {}
        """A local copy of the run document (what a failed final save pickles)."""
        self.output_prefix = ""
        """A resumed run's earlier output: this run's output is stored after it."""

    @property
    def run_id(self) -> Any:
        """The run's id (``None`` while a queued run waits for the database to give one)."""
        return self.executor.run_id

    # -- the start -----------------------------------------------------------------------
    def begin(self, doc: dict[str, Any], overwrite: bool) -> None:
        """Store the run document *doc* (and its sources) and learn the run's id.

        Args:
            doc: the new run document (sources as ``[name, md5]``, config as given).
            overwrite: store into the existing document of the run's id.

        Raises:
            ObserverError: the database cannot be reached (unless queued: then everything
                waits in the spool), or the id is taken and *overwrite* is false.
        """
        file_ops = [storable(op, self.warn) for op in experiment_files(doc)]
        doc["config"] = stored(doc["config"], "config", self.warn)
        start = storable(StartRun(safe_keys(doc), exists_ok=overwrite), self.warn)
        assert isinstance(start, StartRun)
        try:
            self._store_start([*file_ops, start])
        except pymongo.errors.DuplicateKeyError:
            self.writer.finish()
            target = f"{self.target.db.name}.{self.target.runs.name}"
            raise ObserverError(
                f"A run with _id {self.run_id!r} already exists in {target}; "
                f"pass overwrite={self.run_id!r} to store this run into it."
            ) from None
        except ObserverError:
            if not self.settings.queued:
                self.writer.finish()
                raise
            # queued: the database may come back; keep everything on disk until then
            if self.run_id is None:  # a replay finds the id the database gave this run
                key = {"spool_key": os.urandom(16).hex()}
                start = replace(start, doc={**start.doc, "sacredlite": key})
            for op in [*file_ops, replace(start, exists_ok=True)]:
                self.writer.submit(op)
        if overwrite and self.target.metrics is not None:
            tails = metric_tails(self.target.db, self.run_id, str(self.target.metrics.name))
            self.metrics.continue_from(tails, referenced=False)
        self.entry = {"_id": self.run_id, **start.doc}

    def resume(
        self, start_time: Any, resume: dict[str, Any], seen: dict[str, Any] | None = None
    ) -> None:
        """Continue the stored run: RUNNING again, ``meta.resumes`` extended by *resume*,
        metrics and output continued where they stopped (nothing stored is rewritten).

        Args:
            start_time: the resumed run's start (its first heartbeat).
            resume: its ``meta.resumes`` entry.
            seen: ``_id``, ``status`` and ``heartbeat`` as the resuming process checked
                them; the resume applies only while they are unchanged (default: as read
                now).

        Raises:
            ObserverError: the database cannot be reached or holds no such run.
        """
        target, hosts, db_name = self.target, self.settings.hosts, str(self.target.db.name)
        doc = guard(lambda: target.runs.find_one({"_id": self.run_id}), hosts, db_name)
        if doc is None:
            raise ObserverError(f"No run {self.run_id!r} in {db_name}.{target.runs.name}.")
        if target.metrics is not None:
            tails = guard(
                lambda: metric_tails(target.db, self.run_id, str(target.metrics.name)),
                hosts,
                db_name,
            )
            self.metrics.continue_from(tails)
        special = doc.get("sacredlite") or {}
        whole = guard(lambda: read_captured_out(target.db, doc), hosts, db_name)
        chunks = 0
        if special.get("captured_out_start"):
            output = target.db[special.get("output_collection") or target.names.output]
            chunks = guard(lambda: output.count_documents({"run_id": self.run_id}), hosts, db_name)
        self.output_prefix = whole
        self.output.continue_from(
            whole, str(doc.get("captured_out") or ""), int(special.get("captured_out_start") or 0),
            chunks,
        )  # fmt: skip
        self.resources = [list(r) for r in doc.get("resources") or []]
        self.artifacts = list(doc.get("artifacts") or [])
        meta = doc.get("meta") or {}
        fields = {
            "status": RunStatus.RUNNING.value,
            "heartbeat": start_time,
            "meta.resumes": [*(meta.get("resumes") or []), resume],
        }
        unset = ("stop_time", "fail_trace", "result", "meta.resume_point")
        op = storable(SetFields(fields, unset), self.warn)
        assert isinstance(op, SetFields)  # noqa: S101
        expected = seen or doc
        if not guard(
            lambda: claim_resume(target.runs, expected, op.fields, op.unset), hosts, db_name
        ):
            raise ObserverError(
                f"Run {self.run_id!r} changed while this process resumed it (another process "
                "resumed it first?): nothing was written; check its status."
            )
        self.entry = doc
        apply_set(self.entry, op.fields, op.unset)

    def _store_start(self, ops: list[Op]) -> None:
        """Store the start of a run now; raise :class:`ObserverError` if unreachable.

        Queued, the run must not wait for a database that is down (the run's clock has
        started, issue 9): when the client knows its servers refuse connections, nothing is
        tried; when it knows nothing yet, the attempt gets :data:`QUEUED_START_WAIT` seconds.
        """
        hosts, db_name = self.settings.hosts, str(self.target.db.name)
        if not self.settings.queued:
            for op in ops:
                guard(lambda op=op: self.executor.apply(op), hosts, db_name)  # type: ignore[misc]
            return
        known = known_reachable(getattr(self.target.db, "client", None), QUEUED_START_WAIT)
        if known is False:
            raise ObserverError(f"MongoDB at {hosts} refuses connections.")
        try:
            with contextlib.nullcontext() if known else pymongo.timeout(QUEUED_START_WAIT):
                for op in ops:
                    guard(lambda op=op: self.executor.apply(op), hosts, db_name)  # type: ignore[misc]
        except pymongo.errors.PyMongoError as exc:
            if not exc.timeout:
                raise
            raise ObserverError(f"MongoDB at {hosts} did not answer in time.") from None

    # -- during the run ------------------------------------------------------------------
    def submit(self, ops: Iterable[Op], fields: dict[str, Any] | None = None) -> None:
        """Store *ops* one by one, then ``$set`` *fields*; raise (marked kept) if some had
        to be kept.

        Every operation is handed to the writer before anything is raised: what could not
        be stored is in the spool, in order, and is stored later. *ops* may be a generator:
        each operation is made storable and stored before the next is made.
        """
        failure = None
        for op in [*ops, SetFields(fields)] if fields else ops:
            op = storable(op, self.warn)
            if isinstance(op, SetFields):
                apply_set(self.entry, op.fields, op.unset)
            failure = self.writer.submit(op) or failure
        if failure is not None:
            raise mark_event_kept(failure)

    def heartbeat(self, info: Any, captured_out: str, beat_time: Any, result: Any) -> None:
        """Store info, the captured output (the whole text), the beat time and the result."""
        stored_info = self.metrics.referenced_in(stored(info, "info", self.warn))
        text = self.output_prefix + (captured_out or "")
        ops, fields = self.output.update(text, self.target.names.output)
        result = stored(result, "result", self.warn)
        fields.update(info=stored_info, heartbeat=beat_time, result=result)
        self.submit(ops, fields)

    def sacred_metrics(self, metrics_by_name: Mapping[str, Any], info: Any) -> None:
        """Store Sacred's ``{name: {steps, values, timestamps}}`` (``log_metrics``)."""
        self.submit(self._with_refs(self.metrics.sacred_ops(metrics_by_name, info)))

    def compact_metrics(self, points: Mapping[str, MetricPoints], info: Any) -> None:
        """Store the run buffer's points; each batch becomes lists only as it is stored."""

        def ops() -> Iterator[Op]:
            for name, p in points.items():
                yield from self.metrics.ops(name, p.steps, p.values, p.stamps, info, ms_datetimes)

        self.submit(self._with_refs(ops()))

    def _with_refs(self, ops: Iterator[Op]) -> Iterator[Op]:
        """Yield *ops*, then the update of ``info.metrics`` if they made new metrics."""
        known = len(self.metrics.refs)
        yield from ops
        if len(self.metrics.refs) > known:
            yield SetFields({"info.metrics": list(self.metrics.refs)})

    def resource(self, filename: str) -> None:
        """Store a resource in GridFS (once per content) and list it in ``resources``."""
        md5 = md5_file(filename)
        if [filename, md5] in self.resources:
            return
        self.resources.append([filename, md5])
        op = StoreFile(ObjectId(), filename=filename, md5=md5, dedupe=True, src=filename)
        self.submit([op], {"resources": [list(r) for r in self.resources]})

    def artifact(self, name: str, filename: str, metadata: Any, content_type: str | None) -> None:
        """Store an artifact in GridFS and list it in ``artifacts``.

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
        self.artifacts.append({"name": name, "file_id": file_id})
        op = StoreFile(
            file_id, artifact=name, src=filename, metadata=metadata, content_type=content_type
        )
        self.submit([op], {"artifacts": list(self.artifacts)})

    # -- the end ---------------------------------------------------------------------------
    def end(self, fields: dict[str, Any], before: dict[str, Any]) -> bool:
        """Store the run's last *fields* after *before* (a write of its own); return whether
        everything is stored (queued: always true, the background writer goes on).

        Raises only what it did not keep: what is kept waits in the spool.
        """
        try:
            self.submit([SetFields(before)] if before else [], fields)
        except Exception as exc:
            if not event_was_kept(exc):
                raise
        if self.settings.queued:
            return True
        # one attempt, unless the database failed within retry_interval: the wait for it
        # is join()'s, bounded by join_timeout
        return self.writer.drain(force=False)
