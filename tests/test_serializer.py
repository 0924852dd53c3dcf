"""restore_data: jsonpickle's format back to Python values, never importing or calling code.

Issue 9, items 5 and 6: stored configs and JSON config files were decoded with jsonpickle,
whose ``py/reduce`` calls whatever it names (``os.system`` included, ``safe=True`` too).
"""

from __future__ import annotations

import base64
import collections
import datetime
import decimal
import fractions
import json
import pathlib
import subprocess
import sys
import types
import uuid
import zlib
from typing import Any

import jsonpickle
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sacredlite.serializer import (
    DataRestoreError,
    DataSizeError,
    data_size,
    flatten,
    restore,
    restore_data,
)

SHARED_TUPLE = (1, 2)
SHARED_LIST = [1, [2]]
SHARED_ARRAY = np.arange(3.0)
SHARED_DATE = datetime.date(2020, 1, 1)

ROUND_TRIPS: dict[str, Any] = {
    "tuple": (1, "two", (3.0, None)),
    "set": {1, 2, "x"},
    "frozenset": frozenset({1, 2}),
    "bytes": b"\x00\xffbytes",
    "complex": 1.5 - 2j,
    "range": range(2, 10, 3),
    "ordered dict": collections.OrderedDict([("b", [1]), ("a", 2)]),
    "datetime": datetime.datetime(2024, 2, 29, 23, 59, 58, 999_999),
    "aware datetime": datetime.datetime(2024, 1, 2, 3, tzinfo=datetime.timezone.utc),
    "named zone": datetime.datetime(
        2024, 1, 2, tzinfo=datetime.timezone(datetime.timedelta(hours=-3, minutes=-30), "X")
    ),
    "date": datetime.date(1, 1, 1),
    "time": datetime.time(23, 1, 2, 3),
    "aware time": datetime.time(1, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    "timedelta": datetime.timedelta(days=-1, seconds=5, microseconds=7),
    "decimal": decimal.Decimal("-1.250"),
    "fraction": fractions.Fraction(-1, 3),
    "uuid": uuid.UUID("12345678123456781234567812345678"),
    "path": pathlib.Path("/a/b c"),
    "windows path": pathlib.PureWindowsPath("C:/x/y"),
    "non-string keys": {1: "one", (2, "t"): 2, None: 3, 1.5: 4, frozenset({1}): 5},
    "numpy small": np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32),
    "numpy large": np.arange(100, dtype=np.int64).reshape(10, 10),
    "numpy big-endian": np.arange(20).astype(">f8"),
    "numpy fortran": np.asfortranarray(np.arange(20.0).reshape(4, 5)),
    "numpy strings": np.array(["a", "bc"]),
    "numpy bytes": np.array([b"a", b"bc"] * 10),
    "numpy records": np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")]),
    "numpy objects": np.array([1, "a", None], dtype=object),
    "numpy many objects": np.array([None, {"a": 1}] * 10, dtype=object),
    "numpy dates": np.array(["2024-01-01", "2024-02-29"], dtype="datetime64[D]"),
    "numpy empty": np.zeros((0, 3)),
    "numpy view": np.arange(40)[::3],
    "numpy transposed view": np.arange(6).reshape(2, 3).T,
    "numpy float": np.float64(0.1),
    "numpy int": np.int8(-7),
    "numpy uint": np.uint64(2**64 - 1),
    "numpy bool": np.bool_(True),
    "numpy complex": np.complex64(1 + 2j),
    "numpy str": np.str_("s"),
    "numpy bytes scalar": np.bytes_(b"b"),
    "numpy datetime": np.datetime64("2024-01-01T00:00:00.000000001"),
    "numpy timedelta": np.timedelta64(5, "s"),
    "numpy dtype": np.dtype("float32"),
    "numpy record dtype": np.dtype([("a", "<i4")]),
    "numpy type": np.float32,
    "builtin type": int,
    "shared": [SHARED_TUPLE, SHARED_TUPLE, SHARED_LIST, {"k": SHARED_LIST}],
    "shared objects": [SHARED_ARRAY, SHARED_DATE, {"a": SHARED_ARRAY, "d": SHARED_DATE}],
}


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types, numpy arrays by dtype, shape and items."""
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and (a.dtype, a.shape) == (b.dtype, b.shape)
            and a.tolist() == b.tolist()
        )
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return type(a) is type(b) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


class TestRoundTrips:
    @pytest.mark.parametrize("value", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
    def test_flatten_then_restore_data_gives_the_value_back(self, value):
        """Every type Sacred's writers flatten for a config comes back equal and alike."""
        flat = flatten({"key": value})
        assert same(restore_data(json.loads(json.dumps(flat)))["key"], value)

    @pytest.mark.parametrize("value", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
    def test_it_restores_what_jsonpickle_restores(self, value):
        """The result is jsonpickle's own (its references numbered the same way)."""
        flat = flatten({"key": value})
        assert same(restore_data(flat), jsonpickle.decode(json.dumps(flat), keys=True))

    def test_a_zero_dimensional_array_keeps_its_shape(self):
        """(jsonpickle makes it a one-element array.)"""
        restored = restore_data(flatten(np.array(2.5)))
        assert restored.shape == () and restored == 2.5

    def test_shared_values_stay_shared(self):
        """A value that occurs twice is one object after restoring, as before flattening."""
        first, second, third, holder = restore_data(flatten(ROUND_TRIPS["shared"]))
        assert third is holder["k"] and first == second == (1, 2)
        array, day, keyed = restore_data(flatten(ROUND_TRIPS["shared objects"]))
        assert keyed["a"] is array and keyed["d"] is day

    def test_read_only_arrays_stay_read_only(self):
        array = np.arange(3)
        array.flags.writeable = False
        assert not restore_data(flatten(array)).flags.writeable

    def test_sacreds_restore_is_the_safe_one(self):
        """``restore`` (Sacred's name) restores Sacred's cases and refuses code."""
        assert restore(flatten({1: "one", 2: "two"})) == {1: "one", 2: "two"}
        assert restore(flatten((1, "two"))) == (1, "two")
        array = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
        assert same(restore(flatten(array)), array)
        for plain in (12, 3.14, "αβγδ", [1, 2.0, "3", [4]], {"foo": "bar"}, None, True):
            assert restore(plain) == plain
        with pytest.raises(DataRestoreError):
            restore({"py/function": "os.system"})


CALLS: list[tuple[str, Any]] = []


def _record(kind: str) -> Any:
    def record(*args: Any, **kwargs: Any) -> None:
        CALLS.append((kind, args))

    return record


class _Boom:
    """Records being built, called or restored in any way."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _Boom:
        CALLS.append(("new", args))
        return super().__new__(cls)

    __init__ = _record("init")
    __setstate__ = _record("setstate")
    __call__ = _record("call")
    __setitem__ = _record("setitem")
    extend = _record("extend")
    append = _record("append")


SENTINEL = types.ModuleType("_restore_sentinel")
SENTINEL.call = _record("function")  # type: ignore[attr-defined]
SENTINEL.Boom = _Boom  # type: ignore[attr-defined]
_Boom.__module__ = "_restore_sentinel"
_Boom.__qualname__ = "Boom"
sys.modules["_restore_sentinel"] = SENTINEL


@pytest.fixture(autouse=True)
def no_calls():
    CALLS.clear()
    yield
    CALLS.clear()


def payload(marker: str) -> dict[str, Any]:
    return {"py/reduce": [{"py/function": marker}, {"py/tuple": ["x"]}]}


class TestRefusals:
    def test_jsonpickle_itself_calls_what_the_data_names(self):
        """The sentinel works: jsonpickle's decoder (Sacred's ``restore``) does call it."""
        jsonpickle.decode(json.dumps(payload("_restore_sentinel.call")), keys=True)
        assert CALLS == [("function", ("x",))]

    @pytest.mark.parametrize(
        ("data", "path", "named"),
        [
            ({"a": payload("os.system")}, "a", "os.system"),
            ({"a": {"b": [0, payload("_restore_sentinel.call")]}}, "a.b[1]",
             "_restore_sentinel.call"),
            ({"a": {"py/object": "_restore_sentinel.Boom"}}, "a", "_restore_sentinel.Boom"),
            ({"py/type": "_restore_sentinel.Boom"}, "", "_restore_sentinel.Boom"),
            ({"k": {"py/reduce": [{"py/type": "_restore_sentinel.Boom"}, {"py/tuple": []}]}},
             "k", "_restore_sentinel.Boom"),
            ({"k": {"py/function": "builtins.eval"}}, "k", "builtins.eval"),
            ({"k": {"py/module": "antigravity"}}, "k", "antigravity"),
            ({"k": {"py/repr": "os/os.getcwd()"}}, "k", "os/os.getcwd()"),
            ({"k": {"py/iterator": [1]}}, "k", "[1]"),
            ({"k": {"py/object": "numpy.lib.npyio.NpzFile"}}, "k", "numpy.lib.npyio.NpzFile"),
            ({"k": {"py/object": "zoneinfo.ZoneInfo", "key": "UTC"}}, "k", "zoneinfo.ZoneInfo"),
            ({"json://{\"py/function\": \"os.system\"}": 1}, 'json://{"py/function": "os.system"}',
             "os.system"),
        ],
    )  # fmt: skip
    def test_code_is_refused_naming_path_and_type(self, data, path, named):
        """Nothing outside the list is built: the error names where and what."""
        before = set(sys.modules)
        with pytest.raises(DataRestoreError) as caught:
            restore_data(data)
        assert (caught.value.path, caught.value.type_name) == (path, named)
        assert repr(named) in str(caught.value)
        assert CALLS == []
        assert set(sys.modules) == before

    @pytest.mark.parametrize(
        "data",
        [
            [{"py/id": 0}],  # a list inside itself
            {"a": {"py/id": 7}},  # a reference to nothing (yet)
            {"py/set": [[1]]},  # an unhashable item
            {"py/tuple": "abc"},
            {"py/b64": "***"},
            {
                "py/object": "datetime.date",
                "__reduce__": [{"py/type": "datetime.date"}, ["B+gNAQ=="]],
            },
            {"py/reduce": [{"py/type": "decimal.Decimal"}, {"py/tuple": ["1"]}, {"x": 1}]},
            {"py/object": "numpy.int8", "dtype": "int8", "value": 1000},
            {"py/object": "numpy.bytes_", "dtype": "S9", "value": 10**9},
            {
                "py/object": "numpy.ndarray",
                "dtype": "int64",
                "values": "eJwDAAAAAAE=",
                "shape": [9],
            },
        ],
    )
    def test_malformed_values_are_errors_not_crashes(self, data):
        with pytest.raises(DataRestoreError):
            restore_data(data)

    def test_object_arrays_are_never_made_over_raw_memory(self):
        """A view with dtype object would read the base array's bytes as object pointers."""
        base = {"py/object": "numpy.ndarray", "dtype": "int64", "values": [4096, 8192]}
        data = {"py/object": "numpy.ndarray", "dtype": "object", "base": base, "shape": [2]}
        with pytest.raises(DataRestoreError, match="view of objects"):
            restore_data(data)


class TestSizes:
    def test_compressed_arrays_are_not_unpacked_past_the_limit(self):
        bomb = base64.b64encode(zlib.compress(bytes(50_000_000))).decode()
        data = {"py/object": "numpy.ndarray", "dtype": "uint8", "values": bomb,
                "shape": [50_000_000]}  # fmt: skip
        with pytest.raises(DataSizeError) as caught:
            restore_data(data, max_size=1_000_000)
        assert caught.value.limit == 1_000_000 and "once expanded" in str(caught.value)
        objects = {"py/object": "numpy.ndarray", "dtype": "object", "values": bomb}
        with pytest.raises(DataSizeError):
            restore_data(objects, max_size=1_000_000)

    def test_references_count_every_time(self):
        """``py/id`` repeats a value without copying it; its size counts each time."""
        data: list[Any] = [["x" * 100] * 10]
        for level in range(1, 12):
            data.append([{"py/id": level} for _ in range(10)])
        restored = restore_data(data)  # no limit: restores, small in memory
        assert restored[11][0] is restored[10]
        assert data_size(restored) > 10**12
        with pytest.raises(DataSizeError):
            restore_data(data, max_size=16 << 20)

    def test_data_size_is_about_the_json_length(self):
        value = {"a": [1, 2.5, "text", None, True], "b": {"c": "x" * 1000}}
        assert abs(data_size(value) - len(json.dumps(value))) < 100


def test_importing_the_serializer_loads_no_heavy_module():
    """jsonpickle, numpy and yaml load only when a value needs them."""
    code = (
        "import sys, sacredlite, sacredlite.serializer, sacredlite.config.files\n"
        "from sacredlite.serializer import restore_data\n"
        "restore_data({'a': {'py/tuple': [1, {'py/set': [2]}]}, 'b': {'py/b64': 'eHk='}})\n"
        "print(sorted(m for m in ('jsonpickle', 'numpy', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- fuzzing: random jsonpickle-like data never imports or calls anything ----------------------
NAMES = st.sampled_from(
    [
        "_restore_sentinel.call",
        "_restore_sentinel.Boom",
        "os.system",
        "builtins.eval",
        "builtins.getattr",
        "subprocess.Popen",
        "importlib.import_module",
        "copyreg._reconstructor",
        "copyreg.__newobj__",
        "a_module_nobody_has_xyz.thing",
        "antigravity",
        "builtins.frozenset",
        "builtins.complex",
        "builtins.range",
        "builtins.int",
        "datetime.timedelta",
        "datetime.timezone",
        "datetime.datetime",
        "datetime.date",
        "decimal.Decimal",
        "fractions.Fraction",
        "collections.OrderedDict",
        "pathlib.PosixPath",
        "uuid.UUID",
        "numpy.ndarray",
        "numpy.float64",
        "numpy.datetime64",
        "numpy.void",
        "numpy.dtype",
        "numpy.dtypes.Float64DType",
        "numpy.testing.assert_equal",
        "numpy.lib.format.read_array",
    ]
)
DTYPES = st.sampled_from(
    ["float64", "int8", "uint16", "object", "O", "V8", "S3", "<U2", "bool", "complex128",
     "datetime64[ns]", "datetime64[D]", "timedelta64[s]", "[('a', 'O')]", "[('a', '<i4')]",
     "{'names': ['a'], 'formats': ['O']}", "i4,f8", "bogus", "[", 5]
)  # fmt: skip
BINARY = st.binary(max_size=64).flatmap(
    lambda raw: st.sampled_from([raw, zlib.compress(raw)]).map(
        lambda b: base64.b64encode(b).decode()
    )
)
SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=6)
    | NAMES | BINARY
)  # fmt: skip
SMALL_INTS = st.lists(st.integers(-3, 40), max_size=3)


def tagged(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """jsonpickle's objects, with names from NAMES and parts from *children*."""
    callee = st.fixed_dictionaries({}, optional={"py/type": NAMES, "py/function": NAMES})
    return st.one_of(
        st.fixed_dictionaries({"py/tuple": st.lists(children, max_size=3)}),
        st.fixed_dictionaries({"py/set": st.lists(children, max_size=3)}),
        st.fixed_dictionaries({"py/b64": BINARY | children}),
        st.fixed_dictionaries({"py/id": st.integers(-1, 12)}),
        st.fixed_dictionaries({"py/type": NAMES}),
        st.fixed_dictionaries({"py/function": NAMES}),
        st.fixed_dictionaries({"py/module": NAMES}),
        st.fixed_dictionaries({"py/repr": NAMES}),
        st.fixed_dictionaries({"py/iterator": st.lists(children, max_size=2)}),
        st.fixed_dictionaries(
            {"py/reduce": st.tuples(callee | children, *[children] * 2).map(list)}
        ),
        st.fixed_dictionaries(
            {"py/reduce": st.lists(callee, min_size=1, max_size=1).flatmap(
                lambda head: st.lists(children, max_size=4).map(lambda rest: head + rest))}
        ),
        st.fixed_dictionaries(
            {"py/object": NAMES},
            optional={
                "dtype": DTYPES,
                "values": BINARY | children,
                "value": children,
                "shape": SMALL_INTS,
                "strides": SMALL_INTS,
                "offset": st.integers(-3, 40),
                "byteorder": st.sampled_from(["<", ">", "|", "S", "?"]),
                "order": st.sampled_from(["C", "F", "K"]),
                "base": children,
                "py/newargs": children,
                "py/state": children,
                "py/seq": children,
                "__reduce__": st.tuples(callee, st.lists(BINARY | children, max_size=2)).map(list),
                "hex": st.text(max_size=32),
                "default_factory": children,
            },
        ),
        st.dictionaries(st.sampled_from(['json://{"py/function": "os.system"}', "json://1",
                                         'json://{"py/tuple": [1]}', "json://[", "plain"]),
                        children, max_size=2),
    )  # fmt: skip


FLAT = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=3), children, max_size=3)
        | tagged(children)
    ),
    max_leaves=25,
)

AUDITED: list[str] = []
_AUDITING = False
_WATCHED = ("import", "exec", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
            "subprocess.Popen", "ctypes", "socket")  # fmt: skip


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _AUDITING and event.startswith(_WATCHED):
        AUDITED.append(f"{event} {args!r:.80}")


sys.addaudithook(_audit)


def _allowed(value: Any) -> bool:
    """Whether every object in *value* is of a type restore_data may build."""
    scalar_types = (type(None), bool, int, float, str, bytes, complex, range,
                    datetime.date, datetime.time, datetime.timedelta, datetime.tzinfo,
                    decimal.Decimal, fractions.Fraction, uuid.UUID, pathlib.PurePath,
                    np.generic, np.dtype)  # fmt: skip
    allowed_types = {int, float, complex, str, bytes, bool, list, dict, tuple, set, frozenset}
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, np.ndarray):
            if item.dtype.hasobject:
                stack.extend(item.ravel().tolist())
        elif isinstance(item, type):
            if item not in allowed_types and not issubclass(item, np.generic):
                return False
        elif not isinstance(item, scalar_types):
            return False
    return True


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FLAT)
def test_random_flattened_data_never_imports_or_calls_anything(flat):
    """Any jsonpickle-like data restores to allowed types or is refused; nothing runs."""
    global _AUDITING
    CALLS.clear()
    AUDITED.clear()
    text = json.dumps(flat)
    _AUDITING = True
    try:
        value = restore_data(json.loads(text), max_size=1 << 20)
    except (DataRestoreError, DataSizeError):
        value = None
    finally:
        _AUDITING = False
    assert CALLS == []
    assert AUDITED == []
    assert _allowed(value)
