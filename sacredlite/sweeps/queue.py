"""``sacredlite sweep --via-queue -m URL``: queue the runs in MongoDB, drain them on an engine.

The runs are queued here exactly as ``-q`` queues a run (status ``QUEUED``, the config,
``meta.sweep`` and the tag ``sweep:<id>``); then ``--jobs`` engine tasks (Slurm jobs, Dask
or Ray tasks, pool processes, or this process) each run ``sacredlite worker -m URL
--experiment NAME --until-empty``, which claims queued runs through the queue's atomic
claim (:func:`sacredlite.formats.mongo.claim_next`), so no run is executed twice and a
worker that starts late or dies leaves the rest to the others. Workers claim any queued
run of the experiment, this sweep's first among equals by age. When every worker stopped,
the runs' statuses are read back from the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future, as_completed
from typing import Any

from ..errors import SacredliteError
from ..events import RunStatus
from .driver import LOST
from .plan import RunSpec, SweepCommon, sweep_tag
from .task import (
    NOT_RECORDED,
    Outcome,
    _last_line,
    _tag,
    attached_observers,
    close_stores,
    load_experiment,
    observing,
)

__all__ = ["drain_queue", "queue_runs", "sweep_via_queue"]


def drain_queue(mongo_url: str, experiment: str) -> int:
    """The engine task: run ``sacredlite worker`` here until the queue is empty."""
    from ..worker import main

    return main(["-m", mongo_url, "--experiment", experiment, "--until-empty", "--poll", "1"])


def queue_runs(common: SweepCommon, runs: list[RunSpec]) -> list[Outcome]:
    """Queue every run in the sweep's MongoDB; return their outcomes (``QUEUED`` with ids)."""
    ex = load_experiment(common.experiment)
    queued: list[Outcome] = []
    for run in runs:
        ex.current_run = None
        try:
            with observing(ex, attached_observers(common.stores)):
                done = ex.run(
                    common.command,
                    config_updates=run.config_updates,
                    named_configs=common.named_configs,
                    meta_info={"sweep": common.meta(run)},
                    options={**common.run_options(run), "--queue": True},
                )
        except Exception as exc:  # noqa: BLE001 - a run that cannot be queued fails alone
            queued.append(Outcome(run.index, None, NOT_RECORDED, _last_line(exc)))
            continue
        _tag(common.stores, done._id, sweep_tag(common.sweep_id))
        queued.append(Outcome(run.index, done._id, str(done.status)))
    return queued


def _final_statuses(mongo_url: str, queued: list[Outcome]) -> list[Outcome]:
    from ..store import open_store

    store = open_store(mongo_url=mongo_url, read_only=True)
    try:
        finished = []
        for outcome in queued:
            if outcome.run_id is None:
                finished.append(outcome)
                continue
            status = str(store.run(outcome.run_id).get("status"))
            finished.append(Outcome(outcome.index, outcome.run_id, status, outcome.error))
        return finished
    finally:
        store.close()


def sweep_via_queue(
    common: SweepCommon,
    runs: list[RunSpec],
    executor: Any,
    jobs: int | None,
    executor_options: Mapping[str, Any] | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Queue *runs*, start *jobs* (default 2) workers on the engine, return the outcomes."""
    from ..engines import Engine, open_engine

    mongo_url = next((where for kind, where in common.stores if kind == "mongo"), None)
    if mongo_url is None:
        raise SacredliteError("--via-queue queues the runs in MongoDB: give -m URL.")
    experiment = load_experiment(common.experiment).path
    try:
        queued = queue_runs(common, runs)
    finally:
        close_stores()
    workers = jobs or 2
    engine = (
        open_engine(executor, workers, executor_options or {})
        if isinstance(executor, str)
        else Engine(executor, jobs=workers)
    )
    try:
        futures: list[Future[Any]] = [
            engine.executor.submit(drain_queue, mongo_url, experiment) for _ in range(workers)
        ]
        lost = None
        for future in as_completed(futures):
            try:
                future.result()
            except Exception as exc:  # noqa: BLE001 - the other workers drain the rest
                lost = f"a worker task ended with {type(exc).__name__}: {exc}"
    finally:
        engine.shutdown()
    outcomes = _final_statuses(mongo_url, queued)
    if lost is not None:
        outcomes = [
            o if o.status != RunStatus.QUEUED.value else Outcome(o.index, o.run_id, LOST, lost)
            for o in outcomes
        ]
    for outcome in outcomes:
        if progress is not None:
            progress(outcome)
    return outcomes
