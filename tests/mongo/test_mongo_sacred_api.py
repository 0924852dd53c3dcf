"""MongoObserver's Sacred-shaped API, on a real server: create_from, errors, failure handling.

Sacred's own tests drive the observer directly, with naive UTC datetimes and collections
handed to ``MongoObserver.create_from``; these tests do the same against SecantusDB.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

import gridfs
import pymongo
import pymongo.errors
import pytest

from sacredlite.observers.base import event_was_kept
from sacredlite.observers.mongo import (
    DEFAULT_MONGO_PRIORITY,
    MongoObserver,
    force_bson_encodeable,
    parse_mongo_db_arg,
    read_captured_out,
)

T1 = dt.datetime(1999, 5, 4, 3, 2, 1)  # naive UTC, as Sacred passes times
T2 = dt.datetime(1999, 5, 5, 5, 5, 5)
T3 = dt.datetime(1999, 5, 5, 5, 10, 5)
DURABLE = ("--sync-on-commit",)  # a SIGKILLed server keeps acknowledged writes


def run_args(tmp_path: Path, _id: Any = None) -> dict[str, Any]:
    """Return Sacred's keyword arguments of started_event for a small experiment."""
    source = tmp_path / "exp.py"
    source.write_text("x = 1\n")
    ex_info = {
        "name": "api_exp",
        "base_dir": str(tmp_path),
        "sources": [["exp.py", hashlib.md5(b"x = 1\n").hexdigest()]],
        "doc": "",
    }
    return {
        "ex_info": ex_info,
        "command": "run",
        "host_info": {"hostname": "test_host", "cpu_count": 1},
        "start_time": T1,
        "config": {"answer": 42, "foo": "bar"},
        "meta_info": {"comment": "test run"},
        "_id": _id,
    }


@pytest.fixture
def db(mongo_server: Any, mongo_db_name: str) -> Any:
    client = mongo_server.client()
    yield client[mongo_db_name]
    client.close()


class TestCreateFrom:
    def test_collections_are_used_as_given(self, db: Any, tmp_path: Path) -> None:
        """create_from stores into the collections and GridFS it is handed."""
        fs = gridfs.GridFS(db)
        obs = MongoObserver.create_from(
            db.my_runs, fs, metrics_collection=db.my_metrics, spool_dir=tmp_path / "spool"
        )
        assert (obs.runs, obs.metrics, obs.fs, obs.priority) == (
            db.my_runs,
            db.my_metrics,
            fs,
            DEFAULT_MONGO_PRIORITY,
        )
        args = run_args(tmp_path)
        run_id = obs.started_event(**args)
        assert run_id == 1
        doc = db.my_runs.find_one()
        source_id = doc["experiment"]["sources"][0][1]
        assert doc == {
            "_id": 1,
            "experiment": {**args["ex_info"], "sources": [["exp.py", source_id]]},
            "format": "MongoObserver-0.7.0",
            "command": "run",
            "host": args["host_info"],
            "start_time": T1,
            "config": args["config"],
            "meta": args["meta_info"],
            "status": "RUNNING",
            "resources": [],
            "artifacts": [],
            "captured_out": "",
            "info": {},
            "heartbeat": None,
        }
        assert fs.get(source_id).read() == b"x = 1\n"
        info: dict[str, Any] = {"nr": 7}
        obs.log_metrics({"loss": {"steps": [1], "values": [0.5], "timestamps": [T2]}}, info)
        obs.heartbeat_event(info=info, captured_out="out", beat_time=T2, result=3)
        obs.completed_event(stop_time=T3, result=42)
        doc = db.my_runs.find_one()
        metric = db.my_metrics.find_one({"run_id": 1, "name": "loss"})
        assert info["metrics"] == [{"name": "loss", "id": str(metric["_id"])}]
        assert (doc["info"], doc["captured_out"], doc["heartbeat"]) == (info, "out", T2)
        assert (doc["status"], doc["stop_time"], doc["result"]) == ("COMPLETED", T3, 42)
        assert (metric["steps"], metric["values"], metric["timestamps"]) == ([1], [0.5], [T2])

    def test_equality_follows_the_runs_collection(self, db: Any) -> None:
        """Observers on the same runs collection are equal, whatever their GridFS."""
        first = MongoObserver.create_from(db.runs, gridfs.GridFS(db))
        assert first == MongoObserver.create_from(db.runs, gridfs.GridFS(db, "other"))
        assert first != MongoObserver.create_from(db.other_runs, gridfs.GridFS(db))
        assert first != "runs"

    def test_without_metrics_collection_metrics_are_skipped(self, db: Any, tmp_path: Path) -> None:
        """Like Sacred's, an observer without a metrics collection stores no metrics."""
        obs = MongoObserver.create_from(db.runs, gridfs.GridFS(db), spool_dir=tmp_path)
        obs.started_event(**run_args(tmp_path, "RUN-A"))
        info: dict[str, Any] = {}
        obs.log_metrics({"loss": {"steps": [1], "values": [0.5], "timestamps": [T2]}}, info)
        assert info == {} and "metrics" not in db.list_collection_names()
        assert db.runs.find_one()["_id"] == "RUN-A"


class TestSacredErrors:
    def test_client_must_be_a_pymongo_client(self) -> None:
        """Another kind of client is refused with Sacred's ValueError."""
        with pytest.raises(ValueError, match="client needs to be a pymongo.MongoClient"):
            MongoObserver(client=object())

    def test_client_and_url_together_are_refused(self, mongo_server: Any) -> None:
        """A client and a url at once raise Sacred's message."""
        client = mongo_server.client()
        try:
            with pytest.raises(ValueError, match="Cannot pass both a client and a url."):
                MongoObserver(client=client, url=mongo_server.url)
        finally:
            client.close()

    def test_collection_and_prefix_together_are_refused(self, mongo_server: Any) -> None:
        """The deprecated collection with a collection_prefix raises Sacred's message."""
        client = mongo_server.client()
        try:
            with (
                pytest.warns(DeprecationWarning, match="collection_prefix"),
                pytest.raises(ValueError, match="Cannot pass both collection and a collection"),
            ):
                MongoObserver(client=client, collection="mine", collection_prefix="x")
        finally:
            client.close()


class TestForceBsonEncodeable:
    def test_valid_document_comes_back_unchanged(self) -> None:
        """A document MongoDB can store is returned as it is (the same object)."""
        doc = {
            "int": 1,
            "list": ["a", 1, True],
            "odd: [key] !": "$a.value.is.fine",
            "when": dt.datetime(2020, 1, 1),
            "tuple": (1, 2.0, "three"),
            "none": None,
        }
        assert force_bson_encodeable(doc) is doc

    def test_bad_keys_are_escaped_and_bad_values_become_strings(self) -> None:
        """Keys are escaped like force_valid_bson_key; unstorable values become str()."""
        doc = {
            "$price": 1,
            "a.b": {"fine": [1, 2]},
            2.5: "a float key",
            "deep": {"er": {"module": os}},
            "ok": {"kept": "as is"},
        }
        assert force_bson_encodeable(doc) == {
            "@price": 1,
            "a,b": {"fine": [1, 2]},
            "2,5": "a float key",
            "deep": {"er": {"module": str(os)}},
            "ok": {"kept": "as is"},
        }
        assert force_bson_encodeable([os]) == str([os])


class TestParseMongoDbArg:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("runs_db", {"db_name": "runs_db"}),
            ("runs_db.experiments", {"db_name": "runs_db", "collection": "experiments"}),
            ("db.example.org:27017", {"url": "db.example.org:27017"}),
            ("10.0.0.7:27018:lab", {"url": "10.0.0.7:27018", "db_name": "lab"}),
            (
                "localhost:27017:lab.runs:12!-5",
                {
                    "url": "localhost:27017",
                    "db_name": "lab",
                    "collection": "runs",
                    "overwrite": "12",
                    "priority": -5,
                },
            ),
        ],
    )
    def test_sacreds_forms(self, value: str, expected: dict[str, Any]) -> None:
        """Sacred's -m forms give Sacred's keyword arguments (overwrite as a string)."""
        assert parse_mongo_db_arg(value) == expected


class TestFailures:
    def open_observer(self, server: Any, name: str, tmp_path: Path) -> MongoObserver:
        client = pymongo.MongoClient(server.url, serverSelectionTimeoutMS=300, connectTimeoutMS=300)
        self.client = client
        db = client[name]
        return MongoObserver.create_from(
            db.runs,
            gridfs.GridFS(db),
            metrics_collection=db.metrics,
            failure_dir=tmp_path / "failed",
            retry_interval=30,
        )

    def test_failed_write_raises_and_the_run_is_kept(
        self, mongo_server_factory: Any, mongo_db_name: str, tmp_path: Path, capsys: Any
    ) -> None:
        """A heartbeat that cannot be written raises ConnectionFailure (marked kept); the
        final save leaves Sacred's pickle; everything is stored once the server is back."""
        server = mongo_server_factory(tmp_path / "data", DURABLE)
        obs = self.open_observer(server, mongo_db_name, tmp_path)
        try:
            obs.started_event(**run_args(tmp_path, "FEDCBA"))
            obs.heartbeat_event(info={}, captured_out="one\n", beat_time=T2, result=None)
            server.kill()
            with pytest.raises(pymongo.errors.ConnectionFailure) as failure:
                obs.heartbeat_event(info={}, captured_out="one\ntwo\n", beat_time=T3, result=1)
            assert event_was_kept(failure.value)
            obs.completed_event(stop_time=T3, result=42)  # does not raise, as in Sacred
            [pickled] = glob.glob(str(tmp_path / "failed" / "sacred_mongo_fail_FEDCBA_*.pickle"))
            with open(pickled, "rb") as file:
                entry = pickle.load(file)
            assert (entry["_id"], entry["status"], entry["result"]) == ("FEDCBA", "COMPLETED", 42)
            assert (entry["captured_out"], entry["heartbeat"], entry["stop_time"]) == (
                "one\ntwo\n",
                T3,
                T3,
            )
            assert "Warning: saving to MongoDB failed!" in capsys.readouterr().err
            assert obs.spool_path is not None and obs.spool_path.startswith(
                str(tmp_path / "failed")
            )
            server.start()
            obs.join()
            doc = obs.runs.find_one({"_id": "FEDCBA"})
            assert (doc["status"], doc["captured_out"], doc["result"]) == (
                "COMPLETED",
                "one\ntwo\n",
                42,
            )
            assert obs.spool_path is None
        finally:
            self.client.close()


class TestOutput:
    def test_each_heartbeat_stores_the_whole_output(self, db: Any, tmp_path: Path) -> None:
        """The whole text of every beat reads back, however it changed, past output_limit."""
        obs = MongoObserver.create_from(
            db.runs, gridfs.GridFS(db), output_limit=8, spool_dir=tmp_path
        )
        obs.started_event(**run_args(tmp_path))
        texts = [
            "line 1\n",
            "line 1\nline 2\nline 3\n",  # grows past the limit: older text moves out
            "line 1\nline 2\nline 3\n10%",
            "line 1\nline 2\nline 3\n50%",  # a progress bar redraws the last line
            "LINE 1\nline 2\n",  # text that had moved out changed: stored again
            "LINE 1\n",
        ]
        for text in texts:
            obs.heartbeat_event(info={}, captured_out=text, beat_time=T2, result=None)
            doc = db.runs.find_one({"_id": 1})
            assert read_captured_out(db, doc) == text
            assert len(doc["captured_out"]) <= 8


def test_artifact_content_type_is_guessed_and_printed(db: Any, tmp_path: Path, capsys: Any) -> None:
    """Without a content type, the guess is stored and printed as Sacred prints it."""
    obs = MongoObserver.create_from(db.runs, gridfs.GridFS(db), spool_dir=tmp_path)
    obs.started_event(**run_args(tmp_path))
    script = tmp_path / "train.py"
    script.write_text("print(1)\n")
    obs.artifact_event("train.py", str(script))
    obs.artifact_event("data", str(script), {"kind": "code"}, "text/plain")
    assert capsys.readouterr().out == (
        f"Added text/x-python as content-type of artifact {script}.\n"
    )
    files = {f["filename"]: f for f in db["fs.files"].find({"filename": {"$regex": "^artifact"}})}
    assert files["artifact://runs/1/train.py"]["contentType"] == "text/x-python"
    assert files["artifact://runs/1/data"]["contentType"] == "text/plain"
    assert files["artifact://runs/1/data"]["metadata"] == {"kind": "code"}
