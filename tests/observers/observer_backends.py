"""The backend registry of the observer contract suite, and helpers shared by its tests.

The contract suite (``test_contract.py``) drives every backend in :data:`BACKENDS` through
the same events and compares what each stored, read back as one uniform record. To add a
backend (e.g. ``"mongo"``), add a :class:`Backend` to :data:`BACKENDS` here:
``make(request, tmp_path)`` builds the observer (it may use other fixtures through
``request.getfixturevalue``, such as ``mongo_server``) and ``read_back(observer, run_id)``
returns the uniform record:

``experiment``   ``{name, base_dir, mainfile, doc, dependencies, sources: {relpath: md5}}``
``repositories`` ``[{url, commit, dirty, diff}]`` (``diff`` only when one was given)
``command``, ``host``, ``meta``, ``status``, ``config``, ``info``, ``result``, ``fail_trace``
``start_time``, ``heartbeat``, ``stop_time``, ``queue_time``  naive-UTC datetimes (ms precision)
``captured_out`` the whole output text
``metrics``      ``{name: {"steps", "values", "timestamps" (naive-UTC datetimes)}}``
``artifacts``    ``{name: bytes}``
``resources``    ``[(filename, md5 of the stored copy)]``

Times in the tests have whole milliseconds, so a backend storing BSON dates compares equal.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sacredlite.formats.file import read_metrics
from sacredlite.observers import FileStorageObserver, MemoryObserver

T0 = datetime(2026, 11, 28, 0, 32, 23, 123000, tzinfo=timezone.utc)
"""A UTC-aware start time with whole milliseconds."""


def at(seconds: float) -> datetime:
    """Return T0 plus *seconds* (keep them to whole milliseconds)."""
    return T0 + timedelta(seconds=seconds)


def naive(moment: datetime | None) -> datetime | None:
    """Return *moment* as a naive-UTC datetime truncated to milliseconds."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def sacred_python() -> str | None:
    """Return an interpreter with Sacred 0.8.7 (``bench/setup_sacred_venv.sh``), if any."""
    for candidate in (os.environ.get("SACRED_PYTHON"), "/tmp/sacred-venv/bin/python"):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def md5_bytes(data: bytes) -> str:
    """Return the md5 hex digest of *data*."""
    return hashlib.md5(data).hexdigest()


def make_ex_info(
    root: Path, *, diff: str | None = "--- a/exp.py\n+++ b/exp.py\n"
) -> dict[str, Any]:
    """Create real source files under *root* and return an ``ex_info`` describing them."""
    sources = {"exp.py": b"print('hello')\n", "lib/util.py": b"X = 1\n"}
    for rel, data in sources.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    repo: dict[str, Any] = {"url": "git@github.com:me/proj.git", "commit": "a" * 40, "dirty": True}
    if diff is not None:
        repo["diff"] = diff
    return {
        "name": "contract_exp",
        "base_dir": str(root),
        "mainfile": "exp.py",
        "doc": "An experiment.",
        "sources": [[rel, md5_bytes(data)] for rel, data in sources.items()],
        "dependencies": ["numpy==2.4.6", "sacredlite==0.1.0"],
        "repositories": [repo],
    }


HOST = {
    "hostname": "node1",
    "os": ["Linux", "Linux-6.1-x86_64"],
    "python_version": "3.11.7",
    "cpu": "Some CPU",
    "ENV": {},
}
META = {
    "command": "main",
    "options": {"--comment": "first try", "--unobserved": False},
    "comment": "first try",
    "config_updates": {"lr": 0.1},
    "named_configs": [],
}


def _experiment_record(ex_info: dict[str, Any], sources: dict[str, str]) -> dict[str, Any]:
    keys = ("name", "base_dir", "mainfile", "doc", "dependencies")
    return {**{k: ex_info.get(k) for k in keys}, "sources": sources}


def read_back_memory(obs: MemoryObserver, run_id: Any) -> dict[str, Any]:
    """Return the uniform record of a run held by a MemoryObserver."""
    run = obs.run(run_id)
    return {
        "experiment": _experiment_record(run.experiment, dict(run.experiment["sources"])),
        "repositories": run.experiment.get("repositories", []),
        "command": run.command,
        "host": run.host,
        "meta": run.meta,
        "status": run.status,
        "config": run.config,
        "info": run.info,
        "result": run.result,
        "fail_trace": run.fail_trace,
        "start_time": naive(run.start_time),
        "heartbeat": naive(run.heartbeat),
        "stop_time": naive(run.stop_time),
        "queue_time": naive(run.queue_time),
        "captured_out": run.captured_out,
        "metrics": {
            name: {**series, "timestamps": [naive(t) for t in series["timestamps"]]}
            for name, series in run.metrics.items()
        },
        "artifacts": dict(run.artifacts),
        "resources": list(run.resources),
    }


def _time(text: str | None) -> datetime | None:
    return naive(datetime.fromisoformat(text)) if text else None


def read_back_file(obs: FileStorageObserver, run_id: Any) -> dict[str, Any]:
    """Return the uniform record of a run stored by a FileStorageObserver."""
    base = Path(obs.basedir)
    run_dir = base / str(run_id)
    run = json.loads((run_dir / "run.json").read_text())
    info_path = run_dir / "info.json"
    experiment = run["experiment"]
    sources = {
        rel: md5_bytes((base / stored).read_bytes()) for rel, stored in experiment["sources"]
    }
    repositories = []
    for repo in experiment.get("repositories", []):
        repo = dict(repo)
        if "diff_file" in repo:
            repo["diff"] = (base / repo.pop("diff_file")).read_text()
        repositories.append(repo)
    return {
        "experiment": _experiment_record(experiment, sources),
        "repositories": repositories,
        "command": run["command"],
        "host": run["host"],
        "meta": run["meta"],
        "status": run["status"],
        "config": json.loads((run_dir / "config.json").read_text()),
        "info": json.loads(info_path.read_text()) if info_path.exists() else {},
        "result": run.get("result"),
        "fail_trace": run.get("fail_trace"),
        "start_time": _time(run.get("start_time")),
        "heartbeat": _time(run.get("heartbeat")),
        "stop_time": _time(run.get("stop_time")),
        "queue_time": _time(run.get("queue_time")),
        "captured_out": (run_dir / "cout.txt").read_text()
        if (run_dir / "cout.txt").exists()
        else "",
        "metrics": {
            name: {**series, "timestamps": [_time(t) for t in series["timestamps"]]}
            for name, series in read_metrics(run_dir).items()
        },
        "artifacts": {name: (run_dir / name).read_bytes() for name in run.get("artifacts", [])},
        "resources": [
            (filename, md5_bytes(Path(stored).read_bytes()))
            for filename, stored in run.get("resources", [])
        ],
    }


@dataclass(frozen=True)
class Backend:
    """How the contract suite builds one kind of observer and reads its runs back."""

    make: Callable[[pytest.FixtureRequest, Path], Any]
    read_back: Callable[[Any, Any], dict[str, Any]]
    run_id: Callable[[int], Any] = int
    """The id the backend gives its n-th run (file storage names directories: ``"1"``)."""
    stores_queue_time: bool = True
    """Whether a queued run keeps its queue time (Sacred's run.json has none)."""


BACKENDS: dict[str, Backend] = {
    "memory": Backend(lambda request, tmp: MemoryObserver(), read_back_memory),
    "file": Backend(
        lambda request, tmp: FileStorageObserver(tmp / "runs"),
        read_back_file,
        run_id=str,
        stores_queue_time=False,
    ),
}
"""The observers the contract suite checks, by name (the test ids)."""

from mongo_backend import make_mongo, read_back_mongo  # noqa: E402 - the MongoDB backend

BACKENDS["mongo"] = Backend(make_mongo, read_back_mongo)
