"""Apply MongoDB write operations idempotently, and read overflowed data back (internal).

The MongoObserver turns each event into small write operations (plain dicts, so they can
be spooled to disk as JSON and replayed by ``sacredlite sync``). :class:`Executor` applies
them; applying one twice stores it once:

=============  ======================================================================
``start``      insert the run document (allocating an id if it has none); on replay,
               ``$set`` its fields instead
``set``        ``$set`` some top-level fields of the run document (never a replace, so
               Omniboard's ``omniboard.*`` fields survive)
``file``       GridFS upload under a client-made ``_id``; with ``dedupe`` (sources,
               resources, diffs) one file per ``filename`` and ``md5``: an existing one
               is reused, and concurrent uploads settle on the first claimed in
               ``sacredlite_files`` (``{_id: "<bucket>:<md5>:<filename>", file_id}``);
               a copy that lost its claim is deleted by its uploader
``metric_new`` insert a metric document under a client-made ``_id``
``metric_push`` ``$push/$each`` one batch into part ``part`` of a metric, guarded by the
               batch's ``token`` (the last 1000 are kept in ``sacredlite_batches``)
``out_chunk``  upsert one overflow chunk of captured output
``out_reset``  delete the run's overflow chunks (earlier output changed; they follow anew)
=============  ======================================================================

Overflow format (beyond Sacred; DESIGN.md section 4):

* Captured output: the run document's ``captured_out`` keeps the newest part of the
  output (at most ``output_limit`` characters). Older text moves, in order, to documents
  ``{_id: {run_id, seq}, run_id, seq, start, text}`` of the collection ``<runs>_output``;
  the run document then records ``sacredlite.captured_out_start`` (how many characters
  precede ``captured_out``) and ``sacredlite.output_collection``.
  :func:`read_captured_out` reassembles the whole text.
* Metrics: the Sacred metric document (``metrics``) keeps the first
  ``metric_part_points`` points. Later points go to part documents
  ``{_id: {metric_id, part}, run_id, name, part, steps, values, timestamps}`` in
  ``<metrics>_overflow``, and the Sacred document records ``sacredlite_parts`` (the number
  of the last part). :func:`read_metric` reassembles the series.
* Run ids come from ``sacredlite_counters`` (``{_id: <runs collection>, seq}``, advanced with
  ``$inc``); a collision with ids made by other tools (Sacred's max+1) moves it past them.
"""

from __future__ import annotations

import time
from typing import Any

import gridfs
import pymongo
import pymongo.errors
from pymongo.server_type import SERVER_TYPE
from pymongo.topology_description import TopologyDescription

__all__ = [
    "Target",
    "Executor",
    "is_transient",
    "known_reachable",
    "read_captured_out",
    "read_metric",
]

COUNTERS = "sacredlite_counters"
FILES_ONCE = "sacredlite_files"
BATCH_TOKENS_KEPT = 1000
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


class Target:
    """The collections one observer writes to.

    Any objects with pymongo's ``Collection`` and ``GridFS`` APIs will do. The overflow,
    output and counter collections live in the runs collection's database.

    Args:
        runs: the runs collection.
        metrics: the metrics collection (``None``: metrics are not stored).
        fs: the ``GridFS`` for files (default: the runs database's).
    """

    def __init__(self, runs: Any, metrics: Any = None, fs: Any = None) -> None:
        self.db = runs.database
        self.runs = runs
        self.metrics = metrics
        self.metrics_name = str(metrics.name) if metrics is not None else "metrics"
        self.output = self.db[f"{runs.name}_output"]
        self.overflow = self.db[f"{self.metrics_name}_overflow"]
        self.counters = self.db[COUNTERS]
        self.files_once = self.db[FILES_ONCE]
        self.fs = fs if fs is not None else gridfs.GridFS(self.db)

    @classmethod
    def in_database(cls, database: Any, runs: str = "runs", metrics: str = "metrics") -> Target:
        """Return the target of the named collections in a pymongo ``Database``."""
        return cls(database[runs], database[metrics], gridfs.GridFS(database))


class Executor:
    """Apply write operations for one run.

    Args:
        target: where to write.
        run_id: the run's id, or ``None`` until a ``start`` operation allocates one.
        on_assign: called with the id when a ``start`` operation allocates it.
    """

    def __init__(self, target: Target, run_id: Any = None, on_assign: Any = None) -> None:
        self.target = target
        self.run_id = run_id
        self.on_assign = on_assign
        self.aliases: dict[Any, Any] = {}

    def apply(self, op: dict[str, Any]) -> None:
        """Apply one operation (raises pymongo errors; see :func:`is_transient`)."""
        getattr(self, f"_op_{op['op']}")(op)

    # -- operations ------------------------------------------------------------------------
    def _op_file(self, op: dict[str, Any]) -> None:
        fs = self.target.fs
        filename = op.get("filename") or (
            f"artifact://{self.target.runs.name}/{self.run_id}/{op['artifact']}"
        )
        if not op.get("dedupe"):
            self._put(op, filename)
            return
        found = fs.find_one({"filename": filename, "md5": op["md5"]})
        candidate = found._id if found is not None else op["file_id"]
        if found is None:
            self._put(op, filename)
        winner = self._claim(filename, op["md5"], candidate)
        if winner != candidate and candidate == op["file_id"]:
            fs.delete(candidate)  # our own copy lost the claim: nobody refers to it
        if winner != op["file_id"]:
            self.aliases[op["file_id"]] = winner

    def _claim(self, filename: str, md5: str, file_id: Any) -> Any:
        """Return the one GridFS file of (*filename*, *md5*): the first that was claimed.

        Concurrent starts may each upload a copy of the same source; the claim, an upsert
        keyed by the content, picks one, and every writer refers to that one (issue 9).
        """
        bucket = getattr(getattr(self.target.fs, "_collection", None), "name", "fs")
        key = f"{bucket}:{md5}:{filename}"
        while True:
            try:
                claim = self.target.files_once.find_one_and_update(
                    {"_id": key},
                    {"$setOnInsert": {"file_id": file_id}},
                    upsert=True,
                    return_document=pymongo.ReturnDocument.AFTER,
                )
            except pymongo.errors.DuplicateKeyError:  # two first upserts raced; retry
                continue
            if claim is not None:  # None: a server that lost the upsert race quietly
                return claim["file_id"]

    def _put(self, op: dict[str, Any], filename: str) -> None:
        """Upload the file of *op* under its own ``file_id`` (nothing if it is there)."""
        fs = self.target.fs
        if fs.exists(op["file_id"]):
            return
        # a put cut short by a lost connection leaves chunks behind that block a retry
        fs.delete(op["file_id"])
        extra = {k: op[k] for k in ("md5", "sha256", "content_type", "metadata") if k in op}
        try:
            if op.get("data") is not None:
                fs.put(op["data"], _id=op["file_id"], filename=filename, **extra)
            else:
                with open(op["src"], "rb") as handle:
                    fs.put(handle, _id=op["file_id"], filename=filename, **extra)
        except gridfs.errors.FileExists:
            pass

    def _resolve(self, doc: dict[str, Any]) -> dict[str, Any]:
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

    def _op_start(self, op: dict[str, Any]) -> None:
        doc = self._resolve(op["doc"])
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
            if not op.get("exists_ok"):
                raise
            runs.update_one({"_id": self.run_id}, {"$set": doc})

    def _assigned(self, run_id: Any) -> None:
        self.run_id = run_id
        if self.on_assign is not None:
            self.on_assign(run_id)

    def _insert_new(self, doc: dict[str, Any]) -> int:
        runs, counters = self.target.runs, self.target.counters
        while True:
            try:
                counter = counters.find_one_and_update(
                    {"_id": runs.name},
                    {"$inc": {"seq": 1}},
                    upsert=True,
                    return_document=pymongo.ReturnDocument.AFTER,
                )
            except pymongo.errors.DuplicateKeyError:  # two first upserts raced; retry
                continue
            if counter is None:  # a server that lost the upsert race without an error
                continue
            candidate = int(counter["seq"])
            try:
                runs.insert_one({"_id": candidate, **doc})
                return candidate
            except pymongo.errors.DuplicateKeyError:
                top = runs.find_one(
                    {"_id": {"$type": "number"}}, {"_id": 1}, sort=[("_id", pymongo.DESCENDING)]
                )
                if top is not None:
                    counters.update_one({"_id": runs.name}, {"$max": {"seq": int(top["_id"])}})

    def _op_set(self, op: dict[str, Any]) -> None:
        self.target.runs.update_one({"_id": self.run_id}, {"$set": op["fields"]})

    def _op_metric_new(self, op: dict[str, Any]) -> None:
        doc = {"_id": op["metric_id"], "run_id": self.run_id, "name": op["name"]}
        try:
            self.target.metrics.insert_one({**doc, "steps": [], "values": [], "timestamps": []})
        except pymongo.errors.DuplicateKeyError:
            pass

    def _op_metric_push(self, op: dict[str, Any]) -> None:
        token, part = op["token"], op["part"]
        push = {
            "steps": {"$each": op["steps"]},
            "values": {"$each": op["values"]},
            "timestamps": {"$each": op["timestamps"]},
            # the last tokens suffice: only the few writes in flight when a connection or a
            # process died can be replayed after being stored
            "sacredlite_batches": {"$each": [token], "$slice": -BATCH_TOKENS_KEPT},
        }
        if part == 0:
            query = {"_id": op["metric_id"], "sacredlite_batches": {"$ne": token}}
            self.target.metrics.update_one(query, {"$push": push})
            return
        key = {"metric_id": op["metric_id"], "part": part}
        on_insert = {"run_id": self.run_id, "name": op["name"], "part": part}
        try:
            self.target.overflow.update_one(
                {"_id": key, "sacredlite_batches": {"$ne": token}},
                {"$push": push, "$setOnInsert": on_insert},
                upsert=True,
            )
        except pymongo.errors.DuplicateKeyError:
            pass  # the part exists and already holds this batch
        self.target.metrics.update_one(
            {"_id": op["metric_id"]}, {"$max": {"sacredlite_parts": part}}
        )

    def _op_out_reset(self, op: dict[str, Any]) -> None:
        self.target.output.delete_many({"run_id": self.run_id})

    def _op_out_chunk(self, op: dict[str, Any]) -> None:
        key = {"run_id": self.run_id, "seq": op["seq"]}
        doc = {"run_id": self.run_id, "seq": op["seq"], "start": op["start"], "text": op["text"]}
        self.target.output.replace_one({"_id": key}, doc, upsert=True)


def read_captured_out(db: Any, run_doc: dict[str, Any]) -> str:
    """Return a run's whole captured output, reassembled from its overflow chunks.

    Args:
        db: the pymongo ``Database`` holding the run.
        run_doc: the run document (at least ``_id``, ``captured_out`` and ``sacredlite``).
    """
    tail = run_doc.get("captured_out") or ""
    meta = run_doc.get("sacredlite") or {}
    start = int(meta.get("captured_out_start") or 0)
    if not start:
        return str(tail)
    chunks = db[meta.get("output_collection", "runs_output")].find(
        {"run_id": run_doc["_id"]}, {"text": 1, "start": 1}
    )
    pieces: list[str] = []
    length = 0
    for chunk in sorted(chunks, key=lambda c: c["start"]):
        if chunk["start"] > length:
            missing = chunk["start"] - length
            pieces.append(f"\n[... {missing} characters missing ...]\n")
        elif chunk["start"] < length:
            continue
        pieces.append(chunk["text"])
        length = chunk["start"] + len(chunk["text"])
    if length < start:
        pieces.append(f"\n[... {start - length} characters missing ...]\n")
    text = "".join(pieces)
    if length > start:  # chunks reach into the kept tail: drop the overlap
        text = text[: len(text) - (length - start)]
    return text + str(tail)


def read_metric(
    db: Any, run_id: Any, name: str, metrics_collection: str = "metrics"
) -> dict[str, list[Any]] | None:
    """Return one metric of a run as ``{"steps", "values", "timestamps"}``, all parts joined.

    Args:
        db: the pymongo ``Database``.
        run_id: the run's ``_id``.
        name: the metric's name.
        metrics_collection: the metrics collection (``<prefix>_metrics`` with a prefix).

    Returns:
        The series, or ``None`` if the run has no such metric.
    """
    main = db[metrics_collection].find_one({"run_id": run_id, "name": name})
    if main is None:
        return None
    series = {k: list(main.get(k, [])) for k in ("steps", "values", "timestamps")}
    if main.get("sacredlite_parts"):
        parts = db[f"{metrics_collection}_overflow"].find({"_id.metric_id": main["_id"]})
        for part in sorted(parts, key=lambda p: p["_id"]["part"]):
            for key in series:
                series[key].extend(part.get(key, []))
    return series
