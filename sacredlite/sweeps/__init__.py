"""Sweeps and searches of an experiment on any ``concurrent.futures.Executor``.

``sacredlite.sweep`` runs a grid (or random samples) of config updates times seeds;
``sacredlite.tune`` searches a space with Optuna. Both hand runs to an engine
(:mod:`sacredlite.engines`) and record each as an ordinary run, grouped by ``meta.sweep``.
Inside a trial, :func:`should_prune` reports intermediate values and says when to stop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from .api import sweep as sweep
    from .driver import SweepResult as SweepResult
    from .search import tune as tune
    from .trial import TrialPruned as TrialPruned
    from .trial import should_prune as should_prune

__all__ = ["SweepResult", "TrialPruned", "should_prune", "sweep", "tune"]

__getattr__ = lazy_getattr(
    __name__,
    globals(),
    {
        "SweepResult": ".driver",
        "TrialPruned": ".trial",
        "should_prune": ".trial",
        "sweep": ".api",
        "tune": ".search",
    },
)
