"""``sacredlite worker`` executes queued runs, each exactly once, into the same ``_id``."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from checkout import THIS_CHECKOUT
from hostile import code_payload

from sacredlite.observers.mongo import MongoObserver
from sacredlite.worker import main as worker_main

SCRIPT = textwrap.dedent(
    """
    import os
    from sacredlite import Experiment

    ex = Experiment("drain_exp")

    @ex.config
    def cfg():
        x = 0
        log = "ran.log"

    @ex.main
    def main(_run, x, log):
        with open(log, "a") as f:
            f.write(f"{x} {os.getpid()}\\n")
        _run.log_scalar("x", x)
        return x * 10
    """
)


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"queued_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ex


def queue_runs(tmp_path: Path, server, db_name: str, count: int) -> tuple[Path, Path]:
    script = tmp_path / "drain.py"
    script.write_text(SCRIPT)
    log = tmp_path / "ran.log"
    ex = load(script)
    ex.observers.append(MongoObserver(server.url, db_name=db_name))
    for x in range(count):
        run = ex.run(config_updates={"x": x, "log": str(log)}, options={"--queue": True})
        assert run.status == "QUEUED"
    return script, log


def test_three_workers_drain_thirty_runs_each_exactly_once(mongo_server, mongo_db_name, tmp_path):
    """30 queued runs, 3 worker processes: every run executes once and is COMPLETED."""
    _, log = queue_runs(tmp_path, mongo_server, mongo_db_name, 30)
    option = f"{mongo_server.address}:{mongo_db_name}"
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "sacredlite", "worker", "-m", option, "--until-empty",
             "--poll", "0.1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=THIS_CHECKOUT,
        )
        for _ in range(3)
    ]  # fmt: skip
    results = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0], results
    lines = log.read_text().split()
    xs = sorted(int(x) for x in lines[0::2])
    assert xs == list(range(30))
    client = mongo_server.client()
    try:
        runs = list(client[mongo_db_name].runs.find())
        assert len(runs) == 30
        assert {r["status"] for r in runs} == {"COMPLETED"}
        assert sorted(r["result"] for r in runs) == [x * 10 for x in range(30)]
        assert all(r["config"]["x"] * 10 == r["result"] for r in runs)
        assert all(r["worker"]["pid"] in {w.pid for w in workers} for r in runs)
        pids_by_x = dict(zip(map(int, lines[0::2]), map(int, lines[1::2]), strict=True))
        assert all(pids_by_x[r["config"]["x"]] == r["worker"]["pid"] for r in runs)
        assert client[mongo_db_name].metrics.count_documents({}) == 30
    finally:
        client.close()


def test_missing_experiment_file_puts_run_back(mongo_server, mongo_db_name, tmp_path, capsys):
    """A run whose file is gone goes back to QUEUED with the reason; the worker exits 1."""
    script, _ = queue_runs(tmp_path, mongo_server, mongo_db_name, 1)
    script.unlink()
    code = worker_main(["-m", f"{mongo_server.address}:{mongo_db_name}", "--once"])
    assert code == 1
    assert "does not exist" in capsys.readouterr().err
    client = mongo_server.client()
    try:
        (run,) = client[mongo_db_name].runs.find()
        assert run["status"] == "QUEUED"
        assert str(script) in run["worker_error"] and "worker" not in run
    finally:
        client.close()


def test_worker_runs_in_process_into_the_same_id(mongo_server, mongo_db_name, tmp_path):
    """--once executes the oldest queued run and leaves the next one queued."""
    queue_runs(tmp_path, mongo_server, mongo_db_name, 2)
    assert worker_main(["-m", f"{mongo_server.address}:{mongo_db_name}", "--once"]) == 0
    client = mongo_server.client()
    try:
        runs = {r["_id"]: r for r in client[mongo_db_name].runs.find()}
        assert sorted(runs) == [1, 2]
        assert (runs[1]["status"], runs[1]["result"]) == ("COMPLETED", 0)
        assert runs[1]["format"] == "MongoObserver-0.7.0" and runs[1]["start_time"]
        assert runs[2]["status"] == "QUEUED"
    finally:
        client.close()


SLOW = textwrap.dedent(
    """
    import time
    from sacredlite import Experiment

    ex = Experiment("slow_exp")

    @ex.main
    def main():
        print("started", flush=True)
        time.sleep(60)
    """
)


def test_ctrl_c_interrupts_the_current_run(mongo_server, mongo_db_name, tmp_path):
    """SIGINT to a worker stores its run as INTERRUPTED and stops the worker."""
    import signal
    import time

    script = tmp_path / "slow.py"
    script.write_text(SLOW)
    ex = load(script)
    ex.observers.append(MongoObserver(mongo_server.url, db_name=mongo_db_name))
    ex.run(options={"--queue": True})
    worker = subprocess.Popen(
        [sys.executable, "-m", "sacredlite", "worker", "-m",
         f"{mongo_server.address}:{mongo_db_name}", "--once"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=THIS_CHECKOUT,
    )  # fmt: skip
    client = mongo_server.client()
    try:
        runs = client[mongo_db_name].runs
        deadline = time.monotonic() + 60
        while runs.find_one({"_id": 1, "start_time": {"$exists": True}}) is None:
            assert time.monotonic() < deadline, worker.communicate(timeout=5)
            time.sleep(0.1)
        time.sleep(0.5)
        worker.send_signal(signal.SIGINT)
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 130, (out, err)
        run = runs.find_one({"_id": 1})
        assert run["status"] == "INTERRUPTED" and run["stop_time"] is not None
    finally:
        client.close()
        if worker.poll() is None:
            worker.kill()


def test_claims_go_by_priority_then_age(mongo_server, mongo_db_name, tmp_path):
    """Higher -P priority is claimed first, then the oldest; a claim records the worker."""

    from sacredlite.worker import claim_next

    script = tmp_path / "drain.py"
    script.write_text(SCRIPT)
    ex = load(script)
    ex.observers.append(MongoObserver(mongo_server.url, db_name=mongo_db_name))
    for priority in (None, "5", None, "9"):
        options = {"--queue": True} | ({"--priority": priority} if priority else {})
        ex.run(options=options)
    client = mongo_server.client()
    try:
        runs = client[mongo_db_name].runs
        claimed = [claim_next(runs) for _ in range(5)]
        assert [c["_id"] for c in claimed[:4]] == [4, 2, 1, 3]
        assert claimed[4] is None
        assert claimed[0]["status"] == "RUNNING" and claimed[0]["worker"]["pid"] == os.getpid()
        assert claim_next(runs, experiment="other_exp") is None
    finally:
        client.close()


def test_worker_refuses_a_config_that_would_run_code(mongo_server, mongo_db_name, tmp_path):
    """A stored config with a py/reduce call fails the run, naming key and type; nothing runs.

    Issue 9, item 5: the worker decoded the stored config with jsonpickle, so anyone able to
    write to the database ran a shell command on every worker.
    """
    _, log = queue_runs(tmp_path, mongo_server, mongo_db_name, 1)
    marker = tmp_path / "PWNED"
    client = mongo_server.client()
    try:
        runs = client[mongo_db_name].runs
        runs.update_one({"_id": 1}, {"$set": {"config.x": code_payload(marker)}})
        worker = subprocess.run(
            [sys.executable, "-m", "sacredlite", "worker", "-m",
             f"{mongo_server.address}:{mongo_db_name}", "--once"],
            capture_output=True, text=True, cwd=tmp_path, env=THIS_CHECKOUT, timeout=120,
        )  # fmt: skip
        assert not marker.exists()
        assert not log.exists()  # the experiment never ran
        assert worker.returncode == 1, (worker.stdout, worker.stderr)
        assert "Traceback" not in worker.stderr
        (line,) = [ln for ln in worker.stderr.splitlines() if ln.startswith("run 1:")]
        assert "FAILED" in line and "'os.system'" in line and "'x'" in line, line
        run = runs.find_one({"_id": 1})
        assert run["status"] == "FAILED" and run["stop_time"] is not None
        assert "'os.system'" in run["worker_error"] and "'x'" in run["worker_error"]
        assert any("'os.system'" in text for text in run["fail_trace"])
    finally:
        client.close()


DATED_SCRIPT = textwrap.dedent(
    """
    import datetime
    from sacredlite import Experiment

    ex = Experiment("dated_exp")

    @ex.config
    def cfg():
        when = datetime.datetime(2024, 2, 29, 12, 30)
        sizes = [1, 2]

    @ex.main
    def main(when, sizes):
        return [type(when).__name__, when.isoformat(), list(sizes)]
    """
)


def test_worker_restores_flattened_values(mongo_server, mongo_db_name, tmp_path):
    """A value Sacred's writers flatten with jsonpickle (a datetime) reaches the queued run.

    (numpy arrays, sets and dates are restored as well, see tests/test_serializer.py, but the
    run's ``meta.config_updates`` cannot store them in MongoDB yet, as in Sacred.)
    """
    script = tmp_path / "dated.py"
    script.write_text(DATED_SCRIPT)
    ex = load(script)
    ex.observers.append(MongoObserver(mongo_server.url, db_name=mongo_db_name))
    ex.run(options={"--queue": True})
    assert worker_main(["-m", f"{mongo_server.address}:{mongo_db_name}", "--once"]) == 0
    client = mongo_server.client()
    try:
        run = client[mongo_db_name].runs.find_one({"_id": 1})
        assert run["status"] == "COMPLETED", run.get("fail_trace")
        assert run["result"] == ["datetime", "2024-02-29T12:30:00", [1, 2]]
    finally:
        client.close()


def test_worker_refuses_a_config_that_expands_past_the_limit(
    mongo_server, mongo_db_name, tmp_path, capsys
):
    """A small stored array that unpacks to 50 MB fails the run, naming the setting's limit."""
    import base64
    import zlib

    _, log = queue_runs(tmp_path, mongo_server, mongo_db_name, 1)
    packed = base64.b64encode(zlib.compress(bytes(50_000_000))).decode()
    bomb = {"py/object": "numpy.ndarray", "dtype": "uint8", "values": packed,
            "shape": [50_000_000]}  # fmt: skip
    client = mongo_server.client()
    try:
        runs = client[mongo_db_name].runs
        runs.update_one({"_id": 1}, {"$set": {"config.x": bomb}})
        assert worker_main(["-m", f"{mongo_server.address}:{mongo_db_name}", "--once"]) == 1
        assert "once expanded" in capsys.readouterr().err
        assert not log.exists()
        run = runs.find_one({"_id": 1})
        assert run["status"] == "FAILED" and "16.0 MB" in run["worker_error"]
        assert "SETTINGS.CONFIG.MAX_LOAD_SIZE" in run["worker_error"]
    finally:
        client.close()
