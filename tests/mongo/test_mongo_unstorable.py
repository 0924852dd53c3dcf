"""A value BSON cannot hold never leaves a MongoDB run RUNNING, nor a spool sync cannot store.

Issue 9, item 2: a result, info value, metric value or step like ``2**100`` or a lone
surrogate ``"\\udcff"`` made every write holding it fail, so the run stayed RUNNING for good
(exit 0) and ``sacredlite sync`` could never store the spool.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sacredlite.formats.mongo import PushMetric, SetFields, storable
from sacredlite.observers.mongo import read_metric

REPO = Path(__file__).resolve().parents[2]
THIS_CHECKOUT = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
}
"""The environment of child processes: they import sacredlite from this checkout."""

BIG = 2**100


def run_script(tmp_path: Path, body: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "exp.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=tmp_path,
        env=THIS_CHECKOUT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def sync(spool_dir: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sacredlite", "sync", "--spool", str(spool_dir), "-m", url],
        env=THIS_CHECKOUT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def warned(stderr: str, where: str) -> list[str]:
    return [line for line in stderr.splitlines() if f"MongoDB cannot hold {where} =" in line]


def test_unencodable_values_are_stored_as_text_and_the_run_completes(
    mongo_server: Any, mongo_db_name: str, tmp_path: Path
) -> None:
    """``-m``: values BSON refuses become their string form with one warning naming each;
    every other value, every point, the result and COMPLETED are stored; no spool is left."""
    proc = run_script(
        tmp_path,
        """
        import numpy as np
        from sacredlite import Experiment

        ex = Experiment("unencodable")

        @ex.automain
        def main(_run):
            _run.info["big"] = 2**100
            _run.info["lone"] = "\\udcff"
            _run.info["nested"] = {"fine": 1, "deep": [2**100, 3]}
            for step in range(3):
                _run.log_scalar("loss", 1.0 / (step + 1))
            _run.log_scalar("huge", 2**100)
            _run.log_scalar("text", "\\udcff")
            _run.log_scalar("far", 1.0, 2**70)
            _run.log_scalar("array", np.arange(3))
            return 2**100
        """,
        "-m",
        f"{mongo_server.address}:{mongo_db_name}",
    )
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / ".sacredlite-spool").exists() or not list(
        (tmp_path / ".sacredlite-spool").glob("*.jsonl")
    ), proc.stderr
    client = mongo_server.client()
    try:
        db = client[mongo_db_name]
        (run,) = db.runs.find()
        assert run["status"] == "COMPLETED"
        assert run["result"] == str(BIG)
        info = run["info"]
        assert (info["big"], info["lone"]) == (str(BIG), "\\udcff")
        assert info["nested"] == {"fine": 1, "deep": [str(BIG), 3]}
        assert {m["name"] for m in info["metrics"]} == {"loss", "huge", "text", "far", "array"}
        assert read_metric(db, 1, "loss")["values"] == [1.0, 0.5, 1.0 / 3]
        assert read_metric(db, 1, "huge")["values"] == [str(BIG)]
        assert read_metric(db, 1, "text")["values"] == ["\\udcff"]
        assert read_metric(db, 1, "far")["steps"] == [str(2**70)]
        assert read_metric(db, 1, "array")["values"] == [
            {"py/object": "numpy.ndarray", "values": [0, 1, 2], "dtype": "int64"}
        ]
    finally:
        client.close()
    for where in (
        "result",
        "info['big']",
        "info['lone']",
        "info['nested']['deep'][0]",
        "metric 'huge'",
        "metric 'text'",
        "a step of metric 'far'",
    ):
        assert len(warned(proc.stderr, where)) == 1, (where, proc.stderr)
    assert "Traceback" not in proc.stderr


def old_spool(spool_dir: Path, db_name: str, ops: list[dict[str, Any]]) -> Path:
    """Write a spool as an observer that sent values unchanged would have left it, line by
    line in the format of that time (its operations were dicts)."""
    from bson import json_util

    spool_dir.mkdir(parents=True, exist_ok=True)
    path = spool_dir / f"{db_name}.runs.new.0123456789ab.jsonl"
    header = {"spool": 1, "db": db_name, "runs": "runs", "metrics": "metrics", "run_id": None}
    records = [{**header, "key": "0123456789ab"}]
    records += [{**op, "seq": seq} for seq, op in enumerate(ops)]
    options = json_util.RELAXED_JSON_OPTIONS
    path.write_text("".join(json_util.dumps(r, json_options=options) + "\n" for r in records))
    return path


NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def start_op() -> dict[str, Any]:
    doc = {
        "experiment": {"name": "old", "sources": [], "base_dir": "/x"},
        "format": "MongoObserver-0.7.0",
        "command": "main",
        "host": {"hostname": "h"},
        "start_time": NOW,
        "config": {"seed": 1, "path": "/data/\udcff.csv"},
        "meta": {"command": "main"},
        "status": "RUNNING",
        "resources": [],
        "artifacts": [],
        "captured_out": "",
        "info": {},
        "heartbeat": None,
        "sacredlite": {"spool_key": "k1"},
    }
    return {"op": "start", "doc": doc, "exists_ok": False}


def test_sync_stores_a_spool_holding_unencodable_values(
    mongo_server: Any, mongo_db_name: str, tmp_path: Path
) -> None:
    """A spool written before values were made storable drains: sync stores the run with
    string forms, names each one, exits 0 and removes the spool."""
    metric_id = __import__("bson").ObjectId()
    path = old_spool(
        tmp_path / "spool",
        mongo_db_name,
        [
            start_op(),
            {"op": "metric_new", "metric_id": metric_id, "name": "loss"},
            {
                "op": "metric_push",
                "metric_id": metric_id,
                "name": "loss",
                "part": 0,
                "token": "t1",
                "steps": [0, 2**70],
                "values": [0.5, BIG],
                "timestamps": [NOW, NOW],
            },
            {"op": "set", "fields": {"info": {"big": BIG}, "heartbeat": NOW}},
            {"op": "set", "fields": {"stop_time": NOW, "result": BIG, "status": "COMPLETED"}},
        ],
    )
    proc = sync(tmp_path / "spool", mongo_server.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not path.exists()
    for where in ("config['path']", "result", "info['big']", "metric 'loss'"):
        assert f"MongoDB cannot hold {where} =" in proc.stdout, (where, proc.stdout)
    client = mongo_server.client()
    try:
        db = client[mongo_db_name]
        (run,) = db.runs.find()
        assert (run["status"], run["result"]) == ("COMPLETED", str(BIG))
        assert run["config"]["path"] == "/data/\\udcff.csv"
        assert run["info"] == {"big": str(BIG)}
        series = read_metric(db, run["_id"], "loss")
        assert (series["steps"], series["values"]) == ([0, str(2**70)], [0.5, str(BIG)])
    finally:
        client.close()


def test_sync_names_a_rejected_write_and_stores_the_rest(
    mongo_server: Any, mongo_db_name: str, tmp_path: Path
) -> None:
    """A write the server refuses for another reason (past 16 MB) is named precisely and
    kept; the writes after it, the final status included, are stored."""
    path = old_spool(
        tmp_path / "spool",
        mongo_db_name,
        [
            start_op(),
            {"op": "set", "fields": {"info": {"blob": "x" * (17 << 20)}}},
            {"op": "set", "fields": {"stop_time": NOW, "status": "COMPLETED"}},
        ],
    )
    proc = sync(tmp_path / "spool", mongo_server.url)
    assert proc.returncode == 1
    assert "write 1 (update of info) of run 1 was rejected by MongoDB" in proc.stdout
    assert "DocumentTooLarge" in proc.stdout
    assert path.exists()
    client = mongo_server.client()
    try:
        (run,) = client[mongo_db_name].runs.find()
        assert run["status"] == "COMPLETED"
    finally:
        client.close()


def test_a_result_past_16_mb_does_not_keep_the_run_running(
    mongo_server: Any, mongo_db_name: str, tmp_path: Path
) -> None:
    """The status is stored by a write of its own: a result the database refuses stays in
    the spool (and is named), the run is COMPLETED."""
    proc = run_script(
        tmp_path,
        """
        from sacredlite import Experiment

        ex = Experiment("big_result")

        @ex.automain
        def main():
            return "x" * (17 << 20)
        """,
        "-m",
        f"{mongo_server.address}:{mongo_db_name}",
        "--loglevel",
        "WARNING",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "(update of result) of run 1 (DocumentTooLarge" in proc.stderr
    assert "sacredlite sync --spool" in proc.stderr
    client = mongo_server.client()
    try:
        (run,) = client[mongo_db_name].runs.find({}, {"status": 1, "stop_time": 1})
        assert run["status"] == "COMPLETED"
        assert isinstance(run["stop_time"], datetime)
    finally:
        client.close()


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(3, id="int"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("\udcff", id="surrogate"),
    ],
)
def test_keys_bson_refuses_become_text(key: Any) -> None:
    """A key that is not a BSON key becomes its string form, reported with its place."""
    reports: list[str] = []
    op = SetFields({"info": {"ok": 1, "inner": {key: 2}}})
    fixed = storable(op, lambda where, *rest: reports.append(where))
    assert isinstance(fixed, SetFields)
    (name,) = fixed.fields["info"]["inner"]
    __import__("bson").encode(fixed.fields)
    assert fixed.fields["info"]["ok"] == 1
    assert reports == ["the key info['inner'][" + repr(key) + "]"]
    assert isinstance(name, str)


def test_storable_values_are_sent_unchanged() -> None:
    """An operation BSON can hold comes back as the same object (no copy, no warning)."""
    ops = [
        SetFields({"info.metrics": [{"name": "a"}], "result": 2**62}),
        PushMetric(
            metric_id=None,
            name="loss",
            part=0,
            token="t",
            steps=list(range(1000)),
            values=[0.5] * 1000,
            timestamps=[NOW] * 1000,
        ),
    ]
    for op in ops:
        assert storable(op, lambda *args: pytest.fail(f"warned: {args}")) is op
