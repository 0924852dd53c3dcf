"""Losing the database mid-run loses nothing: spool, reconnect, ``sacredlite sync``."""

from __future__ import annotations

import hashlib
import io
import logging
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sacredlite.events import Heartbeat, MetricsLogged, RunCompleted, RunStarted
from sacredlite.observers.dispatch import Dispatcher
from sacredlite.observers.mongo import MongoObserver, QueuedMongoObserver, read_metric
from sacredlite.observers.sync import main as sync_main
from sacredlite.observers.sync import sync_spools

T0 = datetime(2026, 11, 28, 1, 0, 0, tzinfo=timezone.utc)
DURABLE = ("--sync-on-commit",)  # a SIGKILLed server keeps acknowledged writes, as mongod does
FAST = {"serverSelectionTimeoutMS": 300, "connectTimeoutMS": 300, "retry_interval": 30}


def ex_info(root: Path) -> dict[str, Any]:
    (root / "exp.py").write_text("print('x')\n")
    return {
        "name": "failure_exp",
        "base_dir": str(root),
        "mainfile": "exp.py",
        "doc": None,
        "sources": [["exp.py", hashlib.md5(b"print('x')\n").hexdigest()]],
        "dependencies": [],
        "repositories": [],
    }


def started(root: Path, run_id: Any = None) -> RunStarted:
    return RunStarted(
        run_id=run_id,
        time=T0,
        experiment=ex_info(root),
        command="main",
        host={"hostname": "h"},
        config={"lr": 0.1},
        meta={"command": "main"},
    )


def points(name: str, start: int, count: int) -> MetricsLogged:
    steps = list(range(start, start + count))
    series = {
        "steps": steps,
        "values": [float(s) for s in steps],
        "timestamps": [T0 + timedelta(milliseconds=s) for s in steps],
    }
    return MetricsLogged(run_id=None, metrics={name: series})


def beat(text: str, new: str | None = None) -> Heartbeat:
    """A heartbeat whose whole output is *text* (of which *new* is new)."""
    return Heartbeat(
        run_id=None, time=T0, info={"n": len(text)}, captured_out=text, new_output=new or text
    )


KEPT = "MongoObserver failed on .*it keeps its events and stores them later"


def check_complete(server, db_name: str, run_id: int, steps: int, output: str) -> None:
    """Assert the run is stored whole: every metric point exactly once, in order."""
    client = server.client()
    try:
        db = client[db_name]
        run = db.runs.find_one({"_id": run_id})
        assert run["status"] == "COMPLETED"
        assert run["captured_out"] == output
        for name in ("loss", "acc"):
            series = read_metric(db, run_id, name)
            assert series["steps"] == list(range(steps)), name
            assert db.metrics.count_documents({"run_id": run_id, "name": name}) == 1
        assert db.runs.count_documents({}) == 1
    finally:
        client.close()


class TestLostConnection:
    def test_server_killed_mid_run_then_sync_stores_each_point_once(
        self, mongo_server_factory, mongo_db_name, tmp_path, caplog
    ):
        """A run whose server dies goes on; after a restart, sync stores every point once."""
        server = mongo_server_factory(tmp_path / "data", DURABLE)
        spool_dir = tmp_path / "spool"
        observer = MongoObserver(server.url, db_name=mongo_db_name, spool_dir=spool_dir, **FAST)
        dispatcher = Dispatcher([observer])
        run_id = dispatcher.start(started(tmp_path))
        for event in (points("loss", 0, 100), points("acc", 0, 100), beat("one\n")):
            dispatcher.emit(event)
        server.kill()
        with pytest.warns(RuntimeWarning, match=KEPT):
            dispatcher.emit(points("loss", 100, 100))
        for event in (points("acc", 100, 100), beat("one\ntwo\n", "two\n")):
            dispatcher.emit(event)
        dispatcher.emit(points("loss", 200, 50))
        dispatcher.emit(points("acc", 200, 50))
        dispatcher.emit(RunCompleted(run_id=run_id, time=T0, result=1))
        with caplog.at_level(logging.WARNING, logger="sacredlite"):
            dispatcher.finish()
        assert dispatcher.undelivered() == {}
        assert observer.spool_path is not None and Path(observer.spool_path).exists()
        assert "sacredlite sync --spool" in caplog.text
        server.start()
        out = io.StringIO()
        assert sync_spools(spool_dir, server.url, out=out) == (1, 0)
        assert f"run {run_id} in {mongo_db_name}.runs: stored" in out.getvalue()
        check_complete(server, mongo_db_name, run_id, 250, "one\ntwo\n")
        out = io.StringIO()
        assert sync_spools(spool_dir, server.url, out=out) == (0, 0)
        assert "Nothing to sync" in out.getvalue()
        check_complete(server, mongo_db_name, run_id, 250, "one\ntwo\n")

    def test_server_back_before_the_end_is_flushed_by_the_run(
        self, mongo_server_factory, mongo_db_name, tmp_path
    ):
        """When the server returns during the run, the spool is stored and removed."""
        server = mongo_server_factory(tmp_path / "data", DURABLE)
        spool_dir = tmp_path / "spool"
        observer = MongoObserver(server.url, db_name=mongo_db_name, spool_dir=spool_dir, **FAST)
        dispatcher = Dispatcher([observer])
        run_id = dispatcher.start(started(tmp_path))
        dispatcher.emit(points("loss", 0, 10))
        dispatcher.emit(points("acc", 0, 10))
        server.kill()
        with pytest.warns(RuntimeWarning, match=KEPT):
            dispatcher.emit(points("loss", 10, 10))
        dispatcher.emit(points("acc", 10, 10))
        dispatcher.emit(beat("out\n"))
        server.start()
        dispatcher.emit(RunCompleted(run_id=run_id, time=T0, result=1))
        dispatcher.finish()
        assert observer.spool_path is None
        assert list(spool_dir.glob("*.jsonl")) == []
        check_complete(server, mongo_db_name, run_id, 20, "out\n")

    def test_replaying_a_spool_twice_stores_nothing_twice(
        self, mongo_server_factory, mongo_db_name, tmp_path
    ):
        """Ops already stored (a sync cut short) are not stored again by the next sync."""
        server = mongo_server_factory(tmp_path / "data", DURABLE)
        spool_dir = tmp_path / "spool"
        observer = MongoObserver(server.url, db_name=mongo_db_name, spool_dir=spool_dir, **FAST)
        dispatcher = Dispatcher([observer])
        run_id = dispatcher.start(started(tmp_path))
        server.kill()
        with pytest.warns(RuntimeWarning, match=KEPT):
            dispatcher.emit(points("loss", 0, 30))
        for event in (points("acc", 0, 30), beat("x\n")):
            dispatcher.emit(event)
        dispatcher.emit(RunCompleted(run_id=run_id, time=T0, result=1))
        dispatcher.finish()
        spool_file = Path(observer.spool_path)
        kept = spool_file.read_text()
        server.start()
        assert sync_main(["--spool", str(spool_dir), "-m", server.address]) == 0
        spool_file.write_text(kept)  # as if the first sync had died before acknowledging
        assert sync_main(["--spool", str(spool_dir), "-m", server.address]) == 0
        check_complete(server, mongo_db_name, run_id, 30, "x\n")


class TestQueued:
    def test_database_down_for_the_whole_run(self, mongo_server_factory, mongo_db_name, tmp_path):
        """A queued observer runs without a database; sync later stores the whole run."""
        from mongo_testserver import MongoServer, free_port

        port = free_port()
        spool_dir = tmp_path / "spool"
        observer = QueuedMongoObserver(
            interval=0.05,
            retry_interval=0.05,
            url=f"127.0.0.1:{port}",
            db_name=mongo_db_name,
            spool_dir=spool_dir,
            serverSelectionTimeoutMS=200,
            connectTimeoutMS=200,
            join_timeout=0.5,
        )
        dispatcher = Dispatcher([observer])
        assert dispatcher.start(started(tmp_path)) is None
        for event in (points("loss", 0, 40), points("acc", 0, 40), beat("q\n")):
            dispatcher.emit(event)
        dispatcher.emit(RunCompleted(run_id=None, time=T0, result=1))
        dispatcher.finish()
        assert len(list(spool_dir.glob("*.jsonl"))) == 1
        server = MongoServer(port=port, storage_path=":memory:").start()
        try:
            assert sync_spools(spool_dir, server.url, out=io.StringIO()) == (1, 0)
            check_complete(server, mongo_db_name, 1, 40, "q\n")
        finally:
            server.kill()

    def test_crashed_process_leaves_a_spool_that_sync_stores(
        self, mongo_server, mongo_db_name, tmp_path
    ):
        """A process killed mid-run loses nothing its queued observer was given."""
        script = tmp_path / "crash.py"
        script.write_text(
            textwrap.dedent(
                f"""
                import os, sys
                sys.path[:0] = {sys.path!r}
                from pathlib import Path
                from test_mongo_failure import started, points, beat
                from sacredlite.observers.dispatch import Dispatcher
                from sacredlite.observers.mongo import QueuedMongoObserver
                obs = QueuedMongoObserver(interval=3600, url={mongo_server.url!r},
                                          db_name={mongo_db_name!r},
                                          spool_dir={str(tmp_path / "spool")!r})
                d = Dispatcher([obs])
                d.start(started(Path({str(tmp_path)!r})))
                for e in (points("loss", 0, 60), points("acc", 0, 60), beat("c\\n")):
                    d.emit(e)
                os._exit(9)
                """
            )
        )
        here = str(Path(__file__).parent)
        result = subprocess.run([sys.executable, str(script)], cwd=here, timeout=60)
        assert result.returncode == 9
        client = mongo_server.client()
        try:
            assert client[mongo_db_name].metrics.count_documents({}) == 0
        finally:
            client.close()
        assert sync_spools(tmp_path / "spool", mongo_server.url, out=io.StringIO()) == (1, 0)
        client = mongo_server.client()
        try:
            db = client[mongo_db_name]
            assert read_metric(db, 1, "loss")["steps"] == list(range(60))
            assert db.runs.find_one({"_id": 1})["captured_out"] == "c\n"
        finally:
            client.close()


def test_password_appears_nowhere(mongo_server_factory, mongo_db_name, tmp_path, caplog):
    """A password in the URL reaches no stored document, file, or log line."""
    import secrets

    from bson import json_util

    from sacredlite import Experiment

    password = "pw" + secrets.token_hex(8)
    server = mongo_server_factory(tmp_path / "data", DURABLE)
    admin = server.client()
    admin.admin.command("createUser", "ann", pwd=password, roles=["root"])
    admin.close()
    server.stop()
    server.extra_args = ("--auth",)
    server.start()
    url = f"mongodb://ann:{password}@{server.address}/{mongo_db_name}?authSource=admin"
    ex = Experiment("secret_exp")

    @ex.main
    def main(_run):
        _run.log_scalar("x", 1.0)
        print("hello")

    with caplog.at_level(logging.DEBUG):
        ex.run_commandline(["secret_exp.py", "-m", url])
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("pymongo")]
    assert ours and password not in "\n".join(ours)
    client = server.client(username="ann", password=password, authSource="admin")
    try:
        db = client[mongo_db_name]
        assert db.runs.count_documents({}) == 1
        for name in db.list_collection_names():
            dump = json_util.dumps(list(db[name].find()))
            assert password not in dump, name
    finally:
        client.close()


def test_wrong_password_is_one_clear_line(mongo_server_factory, tmp_path):
    """Bad credentials fail the start in one line that names the host but not the password."""
    import pytest

    from sacredlite.errors import ObserverError

    server = mongo_server_factory(tmp_path / "data")
    admin = server.client()
    admin.admin.command("createUser", "ann", pwd="right-one", roles=["root"])
    admin.close()
    server.stop()
    server.extra_args = ("--auth",)
    server.start()
    observer = MongoObserver(f"mongodb://ann:wrong-one@{server.address}/db?authSource=admin")
    with pytest.raises(ObserverError) as info:
        Dispatcher([observer]).start(started(tmp_path))
    message = str(info.value)
    assert server.address in message and "refused access" in message
    assert "wrong-one" not in message and "\n" not in message
