"""A database outage costs a queued run a bounded wait at its end, and never its timing.

Issue 9, item 4: with the database unreachable, a ``QueuedMongoObserver`` run that did no
work returned from ``ex.run()`` after 81 s, and a run that started during an outage said
"Completed after 0:00:15" for 10 s of work. The end now waits at most
``SETTINGS.DEFAULT_JOIN_TIMEOUT`` seconds while no write gets through, prints the exact
``sacredlite sync`` command, and the run's start and stop times are the real ones.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from mongo_testserver import MongoServer, free_port

from sacredlite.observers.mongo import read_metric

REPO = Path(__file__).resolve().parents[2]
THIS_CHECKOUT = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
}
"""The environment of child processes: they import sacredlite from this checkout."""

DURABLE = ("--sync-on-commit",)  # a killed server keeps acknowledged writes

SCRIPT = """
import sys, time
from sacredlite import SETTINGS, Experiment
from sacredlite.observers import QueuedMongoObserver

url, db_name, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
if len(sys.argv) > 4:
    SETTINGS.DEFAULT_JOIN_TIMEOUT = float(sys.argv[4])
ex = Experiment("outage")
ex.observers.append(QueuedMongoObserver(url=url, db_name=db_name, {options}))

@ex.main
def main(_run):
    for step in range(20):
        _run.log_scalar("loss", 1.0 / (step + 1))
    time.sleep(seconds)
    global main_ended
    main_ended = time.monotonic()
    return 7

run = ex.run()
print(f"returned {{time.monotonic() - main_ended:.3f}} s after main", flush=True)
"""


def script(tmp_path: Path, options: str = "") -> Path:
    path = tmp_path / "exp.py"
    path.write_text(textwrap.dedent(SCRIPT.format(options=options)))
    return path


def launch(path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(path), *args],
        cwd=path.parent,
        env=THIS_CHECKOUT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the run took more than {timeout} s:\n{err[-3000:]}") from None
    assert proc.returncode == 0, err[-3000:]
    return out, err


def waited(out: str) -> float:
    match = re.search(r"returned ([\d.]+) s after main", out)
    assert match, out
    return float(match.group(1))


def sync_command(stderr: str) -> list[str]:
    match = re.search(r"Store them with: (sacredlite sync .*)$", stderr, re.M)
    assert match, stderr
    return shlex.split(match.group(1))


def check_stored(server: MongoServer, seconds: float) -> None:
    """Assert the script's run is stored whole, with the real duration of its work."""
    client = server.client()
    try:
        db = client["outage_db"]
        (run,) = db.runs.find()
        assert (run["status"], run["result"]) == ("COMPLETED", 7)
        took = (run["stop_time"] - run["start_time"]).total_seconds()
        assert seconds - 0.1 < took < seconds + 0.5
        assert read_metric(db, run["_id"], "loss")["steps"] == list(range(20))
    finally:
        client.close()


def test_unreachable_database_costs_the_end_a_few_seconds(tmp_path: Path) -> None:
    """The end waits at most DEFAULT_JOIN_TIMEOUT (5 s) for a database that is down, says
    how long the run really took, and prints a sync command that stores the whole run."""
    port = free_port()
    proc = launch(script(tmp_path), f"127.0.0.1:{port}", "outage_db", "1")
    out, err = finish(proc, timeout=40)
    assert waited(out) < 5 + 4.0  # it waited 81 s; slack for a busy CI machine
    assert re.search(r"Completed after 0:00:0[12]\b", err)  # the run's time, not the wait
    command = sync_command(err)
    assert command[:4] == ["sacredlite", "sync", "--spool", str(tmp_path / ".sacredlite-spool")]
    assert command[4:] == ["-m", f"127.0.0.1:{port}"]
    server = MongoServer(port=port, storage_path=":memory:").start()
    try:
        stored = subprocess.run(
            [sys.executable, "-m", *command],
            env=THIS_CHECKOUT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert stored.returncode == 0, stored.stdout + stored.stderr
        check_stored(server, seconds=1)
    finally:
        server.kill()


def test_the_wait_follows_the_setting_and_the_hint_keeps_the_user(tmp_path: Path) -> None:
    """SETTINGS.DEFAULT_JOIN_TIMEOUT bounds the wait; the printed command keeps the URL's
    user and options but never its password."""
    port = free_port()
    url = f"mongodb://ann:s3cret@127.0.0.1:{port}/?authSource=admin"
    proc = launch(script(tmp_path), url, "outage_db", "0", "1.0")
    out, err = finish(proc, timeout=40)
    assert waited(out) < 1.0 + 4.0
    assert sync_command(err)[4:] == ["-m", f"mongodb://ann:***@127.0.0.1:{port}/?authSource=admin"]
    assert "s3cret" not in out + err


def test_a_run_that_starts_during_an_outage_keeps_its_real_times(
    mongo_server_factory: Any, tmp_path: Path
) -> None:
    """The database is down when the run starts and back during it: the start does not
    wait for it, everything is stored by the end, and the stored times are the run's."""
    server = mongo_server_factory(tmp_path / "data", DURABLE)
    server.kill()
    path = script(tmp_path, "interval=0.2, retry_interval=0.2")
    proc = launch(path, server.url, "outage_db", "3")
    time.sleep(0.5)
    server.start()
    out, err = finish(proc, timeout=60)
    assert "Completed after 0:00:03" in err, err[-3000:]
    assert "Store them with" not in err
    assert not list((tmp_path / ".sacredlite-spool").glob("*.jsonl"))
    check_stored(server, seconds=3)
