"""Stores to move runs between: one made by sacredlite (a script run in a subprocess), one
made by Sacred 0.8.7 itself (tests/board/data/sacred087), and MongoDB databases on the
session's SecantusDB server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
SACRED087 = CHECKOUT / "tests" / "board" / "data" / "sacred087"

SCRIPT = """
import sys
from sacredlite import Experiment
from sacredlite.observers import FileStorageObserver

ex = Experiment("trainer")
ex.observers.append(FileStorageObserver(sys.argv[1]))


@ex.config
def cfg():
    lr = 0.1
    layers = {"n": 2, "act": "relu"}
    name = "base"
    fail = False


@ex.named_config
def other():
    name = "other"


@ex.main
def main(_run, lr, fail):
    for step in range(40):
        _run.log_scalar("loss", 1.0 / (1 + step * lr), step)
    _run.log_scalar("acc", 0.5 + lr)
    print("training with lr", lr)
    print("x" * 300)
    res = sys.argv[2] + "/resource.txt"
    ex.open_resource(res)
    _run.add_artifact(sys.argv[2] + "/model.txt", "model.txt")
    _run.add_artifact(sys.argv[2] + "/model.txt", "sub/copy.txt")
    if fail:
        raise ValueError("failed on purpose")
    return lr * 2


if __name__ == "__main__":
    for lr in (0.1, 0.2, 0.3):
        ex.run(config_updates={"lr": lr})
    ex.run(named_configs=["other"], config_updates={"lr": 0.5})
    try:
        ex.run(config_updates={"fail": True})
    except ValueError:
        pass
"""


def make_sacredlite_store(where: Path) -> Path:
    """Record five runs (one failed, one of another named config) with sacredlite."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "resource.txt").write_text("a resource\n")
    (where / "model.txt").write_text("weights\n")
    (where / "trainer.py").write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
    runs = where / "runs"
    subprocess.run(
        [sys.executable, "trainer.py", str(runs), str(where)],
        cwd=where,
        env=env,
        check=True,
        capture_output=True,
    )
    return runs


@pytest.fixture(scope="session")
def sacredlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store made by sacredlite once per session (tests copy it)."""
    return make_sacredlite_store(tmp_path_factory.mktemp("made"))


@pytest.fixture
def sacredlite_runs(sacredlite_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the sacredlite-made store, with tags and notes set in one run."""
    from sacredlite.store import open_store

    root = tmp_path / "src"
    shutil.copytree(sacredlite_template, root)
    store = open_store(root)
    store.set_tags(2, ["best", "paper"])
    store.set_notes(2, "the one in the paper")
    store.close()
    return root


@pytest.fixture
def sacred_runs(tmp_path: Path) -> Path:
    """A fresh copy of the store Sacred 0.8.7's FileStorageObserver wrote."""
    root = tmp_path / "sacred087"
    shutil.copytree(SACRED087 / "file_storage", root)
    return root


@pytest.fixture
def mongo_url(mongo_server, mongo_db_name: str) -> Iterator[str]:
    """A ``mongodb://`` URL of a fresh database (dropped afterwards)."""
    yield f"{mongo_server.url.rstrip('/')}/{mongo_db_name}"
    client = mongo_server.client()
    client.drop_database(mongo_db_name)
    client.close()


def store_files(root: Path) -> dict[str, bytes]:
    """Return every file under *root* (caches and hidden files left out) by relative path."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in rel.split("/")):
            out[rel] = path.read_bytes()
    return out
