"""MLflow in and out: a tracking store written by ``mlflow`` itself imports with its params
typed back, metrics, tags, notes, artifacts, status and times; sacredlite -> MLflow ->
sacredlite keeps config, metrics, output, tags and notes."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pytest

from sacredlite.store import open_store
from sacredlite.transfer import export_mlflow, import_mlflow
from sacredlite.transfer.command import import_main
from sacredlite.transfer.params import typed_value

mlflow = pytest.importorskip("mlflow")
T0 = 1_700_000_000_000  # ms


def make_mlflow_store(root) -> dict[str, str]:
    """Write two runs with MLflow's own client into an mlruns/ file store."""
    from mlflow.tracking import MlflowClient

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        client = MlflowClient(tracking_uri="file://" + str(root))
        exp = client.create_experiment("mnist")
        first = client.create_run(exp, run_name="baseline", start_time=T0)
        rid = first.info.run_id
        for key, value in {
            "lr": "0.001",
            "epochs": "10",
            "use_bn": "True",
            "optimizer.name": "adam",
            "optimizer.betas": "[0.9, 0.999]",
            "run_code": "007",
        }.items():
            client.log_param(rid, key, value)
        for step in range(5):
            client.log_metric(rid, "loss", 1.0 / (step + 1), timestamp=T0 + 100 * step, step=step)
        client.log_metric(rid, "acc", 0.9, timestamp=T0 + 900, step=4)
        client.set_tag(rid, "team", "vision")
        client.set_tag(rid, "mlflow.note.content", "first try")
        (root.parent / "model.bin").write_bytes(b"\x00\x01weights")
        client.log_artifact(rid, str(root.parent / "model.bin"), "models")
        client.set_terminated(rid, "FINISHED", end_time=T0 + 5000)
        second = client.create_run(exp, run_name="crashed", start_time=T0 + 10_000)
        client.log_param(second.info.run_id, "lr", "0.1")
        client.set_terminated(second.info.run_id, "FAILED", end_time=T0 + 11_000)
        return {"baseline": rid, "crashed": second.info.run_id}
    finally:
        os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)


def test_import_of_a_store_mlflow_wrote(tmp_path, capsys):
    """Params become a typed, nested config; metrics keep steps and times; tags, notes,
    artifacts, status and times come along; a second import adds nothing."""
    mlruns = tmp_path / "mlruns"
    ids = make_mlflow_store(mlruns)
    dst = tmp_path / "runs"
    assert import_main(["mlflow", str(mlruns), str(dst)]) == 0
    assert "Imported 2 runs from mlflow at file://" in capsys.readouterr().out
    store = open_store(dst)
    runs = {r["meta"]["comment"]: r for r in (store.run(r["_id"]) for r in store.records())}
    base = runs["baseline"]
    assert base["config"] == {
        "lr": 0.001,
        "epochs": 10,
        "use_bn": True,
        "optimizer": {"name": "adam", "betas": [0.9, 0.999]},
        "run_code": "007",
    }
    assert base["experiment"]["name"] == "mnist"
    assert base["status"] == "COMPLETED" and runs["crashed"]["status"] == "FAILED"
    assert base["start_time"] == datetime.fromtimestamp(T0 / 1000, timezone.utc)
    assert base["stop_time"] == datetime.fromtimestamp((T0 + 5000) / 1000, timezone.utc)
    assert base["meta"]["imported_from"] == {
        "kind": "mlflow",
        "source": "file://" + str(mlruns),
        "id": ids["baseline"],
    }
    assert base["omniboard"] == {"tags": ["team=vision"], "notes": "first try"}
    assert base["info"]["mlflow_tags"]["team"] == "vision"
    loss = store.metric_points(base["_id"], "loss")
    assert loss["steps"] == [0, 1, 2, 3, 4]
    assert loss["values"] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert [t.timestamp() * 1000 for t in loss["timestamps"]] == [T0 + 100 * s for s in range(5)]
    content, _ = store.artifact(base["_id"], "models/model.bin")
    assert content.read_bytes() == b"\x00\x01weights"
    store.close()
    assert import_main(["mlflow", str(mlruns), str(dst)]) == 0
    assert "Imported 0 runs" in capsys.readouterr().out
    assert sorted(p.name for p in dst.iterdir() if not p.name.startswith(".")) == ["1", "2"]


def test_sacredlite_mlflow_sacredlite_round_trip(sacredlite_runs, tmp_path):
    """Config, metrics, output, tags and notes come back equal through MLflow."""
    mlruns = tmp_path / "mlruns"
    assert export_mlflow(sacredlite_runs, mlruns) == 5
    assert export_mlflow(sacredlite_runs, mlruns) == 0  # exported before
    back = tmp_path / "back"
    report = import_mlflow(mlruns, back)
    assert len(report.imported) == 5 and report.points == 5 * 41 and report.artifacts == 10
    src, dst = open_store(sacredlite_runs), open_store(back)
    by_comment = {}
    for record in dst.records():
        origin = record["meta"]["imported_from"]["id"]
        by_comment[origin] = record["_id"]
    assert len(by_comment) == 5
    originals = sorted(src.records(), key=lambda r: r["start_time"])
    copies = sorted(dst.records(), key=lambda r: r["start_time"])
    for old, new in zip(originals, copies, strict=True):
        a, b = src.run(old["_id"]), dst.run(new["_id"])
        assert b["config"] == a["config"]
        assert b["experiment"]["name"] == a["experiment"]["name"]
        assert b["status"] == a["status"]
        assert b["omniboard"] == a["omniboard"]
        assert dst.metric_names(new["_id"]) == src.metric_names(old["_id"])
        for name in src.metric_names(old["_id"]):
            assert dst.metric_points(new["_id"], name) == src.metric_points(old["_id"], name)
        assert dst.output(new["_id"])["text"] == src.output(old["_id"])["text"]
        assert sorted(x["name"] for x in dst.artifacts(new["_id"])) == ["model.txt", "sub/copy.txt"]
    src.close()
    dst.close()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-2", -2),
        ("007", "007"),
        ("0.5", 0.5),
        ("1e-3", 0.001),
        ("True", True),
        ("false", False),
        ("None", None),
        ('{"a": [1, 2]}', {"a": [1, 2]}),
        ("[oops", "[oops"),
        ("nan", "nan"),
        ("adam", "adam"),
    ],
)
def test_params_are_typed_back_only_where_safe(text, value):
    """Numbers, bools, None and JSON come back typed; anything ambiguous stays text."""
    assert typed_value(text) == value
    assert type(typed_value(text)) is type(value)


def test_a_missing_source_is_named(tmp_path, capsys):
    """A path that is neither a directory nor a URI is refused in one line."""
    assert import_main(["mlflow", str(tmp_path / "nope"), str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err
    assert "is neither a directory (mlruns/) nor a tracking URI" in err
    assert json.dumps(err)  # one line of text
