import json
import math

import pytest

from sacredlite.store import series as series_module
from sacredlite.store.file import parse_final_metrics
from sacredlite.store.series import Series


@pytest.fixture(params=["numpy", "python"])
def impl(request, monkeypatch):
    """Run a test with numpy and with the pure-Python fallback."""
    if request.param == "python":
        monkeypatch.setattr(series_module, "_np", None)
    return request.param


def test_minmax_buckets_keep_extremes(impl):
    """Both implementations keep every bucket's min and max, in step order."""
    values = [math.sin(i / 50) for i in range(10_000)]
    values[1234] = 50.0
    values[8765] = -50.0
    out = Series(list(range(10_000)), values).window(points=200)
    assert len(out["steps"]) <= 200 and out["steps"] == sorted(out["steps"])
    assert 1234 in out["steps"] and 8765 in out["steps"]
    assert max(out["values"]) == 50.0 and min(out["values"]) == -50.0


def test_unsorted_steps_and_non_numbers(impl):
    """Out-of-order steps are sorted; None, strings and NaN become null; extend keeps order."""
    s = Series([3, 1, 2], [30.0, None, "x"])
    assert s.window() == {
        "steps": [1, 2, 3],
        "values": [None, None, 30],
        "total": 3,
        "downsampled": False,
    }
    s.extend([0, 4], [0.5, float("inf")])
    assert s.window()["steps"] == [0, 1, 2, 3, 4]
    assert s.rollup() == {"last": float("inf"), "min": 0.5, "max": 30.0, "count": 5}


def test_window_bounds(impl):
    """A step window includes both ends and counts only its own points."""
    s = Series(list(range(0, 100, 2)), list(range(50)))
    out = s.window(start=10, stop=20)
    assert out["steps"] == [10, 12, 14, 16, 18, 20] and out["total"] == 6


@pytest.mark.parametrize(
    "metrics",
    [
        {"loss[0]": {"steps": [0, 1], "timestamps": ["a", "b"], "values": [1.5, float("nan")]}},
        {'"steps": [': {"steps": [0], "timestamps": ["a"], "values": [2]}},
        {"m": {"steps": [0, 1], "timestamps": ["a", "b"], "values": [None, "text ]"]}},
        {"m": {"steps": [0], "timestamps": ["a"], "values": [[1, 2]]}},
        {
            "a": {"steps": [], "timestamps": [], "values": []},
            "b": {"steps": [5], "timestamps": ["t"], "values": [-1e300]},
        },
    ],
)
def test_fast_metrics_reader_matches_json(tmp_path, metrics):
    """The fast metrics.json reader gives what json.load gives, for odd names and values."""
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True))
    got = parse_final_metrics(path.read_bytes())
    assert set(got) == set(metrics)
    for name, m in metrics.items():
        steps, values = got[name]
        assert list(steps) == m["steps"]
        want = Series(m["steps"], m["values"]).window()["values"]
        assert Series(steps, values).window()["values"] == want
