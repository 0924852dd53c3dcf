"""A search trial inside its run: the objective, intermediate values, pruning.

A run that ``sacredlite tune`` starts is an Optuna trial. It opts in to pruning by
reporting intermediate values where it logs them::

    from sacredlite.sweeps import TrialPruned, should_prune

    @ex.automain
    def main(lr, _run):
        for epoch in range(20):
            val_loss = train_one_epoch(lr)
            _run.log_scalar("val_loss", val_loss, epoch)
            if should_prune(_run, val_loss, epoch):
                raise TrialPruned()  # stored INTERRUPTED, info["pruned_at_step"] = epoch
        return val_loss

:func:`should_prune` reports the value to the trial (Optuna's ``trial.report``) and returns
the pruner's verdict; outside a trial (a plain ``python train.py``) it returns ``False`` and
does nothing, so the script runs unchanged. The trial's objective is the run's result, or
the last (``reduce="last"``) or best (``"best"``) value of the logged metric ``metric``.
"""

from __future__ import annotations

import math
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ..errors import SacredInterrupt
from ..events import RunStatus
from ..observers.base import RunObserver
from .plan import RunSpec, SweepCommon
from .task import NOT_RECORDED, Outcome, _last_line, attached_observers, finish, observing

__all__ = ["TrialPruned", "TrialSettings", "open_study_storage", "run_trial", "should_prune"]


class TrialPruned(SacredInterrupt):
    """Raise inside a trial's run when :func:`should_prune` says so: the run ends
    ``INTERRUPTED`` and the trial is told ``PRUNED``."""

    STATUS = RunStatus.INTERRUPTED.value


@dataclass(frozen=True)
class TrialSettings:
    """How a run is a trial: where its study lives and what its objective is.

    Args:
        study: the study's name.
        storage: an RDB URL (``sqlite:///...``, ``postgresql://...``) or a journal file path.
        metric: ``"result"`` or the name of a logged metric.
        reduce: ``"last"`` or ``"best"`` value of the metric.
        direction: ``"minimize"`` or ``"maximize"``.
        pruner: ``"median"`` or ``"none"``.
        trial_id: the trial's id in the storage (set per run).
        trial_number: the trial's number in the study (set per run; ``meta.sweep.trial``).
    """

    study: str
    storage: str
    metric: str = "result"
    reduce: str = "last"
    direction: str = "minimize"
    pruner: str = "median"
    trial_id: int | None = None
    trial_number: int | None = None


@dataclass
class _Current:
    settings: TrialSettings
    trial: Any = None
    last_report: float | None = None
    pruned_at: Any = None


_CURRENT: ContextVar[_Current | None] = ContextVar("sacredlite_trial", default=None)
_STUDIES: dict[tuple[str, str, str], Any] = {}


def open_study_storage(storage: str) -> Any:
    """Return Optuna's storage for an RDB URL, or a journal file at a path."""
    if "://" in storage:
        return storage
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return JournalStorage(JournalFileBackend(storage))


def make_pruner(name: str) -> Any:
    """Return the Optuna pruner called *name* (``median``: 3 trials first, then prune
    below the median; ``none``)."""
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"Unknown pruner {name!r}: use median or none.")


def _trial(settings: TrialSettings) -> Any:
    import optuna

    key = (settings.storage, settings.study, settings.pruner)
    study = _STUDIES.get(key)
    if study is None:
        study = optuna.load_study(
            study_name=settings.study,
            storage=open_study_storage(settings.storage),
            pruner=make_pruner(settings.pruner),
        )
        _STUDIES[key] = study
    assert settings.trial_id is not None  # noqa: S101 - set for every trial's run
    return optuna.trial.Trial(study, settings.trial_id)


def should_prune(_run: Any, value: float, step: int) -> bool:
    """Report *value* at *step* to the run's trial; return whether to stop the run.

    Outside a trial this returns ``False`` and records nothing.

    Args:
        _run: the run (the captured ``_run`` argument).
        value: the intermediate objective value (what the run also logs).
        step: the step (epoch) it belongs to.
    """
    current = _CURRENT.get()
    if current is None:
        return False
    if current.trial is None:
        current.trial = _trial(current.settings)
    current.trial.report(float(value), int(step))
    current.last_report = float(value)
    if current.trial.should_prune():
        current.pruned_at = step
        _run.info["pruned_at_step"] = step
        return True
    return False


class _MetricCollector(RunObserver):
    """Keep the values of one metric as the run sends them (lowest priority)."""

    priority = -(10**9)

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: list[float] = []

    def log_metrics(self, metrics_by_name: dict[str, Any], info: dict[str, Any]) -> None:
        series = metrics_by_name.get(self.name)
        if series:
            self.values.extend(float(v) for v in series["values"])


def _objective(settings: TrialSettings, finished: Any, collected: list[float]) -> float | None:
    if settings.metric == "result":
        value = finished.result
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    values = [v for v in collected if not math.isnan(v)]
    if not values:
        return None
    if settings.reduce == "best":
        return min(values) if settings.direction == "minimize" else max(values)
    return values[-1]


def run_trial(ex: Any, common: SweepCommon, run: RunSpec, meta: dict[str, Any]) -> Outcome:
    """Run one trial's run; return its outcome with the objective and whether it was pruned."""
    settings: TrialSettings = common.trial
    collector = _MetricCollector(settings.metric)
    current = _Current(settings)
    token = _CURRENT.set(current)
    observers = attached_observers(common.stores)
    if settings.metric != "result":
        observers.append(collector)
    ex.current_run = None
    try:
        with observing(ex, observers):
            finished = ex.run(
                common.command,
                config_updates=run.config_updates,
                named_configs=common.named_configs,
                meta_info=meta,
                options=common.run_options(run),
            )
        error = None
    except Exception as exc:  # noqa: BLE001 - a failing trial fails alone
        finished, error = ex.current_run, _last_line(exc)
        if finished is None or finished.start_time is None:
            return Outcome(run.index, None, NOT_RECORDED, error)
    finally:
        _CURRENT.reset(token)
    pruned = current.pruned_at is not None
    if pruned:
        error = None  # TrialPruned ended it, as asked
    value = current.last_report if pruned else _objective(settings, finished, collector.values)
    if value is None and error is None and not pruned:
        error = f"no objective: the run's {settings.metric!r} is not a number"
    return finish(common, run, finished, error, value, pruned)
