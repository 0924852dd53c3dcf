"""A sweep's plan: which experiment, which runs, how each is recorded (internal).

The plan is plain, picklable data: it travels to engine workers (processes, Slurm jobs,
Dask and Ray workers), which import the experiment by its script path and variable name
(:class:`ExperimentRef`) and run each :class:`RunSpec` as an ordinary run.

Each run stores ``meta.sweep = {"id", "index", "point", "size"}`` (the point nested like
config updates) (an extra meta field
Sacred's readers ignore) and, once it has an id, the Omniboard tag ``sweep:<id>``, so the
board and Omniboard group a sweep's runs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .space import Distribution, SpaceError, grid_points, sample_points

__all__ = [
    "ExperimentRef",
    "RunSpec",
    "SweepCommon",
    "build_runs",
    "describe_point",
    "new_sweep_id",
    "observer_options",
    "sweep_tag",
]


@dataclass(frozen=True)
class ExperimentRef:
    """Where a worker finds the experiment: a script path and the variable naming it.

    Args:
        path: the script's absolute path (the same checkout must exist on every worker).
        name: the module-level variable holding the Experiment; ``None``: the only one.
    """

    path: str
    name: str | None = None

    @classmethod
    def of(cls, ex: Any) -> ExperimentRef:
        """Return the reference of an Experiment object defined in a script."""
        path = getattr(ex, "mainfile", None)
        if not path:
            raise SpaceError(
                f"The experiment {ex.path!r} has no main file (interactive mode): a sweep's "
                "workers import the experiment from its script; define it in a .py file."
            )
        names = [k for k, v in getattr(ex, "caller_globals", {}).items() if v is ex]
        return cls(os.path.abspath(path), names[0] if names else None)


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its index, its point (dotted key -> value) and config updates."""

    index: int
    point: dict[str, Any]
    config_updates: dict[str, Any]


@dataclass(frozen=True)
class SweepCommon:
    """What every run of a sweep shares.

    Args:
        sweep_id: the sweep's id (``meta.sweep.id``, tag ``sweep:<id>``).
        size: the number of runs in the sweep.
        experiment: where workers import the experiment from.
        command: the command to run (``None``: the experiment's main).
        named_configs: named configs every run uses.
        options: the command-line options of every run (``{"--file_storage": DIR}``),
            stored in ``meta.options`` as the command line stores them.
        stores: ``("file", DIR)`` / ``("mongo", URL)``: where the runs land (a MongoDB
            observer is attached per worker process) and are tagged.
        trial: the search's settings when the runs are trials (:mod:`.tune`).
    """

    sweep_id: str
    size: int
    experiment: ExperimentRef
    command: str | None = None
    named_configs: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    stores: tuple[tuple[str, str], ...] = ()
    trial: Any = None

    def run_options(self, run: RunSpec) -> dict[str, Any]:
        """Return the run's options as ``python script.py [COMMAND] with UPDATE... -F DIR``
        records them (``meta.options``: the same keys as a command-line run)."""
        from ..config.paths import iterate_flattened

        updates = [*self.named_configs]
        updates += [f"{key}={value!r}" for key, value in iterate_flattened(run.config_updates)]
        return {
            **self.options,
            "COMMAND": self.command,
            "UPDATE": updates,
            "help": False,
            "with": bool(updates),
        }

    def meta(self, run: RunSpec) -> dict[str, Any]:
        """Return the run's ``meta.sweep`` entry (a trial's adds ``study`` and ``trial``).

        The point is nested (``{"model": {"width": 64}}``, as config updates are): MongoDB
        keys cannot hold dots.
        """
        from ..config.paths import nest_dotted_keys

        point = nest_dotted_keys(run.point)
        entry = {"id": self.sweep_id, "index": run.index, "point": point, "size": self.size}
        if self.trial is not None:
            entry["study"] = self.trial.study
            entry["trial"] = self.trial.trial_number
        return entry


def new_sweep_id() -> str:
    """Return a new sweep id: 12 hex digits."""
    return uuid.uuid4().hex[:12]


def sweep_tag(sweep_id: str) -> str:
    """Return the Omniboard tag of a sweep's runs."""
    return f"sweep:{sweep_id}"


def observer_options(
    file_storage: str | os.PathLike[str] | None, mongo_url: str | None
) -> tuple[dict[str, Any], tuple[tuple[str, str], ...]]:
    """Return the runs' observer options and the stores they land in.

    ``-F DIR`` is given to each run as the command line gives it. MongoDB is not: each
    worker process keeps one MongoObserver (one client) for all its runs
    (:func:`sacredlite.sweeps.task.attached_observers`), because a client per run costs more
    than the run (connections, monitor threads); such a run's ``meta.options`` shows
    ``--mongo_db`` unset, as a run with an observer attached in Python does.
    """
    options: dict[str, Any] = {}
    stores: list[tuple[str, str]] = []
    if file_storage is not None:
        options["--file_storage"] = os.fspath(file_storage)
        stores.append(("file", os.path.abspath(file_storage)))
    if mongo_url is not None:
        stores.append(("mongo", mongo_url))
    return options, tuple(stores)


def _merge(fixed: Mapping[str, Any], point: Mapping[str, Any]) -> dict[str, Any]:
    from ..config.paths import deep_merge, nest_dotted_keys

    return deep_merge(fixed, nest_dotted_keys(point))


def build_runs(
    fixed: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]] | None = None,
    seeds: Sequence[int] | None = None,
    space: Mapping[str, Distribution] | None = None,
    samples: int | None = None,
    sample_seed: int | None = None,
) -> list[RunSpec]:
    """Return the runs: every grid point (or *samples* points drawn from *space*, each
    joined with the grid's points) times every seed; *fixed* updates go under each.
    """
    points = list(grid_points(grid or {}))
    if space:
        if not samples or samples < 1:
            raise SpaceError("--space needs --sample N (N > 0): how many points to draw.")
        drawn = sample_points(space, samples * len(points), sample_seed)
        points = [{**p, **d} for p, d in zip(points * samples, drawn, strict=True)]
    elif samples:
        raise SpaceError("--sample N needs at least one --space KEY=DIST(...) to draw from.")
    if seeds is not None:
        points = [{**p, "seed": s} for p in points for s in seeds]
    return [RunSpec(i, p, _merge(fixed, p)) for i, p in enumerate(points)]


def describe_point(point: Mapping[str, Any]) -> str:
    """Return ``lr=0.1 model.width=64 seed=0``: a point as ``with`` arguments."""
    return " ".join(f"{key}={value!r}" for key, value in point.items()) or "(no updates)"
