"""Runs that survive preemption: submitit's checkpoint/requeue protocol, same run id.

:class:`ResumableRun` is a callable that submitit (``submitit.AutoExecutor``, Slurm, or
its ``LocalExecutor``) runs as a job. It runs an experiment script's command line in the
job's process. When the job is preempted or reaches its time limit, submitit calls
:meth:`ResumableRun.checkpoint` (on the preemption signal, ``USR2`` by default, see
``submitit.JobEnvironment``): the current run is stored INTERRUPTED with a
``meta.resume_point``, and the job is requeued as a :class:`ResumableRun` that resumes the
same run id (``--resume ID``), so its metrics and output continue::

    import submitit
    from sacredlite.preempt import ResumableRun

    executor = submitit.AutoExecutor(folder="jobs")
    executor.update_parameters(timeout_min=60, slurm_partition="gpu")
    job = executor.submit(ResumableRun("train.py", "with", "lr=0.1", "-m", "mongodb://db/exp"))

The script loads its checkpoint when ``_run.resumed`` is true (``_run.open_artifact``) and
continues its loop at ``_run.last_steps[name] + 1``. Without submitit, a Slurm job running
the script directly is stored INTERRUPTED with a resume point on SIGTERM and, when nobody
else handles it, SIGUSR1 (``#SBATCH --signal=USR1@60``); ``--resume ID`` continues it.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["ResumableRun"]


class ResumableRun:
    """Run ``python SCRIPT ARGS...`` in-process as a submitit job that can be requeued.

    Args:
        script: the experiment script (its ``automain`` does not fire on import).
        *args: its command-line arguments (``with ...``, ``-F DIR``, ``-m URL``, ...).
        resume: the run id to resume (set by :meth:`checkpoint` for the requeued job).

    Calling it returns ``{"run_id", "status", "result"}`` of the finished run.
    """

    def __init__(self, script: str | os.PathLike[str], *args: str, resume: Any = None) -> None:
        self.script = os.fspath(script)
        self.args = tuple(str(a) for a in args)
        self.resume = resume
        self._experiment: Any = None  # the loaded experiment, in the job's process only

    def argv(self) -> list[str]:
        """The command line the job runs (with ``--resume ID`` once requeued)."""
        resume = [] if self.resume is None else ["--resume", str(self.resume)]
        return [self.script, *self.args, *resume]

    def __call__(self) -> dict[str, Any]:
        """Run the script's command line; return the run's id, status and result."""
        import sys

        from .worker import load_experiment

        self._experiment = load_experiment(self.script, purpose="a submitit job")
        sys.argv = self.argv()  # the job's process runs this command line (meta.resumes)
        run = self._experiment.run_commandline(sys.argv)
        if run is None:
            return {"run_id": None, "status": None, "result": None}
        return {"run_id": run._id, "status": str(run.status), "result": run.result}

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        """Mark the current run preempted and return the submission that resumes it
        (submitit calls this on the preemption signal, then requeues the job)."""
        from submitit.helpers import DelayedSubmission

        run = getattr(self._experiment, "current_run", None)
        if run is None or run._id is None or run.stop_time is not None:
            return DelayedSubmission(ResumableRun(self.script, *self.args, resume=self.resume))
        run.preempt("preempted")
        return DelayedSubmission(ResumableRun(self.script, *self.args, resume=run._id))

    def __getstate__(self) -> dict[str, Any]:
        return {"script": self.script, "args": self.args, "resume": self.resume}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _experiment=None)

    def __repr__(self) -> str:
        return f"ResumableRun({' '.join(self.argv())!r})"
