"""sacredlite.formats.mongo: the one home of the MongoDB schema.

Typed write operations and the spool lines they become (those of older spools included),
collection names, millisecond timestamps, the queue protocol and a run's deletion.
"""

from __future__ import annotations

import os
from array import array
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from bson import ObjectId, json_util

from sacredlite.events import RunStatus
from sacredlite.formats import mongo
from sacredlite.formats.mongo import (
    Collections,
    NewMetric,
    OutputChunk,
    PushMetric,
    ResetOutput,
    SetFields,
    StartRun,
    StoreFile,
)

NOW = datetime(2026, 11, 28, 12, 0, 0, 123000)
ONE_OF_EACH = [
    StartRun({"experiment": {"name": "e"}, "status": "RUNNING", "start_time": NOW}),
    StartRun({"status": "RUNNING"}, exists_ok=True),
    SetFields({"info.metrics": [{"name": "loss", "id": "x"}], "heartbeat": NOW}),
    StoreFile(ObjectId(), filename="/src/exp.py", md5="ab" * 16, dedupe=True, src="/src/exp.py"),
    StoreFile(ObjectId(), filename="gitdiff://c0ffee", md5="cd" * 16, dedupe=True, data=b"x\n"),
    StoreFile(ObjectId(), artifact="model.txt", src="/tmp/m", content_type="text/plain"),
    NewMetric(ObjectId(), "loss"),
    PushMetric(ObjectId(), "loss", 1, "a1b2c3", [0, 1], [0.5, 0.25], [NOW, NOW]),
    OutputChunk(3, 3_000_000, "older text\n"),
    ResetOutput(),
]


def through_a_spool_line(record: dict[str, Any]) -> dict[str, Any]:
    """The record as a spool line holds it and gives it back (MongoDB extended JSON)."""
    line = json_util.dumps(record, json_options=json_util.RELAXED_JSON_OPTIONS)
    back: dict[str, Any] = json_util.loads(line)
    return back


class TestSpoolForm:
    @pytest.mark.parametrize("op", ONE_OF_EACH, ids=lambda op: type(op).__name__)
    def test_each_operation_comes_back_from_its_line(self, op: mongo.Op) -> None:
        """An operation written as a spool line reads back equal, of the same type."""
        record = {**mongo.to_record(op), "seq": 7}
        assert mongo.from_record(through_a_spool_line(record)) == op

    def test_records_name_the_kind_and_leave_defaults_out(self) -> None:
        """The record's ``op`` is the kind the spools have always used; unset fields are
        not written."""
        assert [mongo.to_record(op)["op"] for op in ONE_OF_EACH] == [
            "start", "start", "set", "file", "file", "file", "metric_new", "metric_push",
            "out_chunk", "out_reset",
        ]  # fmt: skip
        assert mongo.to_record(ONE_OF_EACH[0]) == {"op": "start", "doc": ONE_OF_EACH[0].doc}
        assert mongo.to_record(ResetOutput()) == {"op": "out_reset"}

    def test_lines_of_the_untyped_spools_are_read(self) -> None:
        """Lines written before operations were typed (dicts with the spool's ``seq``)
        become the same operations; an output chunk's number was lost to ``seq`` there."""
        file_id, metric_id = ObjectId(), ObjectId()
        old = [
            {"op": "start", "doc": {"status": "RUNNING"}, "exists_ok": False, "seq": 0},
            {"op": "file", "file_id": file_id, "artifact": "a.txt", "src": "/b/1",
             "metadata": None, "content_type": None, "seq": 1},
            {"op": "metric_push", "metric_id": metric_id, "name": "m", "part": 0,
             "token": "t", "steps": [1], "values": [2.0], "timestamps": [NOW], "seq": 2},
            {"op": "out_chunk", "seq": 3, "start": 10, "text": "abc"},
            {"op": "out_reset", "seq": 4},
        ]  # fmt: skip
        ops = [mongo.from_record(through_a_spool_line(r)) for r in old]
        assert ops == [
            StartRun({"status": "RUNNING"}),
            StoreFile(file_id, artifact="a.txt", src="/b/1"),
            PushMetric(metric_id, "m", 0, "t", [1], [2.0], [NOW]),
            OutputChunk(3, 10, "abc"),
            ResetOutput(),
        ]

    def test_an_unknown_kind_is_refused(self) -> None:
        """A record of no known kind is an error naming it, not a silent skip."""
        with pytest.raises(ValueError, match="'drop_all'"):
            mongo.from_record({"op": "drop_all", "seq": 1})

    def test_operations_are_described_for_messages(self) -> None:
        """Each operation has a short description; counts read as words."""
        assert mongo.describe(ONE_OF_EACH[2], 4) == "write 4 (update of info.metrics, heartbeat)"
        assert mongo.describe(ONE_OF_EACH[7]) == "write ? (metric 'loss', 2 points)"
        assert mongo.summary(ONE_OF_EACH[6:8] * 2) == "2 new metrics, 2 metric batches"

    def test_a_retried_start_may_find_its_document(self) -> None:
        """A start whose reply was lost is retried as one that may exist already."""
        assert mongo.retrying(ONE_OF_EACH[0]) == StartRun(ONE_OF_EACH[0].doc, exists_ok=True)
        assert mongo.retrying(ONE_OF_EACH[2]) is ONE_OF_EACH[2]


class TestCollections:
    def test_names_follow_sacreds_prefix(self) -> None:
        """A prefix names runs and metrics; output and overflow follow them."""
        names = Collections.with_prefix("exp")
        assert (names.runs, names.metrics) == ("exp_runs", "exp_metrics")
        assert (names.output, names.overflow) == ("exp_runs_output", "exp_metrics_overflow")
        assert (names.counters, names.files_once, names.fs_files) == (
            "sacredlite_counters", "sacredlite_files", "fs.files",
        )  # fmt: skip
        assert Collections.with_prefix() == Collections("runs", "metrics")

    def test_the_deprecated_collection_keeps_metrics(self) -> None:
        """Sacred's ``collection`` warns, names the runs only, and excludes a prefix."""
        with pytest.warns(DeprecationWarning, match="collection_prefix"):
            assert Collections.from_options("mine") == Collections("mine", "metrics")
        with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="both"):
            Collections.from_options("mine", "p")

    def test_reserved_names_are_refused(self) -> None:
        """GridFS's own collections cannot hold runs."""
        with pytest.warns(DeprecationWarning), pytest.raises(KeyError, match="reserved"):
            Collections.from_options("fs.files")


class TestTimestamps:
    def test_epoch_seconds_become_millisecond_datetimes(self) -> None:
        """Times become naive UTC datetimes cut to the millisecond, as BSON stores them,
        also where the float falls a hair short of the millisecond it came from."""
        moments = [datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)]
        moments += [moments[0] + timedelta(milliseconds=ms, microseconds=999) for ms in range(1000)]
        stamps = array("d", (m.timestamp() for m in moments))
        expected = [
            m.replace(tzinfo=None, microsecond=m.microsecond // 1000 * 1000) for m in moments
        ]
        assert mongo.ms_datetimes(stamps) == expected

    def test_one_datetime_per_millisecond(self) -> None:
        """Points logged within one millisecond share one datetime object."""
        start = 1_800_000_000.0
        got = mongo.ms_datetimes([start + i * 1e-5 for i in range(300)])
        assert len({id(d) for d in got}) == 3
        assert got[0] == datetime(2027, 1, 15, 8, 0)


class TestQueueProtocol:
    @pytest.fixture
    def runs(self, mongo_server: Any, mongo_db_name: str) -> Any:
        client = mongo_server.client()
        runs = client[mongo_db_name].runs
        for run_id in (1, 2):
            runs.insert_one({"_id": run_id, "status": "QUEUED", "experiment": {"name": "e"}})
        yield runs
        client.close()

    def test_a_released_run_waits_for_another_worker(self, runs: Any) -> None:
        """A claimed run given back is QUEUED again, with the reason and no worker."""
        claimed = mongo.claim_next(runs)
        assert claimed is not None and claimed["worker"]["pid"] == os.getpid()
        mongo.release(runs, claimed["_id"], "no checkout here")
        doc = runs.find_one({"_id": claimed["_id"]})
        assert doc["status"] == RunStatus.QUEUED.value
        assert doc["worker_error"] == "no checkout here" and "worker" not in doc
        again = mongo.claim_next(runs, skip=[claimed["_id"]])
        assert again is not None and again["_id"] != claimed["_id"]
        assert "worker_error" not in mongo.claim_next(runs)

    def test_an_unrunnable_run_fails_with_its_reason(self, runs: Any) -> None:
        """A run no worker may run is FAILED, with the reason and a stop time."""
        claimed = mongo.claim_next(runs, experiment="e")
        mongo.fail_unrunnable(runs, claimed["_id"], "config holds code")
        doc = runs.find_one({"_id": claimed["_id"]})
        assert doc["status"] == RunStatus.FAILED.value and doc["stop_time"] is not None
        assert doc["worker_error"] == "config holds code"
        assert doc["fail_trace"] == ["sacredlite worker did not run it: config holds code\n"]

    def test_a_claimed_document_reads_as_a_queued_run(self) -> None:
        """What a worker needs of the document, without knowing its fields."""
        doc = {
            "_id": 4,
            "command": "train",
            "config": {"lr": 0.1},
            "experiment": {"name": "e", "base_dir": "/code", "mainfile": "exp.py"},
            "meta": {"comment": "c", "priority": 5, "options": {}},
            "host": {"hostname": "h1"},
        }
        run = mongo.QueuedRun.from_document(doc)
        assert (run.run_id, run.command, run.config) == (4, "train", {"lr": 0.1})
        assert (run.base_dir, run.mainfile, run.experiment) == ("/code", "exp.py", "e")
        assert run.meta_info == {"comment": "c", "priority": 5, "queued_by": {"host": "h1"}}


def test_read_metric_may_leave_timestamps_out(mongo_server: Any, mongo_db_name: str) -> None:
    """Readers that plot ask for steps and values only, across overflow parts."""
    client = mongo_server.client()
    try:
        db = client[mongo_db_name]
        target = mongo.Target.in_database(db)
        executor = mongo.Executor(target, run_id=1)
        metric_id = ObjectId()
        executor.apply(NewMetric(metric_id, "m"))
        for part in (0, 1):
            executor.apply(PushMetric(metric_id, "m", part, f"t{part}", [part], [0.5], [NOW]))
        assert mongo.read_metric(db, 1, "m", fields=("steps", "values")) == {
            "steps": [0, 1],
            "values": [0.5, 0.5],
        }
        assert mongo.read_metric(db, 1, "m")["timestamps"] == [NOW, NOW]
        assert mongo.read_metric(db, 1, "other") is None
    finally:
        client.close()
