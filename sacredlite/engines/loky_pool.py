"""The ``loky`` engine: loky's reusable process pool (joblib's backend).

Each worker imports the experiment once and runs every run it is given; the pool is shut
down when the sweep ends. ``--executor-opt timeout=SECONDS`` is how long an idle worker
lives (loky's default: 300).
"""

from __future__ import annotations

import os
from typing import Any

from . import Engine, needs, refuse_unknown

__all__ = ["open_engine"]


def open_engine(jobs: int | None, options: dict[str, Any]) -> Engine:
    """Return loky's reusable executor with *jobs* workers (default: the CPU count)."""
    refuse_unknown("loky", options, ("timeout",))
    loky = needs("loky", "loky", "loky")
    workers = jobs or os.cpu_count() or 1
    executor = loky.get_reusable_executor(max_workers=workers, **options)
    return Engine(executor, jobs=workers, close=lambda: executor.shutdown(wait=True))
