"""Write a whole :class:`~._portable.PortableRun` into MongoDB in Sacred's schema, and read
back what such a copy adds (internal; public through :mod:`sacredlite.formats.mongo`).

Beyond Sacred, a copied run's document may carry, under ``sacredlite``:

* ``exact_times``: ``{field: ISO text}`` of ``start_time``/``heartbeat``/``stop_time``/
  ``queue_time`` when the original had microseconds, which BSON dates (milliseconds) lose;
* ``metric_refs_added``: true when the original ``info`` had no ``metrics`` references and
  the copy added them (Sacred's MongoObserver keeps them there; Omniboard reads them);
* ``writing``: true while the copy is under way (a run left so by a killed copy is
  incomplete and copied again).

A copy also creates the index ``{run_id: 1, name: 1}`` on the metrics collection
(:func:`ensure_indexes`).

:func:`as_recorded` undoes the first two for readers.
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pymongo.errors

from ._json import Warner, iso_utc
from ._mongo_apply import Executor, Target
from ._mongo_ops import PushMetric, SetFields, StartRun, StoreFile
from ._mongo_overflow import MetricSeries, OutputTail
from ._mongo_schema import VERSION
from ._mongo_values import new_warner, safe_keys, storable, stored
from ._portable import PortableFile, PortableRun

__all__ = [
    "EXACT_TIMES",
    "METRIC_REFS_ADDED",
    "WRITING",
    "as_recorded",
    "ensure_indexes",
    "write_run",
]

EXACT_TIMES = "sacredlite.exact_times"
METRIC_REFS_ADDED = "sacredlite.metric_refs_added"
WRITING = "sacredlite.writing"
_TIMES = ("start_time", "heartbeat", "stop_time", "queue_time")


def _naive_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _stored_file(
    fs: Any, file: PortableFile, filename: str, warn: Warner, known: dict[Any, Any]
) -> tuple[Any, Any, str]:
    """Return ``(op or None, file id, md5)`` storing *file* once per (filename, md5); *known*
    remembers the files found or stored before (sources shared by many runs)."""
    from bson import ObjectId

    from ._io import md5_bytes

    data = None
    md5 = file.md5
    if not md5:
        data = file.read()
        md5 = md5_bytes(data)
    if (filename, md5) in known:
        return None, known[filename, md5], md5
    found = fs.find_one({"filename": filename, "md5": md5})
    if found is not None:
        known[filename, md5] = found._id
        return None, found._id, md5
    op = StoreFile(
        ObjectId(),
        filename=filename,
        md5=md5,
        dedupe=True,
        data=file.read() if data is None else data,
    )
    return storable(op, warn), op.file_id, md5


def _metric_ids(info: Any, names: list[str], metrics: Any) -> dict[str, Any]:
    """Return the metric document ids *info*'s references name, where they are free."""
    from bson import ObjectId
    from bson.errors import InvalidId

    refs = info.get("metrics") if isinstance(info, dict) else None
    wanted: dict[str, Any] = {}
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and ref.get("name") in names and "id" in ref:
            try:
                wanted[str(ref["name"])] = ObjectId(str(ref["id"]))
            except (InvalidId, TypeError):
                continue
    if wanted:
        taken = {
            d["_id"] for d in metrics.find({"_id": {"$in": list(wanted.values())}}, {"_id": 1})
        }
        wanted = {name: oid for name, oid in wanted.items() if oid not in taken}
    return wanted


def ensure_indexes(target: Target) -> None:
    """Create the index readers look metrics up by, ``{run_id, name}`` on the metrics
    collection (Sacred creates none; without it each lookup scans every metric document).
    Creating an existing index does nothing."""
    if target.metrics is not None:
        target.metrics.create_index([("run_id", 1), ("name", 1)])


def write_run(
    target: Target,
    run: PortableRun,
    run_id: Any = None,
    *,
    part_points: int | None = None,
    output_limit: int | None = None,
    known_files: dict[Any, Any] | None = None,
) -> Any:
    """Insert *run* as a new run document with everything it stored; return its id.

    The run gets *run_id* when given and free, else the next id of the atomic counter (a
    taken id is never overwritten). Sources, resources and diffs are stored once per
    content in GridFS; metrics and output overflow as the observer's do.

    Args:
        target: the collections to write to.
        run: the run.
        run_id: the id wanted.
        part_points: points per metric document before overflow parts (default
            :data:`~sacredlite.formats.mongo.METRIC_PART_POINTS`).
        output_limit: characters of output kept in ``captured_out`` (default
            :data:`~sacredlite.formats.mongo.OUTPUT_LIMIT`).
        known_files: ``{(filename, md5): file id}`` of GridFS files stored before, kept by
            a caller that writes many runs (their shared sources are looked up once).
    """
    from . import mongo

    part_points = part_points or mongo.METRIC_PART_POINTS
    output_limit = output_limit or mongo.OUTPUT_LIMIT
    warn = new_warner()
    fs = target.fs
    known = {} if known_files is None else known_files
    doc = {k: v for k, v in run.entry.items() if k != "_id"}
    doc["format"] = VERSION
    extra: dict[str, Any] = {WRITING.split(".")[1]: True}
    exact = {}
    for key in _TIMES:
        value = doc.get(key)
        if isinstance(value, datetime):
            if value.microsecond % 1000:
                exact[key] = iso_utc(value)
            doc[key] = _naive_utc(value)
    if exact:
        extra[EXACT_TIMES.split(".")[1]] = exact
    file_ops: list[StoreFile] = []
    experiment = dict(doc.get("experiment") or {})
    sources = []
    for src in run.sources:
        filename = os.path.join(str(experiment.get("base_dir") or ""), src.name)
        op, file_id, _ = _stored_file(fs, src, filename, warn, known)
        file_ops += [op] if op is not None else []
        sources.append([src.name, file_id])
    experiment["sources"] = sources
    if "repositories" in experiment:
        repos = []
        for repo in experiment["repositories"] or []:
            if isinstance(repo, dict):
                repo = {k: v for k, v in repo.items() if k not in ("diff_file", "diff_file_id")}
                diff = repo.pop("diff", None)
                if diff:
                    data = str(diff).encode("utf-8")
                    diff_file = PortableFile("diff", functools.partial(bytes, data))
                    op, file_id, _ = _stored_file(
                        fs, diff_file, f"gitdiff://{repo.get('commit')}", warn, known
                    )
                    file_ops += [op] if op is not None else []
                    repo["diff_file_id"] = file_id
            repos.append(repo)
        experiment["repositories"] = repos
    doc["experiment"] = experiment
    resources = []
    for res in run.resources:
        op, _, md5 = _stored_file(fs, res, res.name, warn, known)
        file_ops += [op] if op is not None else []
        resources.append([res.name, md5])
    doc["resources"] = resources
    doc["config"] = stored(run.config, "config", warn)
    doc["artifacts"] = []
    doc["info"] = {}
    doc["captured_out"] = ""
    doc["sacredlite"] = {**(doc.get("sacredlite") or {}), **extra}
    if run.tags or run.notes:
        doc["omniboard"] = {"tags": list(run.tags), "notes": run.notes}
    executor = Executor(target, run_id)
    for file_op in file_ops:
        executor.apply(file_op)
        stored_id = executor.aliases.get(file_op.file_id, file_op.file_id)
        known[file_op.filename, file_op.md5] = stored_id
    start = storable(StartRun(safe_keys(doc)), warn)
    try:
        executor.apply(start)
    except pymongo.errors.DuplicateKeyError:
        if run_id is None:
            raise
        aliases = executor.aliases
        executor = Executor(target, None)
        executor.aliases = aliases
        executor.apply(start)
    new_id = executor.run_id
    ops, fields = OutputTail(output_limit).update(run.output, target.names.output)
    for op in ops:
        executor.apply(storable(op, warn))
    series = MetricSeries(part_points)
    info = stored(run.info, "info", warn)
    had_refs = isinstance(info, dict) and isinstance(info.get("metrics"), list)
    for name, oid in _metric_ids(info, run.metric_names, target.metrics).items():
        series.adopt(name, oid)
    for name in run.metric_names:
        points = run.read_metric(name)
        stamps = [_naive_utc(t) for t in points["timestamps"]]
        micros = [t.microsecond % 1000 if isinstance(t, datetime) else 0 for t in stamps]
        done = 0
        for op in series.ops(name, points["steps"], points["values"], stamps, None):
            if isinstance(op, PushMetric) and any(micros):
                op = replace(op, micros=micros[done : done + len(op.steps)])
                done += len(op.steps)
            executor.apply(storable(op, warn))
    info = series.referenced_in(info)
    if series.refs and not had_refs:
        fields[METRIC_REFS_ADDED] = True
    artifacts = []
    for artifact in run.artifacts:
        from bson import ObjectId

        art = StoreFile(
            ObjectId(),
            artifact=artifact.name,
            data=None if artifact.path else artifact.read(),
            src=artifact.path,
            content_type=artifact.content_type,
            metadata=artifact.metadata,
        )
        executor.apply(storable(art, warn))
        artifacts.append({"name": artifact.name, "file_id": art.file_id})
    fields.update(info=info, artifacts=artifacts)
    done_fields = storable(SetFields(fields), warn)
    assert isinstance(done_fields, SetFields)
    # the last write completes the run: its fields, and the mark of a copy under way gone
    target.runs.update_one({"_id": new_id}, {"$set": done_fields.fields, "$unset": {WRITING: ""}})
    return new_id


def as_recorded(doc: dict[str, Any]) -> dict[str, Any]:
    """Return a run document (or record) as the original run recorded it: the exact times
    of a copy restored, metric references a copy added to ``info`` left out."""
    extra = doc.get("sacredlite")
    if not isinstance(extra, dict) or not (
        extra.get("exact_times") or extra.get("metric_refs_added")
    ):
        return doc
    doc = dict(doc)
    for key, text in (extra.get("exact_times") or {}).items():
        try:
            moment = datetime.fromisoformat(str(text))
        except ValueError:
            continue
        current = doc.get(key)
        if isinstance(current, datetime) and abs(
            _naive_utc(current) - moment.replace(tzinfo=None)
        ) < timedelta(milliseconds=1):
            doc[key] = moment.replace(tzinfo=timezone.utc) if current.tzinfo else moment
    info = doc.get("info")
    if extra.get("metric_refs_added") and isinstance(info, dict):
        doc["info"] = {k: v for k, v in info.items() if k != "metrics"}
    return doc
