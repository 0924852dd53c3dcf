"""``sacredlite.sweep(...)``: run a grid or sampled sweep of an experiment on any Executor."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

from .driver import SweepResult, execute, runs_per_task
from .plan import ExperimentRef, RunSpec, SweepCommon, build_runs, new_sweep_id, observer_options
from .space import Distribution, SpaceError, parse_distribution, seed_values
from .task import Outcome, close_stores, remember

__all__ = ["experiment_ref", "resolve_observers", "sweep"]

ObserverSpec = str | os.PathLike[str] | Any
"""A sweep's observer: a file storage directory, a MongoDB URL / ``-m`` value, or a
``FileStorageObserver`` (its directory is used)."""


def experiment_ref(experiment: Any) -> tuple[ExperimentRef, Any]:
    """Return ``(reference, Experiment or None)`` for an Experiment or ``"script.py[:var]"``."""
    if isinstance(experiment, str | os.PathLike):
        path, name = os.fspath(experiment), None
        if not os.path.exists(path) and ":" in path:  # SCRIPT.py:VARIABLE
            path, _, name = path.rpartition(":")
        if not os.path.isfile(path):
            raise SpaceError(f"The experiment script {path!r} does not exist.")
        return ExperimentRef(os.path.abspath(path), name or None), None
    return ExperimentRef.of(experiment), experiment


def resolve_observers(
    observers: Sequence[ObserverSpec], file_storage: Any = None, mongo_url: str | None = None
) -> tuple[str | None, str | None]:
    """Return ``(file storage dir, MongoDB URL)`` from *observers* and the explicit ones."""
    for spec in observers:
        if isinstance(spec, str) and (spec.startswith("mongodb") or spec.count(":") >= 1):
            location: tuple[str, Any] = ("mongo", spec)
        elif isinstance(spec, str | os.PathLike):
            location = ("file", os.fspath(spec))
        elif hasattr(spec, "basedir"):
            location = ("file", spec.basedir)
        else:
            raise SpaceError(
                f"A sweep's observer must be a directory, a MongoDB URL or a "
                f"FileStorageObserver, not {type(spec).__name__}: workers build their own "
                "observers from it."
            )
        current = file_storage if location[0] == "file" else mongo_url
        if current is not None and current != location[1]:
            raise SpaceError(f"A sweep stores into one {location[0]} location, got two.")
        if location[0] == "file":
            file_storage = location[1]
        else:
            mongo_url = location[1]
    return (os.fspath(file_storage) if file_storage is not None else None), mongo_url


def _distributions(space: Mapping[str, str | Distribution] | None) -> dict[str, Distribution]:
    return {
        key: value if isinstance(value, Distribution) else parse_distribution(value, key)
        for key, value in (space or {}).items()
    }


def plan_sweep(
    experiment: Any,
    *,
    grid: Mapping[str, Sequence[Any]] | None = None,
    seeds: int | Sequence[int] | str | None = None,
    space: Mapping[str, str | Distribution] | None = None,
    samples: int | None = None,
    sample_seed: int | None = None,
    config_updates: Mapping[str, Any] | None = None,
    named_configs: Sequence[str] = (),
    command: str | None = None,
    observers: Sequence[ObserverSpec] = (),
    file_storage: str | os.PathLike[str] | None = None,
    mongo_url: str | None = None,
    trial: Any = None,
) -> tuple[SweepCommon, list[RunSpec], Any]:
    """Return ``(common settings, runs, Experiment object or None)`` of a sweep."""
    ref, ex = experiment_ref(experiment)
    for key, values in (grid or {}).items():
        if isinstance(values, str) or not isinstance(values, Sequence) or not values:
            raise SpaceError(f"The grid axis {key!r} must be a non-empty list, got {values!r}.")
    runs = build_runs(
        dict(config_updates or {}),
        grid,
        seed_values(seeds),
        _distributions(space),
        samples,
        sample_seed,
    )
    where = resolve_observers(observers, file_storage, mongo_url)
    options, stores = observer_options(*where)
    common = SweepCommon(
        new_sweep_id(), len(runs), ref, command, tuple(named_configs), options, stores, trial
    )
    return common, runs, ex


def run_planned(
    common: SweepCommon,
    runs: list[RunSpec],
    ex: Any,
    executor: Executor | str,
    jobs: int | None = None,
    executor_options: Mapping[str, Any] | None = None,
    tasks_of: int | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Start the engine (or use the given executor), run the plan and return outcomes."""
    from ..engines import Engine, open_engine

    if ex is not None:
        remember(common.experiment, ex)  # the in-process engine reuses the object
    if isinstance(executor, str):
        engine = open_engine(executor, jobs, executor_options or {})
    else:
        engine = Engine(executor, jobs=jobs)
    try:
        size = runs_per_task(len(runs), engine.spread, engine.jobs, tasks_of)
        return execute(common, runs, engine.executor, size, progress)
    finally:
        engine.shutdown()
        close_stores()


def sweep(
    experiment: Any,
    *,
    grid: Mapping[str, Sequence[Any]] | None = None,
    seeds: int | Sequence[int] | None = None,
    space: Mapping[str, str | Distribution] | None = None,
    samples: int | None = None,
    sample_seed: int | None = None,
    config_updates: Mapping[str, Any] | None = None,
    named_configs: Sequence[str] = (),
    command: str | None = None,
    executor: Executor | str = "local",
    jobs: int | None = None,
    executor_options: Mapping[str, Any] | None = None,
    observers: Sequence[ObserverSpec] = (),
    file_storage: str | os.PathLike[str] | None = None,
    mongo_url: str | None = None,
    runs_per_task: int | None = None,
    dry_run: bool = False,
    via_queue: bool = False,
    progress: Callable[[Outcome], None] | None = None,
) -> SweepResult:
    """Run every point of a grid (or *samples* random points) times every seed.

    Each run is an ordinary run of *experiment* with its config updates, recorded by the
    observers (``-F``/``-m`` as on the command line, made on the worker) with
    ``meta.sweep = {"id", "index", "point", "size"}`` and the Omniboard tag ``sweep:<id>``.
    A failing run fails alone.

    Args:
        experiment: an Experiment defined in a script, or ``"script.py[:variable]"``;
            workers import it from its script.
        grid: dotted config key -> values; the sweep covers their product.
        seeds: a count (``5``: seeds 0-4) or the seeds; each point runs once per seed.
        space: dotted key -> distribution (``"loguniform(1e-4, 1e-1)"``) to sample.
        samples: how many points to draw from *space*.
        sample_seed: the seed of the draw (a sweep is repeatable with it).
        config_updates: updates every run gets (``with`` on the command line).
        named_configs: named configs every run uses.
        command: the command to run instead of main.
        executor: any ``concurrent.futures.Executor``, or an engine name of
            :mod:`sacredlite.engines` (``local``, ``process``, ``loky``, ``slurm``, ``dask``,
            ``ray``), started and shut down here.
        jobs: parallel tasks of a named engine.
        executor_options: options of a named engine (``{"address": ...}``).
        observers: file storage directories, MongoDB URLs or ``FileStorageObserver``\\ s.
        file_storage: a file storage directory (``-F``).
        mongo_url: a MongoDB URL or ``-m`` value.
        runs_per_task: runs one engine task carries (default: one; Slurm: an equal share
            per job).
        dry_run: plan only; the result lists the runs and has no outcomes.
        via_queue: queue the runs in MongoDB (*mongo_url*) and start *jobs* (default 2)
            ``sacredlite worker`` tasks on the engine to drain the queue.
        progress: called with each run's outcome as it arrives.

    .. versionadded:: 0.1
    """
    common, runs, ex = plan_sweep(
        experiment,
        grid=grid,
        seeds=seeds,
        space=space,
        samples=samples,
        sample_seed=sample_seed,
        config_updates=config_updates,
        named_configs=named_configs,
        command=command,
        observers=observers,
        file_storage=file_storage,
        mongo_url=mongo_url,
    )
    result = SweepResult(common.sweep_id, runs)
    if via_queue and not dry_run:
        from .queue import sweep_via_queue

        if ex is not None:
            remember(common.experiment, ex)
        result.outcomes = sweep_via_queue(common, runs, executor, jobs, executor_options, progress)
    elif not dry_run:
        result.outcomes = run_planned(
            common, runs, ex, executor, jobs, executor_options, runs_per_task, progress
        )
    return result
