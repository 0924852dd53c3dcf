"""A worker killed mid-run: another worker re-queues the run once and finishes it under the
same id (real worker processes, SIGKILL, a real MongoDB-wire server)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from checkout import THIS_CHECKOUT

from sacredlite.formats.mongo import read_metric, requeue_dead

SCRIPT = """
import time
from sacredlite import Experiment
from sacredlite.settings import SETTINGS

SETTINGS.DEFAULT_BEAT_INTERVAL = 0.2  # metrics reach MongoDB at each heartbeat
ex = Experiment("long_job")


@ex.config
def cfg():
    steps = 8


@ex.automain
def main(steps, _run):
    for step in range(_run.last_steps.get("loss", -1) + 1, steps):
        _run.log_scalar("loss", float(step))
        print(f"step {step} resumed={_run.resumed}")
        time.sleep(0.02 if _run.resumed else 0.5)
    return steps
"""


def _worker(cwd: Path, option: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sacredlite", "worker", "-m", option, "--poll", "0.2", *args],
        cwd=cwd, env=THIS_CHECKOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_killed_worker_run_is_requeued_and_finished(tmp_path, mongo_server, mongo_db_name):
    """SIGKILL a worker mid-run; a second worker re-queues the run (meta.requeued) and
    resumes it: one run, COMPLETED, metrics stitched without gap or duplicate."""
    (tmp_path / "long_job.py").write_text(SCRIPT)
    option = f"{mongo_server.address}:{mongo_db_name}"
    queued = subprocess.run(
        [sys.executable, "long_job.py", "-q", "-m", option],
        cwd=tmp_path, env=THIS_CHECKOUT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    client = mongo_server.client()
    db = client[mongo_db_name]
    try:
        first = _worker(tmp_path, option, "--once")
        deadline = time.monotonic() + 60
        while len((read_metric(db, 1, "loss") or {}).get("steps", [])) < 2:
            assert time.monotonic() < deadline and first.poll() is None, first.communicate()
            time.sleep(0.1)
        first.send_signal(signal.SIGKILL)
        first.communicate()
        dead = db.runs.find_one({"_id": 1})
        assert dead["status"] == "RUNNING" and dead["worker"]["pid"] == first.pid

        time.sleep(1.2)  # the heartbeat goes stale
        second = _worker(tmp_path, option, "--until-empty", "--requeue-after", "1")
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, (out, err)
        assert "run 1: re-queued" in out and "run 1: COMPLETED" in out

        doc = db.runs.find_one({"_id": 1})
        assert db.runs.count_documents({}) == 1
        assert doc["status"] == "COMPLETED" and doc["result"] == 8
        requeued = doc["meta"]["requeued"]
        assert requeued["worker"]["pid"] == first.pid
        assert requeued["heartbeat"] == dead["heartbeat"]
        [resume] = doc["meta"]["resumes"]
        assert resume["previous_status"] == "RUNNING"
        assert doc["worker"]["pid"] == second.pid
        assert read_metric(db, 1, "loss")["steps"] == list(range(8))

        # re-queued once only: a run that dies again stays RUNNING (PROBABLY_DEAD to readers)
        db.runs.update_one({"_id": 1}, {"$set": {"status": "RUNNING"}})
        assert requeue_dead(db.runs, timedelta(seconds=0)) == []
    finally:
        client.close()
