"""FileStorageObserver.metrics_event: the Run's compact points stored in Sacred's exact bytes,
streaming, without a Python object per point."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import tracemalloc
from array import array
from pathlib import Path
from typing import Any

import pytest
from observer_backends import HOST, META, T0, sacred_python

from sacredlite.events import MetricPoints
from sacredlite.formats.file import METRICS_FILE, SIDE_FILE, SPILL_DIR, MetricsWriter
from sacredlite.observers import FileStorageObserver

EPOCH0 = T0.timestamp()


def floats(values: Any) -> array[float]:
    return array("d", values)


def edge_batches() -> list[dict[str, MetricPoints]]:
    """Batches with every shape the Run hands over: counting steps and given ones, float
    arrays and value lists, whole seconds (ISO without a fraction), several points per
    millisecond, a clock that steps back, NaN and infinities, an empty batch."""
    whole = float(int(EPOCH0) + 1)  # a whole second: isoformat() drops the fraction
    return [
        {
            "loss": MetricPoints(
                "loss",
                range(4),
                floats([0.5, float("nan"), float("inf"), -0.0]),
                floats([EPOCH0, EPOCH0 + 0.0001, whole, whole + 0.0009]),
            ),
            "acc": MetricPoints("acc", [3, 1, 7], [1, 2, 3], floats([whole + 5, whole + 4, whole])),
        },
        {},
        {
            "loss": MetricPoints("loss", range(4, 6), floats([1e300, 1e-300]), floats([whole] * 2)),
            "text": MetricPoints("text", range(2), ["a, [b]", None], floats([EPOCH0] * 2)),
        },
    ]


def run_observer(basedir: Path, batches: list[dict[str, MetricPoints]], compact: bool) -> bytes:
    """Store *batches* through metrics_event (compact) or log_metrics (Sacred's lists)."""
    obs = FileStorageObserver(basedir)
    ex_info = {"name": "e", "base_dir": str(basedir), "sources": []}
    obs.started_event(ex_info, "main", HOST, T0, {}, META, None)
    for batch in batches:
        if compact:
            obs.metrics_event(batch, {})
        else:
            obs.log_metrics({name: p.as_sacred() for name, p in batch.items()}, {})
    obs.completed_event(T0, None)
    return (basedir / "1" / METRICS_FILE).read_bytes()


def test_compact_points_give_the_bytes_of_sacreds_lists(tmp_path: Path) -> None:
    """metrics.json from MetricPoints equals the one from the same points as Sacred's lists."""
    batches = edge_batches()
    compact = run_observer(tmp_path / "compact", batches, compact=True)
    lists = run_observer(tmp_path / "lists", batches, compact=False)
    assert compact == lists
    stored = json.loads(compact)
    assert "." not in stored["acc"]["timestamps"][2]  # a whole second, as isoformat() has it
    assert stored["loss"]["steps"] == list(range(6))


def test_compact_points_past_the_side_file_give_the_same_bytes(tmp_path: Path) -> None:
    """Big batches (read back from the side file) and many small ones (held, then spilled)
    give the bytes of json.dumps(sort_keys=True, indent=2)."""
    writer = MetricsWriter(tmp_path, memory_limit=4096, live_limit=1000)
    expected: dict[str, dict[str, list[Any]]] = {}
    step = 0
    for size in (50_000, 3, 1, 7, 40_000, *[2] * 300, 1):
        stamps = floats(EPOCH0 + (step + i) * 0.0004 for i in range(size))
        points = MetricPoints("m", range(step, step + size), floats(range(size)), stamps)
        writer.add({"m": points})
        series = expected.setdefault("m", {"steps": [], "timestamps": [], "values": []})
        series["steps"] += list(points.steps)
        series["values"] += list(points.values)
        series["timestamps"] += [t.isoformat() for t in points.timestamps()]
        step += size
    assert (tmp_path / SIDE_FILE).exists() and (tmp_path / SPILL_DIR).exists()
    writer.finish()
    assert sorted(os.listdir(tmp_path)) == [METRICS_FILE]
    text = (tmp_path / METRICS_FILE).read_text()
    assert text == json.dumps(expected, sort_keys=True, indent=2)


def test_a_million_points_are_written_without_holding_them(tmp_path: Path) -> None:
    """1,000,000 points in ten batches: the writer holds none of them between batches, and
    writing the 60 MB metrics.json takes a few MB of memory."""
    writer = MetricsWriter(tmp_path)
    tracemalloc.start()
    try:
        for n in range(10):
            points = MetricPoints(
                f"m{n}",
                range(100_000),
                floats(i * 0.5 for i in range(100_000)),
                floats(EPOCH0 + i * 2e-6 for i in range(100_000)),
            )
            writer.add({f"m{n}": points})
            del points
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        writer.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert os.path.getsize(tmp_path / METRICS_FILE) > 50_000_000
    assert held < 1_000_000 and peak < 8_000_000, (held, peak)


def test_runs_hand_the_file_observer_compact_points(tmp_path: Path) -> None:
    """Through a run, the file observer gets metrics_event, never Sacred's lists."""
    from sacredlite import Experiment

    class NoLists(FileStorageObserver):
        def log_metrics(self, metrics_by_name: dict[str, Any], info: dict[str, Any]) -> None:
            raise AssertionError("log_metrics was called")

    ex = Experiment("points")
    ex.observers.append(NoLists(tmp_path))

    @ex.main
    def main(_run: Any) -> None:
        for i in range(1000):
            _run.log_scalar("x", i * 0.5)
        _run.log_scalar("y", 1, 10)

    run = ex.run()
    stored = json.loads((tmp_path / str(run._id) / METRICS_FILE).read_text())
    assert stored["x"]["values"] == [i * 0.5 for i in range(1000)]
    assert stored["x"]["steps"] == list(range(1000))
    assert (stored["y"]["steps"], stored["y"]["values"]) == ([10], [1])


SACRED_DRIVER = """
import pickle, sys
from datetime import datetime
from sacred.observers import FileStorageObserver
batches = pickle.load(open(sys.argv[1], "rb"))
o = FileStorageObserver("runs")
o.started_event({"name": "e", "base_dir": ".", "sources": []}, "main", {"hostname": "h"},
                datetime(2026, 1, 1), {}, {}, None)
for batch in batches:
    o.log_metrics(batch, {})
o.completed_event(datetime(2026, 1, 1), None)
"""


@pytest.mark.skipif(
    sacred_python() is None, reason="no Sacred interpreter (bench/setup_sacred_venv.sh)"
)
def test_compact_points_give_sacreds_bytes(tmp_path: Path) -> None:
    """Sacred 0.8.7, given the same points as its lists, writes the same metrics.json."""
    batches = edge_batches()
    lists = [{name: p.as_sacred() for name, p in batch.items()} for batch in batches]
    (tmp_path / "batches.pickle").write_bytes(pickle.dumps(lists))
    (tmp_path / "drive.py").write_text(SACRED_DRIVER)
    (tmp_path / "sacred").mkdir()
    subprocess.run(
        [sacred_python(), str(tmp_path / "drive.py"), str(tmp_path / "batches.pickle")],
        cwd=tmp_path / "sacred",
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    theirs = (tmp_path / "sacred" / "runs" / "1" / METRICS_FILE).read_bytes()
    assert run_observer(tmp_path / "lite", batches, compact=True) == theirs


def test_metrics_event_is_checked_when_attached() -> None:
    """An observer's metrics_event must take (points, info), checked at append."""
    from sacredlite import Experiment
    from sacredlite.errors import ObserverError
    from sacredlite.observers import RunObserver

    class Wrong(RunObserver):
        def metrics_event(self, points: Any) -> None:
            pass

    class Right(RunObserver):
        def metrics_event(self, points: Any, info: Any) -> None:
            pass

    ex = Experiment("checked")
    with pytest.raises(ObserverError, match=r"Wrong\.metrics_event cannot take"):
        ex.observers.append(Wrong())
    ex.observers.append(Right())
