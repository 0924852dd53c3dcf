"""The queue protocol: claim a QUEUED run atomically, give it back, fail it, or re-queue a
run whose worker died (internal; public through :mod:`sacredlite.formats.mongo`).

A claim is one ``find_one_and_update`` (QUEUED -> RUNNING, recording ``worker: {host, pid,
claimed}`` and dropping an earlier ``worker_error``), so any number of workers never claim
one run twice. Runs with a higher ``meta.priority`` go first, then the lowest ``_id``.

A resume (:func:`claim_resume`) is one conditional ``update_one`` too: it applies only while
the run's status and heartbeat are still those the resuming process read, so of two
processes resuming one run at once, one continues it and the other is refused.

A re-queue (:func:`requeue_dead`) is one conditional ``update_one`` per run (RUNNING with
the very heartbeat that was found stale, never re-queued before -> QUEUED, recording
``meta.requeued: {time, heartbeat, worker, by}``), so of several workers that find the same
dead run, one re-queues it, and a run is re-queued at most once.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ..events import RunStatus

__all__ = [
    "QueuedRun",
    "claim_next",
    "claim_resume",
    "fail_unrunnable",
    "release",
    "requeue_dead",
]


@dataclass(frozen=True, slots=True)
class QueuedRun:
    """What a worker needs of a claimed run's document.

    Attributes:
        run_id: the run's ``_id`` (the run is executed into it).
        command: the recorded command (``None``: the experiment's main).
        config: the stored config, still flattened (restore it as data).
        base_dir: the experiment's recorded ``base_dir``.
        mainfile: its main file, relative to *base_dir*.
        experiment: the experiment's name.
        meta_info: the meta information the run is executed with: the recorded
            ``comment``, ``priority`` and ``sweep`` (``sacredlite sweep --via-queue``), and
            ``queued_by: {host}``.
        started: the run ran before (a worker died running it and it was re-queued):
            it is resumed under its id rather than started anew.
    """

    run_id: Any
    command: str | None
    config: Any
    base_dir: str | None
    mainfile: str | None
    experiment: str | None
    meta_info: dict[str, Any]
    started: bool = False

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> QueuedRun:
        """Read a claimed run document."""
        experiment = doc.get("experiment") or {}
        meta = doc.get("meta") or {}
        meta_info = {k: meta[k] for k in ("comment", "priority", "sweep") if k in meta}
        meta_info["queued_by"] = {"host": (doc.get("host") or {}).get("hostname")}
        return cls(
            run_id=doc["_id"],
            command=doc.get("command") or None,
            config=doc.get("config") or {},
            base_dir=experiment.get("base_dir"),
            mainfile=experiment.get("mainfile"),
            experiment=experiment.get("name"),
            meta_info=meta_info,
            started=doc.get("start_time") is not None or "requeued" in meta,
        )


def claim_next(
    runs: Any, experiment: str | None = None, skip: list[Any] | tuple[Any, ...] = ()
) -> dict[str, Any] | None:
    """Atomically claim the next QUEUED run in *runs*; return its document or ``None``.

    Args:
        runs: the pymongo runs collection.
        experiment: only claim runs of the experiment with this name.
        skip: run ids not to claim (runs this worker could not execute).
    """
    import pymongo

    query: dict[str, Any] = {"status": RunStatus.QUEUED.value}
    if experiment:
        query["experiment.name"] = experiment
    if skip:
        query["_id"] = {"$nin": list(skip)}
    claim = {
        "status": RunStatus.RUNNING.value,
        "worker": {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "claimed": datetime.now(timezone.utc),
        },
    }
    result: dict[str, Any] | None = runs.find_one_and_update(
        query,
        {"$set": claim, "$unset": {"worker_error": ""}},
        sort=[("meta.priority", pymongo.DESCENDING), ("_id", pymongo.ASCENDING)],
        return_document=pymongo.ReturnDocument.AFTER,
    )
    return result


def release(runs: Any, run_id: Any, reason: str) -> None:
    """Put a claimed run back to QUEUED, with *reason* in ``worker_error`` (this worker
    could not execute it; another one may)."""
    runs.update_one(
        {"_id": run_id, "status": RunStatus.RUNNING.value},
        {
            "$set": {"status": RunStatus.QUEUED.value, "worker_error": reason},
            "$unset": {"worker": ""},
        },
    )


def fail_unrunnable(runs: Any, run_id: Any, reason: str) -> None:
    """Store a claimed run that no worker may run as it is (its config holds code) as
    FAILED, with *reason* in ``worker_error`` and ``fail_trace``."""
    runs.update_one(
        {"_id": run_id, "status": RunStatus.RUNNING.value},
        {
            "$set": {
                "status": RunStatus.FAILED.value,
                "stop_time": datetime.now(timezone.utc),
                "worker_error": reason,
                "fail_trace": [f"sacredlite worker did not run it: {reason}\n"],
            }
        },
    )


def requeue_dead(runs: Any, older_than: timedelta) -> list[dict[str, Any]]:
    """Put back to QUEUED, once each, the runs a worker claimed whose heartbeat (else claim
    time) is older than *older_than*: their worker died. Return what was re-queued
    (``{"_id", "heartbeat", "worker"}`` each).

    Args:
        runs: the pymongo runs collection.
        older_than: how stale a heartbeat must be (a live run beats every 10 s by default).
    """
    now = datetime.now(timezone.utc)
    cutoff = now - older_than
    stale = {
        "status": RunStatus.RUNNING.value,
        "worker": {"$exists": True},
        "meta.requeued": {"$exists": False},
        "$or": [
            {"heartbeat": {"$lt": cutoff}},
            {"heartbeat": None, "worker.claimed": {"$lt": cutoff}},
        ],
    }
    done = []
    for doc in list(runs.find(stale, {"heartbeat": 1, "worker": 1})):
        beat, worker = doc.get("heartbeat"), doc.get("worker")
        requeued = {
            "time": now,
            "heartbeat": beat,
            "worker": worker,
            "by": {"host": socket.gethostname(), "pid": os.getpid()},
        }
        result = runs.update_one(
            {
                "_id": doc["_id"],
                "status": RunStatus.RUNNING.value,
                "heartbeat": beat,
                "meta.requeued": {"$exists": False},
            },
            {
                "$set": {"status": RunStatus.QUEUED.value, "meta.requeued": requeued},
                "$unset": {"worker": ""},
            },
        )
        if result.modified_count:
            done.append({"_id": doc["_id"], "heartbeat": beat, "worker": worker})
    return done


def claim_resume(
    runs: Any, seen: dict[str, Any], fields: dict[str, Any], unset: tuple[str, ...]
) -> bool:
    """``$set`` *fields* and ``$unset`` *unset* in the run document *seen* (as read by the
    resuming process) only if its status and heartbeat are unchanged; return whether it
    was applied (``False``: another process resumed or changed the run meanwhile)."""
    update: dict[str, Any] = {"$set": fields}
    if unset:
        update["$unset"] = dict.fromkeys(unset, "")
    query = {"_id": seen["_id"], "status": seen.get("status"), "heartbeat": seen.get("heartbeat")}
    return bool(runs.update_one(query, update).modified_count)
