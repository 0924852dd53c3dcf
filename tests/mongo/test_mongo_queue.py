"""QueueObserver delivers in the background and retries; QueuedMongoObserver stores runs."""

from __future__ import annotations

import warnings

import pytest

from sacredlite import Experiment
from sacredlite.observers import QueueObserver, RunObserver
from sacredlite.observers.mongo import MongoObserver, QueuedMongoObserver


class Flaky(RunObserver):
    """Records events; the first two heartbeats fail, as a database outage would."""

    def __init__(self):
        self.events = []
        self.failures = 2

    def started_event(self, ex_info, command, host_info, start_time, config, meta_info, _id):
        self.events.append("started")
        return 7

    def heartbeat_event(self, info, captured_out, beat_time, result):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database away")
        self.events.append(("beat", captured_out))

    def log_metrics(self, metrics_by_name, info):
        self.events.append(("metrics", sorted(metrics_by_name)))

    def completed_event(self, stop_time, result):
        self.events.append(("completed", result))


def test_queue_observer_retries_in_order():
    """Failed deliveries are retried until they work, and later events wait behind them."""
    flaky = Flaky()
    queued = QueueObserver(flaky, interval=0.01, retry_interval=0.01)
    assert queued.covered_observer is flaky
    ex = Experiment("queue_exp")

    @ex.main
    def main(_run):
        print("hi")
        _run.log_scalar("x", 1)
        return 3

    ex.observers.append(queued)
    run = ex.run()
    assert run._id == 7
    assert flaky.events[0] == "started"
    assert flaky.events[-1] == ("completed", 3)
    assert ("metrics", ["x"]) in flaky.events
    beats = [e for e in flaky.events if e[0] == "beat"]
    assert beats[-1] == ("beat", "hi\n")  # each beat carries the whole output


def test_queued_mongo_observer_stores_a_run(mongo_server, mongo_db_name, tmp_path):
    """A run through QueuedMongoObserver is stored whole and leaves no spool behind."""
    observer = QueuedMongoObserver(
        interval=0.05, url=mongo_server.url, db_name=mongo_db_name, spool_dir=tmp_path / "sp"
    )
    ex = Experiment("queued_mongo_exp")

    @ex.main
    def main(_run):
        print("hello")
        for i in range(50):
            _run.log_scalar("loss", 1 / (i + 1))
        return "done"

    ex.observers.append(observer)
    run = ex.run()
    runs = observer.covered_observer.runs
    doc = runs.find_one({"_id": run._id})
    assert (doc["status"], doc["result"]) == ("COMPLETED", "done")
    assert "hello" in doc["captured_out"]
    metric = observer.covered_observer.metrics.find_one({"run_id": run._id, "name": "loss"})
    assert metric["steps"] == list(range(50))
    assert list((tmp_path / "sp").glob("*.jsonl")) == []


def test_create_is_deprecated_as_in_sacred(mongo_server, mongo_db_name):
    """MongoObserver.create(...) still works and warns that it is deprecated."""
    with pytest.warns(DeprecationWarning, match="MongoObserver"):
        observer = MongoObserver.create(url=mongo_server.url, db_name=mongo_db_name)
    assert observer.runs.name == "runs" and observer.metrics.name == "metrics"


def test_collection_prefix_names_both_collections(mongo_server, mongo_db_name):
    """collection_prefix='x' stores runs in x_runs and metrics in x_metrics."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        observer = MongoObserver(mongo_server.url, db_name=mongo_db_name, collection_prefix="x")
    assert (observer.runs.name, observer.metrics.name) == ("x_runs", "x_metrics")
    with pytest.raises(KeyError, match="reserved"), pytest.warns(DeprecationWarning):
        MongoObserver(mongo_server.url, db_name=mongo_db_name, collection="fs.files")


def test_queued_mongo_observer_takes_sacreds_positional_calls(
    mongo_server, mongo_db_name, tmp_path
):
    """Events called positionally, as Sacred's tests call them, are stored; a terminal
    event returns once everything is in the database."""
    import datetime as dt

    (tmp_path / "model.txt").write_text("weights")
    observer = QueuedMongoObserver(
        interval=0.01,
        retry_interval=0.01,
        url=mongo_server.url,
        db_name=mongo_db_name,
        spool_dir=tmp_path / "sp",
    )
    start, beat = dt.datetime(1999, 5, 4, 3, 2, 1), dt.datetime(1999, 5, 5, 5, 5, 5)
    ex_info = {"name": "q", "base_dir": str(tmp_path), "sources": []}
    run_id = observer.started_event(ex_info, "run", {}, start, {"a": 1}, {}, None)
    observer.artifact_event("model", str(tmp_path / "model.txt"), None, "text/plain")
    observer.resource_event(str(tmp_path / "model.txt"))
    info = {}
    observer.log_metrics({"m": {"steps": [0], "values": [1.0], "timestamps": [beat]}}, info)
    observer.heartbeat_event(info, "out", beat, None)
    observer.completed_event(beat, 7)
    doc = observer.runs.find_one({"_id": run_id})
    assert (doc["status"], doc["result"], doc["captured_out"]) == ("COMPLETED", 7, "out")
    assert (doc["start_time"], doc["stop_time"]) == (start, beat)
    assert [a["name"] for a in doc["artifacts"]] == ["model"]
    assert doc["info"]["metrics"] == info["metrics"]
    assert observer.metrics.find_one({"run_id": run_id})["steps"] == [0]
    assert list((tmp_path / "sp").glob("*.jsonl")) == []
