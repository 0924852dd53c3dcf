"""The run detail and keys additions of issue 11: result.x keys, named configs and config
docs, metric sections (system metrics), and a dead run's duration that stops growing."""

from datetime import datetime, timedelta, timezone

from starlette.testclient import TestClient

from sacredlite.board.app import create_app

SOURCE = """from sacred import Experiment

ex = Experiment("docs")


@ex.config
def cfg():
    lr = 0.1  # the learning rate
    # hidden units per layer
    width = 64
    optimizer = {"name": "adam", "beta": 0.9}


@ex.named_config
def big():
    width = 1024  # a big model
    optimizer = {"name": "sgd", "beta": 0.0}


@ex.automain
def main(lr, width):
    return {"score": lr * width, "epochs": 3}
"""


def test_detail_names_the_origin_and_doc_of_config_keys(backend):
    """Keys set by a named config name it, `with` updates say "update", docs come from the
    stored source's config scope; the stored named_configs/config_updates are passed on."""
    backend.write(
        1,
        config={"lr": 0.5, "width": 1024, "optimizer": {"name": "sgd", "beta": 0.0}, "seed": 3},
        source_files={"train.py": SOURCE},
        config_updates={"lr": 0.5},
        result={"score": 512.0, "epochs": 3},
        metrics={
            "loss": ([0, 1], [1.0, 0.5]),
            "system/cpu_percent": ([0, 1], [50.0, 60.0]),
            "system/rss_mb": ([0, 1], [100.0, 110.0]),
            "train.acc": ([0, 1], [0.1, 0.2]),
        },
    )
    if backend.kind == "file":
        import json

        run_json = backend.target / "1" / "run.json"
        entry = json.loads(run_json.read_text())
        entry["meta"]["named_configs"] = ["big"]
        run_json.write_text(json.dumps(entry))
    else:
        backend.target.runs.update_one({"_id": 1}, {"$set": {"meta.named_configs": ["big"]}})
    with TestClient(create_app(backend.open())) as c:
        data = c.get("/api/runs/1").json()
        assert data["named_configs"] == ["big"] and data["config_updates"] == {"lr": 0.5}
        assert data["config_origin"] == {
            "lr": "update",
            "width": "big",
            "optimizer.name": "big",
            "optimizer.beta": "big",
        }
        assert data["config_docs"] == {
            "lr": "the learning rate",
            "width": "hidden units per layer",
            "seed": "the random seed for this experiment",
        }
        assert data["config_docs_source"] == "train.py"
        assert data["metric_sections"] == {
            "": ["loss"],
            "system": ["system/cpu_percent", "system/rss_mb"],
            "train": ["train.acc"],
        }
        keys = c.get("/api/keys").json()
        assert keys["result"] == ["result.epochs", "result.score"]
        rows = c.get("/api/runs", params={"columns": "result.score"}).json()["rows"]
        assert rows[0]["cols"]["result.score"] == 512.0


def test_detail_without_a_stored_source_still_lists_updates(backend):
    """No source stored: no docs, origin only from the updates."""
    backend.write(1, config={"lr": 0.5, "seed": 1}, config_updates={"lr": 0.5})
    with TestClient(create_app(backend.open())) as c:
        data = c.get("/api/runs/1").json()
        assert data["config_origin"] == {"lr": "update"} and data["config_docs"] == {}
        assert data["config_docs_source"] is None and data["metric_sections"] == {}


def test_a_dead_runs_duration_ends_at_its_last_heartbeat(backend):
    """A RUNNING run whose heartbeat stopped long ago is PROBABLY_DEAD; its duration is
    start to last heartbeat, the same on every request."""
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    backend.write(1, status="RUNNING", start=start, heartbeat=start + timedelta(seconds=90))
    with TestClient(create_app(backend.open())) as c:
        data = c.get("/api/runs/1").json()
        assert data["status"] == "PROBABLY_DEAD"
        assert abs(data["duration"] - 90.0) < 1e-3
        row = c.get("/api/runs").json()["rows"][0]
        assert row["status"] == "PROBABLY_DEAD" and abs(row["duration"] - 90.0) < 1e-3
