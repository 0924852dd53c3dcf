"""Submit a sweep's runs to an executor and gather what became of them (internal)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from typing import Any

from ..events import RunStatus
from .plan import RunSpec, SweepCommon
from .task import Outcome, run_batch

__all__ = ["LOST", "SweepResult", "chunked", "execute"]

LOST = "LOST"
"""Outcome status of a run whose engine task died or could not be submitted."""


@dataclass
class SweepResult:
    """What a sweep did: its id and one :class:`~sacredlite.sweeps.task.Outcome` per run.

    Args:
        sweep_id: the sweep's id (``meta.sweep.id``; runs are tagged ``sweep:<id>``).
        runs: the planned runs, by index.
        outcomes: what became of each run, by index (empty for a dry run).
    """

    sweep_id: str
    runs: list[RunSpec]
    outcomes: list[Outcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Return how many runs ended in each status, most frequent first."""
        return dict(Counter(outcome.status for outcome in self.outcomes).most_common())

    @property
    def ok(self) -> bool:
        """Whether every run completed."""
        return len(self.outcomes) == len(self.runs) and all(
            outcome.status == RunStatus.COMPLETED.value for outcome in self.outcomes
        )

    @property
    def run_ids(self) -> list[Any]:
        """The recorded runs' ids, by index."""
        return [outcome.run_id for outcome in self.outcomes]


def chunked(runs: Sequence[RunSpec], size: int) -> list[list[RunSpec]]:
    """Split *runs* into lists of at most *size*, in order."""
    return [list(runs[i : i + size]) for i in range(0, len(runs), size)]


def _lost(batch: list[RunSpec], exc: BaseException) -> list[Outcome]:
    reason = f"the engine task ended with {type(exc).__name__}: {exc}"[:500]
    return [Outcome(run.index, None, LOST, reason) for run in batch]


def execute(
    common: SweepCommon,
    runs: Sequence[RunSpec],
    executor: Executor,
    runs_per_task: int = 1,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Submit *runs* in tasks of *runs_per_task* to *executor*; return outcomes by index.

    A task that raises (its worker died, the engine lost it) makes its runs ``LOST``; the
    other tasks go on. *progress* is called with each outcome as it arrives.
    """
    batches = chunked(runs, max(1, runs_per_task))
    submit_all = getattr(executor, "submit_all", None)
    if submit_all is not None:  # one submission for all (a Slurm job array)
        futures: list[Future[Any]] = submit_all(run_batch, [(common, b) for b in batches])
    else:
        futures = [executor.submit(run_batch, common, batch) for batch in batches]
    by_future = dict(zip(futures, batches, strict=True))
    outcomes: dict[int, Outcome] = {}
    finished = [f for f in futures if f.done()]  # in order (the in-process engine's all)
    for future in [*finished, *as_completed(set(futures) - set(finished))]:
        batch = by_future[future]
        try:
            done = future.result()
        except Exception as exc:  # noqa: BLE001 - the task's runs are reported lost
            done = _lost(batch, exc)
        for outcome in done:
            outcomes[outcome.index] = outcome
            if progress is not None:
                progress(outcome)
    return [outcomes[run.index] for run in runs]


MAX_RUNS_PER_TASK = 16
"""The most runs one pool task carries by default: a worker's share arrives in a few
dozen tasks (cheap to send, balanced at the end), not one task per run."""


def runs_per_task(total: int, spread: bool, jobs: int | None, chunk: int | None) -> int:
    """Return how many runs one task carries.

    *chunk* if given; else all runs spread over *jobs* tasks for engines that prefer it
    (Slurm: one job per share); else about a quarter of a worker's share, at most
    :data:`MAX_RUNS_PER_TASK` (one run per task when the sweep is small). Sending runs in
    tasks of several lets a pool deliver 3-4 times more short runs per second.
    """
    if chunk is not None:
        return max(1, chunk)
    workers = max(1, jobs or 1)
    if spread:
        return max(1, math.ceil(total / workers))
    return max(1, min(MAX_RUNS_PER_TASK, total // (4 * workers)))
