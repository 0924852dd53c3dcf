"""The ``slurm`` engine: submitit's ``AutoExecutor`` (Slurm, or this machine).

Each task is one Slurm job carrying an equal share of the runs (``--jobs`` jobs, submitted
as one job array). Options go to ``update_parameters``: submitit's own names
(``timeout_min``, ``mem_gb``, ``cpus_per_task``, ``gpus_per_node``, ``slurm_partition``, ...)
as they are, and a bare Slurm name is prefixed (``partition=gpu`` is ``slurm_partition``).
``folder=DIR`` is where submitit keeps its job files and logs (default
``./submitit_logs``); ``cluster=local`` runs the same submission path on this machine
(submitit's ``LocalExecutor``, what the tests use), ``cluster=debug`` in this process.

submitit's jobs are not ``concurrent.futures`` futures: :class:`SubmititExecutor` turns each
into one, completed by a thread that polls the jobs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from typing import Any

from . import Engine, EngineError, needs

__all__ = ["SubmititExecutor", "open_engine"]

POLL_SECONDS = 0.25
"""How often the jobs' states are checked."""

_GENERIC = {
    "timeout_min", "mem_gb", "nodes", "cpus_per_task", "gpus_per_node", "tasks_per_node",
    "stderr_to_stdout", "name",
}  # fmt: skip


class SubmititExecutor(Executor):
    """A ``concurrent.futures.Executor`` over a submitit executor.

    Args:
        inner: a ``submitit.AutoExecutor``, ``SlurmExecutor`` or ``LocalExecutor``.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._pending: list[tuple[Any, Future[Any]]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._poller = threading.Thread(target=self._poll, name="submitit-poll", daemon=True)
        self._poller.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Submit one job; return a future of its result."""
        return self._track([self.inner.submit(fn, *args, **kwargs)])[0]

    def submit_all(
        self, fn: Callable[..., Any], argument_lists: Iterable[tuple[Any, ...]]
    ) -> list[Future[Any]]:
        """Submit one job per argument tuple, as one job array; return their futures."""
        with self.inner.batch():
            jobs = [self.inner.submit(fn, *arguments) for arguments in argument_lists]
        return self._track(jobs)

    def _track(self, jobs: list[Any]) -> list[Future[Any]]:
        futures: list[Future[Any]] = [Future() for _ in jobs]
        for future in futures:
            future.set_running_or_notify_cancel()
        with self._lock:
            self._pending.extend(zip(jobs, futures, strict=True))
        self._wake.set()
        return futures

    def _poll(self) -> None:
        while not self._closed:
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            with self._lock:
                pending = list(self._pending)
            for job, future in pending:
                if not job.done():
                    continue
                try:
                    future.set_result(job.result())
                except Exception as exc:  # noqa: BLE001 - the job's failure goes to its future
                    future.set_exception(exc)
                with self._lock:
                    self._pending.remove((job, future))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop polling (after the pending jobs finished, when *wait*)."""
        if wait and not cancel_futures:
            with self._lock:
                futures = [future for _, future in self._pending]
            for future in futures:
                future.exception()
        if cancel_futures:
            with self._lock:
                for job, _ in self._pending:
                    job.cancel(check=False)
        self._closed = True
        self._wake.set()
        self._poller.join()


def open_engine(jobs: int | None, options: dict[str, Any]) -> Engine:
    """Make an ``AutoExecutor`` from *options*; one job per ``--jobs`` (default 1)."""
    submitit = needs("submitit", "submitit", "slurm")
    options = dict(options)
    folder = str(options.pop("folder", "submitit_logs"))
    cluster = options.pop("cluster", None)
    try:
        auto = submitit.AutoExecutor(folder=folder, cluster=cluster)
    except (ValueError, RuntimeError) as exc:
        raise EngineError(
            f"submitit cannot start its executor ({exc}); on a machine without Slurm use "
            "--executor-opt cluster=local."
        ) from exc
    parameters = {
        key if key in _GENERIC or "_" in key and key.split("_")[0] in ("slurm", "local")
        else f"slurm_{key}": value
        for key, value in options.items()
    }  # fmt: skip
    parameters.setdefault("slurm_array_parallelism", jobs or 1)
    if auto.cluster != "slurm":
        parameters = {k: v for k, v in parameters.items() if not k.startswith("slurm_")}
    try:
        auto.update_parameters(**parameters)
    except (ValueError, NameError, TypeError) as exc:
        raise EngineError(f"submitit refuses the options {parameters}: {exc}") from exc
    executor = SubmititExecutor(auto)
    return Engine(executor, spread=True, jobs=jobs or 1, close=executor.shutdown)
