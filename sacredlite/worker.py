"""``sacredlite worker -m URL``: execute runs queued in MongoDB (``-q``), on any machine.

Usage::

    sacredlite worker -m URL [--experiment NAME] [--once] [--until-empty] [--poll SECONDS]
                             [--requeue-after SECONDS]

A worker claims one QUEUED run at a time through the queue protocol of
:mod:`sacredlite.formats.mongo` (:func:`~sacredlite.formats.mongo.claim_next`: one atomic
update, QUEUED -> RUNNING), so any number of workers on any number of machines never run
one run twice. Runs with a higher ``meta.priority`` (``-P``) go first, then the oldest.
The worker imports the run's experiment from its
recorded ``experiment.base_dir`` / ``experiment.mainfile`` (the same code checkout must be
on the worker machine) and runs the recorded command with the recorded config into the
same ``_id``. A missing or broken experiment file puts the run back to QUEUED with the
reason in ``worker_error``, and this worker skips it from then on. Ctrl-C interrupts the
current run cleanly (it is stored as INTERRUPTED) and stops the worker.

A run left RUNNING by a worker that died (its heartbeat, else its claim, older than
``--requeue-after`` seconds, default 120: ``sacredlite.store.records.DEAD_AFTER``; 0 turns
this off) is put back to QUEUED once, recorded in ``meta.requeued`` (time, the stale
heartbeat, the dead worker, who re-queued it), and the next claim resumes it under the same
id (:mod:`sacredlite.resume`): its metrics and output continue, ``_run.resumed`` is true.
The re-queue is one conditional update (:func:`sacredlite.formats.mongo.requeue_dead`), so
workers that find the same dead run never re-queue it twice.

The stored config is data, whoever wrote it (issue 9): it is restored with
:func:`sacredlite.serializer.restore_data` before anything else happens, so a value that
would import or call code (a jsonpickle ``py/reduce``, ``py/function``, ...) or that expands
past ``SETTINGS.CONFIG.MAX_LOAD_SIZE`` fails the run (FAILED, the reason in
``worker_error`` and ``fail_trace``) without the experiment being imported.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ._scripts import ScriptImportError, import_script
from .errors import SacredliteError

if TYPE_CHECKING:
    from .formats.mongo import QueuedRun

__all__ = ["RefusedConfigError", "WorkerError", "claim_next", "execute_claimed", "main"]


class WorkerError(SacredliteError):
    """Raise when a claimed run cannot be executed (missing file, no experiment)."""


class RefusedConfigError(SacredliteError):
    """Raise when a claimed run's stored config holds code or too much data: it never runs."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sacredlite worker", description="Execute runs queued in MongoDB."
    )
    parser.add_argument("-m", "--mongo_db", required=True, help="MongoDB URL or -m value")
    parser.add_argument("--experiment", help="only run queued runs of this experiment")
    parser.add_argument("--once", action="store_true", help="execute at most one run")
    parser.add_argument(
        "--until-empty", action="store_true", help="stop when no queued run is left"
    )
    parser.add_argument("--poll", type=float, default=10.0, help="seconds between polls")
    parser.add_argument(
        "--requeue-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="re-queue (once) runs whose worker's heartbeat is older than this "
        "(default 120; 0: never)",
    )
    return parser


def claim_next(
    runs: Any, experiment: str | None = None, skip: list[Any] | tuple[Any, ...] = ()
) -> dict[str, Any] | None:
    """Atomically claim the next QUEUED run in *runs*; return its document or ``None``
    (:func:`sacredlite.formats.mongo.claim_next`).

    Args:
        runs: the pymongo runs collection.
        experiment: only claim runs of the experiment with this name.
        skip: run ids not to claim (runs this worker could not execute).
    """
    from .formats.mongo import claim_next as claim

    return claim(runs, experiment, skip)


def _load_experiment(queued: QueuedRun) -> Any:
    """Import the run's experiment module and return its Experiment object."""
    base_dir, mainfile, run_id = queued.base_dir, queued.mainfile, queued.run_id
    if not base_dir or not mainfile:
        raise WorkerError(f"Run {run_id} records no experiment base_dir/mainfile.")
    if base_dir not in sys.path:  # the experiment's own imports are relative to it
        sys.path.insert(0, base_dir)
    return load_experiment(os.path.join(base_dir, mainfile), queued.experiment, f"run {run_id}")


def load_experiment(path: str, name: str | None = None, purpose: str = "the run") -> Any:
    """Import the experiment script *path* (not as ``__main__``: ``automain`` does not fire)
    and return its Experiment (the one called *name*, if several).

    Raises:
        WorkerError: the file is missing, fails to import or defines no Experiment.
    """
    from .experiment import Experiment

    if not os.path.isfile(path):
        raise WorkerError(
            f"Experiment file {path!r} of {purpose} does not exist on "
            f"{socket.gethostname()}: check out the experiment's code there."
        )
    try:
        module = import_script(path, f"_sacredlite_worker_{uuid.uuid4().hex}")
    except ScriptImportError as failed:
        exc = failed.cause
        if exc is None:
            raise WorkerError(f"Cannot import experiment file {path!r} of {purpose}.") from None
        raise WorkerError(
            f"Importing {path!r} for {purpose} failed: {type(exc).__name__}: {exc}"
        ) from exc
    found = [v for v in vars(module).values() if isinstance(v, Experiment)]
    named = [ex for ex in found if ex.path == name] or found
    if not named:
        raise WorkerError(f"{path!r} defines no Experiment ({purpose}).")
    return named[0]


def _restore_config(queued: QueuedRun) -> dict[str, Any]:
    """Undo the jsonpickle flattening of a stored config (tuples, numpy values, ...), safely.

    Raises:
        RefusedConfigError: a value that would run code, or more data than allowed.
    """
    from .serializer import DataRestoreError, DataSizeError, restore_data
    from .settings import SETTINGS

    try:
        config = restore_data(queued.config, max_size=SETTINGS.CONFIG.MAX_LOAD_SIZE)
    except DataSizeError as exc:
        reason = f"{exc} (SETTINGS.CONFIG.MAX_LOAD_SIZE)"
        raise RefusedConfigError(f"stored config: {reason}") from exc
    except (DataRestoreError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise RefusedConfigError(f"stored config: {reason}") from exc
    if not isinstance(config, dict):
        raise RefusedConfigError(f"stored config: a {type(config).__name__}, not a dict")
    return config


def execute_claimed(doc: dict[str, Any], observer_kwargs: dict[str, Any]) -> Any:
    """Run a claimed run's experiment into the same ``_id``; return the finished Run.

    Args:
        doc: the claimed run document.
        observer_kwargs: MongoObserver arguments for the database holding the run.

    Raises:
        RefusedConfigError: the stored config holds code or too much data (nothing ran).
        WorkerError: the experiment cannot be imported here.
    """
    from .formats.mongo import QueuedRun

    return _execute(QueuedRun.from_document(doc), observer_kwargs)


def _execute(queued: QueuedRun, observer_kwargs: dict[str, Any]) -> Any:
    from .observers.mongo import MongoObserver

    config_updates = _restore_config(queued)  # before the experiment's code is even imported
    ex = _load_experiment(queued)
    if queued.started:  # a dead worker's run, re-queued: continue it under its id
        observer = MongoObserver(**observer_kwargs)
        ex.observers.append(observer)
        try:
            return ex.run(command_name=queued.command, resume=queued.run_id)
        finally:
            ex.observers.remove(observer)
    observer = MongoObserver(overwrite=queued.run_id, **observer_kwargs)
    ex.observers.append(observer)
    try:
        return ex.run(
            command_name=queued.command,
            config_updates=config_updates,
            meta_info=dict(queued.meta_info),
            options={"--id": str(queued.run_id)},
        )
    finally:
        ex.observers.remove(observer)


def main(argv: list[str] | None = None) -> int:
    """Run ``sacredlite worker``; return the exit code."""
    import pymongo
    import pymongo.errors

    from .formats.mongo import (
        Collections,
        QueuedRun,
        describe_hosts,
        fail_unrunnable,
        is_transient,
        parse_mongo_option,
        release,
        requeue_dead,
    )
    from .store.records import DEAD_AFTER

    args = _parser().parse_args(argv)
    kwargs = parse_mongo_option(args.mongo_db)
    kwargs.pop("overwrite", None)
    kwargs.pop("priority", None)
    url = kwargs.get("url")
    db_name = kwargs.get("db_name", "sacred")
    names = Collections(runs=kwargs.get("collection", "runs"))
    client: Any = pymongo.MongoClient(url, serverSelectionTimeoutMS=5000)
    runs = client[db_name][names.runs]
    observer_kwargs = {"url": url, "db_name": db_name}
    if names.runs != Collections().runs:
        observer_kwargs["collection"] = names.runs
    where = f"{describe_hosts(url)}/{db_name}.{names.runs}"
    who = f"{socket.gethostname()}:{os.getpid()}"
    skip: list[Any] = []
    failures = 0
    requeue_after = (
        DEAD_AFTER if args.requeue_after is None else timedelta(seconds=args.requeue_after)
    )
    print(f"sacredlite worker {who} serving {where}", flush=True)
    try:
        while True:
            try:
                if requeue_after > timedelta(0):
                    for dead in requeue_dead(runs, requeue_after):
                        worker = dead["worker"] or {}
                        print(f"run {dead['_id']}: re-queued (worker {worker.get('host')}:"
                              f"{worker.get('pid')} stopped beating at {dead['heartbeat']})",
                              flush=True)  # fmt: skip
                doc = claim_next(runs, args.experiment, skip)
            except pymongo.errors.PyMongoError as exc:
                if not is_transient(exc) or args.once:
                    reason = type(exc).__name__ if is_transient(exc) else str(exc)[:200]
                    print(f"sacredlite worker: cannot use MongoDB at {where} ({reason}).",
                          file=sys.stderr)  # fmt: skip
                    return 1
                print(f"MongoDB at {where} unreachable; retrying in {args.poll:g} s",
                      file=sys.stderr, flush=True)  # fmt: skip
                time.sleep(args.poll)
                continue
            if doc is None:
                if args.once or args.until_empty:
                    break
                time.sleep(args.poll)
                continue
            queued = QueuedRun.from_document(doc)
            print(f"run {queued.run_id}: claimed by {who}", flush=True)
            try:
                run = _execute(queued, observer_kwargs)
            except RefusedConfigError as exc:
                failures += 1
                fail_unrunnable(runs, queued.run_id, str(exc))
                print(f"run {queued.run_id}: FAILED, not run: {exc}", file=sys.stderr, flush=True)
            except WorkerError as exc:
                failures += 1
                skip.append(queued.run_id)
                release(runs, queued.run_id, str(exc))
                print(f"run {queued.run_id}: back to QUEUED: {exc}", file=sys.stderr, flush=True)
            except KeyboardInterrupt:
                print(f"run {queued.run_id}: interrupted; worker stops.", file=sys.stderr)
                return 130
            except Exception as exc:  # noqa: BLE001 - the run is stored as FAILED; go on
                failures += 1
                print(f"run {queued.run_id}: FAILED ({type(exc).__name__}: {exc})", flush=True)
            else:
                print(f"run {queued.run_id}: {run.status}", flush=True)
            if args.once:
                break
    except KeyboardInterrupt:
        return 130
    finally:
        client.close()
    return 1 if failures else 0
