"""``--resume ID -F DIR`` continues a stored run in its directory (real scripts, real files)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from checkout import THIS_CHECKOUT
from resume_script import run_counter

from sacredlite import Experiment
from sacredlite.errors import ResumeError
from sacredlite.formats.file import LIVE_LIMIT, read_metrics
from sacredlite.observers import FileStorageObserver


def _run_json(project: Path, run_id: str = "1") -> dict:
    return json.loads((project / "runs" / run_id / "run.json").read_text())


def test_resume_continues_the_same_run(project: Path) -> None:
    """A failed run resumes under its id: metrics stitched, output appended, meta.resumes."""
    first = run_counter(project, "-F", "runs")
    assert first.returncode == 1 and "failed at step 3" in first.stderr
    assert _run_json(project)["status"] == "FAILED"

    second = run_counter(project, "-F", "runs", "--resume", "1")
    assert second.returncode == 0, second.stderr
    assert sorted(os.listdir(project / "runs")) == ["1", "_sources"]  # no new run
    run = _run_json(project)
    assert run["status"] == "COMPLETED" and run["result"] == 6
    assert "fail_trace" not in run and run["stop_time"] >= run["meta"]["resumes"][0]["time"]
    [resume] = run["meta"]["resumes"]
    assert resume["previous_status"] == "FAILED" and resume["command"] == "main"
    assert resume["argv"][-2:] == ["--resume", "1"] and resume["host"]
    loss = read_metrics(project / "runs" / "1")["loss"]
    assert loss["steps"] == list(range(6))  # no gap, no duplicate
    assert loss["values"] == pytest.approx([0.1 * s for s in range(6)])
    out = (project / "runs" / "1" / "cout.txt").read_text()
    assert out.index("step 2") < out.index("resume 1 from checkpoint 2") < out.index("step 5")
    assert out.count("Running command") == 2  # both runs' output, in order
    assert "--resume" not in json.dumps(run["meta"]["options"])


def test_resume_twice_counts_resumes(project: Path) -> None:
    """Each resume adds an entry to meta.resumes; _run.resume_count says which one."""
    run_counter(project, "-F", "runs")
    assert run_counter(project, "-F", "runs", "--resume", "1").returncode == 0
    third = run_counter(project, "-F", "runs", "--resume=1")
    assert third.returncode == 0, third.stderr
    run = _run_json(project)
    assert [r["previous_status"] for r in run["meta"]["resumes"]] == ["FAILED", "COMPLETED"]
    assert "resume 2 from checkpoint 5" in (project / "runs" / "1" / "cout.txt").read_text()
    assert read_metrics(project / "runs" / "1")["loss"]["steps"] == list(range(6))


@pytest.mark.parametrize(
    ("args", "named"),
    [(["with", "lr=0.2"], "lr: stored 0.1, given 0.2"), (["with", "longer"], "steps: stored 6")],
    ids=["update", "named-config"],
)
def test_a_changed_config_is_refused(project: Path, args: list[str], named: str) -> None:
    """An update or named config that changes the stored config is refused, naming it."""
    run_counter(project, "-F", "runs")
    before = (project / "runs" / "1" / "run.json").read_text()
    refused = run_counter(project, "-F", "runs", "--resume", "1", *args)
    assert refused.returncode == 1
    assert "ResumeError" in refused.stderr and named in refused.stderr
    assert "Traceback" not in refused.stderr
    assert (project / "runs" / "1" / "run.json").read_text() == before


def test_the_same_config_is_allowed(project: Path) -> None:
    """Updates and named configs that give the stored values are accepted."""
    run_counter(project, "-F", "runs")
    same = run_counter(project, "-F", "runs", "--resume", "1", "with", "same", "lr=0.1")
    assert same.returncode == 0, same.stderr
    assert _run_json(project)["status"] == "COMPLETED"


def test_unknown_id_is_refused(project: Path) -> None:
    """Resuming an id the storage does not hold says so."""
    run_counter(project, "-F", "runs")
    refused = run_counter(project, "-F", "runs", "--resume", "7")
    assert refused.returncode == 1
    assert "holds no run with id '7'" in refused.stderr


def test_a_live_run_is_refused_and_a_dead_one_resumed(project: Path) -> None:
    """A RUNNING run with a fresh heartbeat is refused; once its heartbeat is stale (the
    process was killed), it resumes."""
    (project / "sleeper.py").write_text(
        "from sacredlite import Experiment\nimport time\nex = Experiment('sleeper')\n"
        "@ex.automain\ndef main(_run):\n"
        "    for i in range(_run.last_steps.get('t', -1) + 1, 3):\n"
        "        _run.log_scalar('t', i)\n        time.sleep(0.4 if _run.resumed else 60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "sleeper.py", "-F", "runs"], cwd=project, env=THIS_CHECKOUT
    )
    try:
        deadline = time.monotonic() + 30
        while read_metrics(project / "runs" / "1").get("t") is None:  # flushed within 1 s
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        live = subprocess.run(
            [sys.executable, "sleeper.py", "-F", "runs", "--resume", "1"],
            cwd=project, env=THIS_CHECKOUT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert live.returncode == 1 and "the run is RUNNING" in live.stderr
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    run_file = project / "runs" / "1" / "run.json"
    run = json.loads(run_file.read_text())
    assert run["status"] == "RUNNING"
    saved = run_file.read_text()
    forced = subprocess.run(
        [sys.executable, "sleeper.py", "-F", "runs", "--resume", "1", "-f"],
        cwd=project, env=THIS_CHECKOUT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr  # -f: the user knows the process is gone
    assert read_metrics(project / "runs" / "1")["t"]["steps"] == [0, 1, 2]
    run_file.write_text(saved)  # back to the killed state, to see the heartbeat rule
    stale = datetime.fromisoformat(run["heartbeat"]) - timedelta(minutes=10)
    run["heartbeat"] = stale.isoformat()  # as a heartbeat looks ten minutes after a kill
    run_file.write_text(json.dumps(run))
    resumed = subprocess.run(
        [sys.executable, "sleeper.py", "-F", "runs", "--resume", "1"],
        cwd=project, env=THIS_CHECKOUT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert _run_json(project)["meta"]["resumes"][0]["previous_status"] == "RUNNING"
    assert read_metrics(project / "runs" / "1")["t"]["steps"] == [0, 1, 2]


def test_python_api_resumes_and_continues_steps(tmp_path: Path) -> None:
    """ex.run(resume=ID) continues automatic steps after the stored last one; explicit
    steps are stored as given."""
    ex = Experiment("api", interactive=True)
    seen = []

    @ex.main
    def main(_run):
        seen.append((_run.resumed, _run.resume_count, dict(_run.last_steps)))
        _run.log_scalar("a", 1.0)
        _run.log_scalar("a", 2.0)
        _run.log_scalar("b", 5.0, step=10)

    options = {"--file_storage": str(tmp_path / "runs")}
    first = ex.run(options=options)
    second = ex.run(options=options, resume=first._id)
    assert second._id == first._id == "1" and second.resumed
    assert seen == [(False, 0, {}), (True, 1, {"a": 1, "b": 10})]
    metrics = read_metrics(tmp_path / "runs" / "1")
    assert metrics["a"]["steps"] == [0, 1, 2, 3]
    assert metrics["b"]["steps"] == [10, 10]  # explicit steps: appended as given
    with pytest.raises(ResumeError, match="holds no run"):
        ex.run(options=options, resume="5")


def test_resume_past_the_live_metrics_bound(tmp_path: Path) -> None:
    """Metrics too large to rewrite live continue through the side file, all kept."""
    ex = Experiment("big", interactive=True)
    count = LIVE_LIMIT // 20  # more than the live bound of JSON text

    @ex.main
    def main(_run):
        start = _run.last_steps.get("x", -1) + 1
        for i in range(start, start + count):
            _run.log_scalar("x", float(i))

    observer = FileStorageObserver(tmp_path / "runs")
    ex.observers.append(observer)
    ex.run()
    ex.run(resume="1")
    steps = read_metrics(tmp_path / "runs" / "1")["x"]["steps"]
    assert steps == list(range(2 * count))
    assert not (tmp_path / "runs" / "1" / "metrics.jsonl").exists()


@pytest.mark.parametrize(
    ("signal_number", "env"),
    [(signal.SIGTERM, {}), (signal.SIGUSR1, {"SLURM_JOB_ID": "4242"})],
    ids=["SIGTERM", "SIGUSR1-under-slurm"],
)
def test_interrupted_run_records_a_resume_point(
    project: Path, signal_number: int, env: dict[str, str]
) -> None:
    """SIGTERM (and SIGUSR1 under Slurm) stores the run INTERRUPTED with
    meta.resume_point; the resume moves it into its meta.resumes entry."""
    (project / "slow.py").write_text(
        "from sacredlite import Experiment\nimport time\nex = Experiment('slow')\n"
        "@ex.automain\ndef main(_run):\n"
        "    for i in range(_run.last_steps.get('t', -1) + 1, 4):\n"
        "        _run.log_scalar('t', i)\n"
        "        time.sleep(0.2 if _run.resumed or i < 1 else 60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "slow.py", "-F", "runs"], cwd=project, env={**THIS_CHECKOUT, **env},
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while read_metrics(project / "runs" / "1").get("t", {}).get("steps") != [0, 1]:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    proc.send_signal(signal_number)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal_number, err
    run = _run_json(project)
    assert run["status"] == "INTERRUPTED"
    point = run["meta"]["resume_point"]
    name = signal.Signals(signal_number).name
    assert point["reason"] == name and point["last_steps"] == {"t": 1}
    resumed = subprocess.run(
        [sys.executable, "slow.py", "-F", "runs", "--resume", "1"],
        cwd=project, env=THIS_CHECKOUT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    run = _run_json(project)
    assert run["status"] == "COMPLETED" and "resume_point" not in run["meta"]
    assert run["meta"]["resumes"][0]["resume_point"]["reason"] == name
    assert read_metrics(project / "runs" / "1")["t"]["steps"] == [0, 1, 2, 3]


def test_help_lists_resume_and_options_stay_sacreds(project: Path) -> None:
    """--help lists --resume after Sacred's options; a run without it stores Sacred's
    option keys only."""
    shown = run_counter(project, "--help")
    assert shown.returncode == 0
    assert "  --resume=ID  " in shown.stdout
    assert shown.stdout.index("--unobserved") < shown.stdout.index("--resume=ID")
    run_counter(project, "-F", "runs", "with", "fail_at=-1")
    assert not any("resume" in key for key in _run_json(project)["meta"]["options"])
