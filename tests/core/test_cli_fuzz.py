"""Generated command lines: any mix of ``with`` updates and flags ends in a run or in one
clear error, never in a traceback of sacredlite's internals (issue 9: 0 tracebacks)."""

from __future__ import annotations

import contextlib
import io
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sacredlite import Experiment

KEYS = [
    "lr", "model.hidden", "model.name", "model", "new", "a.b.c", "", " ", "1x", "a..b", "a.",
    ".a", "seed", "lr.x", "model.name.deep", "x y", "py/tuple", "$x", "é", "a" * 300,
    ".".join(["k"] * 150),
]  # fmt: skip
VALUES = [
    "1", "-3", "0.5", "1e999", "-1e999", "nan", "'text'", '"text"', "text", "[1, 2]", "(1, 2)",
    "{'a': 1}", "{1: 2}", "{1, 2}", "None", "True", "[1,", "{'a':", "'open", "b'bytes'",
    "1j", "x" * 500, "[" * 200 + "]" * 200, "[" * 2000 + "]" * 2000, "", " ", "=", "==",
    "{'py/reduce': []}", "[[], {}]", "0x10", "1_000", "∞", "\\n",
]  # fmt: skip
FLAGS = [
    ["-l", "WARNING"], ["-l", "40"], ["-l", "LOUD"], ["-l", "debug"], ["-b", "0.05"],
    ["-b", "soon"], ["-b", "-1"], ["-P", "x"], ["-P", "3"], ["-C", "no"], ["-C", "sys"],
    ["-C", "tee"], ["-c", "a comment"], ["-c", ""], ["-n", "other"], ["-i", "7"], ["-u"],
    ["-q"], ["-f"], ["-p"], ["-e"], ["-m", ""], ["-F", ""], ["-m", "mongodb://user:pass@"],
    ["-m", "127.0.0.1:99999:db"], ["-m", "mongodb://[::1"], ["-m", "mongodb://h/a.b"],
    ["-m", "bad value!"], ["--unknown-flag"], ["-x"], ["--capture"],
]  # fmt: skip
WORDS = ["print_config", "print_named_configs", "save_config", "nothing", "fast", "fsat"]

update = st.builds(lambda k, v: f"{k}={v}", st.sampled_from(KEYS), st.sampled_from(VALUES))
argv = st.tuples(
    st.lists(st.sampled_from(WORDS), max_size=1),
    st.lists(st.one_of(update, st.sampled_from(["fast", "fsat", "missing.json"])), max_size=4),
    st.lists(st.sampled_from(FLAGS), max_size=3),
)


@pytest.fixture(scope="module")
def experiment() -> Experiment:
    ex = Experiment("fuzz")

    @ex.config
    def config():
        lr = 0.1
        model = {"hidden": 3, "name": "adam"}

    @ex.named_config
    def fast():
        lr = 1.0

    @ex.main
    def main(lr, model):
        return lr

    return ex


@settings(
    max_examples=1200,
    deadline=None,
    derandomize=True,  # the same 1,200 command lines in every CI run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv)
def test_generated_command_lines_end_cleanly(experiment, tmp_path, generated):
    """Every generated command line exits 0 or 1 with no internal traceback."""
    command, updates, flags = generated
    args = ["fuzz.py", *command]
    if updates:
        args += ["with", *updates]
    for flag in flags:
        args += flag
    if "--capture" not in args and "-C" not in args:
        args += ["--capture=no"]
    err = io.StringIO()
    out = io.StringIO()
    root_level = logging.getLogger().level  # -l changes the root logger's level, as in Sacred
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            with contextlib.chdir(tmp_path):
                try:
                    experiment.run_commandline(args)
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        logging.disable(logging.NOTSET)
        logging.getLogger().setLevel(root_level)
    text = err.getvalue()
    assert code in (0, 1), (args, code, text)
    assert "Traceback" not in text, (args, text)
