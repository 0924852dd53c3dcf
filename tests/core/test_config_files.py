"""Config files (``with file.json``, ``add_config("x.json")``) are data: nothing in them runs.

Issue 9, items 6 and 12: a JSON config file was decoded with jsonpickle, so a ``py/reduce``
value ran a shell command (Sacred 0.8.7 does the same; sacredlite differs on purpose), a YAML
anchor bomb expanded into a 132 MB config, and a corrupt file ended in a multi-line
traceback. A pickle file still runs code, as in Sacred.
"""

from __future__ import annotations

import datetime
import decimal
import json
import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from checkout import THIS_CHECKOUT
from hostile import code_payload

from sacredlite import SETTINGS, Experiment
from sacredlite.config.files import ConfigFileError, load_config_file, save_config_file
from sacredlite.errors import hints_of

SCRIPT = textwrap.dedent(
    """
    from sacredlite import Experiment

    ex = Experiment("files_exp")

    @ex.config
    def cfg():
        a = 1
        b = "two"

    @ex.automain
    def main(a, b):
        print("main ran with", repr(a), repr(b))
    """
)

ROUND_TRIP_SCRIPT = textwrap.dedent(
    """
    import datetime, decimal
    import numpy as np
    from sacredlite import Experiment

    ex = Experiment("round_trip")

    @ex.config
    def cfg():
        big = np.arange(40.0).reshape(4, 10)
        small = np.array([1, 2, 3], dtype=np.int16)
        labels = {3, 1, 2}  # ints: the same order in every process
        frozen = frozenset({1, 2})
        raw = b"\\x00bytes"
        z = 1 + 2j
        day = datetime.date(2024, 2, 29)
        moment = datetime.datetime(2024, 2, 29, 12, 30, 1, 5, tzinfo=datetime.timezone.utc)
        delta = datetime.timedelta(days=1, seconds=2)
        price = decimal.Decimal("1.25")
        nested = {"pairs": [[1, "a"], {"b": None}], "flag": True, "ratio": 0.5}

    @ex.automain
    def main(_config):
        for key in sorted(_config):
            if key != "seed":
                value = _config[key]
                print(key, type(value).__name__, repr(value))
    """
)


def run_script(cwd: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    (cwd / "exp.py").write_text(script)
    return subprocess.run(
        [sys.executable, "exp.py", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=THIS_CHECKOUT,
    )


@pytest.fixture(autouse=True)
def default_settings():
    yield
    SETTINGS.reset()


class TestCodeInJsonFiles:
    def test_with_evil_json_runs_nothing_and_says_why(self, tmp_path):
        """``with evil.json`` fails in one hint and one error line; the payload never runs."""
        marker = tmp_path / "PWNED"
        (tmp_path / "evil.json").write_text(json.dumps({"a": code_payload(marker)}))
        out = run_script(tmp_path, SCRIPT, "with", "evil.json")
        assert not marker.exists()
        assert out.returncode == 1, out.stdout + out.stderr
        assert "main ran" not in out.stdout
        assert "Traceback" not in out.stderr
        hint, error = out.stderr.strip().splitlines()[-2:]
        assert "JSON config files are data" in hint and ".pickle" in hint
        assert error.startswith("sacredlite.config.files.ConfigFileError: ")
        assert '"evil.json"' in error and "'os.system'" in error and "'a'" in error

    def test_add_config_and_named_config_refuse_code(self, tmp_path):
        """``add_config`` and ``add_named_config`` with such a file raise, naming it."""
        marker = tmp_path / "PWNED"
        evil = tmp_path / "evil.json"
        evil.write_text(json.dumps({"deep": {"list": [1, code_payload(marker)]}}))
        ex = Experiment("refuses")
        with pytest.raises(ConfigFileError) as caught:
            ex.add_config(str(evil))
        with pytest.raises(ConfigFileError):
            ex.add_named_config("named", str(evil))
        assert not marker.exists()
        message = str(caught.value)
        assert str(evil) in message and "'deep.list[1]'" in message and "'os.system'" in message
        assert isinstance(caught.value, ValueError)
        assert any("JSON config files are data" in hint for hint in hints_of(caught.value))

    @pytest.mark.parametrize(
        ("value", "named"),
        [
            ({"py/object": "subprocess.Popen", "args": ["true"]}, "subprocess.Popen"),
            ({"py/function": "os.system"}, "os.system"),
            ({"py/type": "os._wrap_close"}, "os._wrap_close"),
            ({"py/module": "antigravity"}, "antigravity"),
            ({"py/repr": "os/os.system('true')"}, "os/os.system('true')"),
            ({"py/reduce": [{"py/type": "builtins.eval"}, {"py/tuple": ["1"]}]}, "builtins.eval"),
        ],
    )
    def test_every_kind_of_code_reference_is_refused(self, tmp_path, value, named):
        """Objects, functions, types, modules, reprs and reduce calls outside the list."""
        path = tmp_path / "c.json"
        path.write_text(json.dumps({"k": value}))
        before = set(sys.modules)
        with pytest.raises(ConfigFileError, match="'k'") as caught:
            load_config_file(path)
        assert repr(named) in str(caught.value)
        assert "antigravity" not in set(sys.modules) - before

    def test_pickle_files_still_run_code(self, tmp_path):
        """A ``.pickle`` config file is Python's pickle and restores any object (as Sacred)."""
        path = tmp_path / "c.pickle"
        path.write_bytes(pickle.dumps({"when": datetime.date(2024, 1, 2), "t": (1, 2)}))
        assert load_config_file(path) == {"when": datetime.date(2024, 1, 2), "t": (1, 2)}


class TestRoundTrip:
    def test_save_config_then_with_saved_json_gives_the_same_config(self, tmp_path):
        """``save_config`` writes what ``with saved.json`` reads back value for value."""
        plain = run_script(tmp_path, ROUND_TRIP_SCRIPT)
        assert plain.returncode == 0, plain.stderr
        saved = run_script(tmp_path, ROUND_TRIP_SCRIPT, "save_config", "with",
                           "config_filename=saved.json")  # fmt: skip
        assert saved.returncode == 0, saved.stderr
        assert '"py/object": "numpy.ndarray"' in (tmp_path / "saved.json").read_text()
        loaded = run_script(tmp_path, ROUND_TRIP_SCRIPT, "with", "saved.json")
        assert loaded.returncode == 0, loaded.stderr
        assert loaded.stdout == plain.stdout
        assert "big ndarray array([[ 0.," in plain.stdout and "labels set" in plain.stdout

    def test_save_and_load_keep_tuples_numpy_values_and_sets(self, tmp_path):
        """Tuples, numpy arrays and scalars, sets, bytes and non-string keys come back alike."""
        config = {
            "t": (1, ("a", 2.5)),
            "s": {3, 4},
            "arr": np.arange(40, dtype=np.int32).reshape(5, 8),
            "small": np.array([[1.5, 2.5]], dtype=np.float32),
            "f": np.float32(0.25),
            "i": np.int64(-3),
            "b": b"\x00\xff",
            "keys": {1: "one", (2, 3): "pair"},
            "price": decimal.Decimal("-0.1"),
            "frozen": frozenset({"x"}),
        }
        path = tmp_path / "saved.json"
        save_config_file(config, path)
        loaded = load_config_file(path)
        assert loaded.keys() == config.keys()
        for key, value in config.items():
            assert type(loaded[key]) is type(value), key
            if isinstance(value, np.ndarray):
                assert loaded[key].dtype == value.dtype and np.array_equal(loaded[key], value)
            else:
                assert loaded[key] == value, key


class TestParserErrors:
    def test_corrupt_json_is_one_line_with_line_and_column(self, tmp_path):
        """A JSON syntax error names the file, the line and the column, without traceback."""
        (tmp_path / "bad.json").write_text('{"a": 1,\n "b": [1, 2,\n}\n')
        out = run_script(tmp_path, SCRIPT, "with", "bad.json")
        assert out.returncode == 1
        assert "Traceback" not in out.stderr
        last = out.stderr.strip().splitlines()[-1]
        assert last.startswith("sacredlite.config.files.ConfigFileError: ")
        assert '"bad.json" is not valid JSON' in last and "line 3, column 1" in last

    def test_corrupt_yaml_is_one_line_with_line_and_column(self, tmp_path):
        """PyYAML's multi-line message becomes one line naming the file, line and column."""
        (tmp_path / "bad.yaml").write_text("a: [1, 2\nb: 3\n")
        out = run_script(tmp_path, SCRIPT, "with", "bad.yaml")
        assert out.returncode == 1
        assert "Traceback" not in out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1, out.stderr
        assert '"bad.yaml" is not valid YAML' in lines[0] and "line 2, column 2" in lines[0]

    def test_parser_errors_are_value_errors_in_python(self, tmp_path):
        """In Python the error is a ValueError (Sacred raises json's JSONDecodeError)."""
        path = tmp_path / "bad.json"
        path.write_text("[1,")
        with pytest.raises(ValueError, match=r"bad\.json.*line 1, column 4"):
            load_config_file(path)


def anchor_bomb(levels: int) -> str:
    """A YAML document of *levels* aliases nine times each: 9**levels strings once expanded."""
    lines = ['l0: &l0 ["lolol", "lolol", "lolol", "lolol", "lolol", "lolol", "lolol", "lolol"]']
    for level in range(1, levels):
        refs = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


class TestSizeLimit:
    def test_yaml_anchor_bomb_is_refused_fast(self, tmp_path):
        """A small YAML file that expands past the limit fails at once, naming the setting."""
        (tmp_path / "bomb.yaml").write_text(anchor_bomb(7))
        started = time.monotonic()
        out = run_script(tmp_path, SCRIPT, "with", "bomb.yaml")
        assert time.monotonic() - started < 20
        assert out.returncode == 1, out.stdout[-500:] + out.stderr[-500:]
        assert "main ran" not in out.stdout
        last = out.stderr.strip().splitlines()[-1]
        assert '"bomb.yaml"' in last and "SETTINGS.CONFIG.MAX_LOAD_SIZE" in last
        assert " MB" in last

    def test_yaml_merge_key_bomb_is_refused(self, tmp_path):
        """Merge keys that multiply at every level are measured before anything is built."""
        lines = ["m0: &m0 {k0: 1}"]
        for level in range(1, 22):
            lines.append(f"m{level}: &m{level} {{<<: [*m{level - 1}, *m{level - 1}], k{level}: 1}}")
        path = tmp_path / "merge.yaml"
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(ConfigFileError, match="MAX_LOAD_SIZE"):
            load_config_file(path)

    def test_json_references_that_expand_are_refused(self, tmp_path):
        """jsonpickle's ``py/id`` references cannot smuggle in an expanding config either."""
        data: list = [["x" * 100] * 10]
        for level in range(1, 12):
            data.append([{"py/id": level + 1} for _ in range(10)])  # data[level - 1]
        path = tmp_path / "refs.json"
        path.write_text(json.dumps({"top": data}))
        with pytest.raises(ConfigFileError, match="MAX_LOAD_SIZE"):
            load_config_file(path)

    def test_large_file_is_refused_before_parsing(self, tmp_path):
        """A file over the limit is refused by its size; raising the setting loads it."""
        path = tmp_path / "big.json"
        path.write_text(json.dumps({"blob": "x" * 3000}))
        SETTINGS.CONFIG.MAX_LOAD_SIZE = 1000
        with pytest.raises(ConfigFileError) as caught:
            load_config_file(path)
        message = str(caught.value)
        assert str(path) in message and "SETTINGS.CONFIG.MAX_LOAD_SIZE" in message
        assert "3,0" in message  # the size, in bytes
        SETTINGS.CONFIG.MAX_LOAD_SIZE = 10_000
        assert load_config_file(path) == {"blob": "x" * 3000}

    def test_compressed_numpy_arrays_count_once_expanded(self, tmp_path):
        """A small file holding a highly compressed array is measured by the array's size."""
        path = tmp_path / "zeros.json"
        save_config_file({"zeros": np.zeros(200_000)}, path)
        assert path.stat().st_size < 10_000
        SETTINGS.CONFIG.MAX_LOAD_SIZE = 1_000_000
        with pytest.raises(ConfigFileError, match="MAX_LOAD_SIZE"):
            load_config_file(path)
        SETTINGS.CONFIG.MAX_LOAD_SIZE = 2_000_000
        assert load_config_file(path)["zeros"].shape == (200_000,)

    def test_default_limit_is_generous(self):
        """The default allows 16 MB of config data."""
        assert SETTINGS.CONFIG.MAX_LOAD_SIZE == 16 * 1024 * 1024
