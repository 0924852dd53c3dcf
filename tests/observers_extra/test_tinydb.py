"""TinyDbObserver (``-t DIR``), TinyDbReader and the TinyDB run store, on real script runs."""

from __future__ import annotations

import gc
import io
import json
import warnings
from datetime import datetime
from pathlib import Path

import pytest
from extra_runs import ARTIFACT, RESOURCE, md5, reference_python, run_script
from starlette.testclient import TestClient

from sacredlite.board.app import create_app
from sacredlite.formats import tinydb as layout
from sacredlite.store import ReadOnlyError, open_store
from sacredlite.store.command import ls_main, show_main

pytest.importorskip("tinydb")
pytest.importorskip("hashfs")
pytest.importorskip("tinydb_serialization")


def _raw_runs(root: Path) -> list[dict]:
    return list(json.loads((root / "metadata.json").read_text())["runs"].values())


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory) -> Path:
    """A project whose TinyDB store holds one completed and one failed run."""
    project = tmp_path_factory.mktemp("tiny")
    run_script(project, "-t", "db")
    run_script(project, "with", "fail=True", "-t", "db", check=False)
    return project


def test_stores_the_run_document_sacred_stores(tiny_runs):
    """The run document has Sacred's fields and tagged values; files are in HashFS."""
    completed, failed = _raw_runs(tiny_runs / "db")
    assert completed["format"] == "TinyDbObserver-0.8.7"
    assert completed["status"] == "COMPLETED"
    assert completed["command"] == "main"
    assert completed["config"]["lr"] == 0.1
    assert completed["config"]["layers"] == [1, 2]
    assert completed["result"] == 0.2
    assert len(completed["_id"]) == 32  # uuid4().hex, as Sacred gives
    assert "hello 0.1" in completed["captured_out"]
    for field in ("start_time", "heartbeat", "stop_time"):
        assert completed[field].startswith("{TinyDate}:")
        layout.decode_date(completed[field][len("{TinyDate}:") :])
    script_md5 = md5((tiny_runs / "exp.py").read_bytes())
    assert completed["experiment"]["sources"] == [
        ["exp.py", script_md5, "{TinyFile}:" + json.dumps(script_md5)]
    ]
    name, path, artifact_md5, handle = completed["artifacts"][0]
    assert (name, Path(path).name, artifact_md5) == ("out.txt", "out.txt", md5(ARTIFACT))
    assert handle == "{TinyFile}:" + json.dumps(md5(ARTIFACT))
    resource = completed["resources"][0]
    assert resource[0].endswith("data.txt") and resource[1] == md5(RESOURCE)
    stored = Path(layout.file_path(str(tiny_runs / "db"), md5(ARTIFACT)))
    assert stored.read_bytes() == ARTIFACT
    assert failed["status"] == "FAILED"
    assert failed["fail_trace"][-1].strip() == "ValueError: asked to fail"


def test_keeps_metrics_in_a_table_of_its_own(tiny_runs):
    """Metric points go to ``sacredlite_metrics``, one document per run and metric."""
    tables = layout.read_tables(str(tiny_runs / "db"))
    docs = list(tables[layout.METRICS_TABLE].values())
    completed = _raw_runs(tiny_runs / "db")[0]
    loss = next(d for d in docs if d["run_id"] == completed["_id"])
    assert loss["name"] == "loss"
    assert loss["steps"] == [0, 1, 2]
    assert loss["values"] == [1.0, 0.5, 1 / 3]
    assert all(isinstance(t, datetime) for t in loss["timestamps"])


@pytest.mark.skipif(
    reference_python("tinydb", "hashfs", "tinydb_serialization") is None,
    reason="no Sacred 0.8.7 reference interpreter with tinydb",
)
def test_document_matches_sacreds_own(tmp_path):
    """Sacred 0.8.7 running the same script stores the same keys, shapes and values."""
    ours = run_script(tmp_path / "ours", "-t", "db")
    assert ours.returncode == 0
    python = reference_python("tinydb", "hashfs", "tinydb_serialization")
    run_script(tmp_path / "ref", "-t", "db", python=python)
    (mine,) = _raw_runs(tmp_path / "ours" / "db")
    (theirs,) = _raw_runs(tmp_path / "ref" / "db")
    assert sorted(mine) == sorted(theirs)
    assert sorted(mine["experiment"]) == sorted(theirs["experiment"])
    assert sorted(mine["host"]) == sorted(theirs["host"])
    assert sorted(mine["meta"]) == sorted(theirs["meta"])
    for same in ("format", "command", "status", "result", "info", "artifacts"):
        if same == "artifacts":
            assert [a[0] for a in mine[same]] == [a[0] for a in theirs[same]]
            assert [a[2:] for a in mine[same]] == [a[2:] for a in theirs[same]]
        else:
            assert mine[same] == theirs[same], same
    assert {k: v for k, v in mine["config"].items() if k != "seed"} == {
        k: v for k, v in theirs["config"].items() if k != "seed"
    }
    assert [r[1:] for r in mine["resources"]] == [r[1:] for r in theirs["resources"]]
    # the TinyDB store reads Sacred's directory too
    store = open_store(tmp_path / "ref" / "db")
    (record,) = store.records()
    assert record["_id"] == theirs["_id"]
    assert store.artifact(record["_id"], "out.txt")[0] == ARTIFACT


def test_reader_fetches_metadata_files_and_report(tiny_runs):
    """TinyDbReader finds runs by name, opens their files and writes Sacred's report.

    Sacred's reader hands stored files out as open handles (for every run it decodes), so
    the handles it leaves are closed by the garbage collector here.
    """
    from sacredlite.observers import TinyDbReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        reader = TinyDbReader(tiny_runs / "db")
        found = reader.fetch_metadata(exp_name="extra_")
        assert [r["status"] for r in found] == ["COMPLETED", "FAILED"]
        assert isinstance(found[0]["start_time"], datetime)
        files = reader.fetch_files(indices=0)[0]
        assert files["exp_name"] == "extra_demo"
        handle = files["artifacts"]["out.txt"]
        assert isinstance(handle, io.BufferedReader)
        assert handle.read() == ARTIFACT
        report = reader.fetch_report(indices=[0])[0]
        assert "Experiment: extra_demo" in report
        assert "lr: 0.1" in report and "out.txt" in report
        with pytest.raises(ValueError, match="less than number of records"):
            reader.fetch_metadata(indices=7)
        reader.db.close()
        del reader, found, files, handle
        gc.collect()


def _close_handles(value):
    if isinstance(value, io.IOBase):
        value.close()
    elif isinstance(value, dict):
        for item in value.values():
            _close_handles(item)
    elif isinstance(value, list):
        for item in value:
            _close_handles(item)


def test_store_lists_and_shows_runs(tiny_runs, capsys):
    """``sacredlite ls DIR`` recognises a TinyDB directory; ``show`` prints a run."""
    assert ls_main([str(tiny_runs / "db")]) == 0
    listed = capsys.readouterr().out
    assert "extra_demo" in listed and "COMPLETED" in listed and "FAILED" in listed
    run_id = _raw_runs(tiny_runs / "db")[0]["_id"]
    assert show_main([f"tinydb:{tiny_runs / 'db'}", run_id]) == 0
    shown = capsys.readouterr().out
    assert "loss: 3 points" in shown and "out.txt (9 bytes)" in shown


def test_board_reads_a_tinydb_store(tiny_runs):
    """The board's API lists runs, draws metrics, serves output, artifacts and sources;
    tags are refused with the reason."""
    store = open_store(f"tinydb:{tiny_runs / 'db'}")
    run_id = _raw_runs(tiny_runs / "db")[0]["_id"]
    with TestClient(create_app(store)) as client:
        rows = client.get("/api/runs").json()["rows"]
        assert {row["id"] for row in rows} == {d["_id"] for d in _raw_runs(tiny_runs / "db")}
        metric = client.get(f"/api/runs/{run_id}/metrics/loss").json()
        assert metric["steps"] == [0, 1, 2]
        output = client.get(f"/api/runs/{run_id}/output").json()
        assert "hello 0.1" in output["text"]
        assert client.get(f"/api/runs/{run_id}/artifacts/out.txt").content == ARTIFACT
        source = client.get(f"/api/runs/{run_id}/sources/exp.py")
        assert source.content == (tiny_runs / "exp.py").read_bytes()
        refused = client.put(f"/api/runs/{run_id}/tags", json={"tags": ["x"]})
        assert refused.status_code >= 400
        assert client.get("/api/views").json()["views"] == []
        view = client.put("/api/views/seeds", json={"state": {"group": ["config.lr"]}})
        assert view.status_code == 403 and "sacredlite copy" in view.json()["error"]
    with pytest.raises(ReadOnlyError, match="sacredlite copy"):
        store.set_tags(run_id, ["x"])
    opened = store.run(run_id)["resources"][0][0]
    assert store.resource(run_id, opened) == RESOURCE


def test_observer_left_no_open_handles(tmp_path):
    """A run through the observer in this process opens no file it does not close
    (``filterwarnings = error`` turns a leaked handle into a failure)."""
    from sacredlite import Experiment
    from sacredlite.observers import TinyDbObserver

    ex = Experiment("inproc", save_git_info=False)

    @ex.main
    def main(_run):
        _run.log_scalar("x", 1.0)
        return 3

    ex.observers.append(TinyDbObserver(tmp_path / "db"))
    assert ex.run().result == 3
    (doc,) = _raw_runs(tmp_path / "db")
    assert doc["result"] == 3
