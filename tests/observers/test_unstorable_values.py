"""A value JSON cannot hold never costs a file-storage run its data or its final status.

Issue 9, item 1: ``_run.log_scalar("m", np.arange(3))`` with ``-F`` used to lose
``metrics.json``, and an ``info`` or result jsonpickle cannot flatten left the run RUNNING,
while the process said "Completed" and exited 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sacredlite.formats.file import METRICS_FILE, SIDE_FILE, MetricsWriter

np = pytest.importorskip("numpy")

THIS_CHECKOUT = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]
    ),
}
"""The environment of child processes: they import sacredlite from this checkout."""

UNFLATTENABLE = """
class Unflattenable:
    '''An object jsonpickle cannot flatten (its reduce raises), with a plain repr.'''
    def __init__(self, name):
        self.name = name
    def __reduce_ex__(self, protocol):
        raise RuntimeError("cannot be reduced")
    def __repr__(self):
        return f"Unflattenable({self.name!r})"
    __str__ = __repr__
"""


def run_script(tmp_path: Path, body: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Write *body* as ``exp.py`` in *tmp_path* and run it with ``-F runs`` and *args*."""
    script = tmp_path / "exp.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, str(script), "-F", "runs", *args],
        cwd=tmp_path,
        env=THIS_CHECKOUT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def test_numpy_array_metric_is_stored_as_sacred_stores_it(tmp_path: Path) -> None:
    """An array logged as a metric value is stored as jsonpickle's numpy object (Sacred's
    metrics.json), beside the other points, and the run completes with its result."""
    proc = run_script(
        tmp_path,
        """
        import numpy as np
        from sacredlite import Experiment

        ex = Experiment("np_metric")

        @ex.automain
        def main(_run):
            _run.log_scalar("ok", 1.0)
            _run.log_scalar("m", np.arange(3))
            _run.log_scalar("ok", 2.0)
            return 42
        """,
    )
    assert proc.returncode == 0, proc.stderr
    run_dir = tmp_path / "runs" / "1"
    run = load(run_dir / "run.json")
    assert (run["status"], run["result"]) == ("COMPLETED", 42)
    metrics = load(run_dir / METRICS_FILE)
    assert metrics["ok"]["values"] == [1.0, 2.0]
    assert metrics["ok"]["steps"] == [0, 1]
    assert metrics["m"]["steps"] == [0]
    assert metrics["m"]["values"] == [
        {"dtype": "int64", "py/object": "numpy.ndarray", "values": [0, 1, 2]}
    ]
    # Sacred's layout: sort_keys, indent=2, the object one key per line
    assert (
        '      {\n        "dtype": "int64",\n        "py/object"'
        in (run_dir / METRICS_FILE).read_text()
    )
    assert "Traceback" not in proc.stderr


def test_values_jsonpickle_cannot_flatten_become_text_with_a_warning(tmp_path: Path) -> None:
    """info, result, config and metric values that cannot be flattened are stored as their
    string form, one warning names each; everything else is stored and the run completes."""
    proc = run_script(
        tmp_path,
        UNFLATTENABLE
        + """
from sacredlite import Experiment

ex = Experiment("unflattenable")
ex.add_config(opt=Unflattenable("config"), lr=0.1)

@ex.automain
def main(_run):
    _run.info["bad"] = Unflattenable("info")
    _run.info["big"] = 2**100
    _run.info["fine"] = [1, 2]
    for step in range(3):
        _run.log_scalar("loss", 1.0 / (step + 1))
        _run.log_scalar("weird", Unflattenable("metric"))
    return Unflattenable("result")
""",
    )
    assert proc.returncode == 0, proc.stderr
    run_dir = tmp_path / "runs" / "1"
    run = load(run_dir / "run.json")
    assert run["status"] == "COMPLETED"
    assert run["result"] == "Unflattenable('result')"
    config = load(run_dir / "config.json")
    assert (config["opt"], config["lr"]) == ("Unflattenable('config')", 0.1)
    info = load(run_dir / "info.json")
    assert info == {"bad": "Unflattenable('info')", "big": 2**100, "fine": [1, 2]}
    metrics = load(run_dir / METRICS_FILE)
    assert metrics["loss"]["values"] == [1.0, 0.5, 1.0 / 3]
    assert metrics["weird"]["values"] == ["Unflattenable('metric')"] * 3
    for where in ("info['bad']", "result", "config['opt']", "metric 'weird'"):
        lines = [line for line in proc.stderr.splitlines() if f"hold {where} =" in line]
        assert len(lines) == 1, (where, proc.stderr)
        assert "RuntimeError: cannot be reduced" in lines[0]
        assert "string form" in lines[0]
    assert "Traceback" not in proc.stderr


def test_side_file_and_final_file_take_arrays_too(tmp_path: Path) -> None:
    """Past the live limit (side file), array values are stored the same way, and a
    value whose str() raises still leaves a readable name in its place."""

    class Hopeless:
        def __reduce_ex__(self, protocol: int) -> Any:
            raise RuntimeError("no")

        def __str__(self) -> str:
            raise ValueError("no str either")

    t0 = datetime(2026, 11, 28)
    writer = MetricsWriter(tmp_path, live_limit=0)
    for start in (0, 2):
        writer.add(
            {
                "m": {
                    "steps": [start, start + 1],
                    "values": [np.arange(2), Hopeless()],
                    "timestamps": [t0 + timedelta(seconds=start + i) for i in range(2)],
                }
            }
        )
    assert (tmp_path / SIDE_FILE).exists()
    writer.finish()
    values = load(tmp_path / METRICS_FILE)["m"]["values"]
    array = {"dtype": "int64", "py/object": "numpy.ndarray", "values": [0, 1]}
    assert values == [array, "<unprintable Hopeless object>"] * 2


def test_a_value_nested_past_any_encoder_keeps_its_siblings(tmp_path: Path) -> None:
    """An info value nested thousands of levels deep is stored as text below a bounded
    depth; the other info entries, the result and the final status are stored."""
    import gc

    from sacredlite.observers import FileStorageObserver

    # Earlier tests' garbage, collected while the encoders recurse near the limit, would
    # raise RecursionError in finalizers (pytest reports those): collect it first.
    gc.collect()
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    obs = FileStorageObserver(tmp_path / "runs")
    ex_info = {"name": "deep", "base_dir": str(tmp_path), "sources": [], "dependencies": []}
    now = datetime(2026, 11, 28)
    obs.started_event(ex_info, "main", {}, now, {}, {}, None)
    obs.heartbeat_event({"deep": deep, "ok": 1}, "", now, None)
    obs.completed_event(now, 5)
    run_dir = tmp_path / "runs" / "1"
    info = load(run_dir / "info.json")
    assert info["ok"] == 1
    level = info["deep"]
    while isinstance(level, list):
        (level,) = level
    assert level == "<unprintable list object>"
    assert load(run_dir / "run.json")["status"] == "COMPLETED"


def test_an_array_step_completes_the_run(tmp_path: Path) -> None:
    """A numpy array given as a metric's step is stored as Sacred stores it, and the run and
    its other metrics complete (it used to crash the buffer before any observer saw it)."""
    proc = run_script(
        tmp_path,
        """
        import numpy as np
        from sacredlite import Experiment
        ex = Experiment("steps")

        @ex.automain
        def main(_run):
            _run.log_scalar("odd", 1.0, np.arange(2))
            _run.log_scalar("plain", 2.0)
            return 3
        """,
    )
    assert proc.returncode == 0, proc.stderr
    run_dir = tmp_path / "runs" / "1"
    assert load(run_dir / "run.json")["status"] == "COMPLETED"
    metrics = load(run_dir / "metrics.json")
    assert metrics["plain"]["values"] == [2.0]
    assert metrics["odd"]["steps"][0]["py/object"] == "numpy.ndarray"
