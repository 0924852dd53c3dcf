"""The fast readers of metrics.json's number arrays give what ``json`` gives (store/numberarrays).

Each case runs through every path: pyarrow (forced on short arrays), numpy, and the plain
``json`` of a store without numpy. Answers are compared as floats (NaN equal to NaN, None
as NaN, which is what a plotted series makes of both).
"""

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sacredlite.store import numberarrays
from sacredlite.store import series as series_module
from sacredlite.store.file import FileStore, parse_final_metrics

SACRED_087 = Path(__file__).parent.parent / "board" / "data" / "sacred087" / "file_storage"


@pytest.fixture(params=["arrow", "numpy", "json"])
def path(request, monkeypatch):
    """Parse with pyarrow (every length), numpy (pyarrow never), or json (no numpy)."""
    if request.param == "arrow":
        pytest.importorskip("pyarrow")
        monkeypatch.setattr(numberarrays, "ARROW_MIN_BYTES", 0)
    elif request.param == "numpy":
        monkeypatch.setattr(numberarrays, "ARROW_MIN_BYTES", 1 << 62)
    else:
        monkeypatch.setattr(series_module, "_np", None)
    return request.param


def as_floats(items):
    out = []
    for item in items:
        if item is None or isinstance(item, str):
            out.append(math.nan)
        else:
            out.append(float(item))
    return out


def same_numbers(got, want):
    a, b = as_floats(list(got)), as_floats(want)
    if len(a) != len(b):
        return False
    return all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))


TRICKY = [
    "[]",
    "[ ]",
    "[\n    ]",
    "[0, 1, 2, 3]",
    "[-3, 7, 0]",
    "[1, 2.5, 3]",
    "[1.0, 2.0]",
    "[NaN, Infinity, -Infinity, 1e308, 1e400, -0.0, 5e-324]",
    "[1, null, 3]",
    "[1,null,3]",
    "[0.1, 0.30000000000000004, 1.7976931348623157e308]",
    "[99999999999999999999, 1]",
    "[9223372036854775807]",
    "[\n      0,\n      1,\n      2\n    ]",  # Sacred's indent=2 layout
    "[\n      0.5,\n      NaN\n    ]",
]


@pytest.mark.parametrize("text", TRICKY)
def test_numbers_as_json_reads_them(path, text):
    """Ints, floats, NaN/Infinity spellings, nulls, huge ints, blanks: the numbers json reads."""
    got = numberarrays.parse_array(text.encode())
    assert same_numbers(got, json.loads(text))


@pytest.mark.parametrize("text", ['["a", "b"]', "[true, false]", "[[1], [2]]", '[{"a": 1}]'])
def test_non_numbers_are_left_to_json(path, text):
    """Strings, booleans and nested values come back exactly as json gives them."""
    assert numberarrays.parse_array(text.encode()) == json.loads(text)


@pytest.mark.parametrize("text", ["[1,,2]", "[1, 2,]", "[,1]", "[1 2]", "[1]]", "[1"])
def test_text_json_refuses_is_refused(path, text):
    """A list that is not JSON (missing, empty or extra items) raises ValueError, never a
    guess at the numbers. (Number spellings JSON lacks, ``nan`` or ``+1``, are read.)"""
    with pytest.raises(ValueError):
        numberarrays.parse_array(text.encode())


number = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
)


@settings(max_examples=60, deadline=None)
@given(items=st.lists(number, max_size=40), indent=st.sampled_from([None, 2]))
def test_random_arrays_match_json(items, indent):
    """Random mixes of ints, floats, NaN, infinities and nulls, compact or indented, read
    through pyarrow and numpy, equal json's reading of the same text."""
    text = json.dumps(items, indent=indent)
    want = json.loads(text)
    for limit in (0, 1 << 62):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(numberarrays, "ARROW_MIN_BYTES", limit)
            got = numberarrays.parse_array(text.encode())
        assert same_numbers(got, want), (limit, text)


def test_long_arrays_take_the_fast_path_and_agree():
    """A metric long enough for pyarrow's reader (written as the observer writes it, and
    compactly) is read into numpy arrays equal to json's numbers."""
    np = pytest.importorskip("numpy")
    n = 120_000
    steps = list(range(n))
    values = [math.sin(i / 77) * 10 ** (i % 7 - 3) for i in range(n)]
    values[5] = math.nan
    values[6] = math.inf
    values[7] = -math.inf
    for indent in (None, 2):
        doc = {"loss": {"steps": steps, "timestamps": ["t"] * n, "values": values}}
        text = json.dumps(doc, indent=indent).encode()
        assert len(text) > numberarrays.ARROW_MIN_BYTES
        got_steps, got_values = parse_final_metrics(text)["loss"]
        assert isinstance(got_values, np.ndarray) and isinstance(got_steps, np.ndarray)
        assert got_steps.tolist() == steps
        assert same_numbers(got_values, values)


def test_sacred_087_files_read_as_json_reads_them(path):
    """Sacred 0.8.7's own metrics.json files give json's steps and values."""
    files = sorted(SACRED_087.glob("*/metrics.json"))
    assert files
    for file in files:
        want = json.loads(file.read_bytes())
        got = parse_final_metrics(file.read_bytes())
        assert set(got) == set(want)
        for name, (steps, values) in got.items():
            assert same_numbers(steps, want[name]["steps"])
            assert same_numbers(values, want[name]["values"])


def test_torn_file_is_refused_never_misread(path):
    """metrics.json cut anywhere (a writer caught mid-write) raises ValueError or, cut after
    its end, reads whole: never fewer or other numbers."""
    doc = {
        "acc": {"steps": [0, 1], "timestamps": ["a", "b"], "values": [0.5, 0.75]},
        "loss": {"steps": [0, 1, 2], "timestamps": ["a", "b", "c"], "values": [3, NaN, 1.5]},
    }
    text = json.dumps(doc, indent=2).encode()
    for cut in range(1, len(text)):
        try:
            got = parse_final_metrics(text[:cut])
        except ValueError:
            continue
        raise AssertionError(f"a file cut at {cut} bytes was read: {got}")
    got = parse_final_metrics(text)
    assert same_numbers(got["loss"][1], [3, math.nan, 1.5])


NaN = math.nan


def test_store_plots_odd_metrics_as_json_gives_them(tmp_path, path):
    """Through the file store: a Sacred-style metrics.json with NaN, infinities, ints and an
    empty series is drawn with the numbers json reads (non-finite as null)."""
    run = tmp_path / "1"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"status": "COMPLETED"}))
    doc = {
        "empty": {"steps": [], "timestamps": [], "values": []},
        "odd": {"steps": [0, 1, 2, 3], "timestamps": ["t"] * 4, "values": [1, NaN, 2.5, -math.inf]},
    }
    (run / "metrics.json").write_text(json.dumps(doc, indent=2, sort_keys=True))
    store = FileStore(tmp_path, cache_index=False)
    assert store.metric_names(1) == ["empty", "odd"]
    assert store.metric(1, "odd") == {
        "name": "odd",
        "steps": [0, 1, 2, 3],
        "values": [1, None, 2.5, None],
        "total": 4,
        "downsampled": False,
    }
    assert store.metric(1, "empty")["total"] == 0
    assert store.rollups(1)["odd"] == {"last": -math.inf, "min": 1, "max": 2.5, "count": 4}
