"""``sacredlite tune``: search a config space with Optuna's ask/tell, runs on an engine.

Each trial is an ordinary run (all observers, ``meta.sweep`` with the study and trial
number, tag ``sweep:<id>``). The study lives in Optuna's own storage next to the runs: a
journal file ``DIR/_optuna.journal`` with ``-F DIR`` (:data:`sacredlite.formats.file.
OPTUNA_JOURNAL_FILE`), or ``--storage`` (an RDB URL such as ``sqlite:///study.db``, or a
journal file path). A second ``tune`` with the same study name continues the study: its
trials are added to the earlier ones. Up to ``--jobs`` trials run at once; each is asked
when an engine slot is free and told as soon as its run ends (``COMPLETE``, ``PRUNED``
through :func:`~sacredlite.sweeps.trial.should_prune`, or ``FAIL``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import Any

from ..errors import SacredliteError
from ..events import RunStatus
from .api import ObserverSpec, plan_sweep
from .driver import LOST
from .plan import RunSpec, SweepCommon
from .space import Distribution, SpaceError, parse_distribution
from .task import Outcome, close_stores, remember, run_batch
from .trial import TrialSettings, make_pruner, open_study_storage

__all__ = ["TuneResult", "optuna_distribution", "tune", "tune_main"]


@dataclass
class TuneResult:
    """What a search did.

    Args:
        sweep_id: the id of this search's runs (``meta.sweep.id``).
        study: the Optuna study (with every trial, earlier searches' too).
        outcomes: this search's runs, in the order they ended.
    """

    sweep_id: str
    study: Any
    outcomes: list[Outcome]

    @property
    def best_value(self) -> float:
        """The study's best objective value."""
        return float(self.study.best_value)

    @property
    def best_params(self) -> dict[str, Any]:
        """The config updates (dotted keys) of the study's best trial."""
        return dict(self.study.best_params)


def optuna_distribution(dist: Distribution) -> Any:
    """Return the Optuna distribution of a :class:`Distribution`."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if dist.kind == "choice":
        return CategoricalDistribution(list(dist.args))
    low, high = dist.args
    if dist.kind in ("uniform", "loguniform"):
        return FloatDistribution(float(low), float(high), log=dist.kind == "loguniform")
    return IntDistribution(int(low), int(high), log=dist.kind == "logint")


def _storage_path(storage: str | None, file_storage: str | None) -> str:
    if storage:
        return storage if "://" in storage else os.path.abspath(storage)
    if file_storage is None:
        raise SpaceError(
            "The study needs a place: give -F DIR (the journal goes to DIR/_optuna.journal) "
            "or --storage sqlite:///study.db (any RDB URL, or a journal file path)."
        )
    from ..formats.file import OPTUNA_JOURNAL_FILE

    os.makedirs(file_storage, exist_ok=True)
    return os.path.abspath(os.path.join(file_storage, OPTUNA_JOURNAL_FILE))


def tune(
    experiment: Any,
    *,
    space: Mapping[str, str | Distribution],
    metric: str = "result",
    reduce: str = "last",
    direction: str = "minimize",
    trials: int = 50,
    study: str | None = None,
    storage: str | None = None,
    pruner: str = "median",
    sampler_seed: int | None = None,
    config_updates: Mapping[str, Any] | None = None,
    named_configs: Sequence[str] = (),
    command: str | None = None,
    executor: Executor | str = "local",
    jobs: int | None = None,
    executor_options: Mapping[str, Any] | None = None,
    observers: Sequence[ObserverSpec] = (),
    file_storage: str | os.PathLike[str] | None = None,
    mongo_url: str | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> TuneResult:
    """Search *space* with Optuna for *trials* runs; return the study and the outcomes.

    Args:
        experiment: an Experiment defined in a script, or ``"script.py[:variable]"``.
        space: dotted config key -> distribution (``"loguniform(1e-4, 1e-1)"``,
            ``"int(16, 256)"``, ``"choice('adam', 'sgd')"``).
        metric: ``"result"`` (the run's return value) or a metric the run logs.
        reduce: the metric's ``"last"`` or ``"best"`` value is the objective.
        direction: ``"minimize"`` or ``"maximize"``.
        trials: trials to run now (added to a continued study's earlier ones).
        study: the study's name (default: the script's name); an existing study continues.
        storage: an RDB URL or a journal file path (default: ``DIR/_optuna.journal``).
        pruner: ``"median"`` or ``"none"``; runs opt in with
            :func:`~sacredlite.sweeps.should_prune`.
        sampler_seed: seed of Optuna's TPE sampler (a repeatable search).
        config_updates, named_configs, command, observers, file_storage, mongo_url:
            as for :func:`sacredlite.sweep`.
        executor, jobs, executor_options: the engine; ``jobs`` trials run at once.
        progress: called with each trial's outcome.

    .. versionadded:: 0.1
    """
    import optuna

    if direction not in ("minimize", "maximize") or reduce not in ("last", "best"):
        raise SpaceError(
            f"direction {direction!r} / reduce {reduce!r}: use minimize|maximize, last|best."
        )
    if trials < 1:
        raise SpaceError(f"--trials {trials} must be at least 1.")
    common, base, ex = plan_sweep(
        experiment,
        config_updates=config_updates,
        named_configs=named_configs,
        command=command,
        observers=observers,
        file_storage=file_storage,
        mongo_url=mongo_url,
    )
    distributions = {
        key: optuna_distribution(v if isinstance(v, Distribution) else parse_distribution(v, key))
        for key, v in space.items()
    }
    if not distributions:
        raise SpaceError("Give the space to search: --optuna KEY=DIST(...), at least one.")
    where = next((w for kind, w in common.stores if kind == "file"), None)
    settings = TrialSettings(
        study=study or os.path.splitext(os.path.basename(common.experiment.path))[0],
        storage=_storage_path(storage, where),
        metric=metric,
        reduce=reduce,
        direction=direction,
        pruner=pruner,
    )
    the_study = optuna.create_study(
        storage=open_study_storage(settings.storage),
        sampler=optuna.samplers.TPESampler(seed=sampler_seed),
        pruner=make_pruner(pruner),
        study_name=settings.study,
        direction="minimize" if direction == "minimize" else "maximize",
        load_if_exists=True,
    )
    common = dataclasses.replace(common, size=trials, trial=settings)
    if ex is not None:
        remember(common.experiment, ex)
    fixed = base[0].config_updates  # no grid: the one planned run holds the fixed updates
    outcomes = _search(
        the_study, distributions, fixed, common, executor, jobs, executor_options, trials,
        progress,
    )  # fmt: skip
    return TuneResult(common.sweep_id, the_study, outcomes)


def _search(
    study: Any,
    distributions: dict[str, Any],
    fixed: dict[str, Any],
    common: SweepCommon,
    executor: Executor | str,
    jobs: int | None,
    executor_options: Mapping[str, Any] | None,
    trials: int,
    progress: Callable[[Outcome], None] | None,
) -> list[Outcome]:
    from optuna.trial import TrialState

    from ..config.paths import deep_merge, nest_dotted_keys
    from ..engines import Engine, open_engine

    engine = (
        open_engine(executor, jobs, executor_options or {})
        if isinstance(executor, str)
        else Engine(executor, jobs=jobs)
    )
    in_flight: dict[Future[Any], Any] = {}
    outcomes: list[Outcome] = []
    asked = 0
    try:
        while asked < trials or in_flight:
            while asked < trials and len(in_flight) < max(1, engine.jobs or 1):
                trial = study.ask(distributions)
                point = dict(trial.params)
                run = RunSpec(asked, point, deep_merge(fixed, nest_dotted_keys(point)))
                settings = dataclasses.replace(
                    common.trial, trial_id=trial._trial_id, trial_number=trial.number
                )
                task = dataclasses.replace(common, trial=settings)
                future = engine.executor.submit(run_batch, task, [run])
                in_flight[future] = trial
                asked += 1
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                trial = in_flight.pop(future)
                try:
                    outcome = future.result()[0]
                except Exception as exc:  # noqa: BLE001 - the trial is told FAIL
                    outcome = Outcome(-1, None, LOST, f"{type(exc).__name__}: {exc}")
                if outcome.pruned:
                    study.tell(trial, state=TrialState.PRUNED)
                elif outcome.value is not None and outcome.status == RunStatus.COMPLETED.value:
                    study.tell(trial, outcome.value)
                else:
                    study.tell(trial, state=TrialState.FAIL)
                outcomes.append(outcome)
                if progress is not None:
                    progress(outcome)
    finally:
        engine.shutdown()
        close_stores()
    return outcomes


def _parser() -> argparse.ArgumentParser:
    from .command import _engine_arguments

    parser = argparse.ArgumentParser(
        prog="sacredlite tune SCRIPT.py[:VAR] [with UPDATE...]",
        description="Search a config space with Optuna; each trial is a recorded run.",
    )
    parser.add_argument("--optuna", action="append", default=[], metavar="KEY=DIST(...)")
    parser.add_argument("--metric", default="result", help="'result' or a logged metric")
    parser.add_argument("--reduce", default="last", choices=["last", "best"])
    parser.add_argument("--direction", default="minimize", choices=["minimize", "maximize"])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--study", help="the study's name (default: the script's name)")
    parser.add_argument("--storage", metavar="URL|PATH", help="RDB URL or journal file")
    parser.add_argument("--pruner", default="median", choices=["median", "none"])
    parser.add_argument("--sampler-seed", type=int)
    _engine_arguments(parser)
    return parser


def tune_main(argv: list[str]) -> int:
    """Run ``sacredlite tune``; return the exit code (1 if no trial completed)."""
    from ..config.updates import get_config_updates
    from ..engines import parse_engine_options
    from .command import split_updates
    from .plan import describe_point
    from .space import parse_space_option

    try:
        script, updates, rest = split_updates(argv)
        args = _parser().parse_args(rest)
        fixed, named = get_config_updates(updates)
        space = dict(parse_space_option(item, "--optuna") for item in args.optuna)
        engine_options = parse_engine_options(args.executor_opt)
    except (SacredliteError, ValueError) as exc:
        print(f"sacredlite tune: {exc}", file=sys.stderr)
        return 2
    count = [0]

    def progress(outcome: Outcome) -> None:
        count[0] += 1
        state = "PRUNED" if outcome.pruned else outcome.status
        value = f" value={outcome.value:.6g}" if outcome.value is not None else ""
        error = f"  ({outcome.error})" if outcome.error and not outcome.pruned else ""
        print(f"[{count[0]}/{args.trials}] trial run {outcome.run_id}: {state}{value}{error}",
              flush=True)  # fmt: skip

    try:
        result = tune(
            script,
            space=space,
            metric=args.metric,
            reduce=args.reduce,
            direction=args.direction,
            trials=args.trials,
            study=args.study,
            storage=args.storage,
            pruner=args.pruner,
            sampler_seed=args.sampler_seed,
            config_updates=fixed,
            named_configs=named,
            command=args.command,
            executor=args.executor,
            jobs=args.jobs,
            executor_options=engine_options,
            file_storage=args.file_storage,
            mongo_url=args.mongo_db,
            progress=progress,
        )
    except (SacredliteError, ValueError) as exc:
        print(f"sacredlite tune: {exc}", file=sys.stderr)
        return 2
    try:
        best = result.study.best_trial
    except ValueError:
        print(f"study {result.study.study_name}: no completed trial.", file=sys.stderr)
        return 1
    print(
        f"study {result.study.study_name}: {len(result.study.trials)} trials; best "
        f"{best.value:.6g} with {describe_point(best.params)} (trial {best.number})",
        flush=True,
    )
    return 0
