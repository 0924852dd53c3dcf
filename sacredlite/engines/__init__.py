"""Engines that execute a sweep's runs, all behind ``concurrent.futures.Executor``.

sacredlite schedules nothing itself: it builds the list of runs and submits them to an
executor. Any :class:`concurrent.futures.Executor` works from Python; by name (``sacredlite
sweep --executor NAME``) these adapters are built, each in its own module and importing its
engine only when used:

============  =====================================================  ======================
name          engine                                                 ``--executor-opt``
============  =====================================================  ======================
``local``     this process, one run after the other                  (none)
``process``   :class:`concurrent.futures.ProcessPoolExecutor`        ``start_method``
``loky``      ``loky.get_reusable_executor`` (worker processes kept)  ``timeout``
``slurm``     ``submitit.AutoExecutor`` (Slurm; ``cluster=local``    ``folder``, ``cluster``,
              runs the same path on this machine)                    ``partition``, any
                                                                     submitit parameter
``dask``      ``distributed.Client(...).get_executor()``: a          ``address``
              ``LocalCluster`` of ``--jobs`` processes, or a
              running scheduler
``ray``       tasks of ``ray.remote`` (a local Ray, or a cluster)    ``address``, ``num_cpus``
============  =====================================================  ======================

:func:`open_engine` returns an :class:`Engine`: the executor, how many runs one task
should carry, and how to shut down what was started.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from ..errors import SacredliteError

__all__ = ["ENGINES", "Engine", "EngineError", "open_engine", "parse_engine_options"]

ENGINES: dict[str, str] = {
    "local": "sacredlite.engines.local",
    "process": "sacredlite.engines.process",
    "loky": "sacredlite.engines.loky_pool",
    "slurm": "sacredlite.engines.slurm",
    "dask": "sacredlite.engines.dask_cluster",
    "ray": "sacredlite.engines.ray_tasks",
}
"""Engine name -> the module whose ``open_engine(jobs, options)`` builds it."""


class EngineError(SacredliteError):
    """Raise when an engine cannot be started or is given options it does not take."""


@dataclass
class Engine:
    """A started engine.

    Args:
        executor: where runs are submitted.
        spread: give each task an equal share of the runs (one task per job, as Slurm
            jobs prefer) instead of one run per task.
        jobs: how many tasks run at once (``--jobs``), when known.
        close: shuts down what :func:`open_engine` started (not a given executor).
    """

    executor: Executor
    spread: bool = False
    jobs: int | None = None
    close: Any = None

    def shutdown(self) -> None:
        """Shut down what was started for this engine."""
        if self.close is not None:
            self.close()


def parse_engine_options(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Return ``{KEY: value}`` of ``--executor-opt KEY=VALUE`` (values read as data)."""
    from ..config.updates import convert_value

    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise EngineError(
                f"--executor-opt {item!r} is not KEY=VALUE: e.g. --executor-opt timeout_min=60."
            )
        options[key.strip()] = convert_value(value.strip())
    return options


def needs(package: str, module: str, engine: str) -> Any:
    """Import *module* for *engine* or fail naming what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EngineError(
            f"The {engine!r} engine needs {package}: pip install 'sacredlite[engines]' "
            f"({type(exc).__name__}: {exc})."
        ) from exc


def refuse_unknown(engine: str, options: Mapping[str, Any], known: tuple[str, ...]) -> None:
    """Raise :class:`EngineError` for an option *engine* does not take."""
    unknown = sorted(set(options) - set(known))
    if unknown:
        from ..errors import suggest

        accepted = ", ".join(known) or "none"
        raise EngineError(
            f"The {engine!r} engine takes no option {unknown[0]!r} (accepted: {accepted})."
            f"{suggest(unknown[0], known)}"
        )


def open_engine(
    name: str, jobs: int | None = None, options: Mapping[str, Any] | None = None
) -> Engine:
    """Start the engine called *name* with *jobs* parallel tasks and its *options*.

    Raises:
        EngineError: an unknown name, a missing package, an option it does not take.
    """
    home = ENGINES.get(name)
    if home is None:
        from ..errors import suggest

        raise EngineError(
            f"Unknown executor {name!r}; known: {', '.join(ENGINES)}.{suggest(name, ENGINES)}"
        )
    if jobs is not None and jobs < 1:
        raise EngineError(f"--jobs {jobs} must be at least 1.")
    module = importlib.import_module(home)
    engine: Engine = module.open_engine(jobs, dict(options or {}))
    return engine
