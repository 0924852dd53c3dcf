"""``--resume ID -m URL`` continues the same run document (a real MongoDB-wire server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from resume_script import run_counter

from sacredlite import Experiment
from sacredlite.errors import ResumeError
from sacredlite.formats.mongo import read_captured_out, read_metric
from sacredlite.observers import MongoObserver


def test_cli_resume_updates_the_same_document(project: Path, mongo_server, mongo_db_name) -> None:
    """A failed run resumes into its document: metrics stitched, output appended."""
    url = f"{mongo_server.url}/{mongo_db_name}"
    assert run_counter(project, "-m", url).returncode == 1
    refused = run_counter(project, "-m", url, "--resume", "1", "with", "lr=0.5")
    assert refused.returncode == 1 and "lr: stored 0.1, given 0.5" in refused.stderr
    resumed = run_counter(project, "-m", url, "--resume", "1")
    assert resumed.returncode == 0, resumed.stderr
    client = mongo_server.client()
    try:
        db = client[mongo_db_name]
        assert db.runs.count_documents({}) == 1
        doc = db.runs.find_one({"_id": 1})
        assert doc["status"] == "COMPLETED" and doc["result"] == 6 and "fail_trace" not in doc
        [resume] = doc["meta"]["resumes"]
        assert resume["previous_status"] == "FAILED" and resume["argv"][-1] == "1"
        assert "--resume" not in doc["meta"]["options"]
        loss = read_metric(db, 1, "loss")
        assert loss["steps"] == list(range(6))
        assert db.metrics.count_documents({"run_id": 1}) == 1
        out = read_captured_out(db, doc)
        assert out.index("step 2") < out.index("resume 1 from checkpoint 2") < out.index("step 5")
    finally:
        client.close()


def test_resume_continues_overflow_parts_and_output_chunks(
    tmp_path: Path, mongo_server, mongo_db_name
) -> None:
    """Series past a document's points and output past the kept tail continue in their
    overflow parts and chunks, with nothing lost or repeated."""
    ex = Experiment("overflowing", interactive=True)

    @ex.main
    def main(_run):
        start = _run.last_steps.get("x", -1) + 1
        for i in range(start, start + 23):
            _run.log_scalar("x", float(i))
            print(f"line {i:03d}")

    def observer() -> MongoObserver:
        return MongoObserver(
            mongo_server.url, mongo_db_name, metric_part_points=10, output_limit=120,
            spool_dir=tmp_path / "spool",
        )  # fmt: skip

    ex.observers.append(observer())
    first = ex.run(options={"--capture": "sys"})
    ex.observers[:] = [observer()]
    second = ex.run(options={"--capture": "sys"}, resume=first._id)
    assert second._id == first._id and second.resume_count == 1
    client = mongo_server.client()
    try:
        db = client[mongo_db_name]
        assert read_metric(db, first._id, "x")["steps"] == list(range(46))
        out = read_captured_out(db, db.runs.find_one({"_id": first._id}))
        lines = [line for line in out.splitlines() if line.startswith("line")]
        assert lines == [f"line {i:03d}" for i in range(46)]
    finally:
        client.close()


def test_unknown_id_in_mongo_is_refused(mongo_server, mongo_db_name) -> None:
    """Resuming an id the database does not hold says so, naming the observer."""
    ex = Experiment("nothing", interactive=True)
    ex.main(lambda: None)
    with pytest.raises(ResumeError, match="holds no run with id '3'"):
        ex.run(options={"--mongo_db": f"{mongo_server.url}/{mongo_db_name}"}, resume="3")


def test_signal_records_resume_point_in_mongo(tmp_path: Path, mongo_server, mongo_db_name):
    """A SIGTERM mid-run stores INTERRUPTED with meta.resume_point; the resume continues
    the steps and keeps the point in its meta.resumes entry."""
    import os
    import signal

    from sacredlite.run import SignalInterrupt

    ex = Experiment("signalled", interactive=True)

    @ex.main
    def main(_run):
        for step in range(_run.last_steps.get("x", -1) + 1, 5):
            _run.log_scalar("x", step)
            if step == 2 and not _run.resumed:
                os.kill(os.getpid(), signal.SIGTERM)

    url = f"{mongo_server.url}/{mongo_db_name}"
    with pytest.raises(SignalInterrupt):
        ex.run(options={"--mongo_db": url})
    client = mongo_server.client()
    try:
        db = client[mongo_db_name]
        doc = db.runs.find_one({"_id": 1})
        assert doc["status"] == "INTERRUPTED"
        assert doc["meta"]["resume_point"]["reason"] == "SIGTERM"
        assert doc["meta"]["resume_point"]["last_steps"] == {"x": 2}
        run = ex.run(options={"--mongo_db": url}, resume=1)
        assert run.status == "COMPLETED" and run.last_steps == {"x": 2}
        doc = db.runs.find_one({"_id": 1})
        assert "resume_point" not in doc["meta"] and "stop_time" in doc
        assert doc["meta"]["resumes"][0]["resume_point"]["reason"] == "SIGTERM"
        assert read_metric(db, 1, "x")["steps"] == [0, 1, 2, 3, 4]
    finally:
        client.close()


def test_queued_mongo_observer_resumes(tmp_path: Path, mongo_server, mongo_db_name) -> None:
    """Sacred's QueuedMongoObserver (a QueueObserver around a MongoObserver) resumes too."""
    from sacredlite.observers.mongo import QueuedMongoObserver

    ex = Experiment("queued_resume", interactive=True)

    @ex.main
    def main(_run):
        for step in range(_run.last_steps.get("x", -1) + 1, 3 + 3 * _run.resumed):
            _run.log_scalar("x", step)

    def observer() -> QueuedMongoObserver:
        return QueuedMongoObserver(
            interval=0.1, url=mongo_server.url, db_name=mongo_db_name, spool_dir=tmp_path / "spool"
        )

    ex.observers.append(observer())
    first = ex.run()
    ex.observers[:] = [observer()]
    second = ex.run(resume=first._id)
    assert second.status == "COMPLETED" and second._id == first._id
    client = mongo_server.client()
    try:
        db = client[mongo_db_name]
        assert read_metric(db, first._id, "x")["steps"] == list(range(6))
        assert len(db.runs.find_one({"_id": first._id})["meta"]["resumes"]) == 1
    finally:
        client.close()


def test_two_processes_resuming_one_run_one_wins(tmp_path: Path, mongo_server, mongo_db_name):
    """Two processes resume the same run at once: one continues it, the other is refused
    (the resume is a conditional update; a later one sees it RUNNING), and the run is
    resumed once."""
    import subprocess
    import sys

    from checkout import THIS_CHECKOUT

    (tmp_path / "resumer.py").write_text(
        "import time\nfrom sacredlite import Experiment\nex = Experiment('resumer')\n"
        "@ex.automain\ndef main(_run):\n"
        "    if not _run.resumed:\n        _run.log_scalar('x', 0)\n        raise ValueError\n"
        "    for step in range(_run.last_steps['x'] + 1, 3):\n"
        "        _run.log_scalar('x', step)\n        time.sleep(0.5)\n"
    )
    url = f"{mongo_server.url}/{mongo_db_name}"

    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "resumer.py", "-m", url, *args], cwd=tmp_path, env=THIS_CHECKOUT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    first = start()
    first.communicate(timeout=60)
    assert first.returncode == 1
    both = [start("--resume", "1") for _ in range(2)]
    results = [(p.communicate(timeout=60)[1], p.returncode) for p in both]
    results = [(code, err) for err, code in results]
    assert sorted(code for code, _ in results) == [0, 1], results
    refused = next(err for code, err in results if code == 1)
    assert "changed while this process resumed it" in refused or "the run is RUNNING" in refused
    client = mongo_server.client()
    try:
        db = client[mongo_db_name]
        doc = db.runs.find_one({"_id": 1})
        assert doc["status"] == "COMPLETED" and len(doc["meta"]["resumes"]) == 1
        assert read_metric(db, 1, "x")["steps"] == [0, 1, 2]
    finally:
        client.close()
