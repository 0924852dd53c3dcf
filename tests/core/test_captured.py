"""Captured functions take missing arguments from the config."""

from __future__ import annotations

import logging
import random

import pytest

from sacredlite import Experiment
from sacredlite.errors import MissingConfigError

QUIET = {"--capture": "sys"}


def test_missing_arguments_come_from_config_and_explicit_ones_win(ex):
    """Config fills what the caller did not pass; explicit arguments always win."""

    @ex.config
    def cfg():
        a = 1
        b = 2

    @ex.capture
    def add(a, b, c=10):
        return a + b + c

    @ex.main
    def main():
        return add(), add(5), add(b=7, c=0)

    assert ex.run(options=QUIET).result == (13, 17, 8)


def test_prefix_selects_a_sub_dict(ex):
    """capture(prefix=...) reads its arguments from that part of the config."""

    @ex.config
    def cfg():
        optimizer = {"lr": 0.5, "momentum": 0.9}

    @ex.capture(prefix="optimizer")
    def make(lr, momentum):
        return lr, momentum

    @ex.main
    def main():
        return make()

    assert ex.run(options=QUIET).result == (0.5, 0.9)


def test_special_arguments_are_filled(ex):
    """_config, _run, _log, _seed and _rnd are provided by sacredlite."""

    @ex.config
    def cfg():
        a = 1

    @ex.main
    def main(_config, _run, _log, _seed, _rnd):
        assert _config["a"] == 1
        assert _run is ex.current_run
        assert isinstance(_log, logging.Logger) and _log.name.endswith("main")
        assert isinstance(_seed, int)
        assert hasattr(_rnd, "integers")  # a numpy Generator, as Sacred 0.8.7 gives
        return "ok"

    assert ex.run(options=QUIET).result == "ok"


def test_missing_value_names_function_and_argument(ex):
    """A captured function without a value for an argument says which and where."""

    @ex.capture
    def needs(alpha, beta):
        return alpha

    @ex.main
    def main():
        return needs(1)

    with pytest.raises(MissingConfigError, match=r"^needs is missing value\(s\): \['beta'\]$"):
        ex.run(options=QUIET)


def test_seeds_are_reproducible_for_a_given_run_seed(ex):
    """With the same seed, _seed values and global random numbers repeat exactly."""

    @ex.capture
    def draw(_seed):
        return _seed

    @ex.main
    def main(_rnd):
        return draw(), draw(), random.random(), int(_rnd.integers(0, 10**6))

    first = ex.run(config_updates={"seed": 42}, options=QUIET).result
    second = ex.run(config_updates={"seed": 42}, options=QUIET).result
    other = ex.run(config_updates={"seed": 43}, options=QUIET).result
    assert first == second
    assert first != other
    assert first[0] != first[1]


def test_captured_function_outside_a_run_uses_explicit_arguments():
    """Outside a run a captured function works with explicit arguments only."""
    ex = Experiment("outside")

    @ex.capture
    def f(a, b=2):
        return a + b

    assert f(1) == 3
    with pytest.raises(MissingConfigError):
        f()


def test_captured_functions_pickle_by_reference(tmp_path, monkeypatch):
    """A captured function pickles like a plain function, by its module and name, and comes
    back as the same object (Dask, Ray and submitit pickle the functions they run)."""
    import importlib
    import pickle

    (tmp_path / "pickled_module.py").write_text(
        "from sacredlite import Experiment\n"
        "ex = Experiment('pickled')\n"
        "@ex.capture\n"
        "def helper(a=1):\n"
        "    return a\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("pickled_module")
    assert pickle.loads(pickle.dumps(module.helper)) is module.helper
