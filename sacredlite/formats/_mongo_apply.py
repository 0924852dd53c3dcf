"""Apply MongoDB write operations idempotently (internal; public through
:mod:`sacredlite.formats.mongo`).

:class:`Executor` applies the operations of :mod:`._mongo_ops` to a :class:`Target`; applying
one twice stores it once. Here live the format's concurrency rules: run ids from an atomic
counter, one GridFS file per content, replay guards on metric batches.
"""

from __future__ import annotations

import time
from typing import Any

import pymongo
import pymongo.errors

from ._mongo_ops import (
    NewMetric,
    Op,
    OutputChunk,
    PushMetric,
    ResetOutput,
    SetFields,
    StartRun,
    StoreFile,
)
from ._mongo_schema import MICROS, Collections, artifact_filename

__all__ = [
    "BATCH_TOKENS_KEPT",
    "Executor",
    "Target",
    "delete_run",
    "is_transient",
    "known_reachable",
]

BATCH_TOKENS_KEPT = 1000
"""Batch tokens a metric document remembers (``sacredlite_batches``)."""
_TRANSIENT_CODES = {6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436}


def is_transient(exc: BaseException) -> bool:
    """Return whether *exc* means "the database is unreachable now", worth a retry later."""
    if isinstance(exc, pymongo.errors.ConnectionFailure):
        return True
    if isinstance(exc, pymongo.errors.OperationFailure):
        return exc.code in _TRANSIENT_CODES
    return isinstance(exc, OSError)


def known_reachable(client: Any, wait: float) -> bool | None:
    """Return what *client* knows of its servers within *wait* seconds, without a request.

    ``True``: a server answered its monitor; ``False``: every server failed its check (the
    database is down: a connection was refused); ``None``: nothing is known yet (a server
    that does not answer at all, a client that connects lazily, or not a pymongo client).
    """
    from pymongo.server_type import SERVER_TYPE
    from pymongo.topology_description import TopologyDescription

    deadline = time.monotonic() + wait
    while True:
        # not isinstance(client, MongoClient): tests replace that class (Sacred's do)
        description = getattr(client, "topology_description", None)
        if not isinstance(description, TopologyDescription):
            return None
        servers = list(description.server_descriptions().values())
        if any(sd.server_type != SERVER_TYPE.Unknown for sd in servers):
            return True
        if servers and all(sd.error is not None for sd in servers):
            return False
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.01)


def _upsert_returning(collection: Any, key: Any, update: dict[str, Any]) -> dict[str, Any]:
    """Return the document *key* after an upserting *update*, however two first upserts race.

    Two first upserts of one key race: one raises ``DuplicateKeyError``; some servers (the
    SecantusDB test server) answer ``None`` instead. Either is retried.
    """
    while True:
        try:
            found = collection.find_one_and_update(
                {"_id": key}, update, upsert=True, return_document=pymongo.ReturnDocument.AFTER
            )
        except pymongo.errors.DuplicateKeyError:
            continue
        if found is not None:
            return dict(found)


class Target:
    """The collections one observer writes to.

    Any objects with pymongo's ``Collection`` and ``GridFS`` APIs will do (mongomock's in
    Sacred's tests). The overflow, output and counter collections live in the runs
    collection's database.

    Args:
        runs: the runs collection.
        metrics: the metrics collection (``None``: metrics are not stored).
        fs: the ``GridFS`` for files (default: the runs database's).
    """

    def __init__(self, runs: Any, metrics: Any = None, fs: Any = None) -> None:
        metrics_name = str(metrics.name) if metrics is not None else "metrics"
        self.names = Collections(str(runs.name), metrics_name)
        self.db = runs.database
        self.runs = runs
        self.metrics = metrics
        self.output = self.db[self.names.output]
        self.overflow = self.db[self.names.overflow]
        self.counters = self.db[self.names.counters]
        self.files_once = self.db[self.names.files_once]
        if fs is None:
            import gridfs

            fs = gridfs.GridFS(self.db, self.names.fs)
        self.fs = fs

    @classmethod
    def in_database(cls, database: Any, names: Collections | None = None) -> Target:
        """Return the target of the collections *names* in a pymongo ``Database``."""
        import gridfs

        names = names or Collections()
        return cls(database[names.runs], database[names.metrics], gridfs.GridFS(database))


class Executor:
    """Apply write operations for one run.

    Args:
        target: where to write.
        run_id: the run's id, or ``None`` until a :class:`StartRun` allocates one.
        on_assign: called with the id when a :class:`StartRun` allocates it.
    """

    def __init__(self, target: Target, run_id: Any = None, on_assign: Any = None) -> None:
        self.target = target
        self.run_id = run_id
        self.on_assign = on_assign
        self.aliases: dict[Any, Any] = {}
        """Client-made file ids whose content was already stored under another id."""

    def apply(self, op: Op) -> None:
        """Apply one operation (raises pymongo errors; see :func:`is_transient`)."""
        match op:
            case StartRun():
                self._start(op)
            case SetFields():
                update: dict[str, Any] = {"$set": op.fields}
                if op.unset:
                    update["$unset"] = dict.fromkeys(op.unset, "")
                self.target.runs.update_one({"_id": self.run_id}, update)
            case StoreFile():
                self._file(op)
            case NewMetric():
                self._new_metric(op)
            case PushMetric():
                self._push(op)
            case OutputChunk():
                key = {"run_id": self.run_id, "seq": op.chunk}
                doc = {**key, "start": op.start, "text": op.text}
                self.target.output.replace_one({"_id": key}, doc, upsert=True)
            case ResetOutput():
                self.target.output.delete_many({"run_id": self.run_id})

    # -- files -------------------------------------------------------------------------
    def _file(self, op: StoreFile) -> None:
        fs = self.target.fs
        filename = op.filename or artifact_filename(
            self.target.runs.name, self.run_id, str(op.artifact)
        )
        if not op.dedupe:
            self._put(op, filename)
            return
        found = fs.find_one({"filename": filename, "md5": op.md5})
        candidate = found._id if found is not None else op.file_id
        if found is None:
            self._put(op, filename)
        winner = self._claim(filename, str(op.md5), candidate)
        if winner != candidate and candidate == op.file_id:
            fs.delete(candidate)  # our own copy lost the claim: nobody refers to it
        if winner != op.file_id:
            self.aliases[op.file_id] = winner

    def _claim(self, filename: str, md5: str, file_id: Any) -> Any:
        """Return the one GridFS file of (*filename*, *md5*): the first that was claimed.

        Concurrent starts may each upload a copy of the same source; the claim, an upsert
        keyed by the content, picks one, and every writer refers to that one (issue 9).
        """
        bucket = getattr(getattr(self.target.fs, "_collection", None), "name", "fs")
        key = f"{bucket}:{md5}:{filename}"
        claim = _upsert_returning(
            self.target.files_once, key, {"$setOnInsert": {"file_id": file_id}}
        )
        return claim["file_id"]

    def _put(self, op: StoreFile, filename: str) -> None:
        """Upload the file of *op* under its own ``file_id`` (nothing if it is there)."""
        import gridfs

        fs = self.target.fs
        if fs.exists(op.file_id):
            return
        # a put cut short by a lost connection leaves chunks behind that block a retry
        fs.delete(op.file_id)
        extra: dict[str, Any] = {} if op.md5 is None else {"md5": op.md5}
        if op.artifact is not None:  # Sacred stores both, None included
            extra.update(content_type=op.content_type, metadata=op.metadata)
        try:
            if op.data is not None:
                fs.put(op.data, _id=op.file_id, filename=filename, **extra)
            else:
                with open(str(op.src), "rb") as handle:
                    fs.put(handle, _id=op.file_id, filename=filename, **extra)
        except gridfs.errors.FileExists:
            pass

    # -- the run document --------------------------------------------------------------
    def _resolve(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Return *doc* referring to the files its sources and diffs were stored as."""
        experiment = doc.get("experiment")
        if not self.aliases or not isinstance(experiment, dict):
            return doc
        experiment = dict(experiment)
        experiment["sources"] = [
            [name, self.aliases.get(fid, fid)] for name, fid in experiment.get("sources", [])
        ]
        if "repositories" in experiment:
            repos = []
            for repo in experiment["repositories"]:
                if isinstance(repo, dict) and "diff_file_id" in repo:
                    fid = repo["diff_file_id"]
                    repo = {**repo, "diff_file_id": self.aliases.get(fid, fid)}
                repos.append(repo)
            experiment["repositories"] = repos
        return {**doc, "experiment": experiment}

    def _start(self, op: StartRun) -> None:
        doc = self._resolve(op.doc)
        runs = self.target.runs
        if self.run_id is None:
            key = (doc.get("sacredlite") or {}).get("spool_key")
            found = runs.find_one({"sacredlite.spool_key": key}, {"_id": 1}) if key else None
            if found is not None:  # allocated before a crash, but never recorded locally
                self._assigned(found["_id"])
            else:
                self._assigned(self._insert_new(doc))
                return
        try:
            runs.insert_one({"_id": self.run_id, **doc})
        except pymongo.errors.DuplicateKeyError:
            if not op.exists_ok:
                raise
            runs.update_one({"_id": self.run_id}, {"$set": doc})

    def _assigned(self, run_id: Any) -> None:
        self.run_id = run_id
        if self.on_assign is not None:
            self.on_assign(run_id)

    def _insert_new(self, doc: dict[str, Any]) -> int:
        """Insert *doc* under the next id of the atomic counter; return the id.

        An id taken by another tool (Sacred allocates max+1) moves the counter past the
        largest numeric id.
        """
        runs, counters = self.target.runs, self.target.counters
        while True:
            candidate = int(_upsert_returning(counters, runs.name, {"$inc": {"seq": 1}})["seq"])
            try:
                runs.insert_one({"_id": candidate, **doc})
                return candidate
            except pymongo.errors.DuplicateKeyError:
                top = runs.find_one(
                    {"_id": {"$type": "number"}}, {"_id": 1}, sort=[("_id", pymongo.DESCENDING)]
                )
                if top is not None:
                    counters.update_one({"_id": runs.name}, {"$max": {"seq": int(top["_id"])}})

    # -- metrics -----------------------------------------------------------------------
    def _new_metric(self, op: NewMetric) -> None:
        doc = {"_id": op.metric_id, "run_id": self.run_id, "name": op.name}
        try:
            self.target.metrics.insert_one({**doc, "steps": [], "values": [], "timestamps": []})
        except pymongo.errors.DuplicateKeyError:
            pass

    def _push(self, op: PushMetric) -> None:
        push = {
            "steps": {"$each": op.steps},
            "values": {"$each": op.values},
            "timestamps": {"$each": op.timestamps},
            # the last tokens suffice: only the few writes in flight when a connection or a
            # process died can be replayed after being stored
            "sacredlite_batches": {"$each": [op.token], "$slice": -BATCH_TOKENS_KEPT},
        }
        if op.micros is not None:
            push[MICROS] = {"$each": op.micros}
        if op.part == 0:
            query = {"_id": op.metric_id, "sacredlite_batches": {"$ne": op.token}}
            self.target.metrics.update_one(query, {"$push": push})
            return
        key = {"metric_id": op.metric_id, "part": op.part}
        on_insert = {"run_id": self.run_id, "name": op.name, "part": op.part}
        try:
            self.target.overflow.update_one(
                {"_id": key, "sacredlite_batches": {"$ne": op.token}},
                {"$push": push, "$setOnInsert": on_insert},
                upsert=True,
            )
        except pymongo.errors.DuplicateKeyError:
            pass  # the part exists and already holds this batch
        self.target.metrics.update_one(
            {"_id": op.metric_id}, {"$max": {"sacredlite_parts": op.part}}
        )


def delete_run(target: Target, run_id: Any) -> bool:
    """Delete a run with everything it stored: metrics (overflow parts too), output chunks,
    artifacts (sources and resources stay: other runs share them). Return whether it was
    there."""
    doc = target.runs.find_one({"_id": run_id}, {"artifacts": 1, "sacredlite": 1})
    if doc is None:
        return False
    for item in doc.get("artifacts") or []:
        if isinstance(item, dict) and item.get("file_id") is not None:
            target.fs.delete(item["file_id"])
    if target.metrics is not None:
        target.metrics.delete_many({"run_id": run_id})
    target.overflow.delete_many({"run_id": run_id})
    output = (doc.get("sacredlite") or {}).get("output_collection") or target.names.output
    target.db[output].delete_many({"run_id": run_id})
    target.runs.delete_one({"_id": run_id})
    return True
