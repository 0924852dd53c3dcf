"""MongoObserver stores Sacred 0.8's schema, read back field by field from a real server."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest

from sacredlite import Experiment
from sacredlite.errors import ObserverError
from sacredlite.observers.mongo import MongoObserver, force_valid_bson_key, read_metric


@pytest.fixture
def observer(mongo_server, mongo_db_name, tmp_path):
    return MongoObserver(mongo_server.url, db_name=mongo_db_name, spool_dir=tmp_path / "spool")


def make_experiment(tmp_path: Path) -> Experiment:
    ex = Experiment("schema_exp")

    @ex.config
    def cfg():
        lr = 0.1  # noqa: F841 - config scope: local names become config entries
        layers = [64, 32]  # noqa: F841
        opt = {"name": "adam"}  # noqa: F841

    @ex.main
    def main(_run, lr):
        print("training with", lr)
        for step in range(5):
            _run.log_scalar("loss", 1.0 / (step + 1), step)
            _run.log_scalar("acc", step / 10)
        artifact = tmp_path / "model.txt"
        artifact.write_text("weights")
        _run.add_artifact(str(artifact), "model.txt", metadata={"kind": "weights"})
        _run.info["note"] = "hello"
        return {"best": lr}

    return ex


class TestStoredRun:
    def test_run_document_has_sacreds_fields(self, observer, tmp_path):
        """A completed run's document holds exactly Sacred's fields with Sacred's types."""
        ex = make_experiment(tmp_path)
        ex.observers.append(observer)
        run = ex.run(config_updates={"lr": 0.5})
        doc = observer.runs.find_one({"_id": run._id})
        assert isinstance(doc["_id"], int)
        assert set(doc) >= {
            "experiment", "format", "command", "host", "start_time", "config", "meta",
            "status", "resources", "artifacts", "captured_out", "info", "heartbeat",
            "result", "stop_time",
        }  # fmt: skip
        assert doc["format"] == "MongoObserver-0.7.0"
        assert doc["command"] == "main"
        assert doc["status"] == "COMPLETED"
        assert doc["config"]["lr"] == 0.5 and doc["config"]["layers"] == [64, 32]
        assert doc["config"]["opt"] == {"name": "adam"}
        assert doc["result"] == {"best": 0.5}
        for key in ("start_time", "heartbeat", "stop_time"):
            assert isinstance(doc[key], dt.datetime)
        assert doc["start_time"] <= doc["heartbeat"] and doc["start_time"] <= doc["stop_time"]
        assert "training with 0.5" in doc["captured_out"]
        assert doc["host"]["hostname"] and doc["host"]["python_version"]
        assert doc["meta"]["command"] == "main"
        assert doc["experiment"]["name"] == "schema_exp"
        assert doc["info"]["note"] == "hello"

    def test_sources_are_in_gridfs_once(self, observer, tmp_path):
        """Sources are GridFS files named by absolute path with their md5, stored once."""
        ex = make_experiment(tmp_path)
        ex.observers.append(observer)
        first = ex.run()
        second = ex.run()
        docs = [observer.runs.find_one({"_id": r._id}) for r in (first, second)]
        assert docs[0]["experiment"]["sources"] == docs[1]["experiment"]["sources"]
        assert docs[0]["experiment"]["sources"], "the test file itself is a source"
        base_dir = docs[0]["experiment"]["base_dir"]
        for rel, file_id in docs[0]["experiment"]["sources"]:
            stored = observer.runs.database["fs.files"].find_one({"_id": file_id})
            path = os.path.join(base_dir, rel)
            data = Path(path).read_bytes()
            assert stored["filename"] == path
            assert stored["md5"] == hashlib.md5(data).hexdigest()
            assert observer.fs.get(file_id).read() == data
            assert len(list(observer.fs.find({"filename": path}))) == 1

    def test_metrics_are_referenced_from_info(self, observer, tmp_path):
        """Each metric is one document per run and name, referenced in info.metrics."""
        ex = make_experiment(tmp_path)
        ex.observers.append(observer)
        run = ex.run()
        doc = observer.runs.find_one({"_id": run._id})
        metric_docs = list(observer.metrics.find({"run_id": run._id}))
        assert sorted(m["name"] for m in metric_docs) == ["acc", "loss"]
        assert sorted(doc["info"]["metrics"], key=lambda r: r["name"]) == sorted(
            ({"name": m["name"], "id": str(m["_id"])} for m in metric_docs),
            key=lambda r: r["name"],
        )
        loss = next(m for m in metric_docs if m["name"] == "loss")
        assert loss["steps"] == [0, 1, 2, 3, 4]
        assert loss["values"] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
        assert all(isinstance(t, dt.datetime) for t in loss["timestamps"])
        assert read_metric(observer.runs.database, run._id, "acc")["steps"] == [0, 1, 2, 3, 4]

    def test_artifact_is_named_like_sacreds(self, observer, tmp_path):
        """Artifacts are GridFS files artifact://runs/<id>/<name> with metadata and type."""
        ex = make_experiment(tmp_path)
        ex.observers.append(observer)
        run = ex.run()
        doc = observer.runs.find_one({"_id": run._id})
        (artifact,) = doc["artifacts"]
        assert artifact["name"] == "model.txt"
        stored = observer.runs.database["fs.files"].find_one({"_id": artifact["file_id"]})
        assert stored["filename"] == f"artifact://runs/{run._id}/model.txt"
        assert stored["metadata"] == {"kind": "weights"}
        assert stored["contentType"] == "text/plain"
        assert observer.fs.get(artifact["file_id"]).read() == b"weights"

    def test_omniboard_fields_survive_updates(self, observer, tmp_path):
        """Fields Omniboard adds to a running run (tags, notes) are kept by later updates."""
        ex = Experiment("omniboard_exp")

        @ex.main
        def main(_run):
            observer.runs.update_one(
                {"_id": _run._id}, {"$set": {"omniboard.tags": ["best"], "omniboard.notes": "n"}}
            )
            print("after tagging")
            _run.log_scalar("x", 1)

        ex.observers.append(observer)
        run = ex.run()
        doc = observer.runs.find_one({"_id": run._id})
        assert doc["omniboard"] == {"tags": ["best"], "notes": "n"}
        assert doc["status"] == "COMPLETED" and "after tagging" in doc["captured_out"]

    def test_config_keys_are_made_bson_safe(self, observer, tmp_path):
        """Config keys with dots or a leading dollar are escaped as Sacred does."""
        from sacredlite.events import RunStarted
        from sacredlite.observers.dispatch import Dispatcher

        source = tmp_path / "exp.py"
        source.write_text("x = 1\n")
        ex_info = {
            "name": "e",
            "base_dir": str(tmp_path),
            "mainfile": "exp.py",
            "doc": None,
            "sources": [["exp.py", hashlib.md5(b"x = 1\n").hexdigest()]],
            "dependencies": [],
            "repositories": [],
        }
        config = {"a.b": 1, "$c": {"d.e": 2}, "t": (1, 2)}
        run_id = Dispatcher([observer]).start(
            RunStarted(
                run_id=None,
                time=dt.datetime.now(dt.timezone.utc),
                experiment=ex_info,
                command="main",
                host={"hostname": "h"},
                config=config,
                meta={"command": "main"},
            )
        )
        doc = observer.runs.find_one({"_id": run_id})
        assert doc["config"] == {"a,b": 1, "@c": {"d,e": 2}, "t": {"py/tuple": [1, 2]}}
        assert force_valid_bson_key("$x.y") == "@x,y"

    def test_existing_id_without_overwrite_is_refused(self, observer, tmp_path):
        """Starting a run under an id that exists fails with a message naming overwrite."""
        ex = make_experiment(tmp_path)
        ex.observers.append(observer)
        run = ex.run()
        with pytest.raises(ObserverError, match=rf"_id {run._id} already exists.*overwrite"):
            ex.run(options={"--id": run._id})

    def test_overwrite_reuses_the_run(self, mongo_server, mongo_db_name, observer, tmp_path):
        """overwrite=<id> stores a new run into an existing run document."""
        ex = make_experiment(tmp_path)
        ex.observers.append(observer)
        first = ex.run(config_updates={"lr": 0.2})
        again = MongoObserver(mongo_server.url, db_name=mongo_db_name, overwrite=first._id)
        ex.observers[:] = [again]
        second = ex.run(config_updates={"lr": 0.3})
        assert second._id == first._id
        assert observer.runs.count_documents({}) == 1
        assert observer.runs.find_one({"_id": first._id})["config"]["lr"] == 0.3


def test_unreachable_server_fails_fast_naming_host(tmp_path):
    """An unreachable database fails the start in one line naming host:port, not the password."""
    from mongo_testserver import free_port

    port = free_port()
    observer = MongoObserver(
        f"mongodb://ann:s3cret@127.0.0.1:{port}/db", serverSelectionTimeoutMS=300
    )
    ex = make_experiment(tmp_path)
    ex.observers.append(observer)
    with pytest.raises(ObserverError) as info:
        ex.run()
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "s3cret" not in message
    assert "\n" not in message
