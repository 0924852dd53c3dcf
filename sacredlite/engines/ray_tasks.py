"""The ``ray`` engine: each task a ``ray.remote`` call, seen as a ``concurrent.futures``
future (Ray offers no Executor of its own).

Without ``--executor-opt address=...`` a local Ray is started with ``--jobs`` CPUs (no
dashboard) and shut down when the sweep ends; with ``address=auto`` or ``ray://HOST:10001``
the running cluster is used and left running. Each task asks for one CPU
(``num_cpus=...`` changes that).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from . import Engine, needs, refuse_unknown

__all__ = ["RayExecutor", "open_engine"]


class RayExecutor(Executor):
    """A ``concurrent.futures.Executor`` submitting each call as a Ray task.

    Args:
        num_cpus: CPUs each task asks for.
    """

    def __init__(self, num_cpus: float = 1) -> None:
        self.num_cpus = num_cpus
        self._remote: dict[Callable[..., Any], Any] = {}

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` as a Ray task; return its future."""
        import ray

        remote = self._remote.get(fn)
        if remote is None:
            remote = self._remote[fn] = ray.remote(num_cpus=self.num_cpus)(fn)
        future: Future[Any] = remote.remote(*args, **kwargs).future()
        return future


def open_engine(jobs: int | None, options: dict[str, Any]) -> Engine:
    """Start (or connect to) Ray and return an executor over its tasks."""
    refuse_unknown("ray", options, ("address", "num_cpus"))
    ray = needs("ray", "ray", "ray")
    started = False
    if not ray.is_initialized():
        address = options.get("address")
        if address is None:
            ray.init(
                num_cpus=jobs or 2,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        else:
            ray.init(address=str(address), log_to_driver=False)
        started = True
    executor = RayExecutor(float(options.get("num_cpus", 1)))
    return Engine(executor, jobs=jobs, close=ray.shutdown if started else None)
