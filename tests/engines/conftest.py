"""Fixtures for the engine tests: an experiment script, its runs read back from storage.

Every engine's workers import the experiment from its script in their own processes, so
the checkout is put first on ``PYTHONPATH`` for them (:data:`checkout.THIS_CHECKOUT`).
"""

from __future__ import annotations

import itertools
import json
import os
import textwrap
from pathlib import Path

import pytest
from checkout import THIS_CHECKOUT

GRID_SCRIPT = textwrap.dedent(
    """
    from sacredlite import Experiment

    ex = Experiment("grid_exp")

    @ex.config
    def cfg():
        lr = 0.1
        model = {"width": 32, "depth": 2}
        fail_width = -1

    @ex.automain
    def main(lr, model, fail_width, seed, _run):
        _run.log_scalar("loss", lr * model["width"], 0)
        if model["width"] == fail_width:
            raise ValueError(f"width {fail_width} fails")
        return {"lr": lr, "width": model["width"], "seed": seed}
    """
)

GRID = {"lr": [0.1, 0.01], "model.width": [64, 128]}
SEEDS = 3
GRID_ARGS = ["--grid", "lr=0.1,0.01", "--grid", "model.width=[64,128]", "--seeds", "3"]


@pytest.fixture(autouse=True, scope="session")
def _workers_import_this_checkout():
    """Engine workers (separate processes) import sacredlite from this checkout."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = THIS_CHECKOUT["PYTHONPATH"]
    yield
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


@pytest.fixture
def grid_script(tmp_path: Path) -> Path:
    """The sweep's experiment script."""
    script = tmp_path / "grid_exp.py"
    script.write_text(GRID_SCRIPT)
    return script


def file_runs(runs_dir: Path) -> dict[int, dict]:
    """Return ``{id: run.json with "config" and "omniboard" added}`` of a file storage."""
    runs = {}
    for entry in runs_dir.iterdir():
        if entry.name.isdigit():
            record = json.loads((entry / "run.json").read_text())
            record["config"] = json.loads((entry / "config.json").read_text())
            side = entry / "omniboard.json"
            record["omniboard"] = json.loads(side.read_text()) if side.exists() else {}
            runs[int(entry.name)] = record
    return runs


def assert_grid_landed(runs: dict, sweep_id: str, run_ids: list, fail_width: int | None = None):
    """The 2x2x3 grid landed as 12 runs: unique ids, right configs, tagged with the sweep."""
    size = len(GRID["lr"]) * len(GRID["model.width"]) * SEEDS
    assert len(runs) == size
    assert sorted(int(i) for i in run_ids) == sorted(runs)  # each recorded once, id as reported
    points = set()
    for record in runs.values():
        sweep = record["meta"]["sweep"]
        assert sweep["id"] == sweep_id and sweep["size"] == size
        point = sweep["point"]
        config = record["config"]
        assert (config["lr"], config["model"]["width"], config["seed"]) == (
            point["lr"],
            point["model"]["width"],
            point["seed"],
        )
        assert config["model"]["depth"] == 2  # the rest of the config is the script's
        assert record["omniboard"]["tags"] == [f"sweep:{sweep_id}"]
        expected = "FAILED" if point["model"]["width"] == fail_width else "COMPLETED"
        assert record["status"] == expected
        if expected == "COMPLETED":
            assert record["result"] == {"lr": point["lr"], "width": point["model"]["width"],
                                        "seed": point["seed"]}  # fmt: skip
        points.add((point["lr"], point["model"]["width"], point["seed"]))
    assert points == set(itertools.product(GRID["lr"], GRID["model.width"], range(SEEDS)))
