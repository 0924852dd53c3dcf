"""The engine task of a sweep: run some of its runs in this process (internal).

:func:`run_batch` is what every engine executes (a pool process, a Slurm job, a Dask or
Ray worker, or the sweeping process itself). It imports the experiment once per process
and reuses it for every run it is given, so an engine worker pays the import, the source
and dependency scan and the git lookup once, not per run. Each run is an ordinary
``ex.run`` with the sweep's options (``-F``/``-m`` as on the command line), its config
updates and ``meta.sweep``; a run that fails is recorded FAILED by its observers and
reported here, and the next run goes on.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass
from typing import Any

from .._scripts import ScriptImportError, import_script
from ..errors import SacredliteError
from .plan import ExperimentRef, RunSpec, SweepCommon, sweep_tag

__all__ = [
    "ExperimentLoadError",
    "Outcome",
    "close_stores",
    "load_experiment",
    "remember",
    "run_batch",
]

NOT_RECORDED = "NOT_RECORDED"
"""Outcome status of a run that did not start (its config was refused, its import failed)."""

_EXPERIMENTS: dict[ExperimentRef, Any] = {}
_STORES: dict[tuple[str, str], Any] = {}
_OBSERVERS: dict[str, Any] = {}


class ExperimentLoadError(SacredliteError):
    """Raise when a worker cannot import the sweep's experiment."""


@dataclass(frozen=True)
class Outcome:
    """What became of one run.

    Args:
        index: the run's index in the sweep.
        run_id: the id its observers gave it (``None``: unobserved or never started).
        status: the run's final status (``COMPLETED``, ``FAILED``, ...), or
            ``NOT_RECORDED`` / ``LOST`` when it never ran or its worker died.
        error: the last line of the error that ended it.
        value: the objective of a trial (:mod:`.tune`).
        pruned: the trial was pruned.
    """

    index: int
    run_id: Any
    status: str
    error: str | None = None
    value: float | None = None
    pruned: bool = False


def remember(ref: ExperimentRef, ex: Any) -> None:
    """Use *ex* for *ref* in this process (the sweeping process already holds it)."""
    _EXPERIMENTS[ref] = ex


def load_experiment(ref: ExperimentRef) -> Any:
    """Return the Experiment *ref* names, importing its script once per process.

    Raises:
        ExperimentLoadError: the script is missing here, fails to import, or does not
            define exactly the Experiment asked for.
    """
    ex = _EXPERIMENTS.get(ref)
    if ex is not None:
        return ex
    from ..experiment import Experiment

    if not os.path.isfile(ref.path):
        raise ExperimentLoadError(
            f"The experiment script {ref.path!r} does not exist on this worker: check out "
            "the same code at the same path on every machine of the engine."
        )
    try:
        module = import_script(ref.path, f"_sacredlite_sweep_{abs(hash(ref.path)):x}")
    except ScriptImportError as failed:
        exc = failed.cause
        if exc is None:
            raise ExperimentLoadError(f"Cannot import {ref.path!r}: not a Python file.") from None
        raise ExperimentLoadError(
            f"Importing {ref.path!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    found = {k: v for k, v in vars(module).items() if isinstance(v, Experiment)}
    if ref.name is not None:
        if ref.name not in found:
            raise ExperimentLoadError(
                f"{ref.path!r} has no Experiment named {ref.name!r}; it has "
                f"{sorted(found) or 'none'}. Name it with SCRIPT.py:VARIABLE."
            )
        ex = found[ref.name]
    elif len({id(v) for v in found.values()}) == 1:
        ex = next(iter(found.values()))
    else:
        raise ExperimentLoadError(
            f"{ref.path!r} defines {len(found)} Experiments ({sorted(found)}): name the one "
            "to sweep with SCRIPT.py:VARIABLE."
        )
    _EXPERIMENTS[ref] = ex
    return ex


def _tag(stores: tuple[tuple[str, str], ...], run_id: Any, tag: str) -> None:
    """Add the sweep's tag to the run in each store (Omniboard's ``omniboard.tags``)."""
    from ..store import open_store

    for kind, where in stores:
        store = _STORES.get((kind, where))
        if store is None:
            store = open_store(where) if kind == "file" else open_store(mongo_url=where)
            _STORES[(kind, where)] = store
        store.set_tags(run_id, [tag])


def close_stores() -> None:
    """Close the stores and observers this process opened for a sweep's runs (the sweeping
    process, at the end; an engine worker keeps them for its next task)."""
    while _STORES:
        _, store = _STORES.popitem()
        store.close()
    _OBSERVERS.clear()  # each MongoObserver closes its own client when it goes


def attached_observers(stores: tuple[tuple[str, str], ...]) -> list[Any]:
    """Return this process's MongoObserver for each MongoDB store, made once (``-m``'s)."""
    from ..commandline_options import _mongo_observer
    from ..observers.mongo_url import parse_mongo_option

    observers = []
    for kind, where in stores:
        if kind == "mongo":
            observer = _OBSERVERS.get(where)
            if observer is None:
                observer = _OBSERVERS[where] = _mongo_observer(parse_mongo_option(where), where)
            observers.append(observer)
    return observers


class observing:  # noqa: N801 - used as a context manager, like contextlib's
    """Attach *observers* to *ex* for one run (``with observing(ex, [...]):``)."""

    def __init__(self, ex: Any, observers: list[Any]) -> None:
        self.ex, self.observers = ex, observers

    def __enter__(self) -> None:
        for observer in self.observers:
            self.ex.observers.append(observer)

    def __exit__(self, *exc_info: object) -> None:
        for observer in self.observers:
            if observer in self.ex.observers:
                self.ex.observers.remove(observer)


def _last_line(exc: BaseException) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()[:500]


def _run_one(ex: Any, common: SweepCommon, run: RunSpec) -> Outcome:
    meta = {"sweep": common.meta(run)}
    if common.trial is not None:
        from .trial import run_trial

        return run_trial(ex, common, run, meta)
    ex.current_run = None
    try:
        with observing(ex, attached_observers(common.stores)):
            finished = ex.run(
                common.command,
                config_updates=run.config_updates,
                named_configs=common.named_configs,
                meta_info=meta,
                options=common.run_options(run),
            )
    except Exception as exc:  # noqa: BLE001 - a failing run fails alone
        started = ex.current_run
        if started is None or started.start_time is None:
            return Outcome(run.index, None, NOT_RECORDED, _last_line(exc))
        return finish(common, run, started, _last_line(exc))
    return finish(common, run, finished)


def finish(
    common: SweepCommon,
    run: RunSpec,
    finished: Any,
    error: str | None = None,
    value: float | None = None,
    pruned: bool = False,
) -> Outcome:
    """Tag the finished run in its stores and return its :class:`Outcome`."""
    run_id = finished._id
    if run_id is not None and common.stores:
        try:
            _tag(common.stores, run_id, sweep_tag(common.sweep_id))
        except Exception as exc:  # noqa: BLE001 - the run is recorded; the tag is a label
            error = error or f"tagging failed: {_last_line(exc)}"
    return Outcome(run.index, run_id, str(finished.status), error, value, pruned)


def run_batch(common: SweepCommon, runs: list[RunSpec]) -> list[Outcome]:
    """Run *runs* one after the other in this process; return their outcomes.

    This is the function every engine executes. A run that fails does not stop the others;
    an experiment that cannot be imported makes every run ``NOT_RECORDED`` with the reason.
    """
    try:
        ex = load_experiment(common.experiment)
    except ExperimentLoadError as exc:
        return [Outcome(run.index, None, NOT_RECORDED, str(exc)) for run in runs]
    return [_run_one(ex, common, run) for run in runs]
