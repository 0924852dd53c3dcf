"""Seeds and generators: Sacred's API, derived seeds, global seeding, reproducible runs."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap

import numpy
import pytest

from sacredlite.randomness import (
    SEEDRANGE,
    clear_pending_seeds,
    create_rnd,
    get_seed,
    set_global_seed,
)
from sacredlite.settings import SETTINGS


def test_get_seed_range_and_determinism():
    """Seeds lie in Sacred's range and follow the generator they are drawn from."""
    seeds = [get_seed() for _ in range(100)]
    assert all(SEEDRANGE[0] <= s <= SEEDRANGE[1] for s in seeds)
    assert get_seed(random.Random(3)) == get_seed(random.Random(3))
    assert get_seed(create_rnd(3)) == get_seed(create_rnd(3))


def test_create_rnd_is_a_numpy_generator():
    """With numpy installed, _rnd is numpy's Generator seeded like default_rng."""
    rnd = create_rnd(42)
    assert isinstance(rnd, numpy.random.Generator)
    assert rnd.random() == numpy.random.default_rng(42).random()


def test_legacy_setting_gives_random_state(monkeypatch):
    """SETTINGS.CONFIG.NUMPY_RANDOM_LEGACY_API switches _rnd to numpy's RandomState."""
    monkeypatch.setitem(SETTINGS.CONFIG, "NUMPY_RANDOM_LEGACY_API", True)
    rnd = create_rnd(42)
    assert isinstance(rnd, numpy.random.RandomState)
    assert get_seed(rnd) == numpy.random.RandomState(42).randint(*SEEDRANGE)


def test_create_rnd_rejects_non_integers():
    """A non-integer seed fails as Sacred's assertion does, naming the value and its type."""
    with pytest.raises(AssertionError, match="Seed has to be integer but was '42'"):
        create_rnd("42")  # type: ignore[arg-type]


def test_set_global_seed_seeds_random_and_numpy():
    """random and an imported numpy produce the seed's sequence after set_global_seed."""
    try:
        set_global_seed(7)
        got = (random.random(), numpy.random.rand())
    finally:
        clear_pending_seeds()
    assert got == (random.Random(7).random(), numpy.random.RandomState(7).rand())


def run_python(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_numpy_imported_later_is_seeded():
    """numpy imported after set_global_seed is seeded on import, without being imported early."""
    out = run_python(
        """
        import sys
        from sacredlite.randomness import set_global_seed, clear_pending_seeds
        set_global_seed(42)
        assert "numpy" not in sys.modules
        import numpy as np
        print(np.random.rand() == np.random.RandomState(42).rand())
        clear_pending_seeds()
        print(any(type(f).__name__ == "_SeedOnImport" for f in sys.meta_path))
        """
    )
    assert out.split() == ["True", "False"]


def test_cleared_seed_does_not_touch_later_imports():
    """After clear_pending_seeds, importing numpy does not reseed it."""
    out = run_python(
        """
        from sacredlite.randomness import set_global_seed, clear_pending_seeds
        set_global_seed(42)
        clear_pending_seeds()
        import numpy as np
        print(np.random.rand() == np.random.RandomState(42).rand())
        """
    )
    assert out == "False"


def test_run_with_seed_reproduces_numbers(tmp_path):
    """Two runs 'with seed=42' draw identical numbers from _rnd, _seed, random and numpy."""
    from sacredlite import Experiment

    ex = Experiment("seeded")

    @ex.capture
    def draw(_rnd, _seed):
        return [int(x) for x in _rnd.integers(0, 10**6, size=3)], _seed

    @ex.main
    def main(_rnd, seed):
        return draw(), float(_rnd.random()), random.random(), float(numpy.random.rand()), seed

    options = {"--capture": "no", "--loglevel": "ERROR"}
    first = ex.run(config_updates={"seed": 42}, options=options).result
    second = ex.run(config_updates={"seed": 42}, options=options).result
    other = ex.run(config_updates={"seed": 43}, options=options).result
    clear_pending_seeds()
    assert first == second
    assert first[-1] == 42
    assert first[:4] != other[:4]


def test_seeds_are_the_ones_sacred_derives():
    """With seed=42 every captured function and ingredient draws the numbers Sacred 0.8.7
    draws (the values below were printed by Sacred 0.8.7 for this experiment)."""
    from sacredlite import Experiment, Ingredient

    data = Ingredient("data")

    @data.config
    def data_config():
        x = 1

    @data.capture
    def from_data(_seed, _rnd):
        return _seed, int(_rnd.integers(0, 10**6))

    ex = Experiment("rp", ingredients=[data])

    @ex.config
    def config():
        a = 1

    @ex.capture
    def first(_seed, _rnd):
        return _seed, int(_rnd.integers(0, 10**6))

    @ex.capture
    def second(a, _seed):
        return _seed

    @ex.main
    def main(_seed, _rnd):
        own = (_seed, int(_rnd.integers(0, 10**6)))
        return own, first(), first(), second(), from_data(), from_data(), random.random()

    result = ex.run(config_updates={"seed": 42}, options={"--loglevel": "ERROR"}).result
    clear_pending_seeds()
    assert result == (
        (341667370, 837471),
        (9330647, 593090),
        (967891411, 480228),
        37422836,
        (116425396, 531278),
        (140711586, 515603),
        0.6394267984578837,
    )


def test_torch_imported_later_is_seeded(tmp_path):
    """A torch-like package imported after set_global_seed gets manual_seed(seed) on import."""
    fake = tmp_path / "torch"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "seeds = []\n"
        "def manual_seed(seed):\n"
        "    seeds.append(seed)\n"
        "class cuda:\n"
        "    @staticmethod\n"
        "    def is_available():\n"
        "        return False\n"
    )
    out = run_python(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from sacredlite.randomness import set_global_seed
        set_global_seed(1234)
        import torch
        print(torch.seeds, torch.__spec__.loader.__class__.__name__)
        """
    )
    assert out == "[1234] SourceFileLoader"
