"""A submitit job preempted mid-run is requeued and resumes the same run id (submitit's
real LocalExecutor, its job environment's signal handler and its controller's requeue).

The preemption signal (``LocalJobEnvironment._usr_sig()``, USR2) is sent to the job's task
process, as Slurm signals a job's processes: ``LocalJob._interrupt()`` of submitit 1.5
signals the local controller, which does not forward USR2 (it would end the controller
and leave the task running unpreempted).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from sacredlite.formats.file import read_metrics
from sacredlite.preempt import ResumableRun

submitit = pytest.importorskip("submitit", reason="pip install 'sacredlite[test]'")

SCRIPT = """
import time
from sacredlite import Experiment

ex = Experiment("preemptible")


@ex.config
def cfg():
    steps = 8


@ex.automain
def main(steps, _run):
    for step in range(_run.last_steps.get("loss", -1) + 1, steps):
        _run.log_scalar("loss", 1.0 / (step + 1))
        print(f"step {step} resumed={_run.resumed}", flush=True)
        time.sleep(0.05 if _run.resumed else 0.5)
    return steps
"""


def test_preempted_job_resumes_the_same_run(tmp_path: Path) -> None:
    """Preemption stores INTERRUPTED with a resume point; the requeued job resumes the
    run under the same id and the metrics are stitched without gap or duplicate."""
    script = tmp_path / "preemptible.py"
    script.write_text(SCRIPT)
    runs = tmp_path / "runs"
    executor = submitit.LocalExecutor(folder=tmp_path / "jobs")
    executor.update_parameters(timeout_min=2)
    job = executor.submit(ResumableRun(script, "-F", str(runs), "-C", "sys"))
    deadline = time.monotonic() + 60
    while len(read_metrics(runs / "1").get("loss", {}).get("steps", [])) < 2:
        assert time.monotonic() < deadline, job.stderr()
        assert job.state in ("RUNNING", "UNKNOWN", "PENDING"), job.stderr()
        time.sleep(0.1)
    _preempt(job)
    result = job.result()
    assert result["run_id"] == "1" and result["status"] == "COMPLETED", job.stderr()
    assert sorted(p.name for p in runs.iterdir()) == ["1", "_sources"]
    run = json.loads((runs / "1" / "run.json").read_text())
    assert run["status"] == "COMPLETED" and run["result"] == 8
    [resume] = run["meta"]["resumes"]
    assert resume["previous_status"] == "INTERRUPTED"
    assert resume["argv"] == [str(script), "-F", str(runs), "-C", "sys", "--resume", "1"]
    point = resume["resume_point"]
    assert point["reason"] == "preempted"
    steps = read_metrics(runs / "1")["loss"]["steps"]
    assert steps == list(range(8))  # stitched: no gap, no duplicate
    assert point["last_steps"]["loss"] == steps[point["last_steps"]["loss"]] >= 1
    assert "Requeued job" in job.stderr()


def _preempt(job) -> None:
    """Send the preemption signal to the job's task process."""
    import psutil
    from submitit.local.local import LocalJobEnvironment

    [task] = psutil.Process(job._process.pid).children()
    os.kill(task.pid, LocalJobEnvironment._usr_sig())
