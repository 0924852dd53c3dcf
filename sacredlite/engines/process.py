"""The ``process`` engine: :class:`concurrent.futures.ProcessPoolExecutor`.

Worker processes start with ``forkserver`` by default (``--executor-opt
start_method=spawn|fork|forkserver``): a clean interpreter that imports the experiment
once and keeps it for every run it is given.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from . import Engine, EngineError, refuse_unknown

__all__ = ["open_engine"]


def open_engine(jobs: int | None, options: dict[str, Any]) -> Engine:
    """Start a process pool of *jobs* workers (default: the CPU count)."""
    refuse_unknown("process", options, ("start_method",))
    method = str(options.get("start_method", "forkserver"))
    if method not in multiprocessing.get_all_start_methods():
        raise EngineError(
            f"start_method {method!r} is not available here; use one of "
            f"{', '.join(multiprocessing.get_all_start_methods())}."
        )
    workers = jobs or os.cpu_count() or 1
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))
    return Engine(pool, jobs=workers, close=lambda: pool.shutdown(wait=True))
