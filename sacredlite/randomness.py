"""Seeds and random number generators for runs, as Sacred 0.8.7 derives them.

Every run has a root ``seed`` (random unless given; stored in the config). The run seeds
``random``, numpy's global generator, torch and tensorflow with it
(:func:`set_global_seed`). Each ingredient and each captured function gets a generator
derived from it exactly as Sacred derives it (see :mod:`sacredlite.initialize`), and every
call that takes ``_seed``/``_rnd`` draws ``_seed = get_seed(rnd)`` and builds
``_rnd = create_rnd(_seed)``: a migrated experiment reproduces its numbers.

``_rnd`` is a numpy ``Generator`` (``numpy.random.default_rng``) when numpy is installed,
a ``RandomState`` with ``SETTINGS.CONFIG.NUMPY_RANDOM_LEGACY_API``, and ``random.Random``
without numpy.

numpy is never imported just to seed it (``import sacredlite`` must stay cheap). If numpy
or torch is not imported yet when the run starts, a one-shot import hook seeds it the moment
the user's code imports it, so ``with seed=42`` reproduces numpy's global numbers either way.
:func:`clear_pending_seeds` removes the hooks when the run ends.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import random
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

__all__ = [
    "SEEDRANGE",
    "clear_pending_seeds",
    "create_rnd",
    "get_seed",
    "set_global_seed",
]

SEEDRANGE = (1, int(1e9))
"""Seeds are drawn from this range (Sacred's)."""


def get_seed(rnd: Any = None) -> int:
    """Draw a seed from *rnd*: a numpy ``Generator`` or ``RandomState``, or ``random.Random``.

    Args:
        rnd: the generator to draw from; ``None`` uses the global ``random`` module.
    """
    if rnd is None:
        return random.randint(*SEEDRANGE)
    integers = getattr(rnd, "integers", None)
    if integers is not None:
        try:
            return int(integers(*SEEDRANGE, dtype=int))
        except Exception:  # noqa: BLE001 - not numpy's Generator after all
            pass
    return int(rnd.randint(*SEEDRANGE))


def _numpy_installed() -> bool:
    return "numpy" in sys.modules or importlib.util.find_spec("numpy") is not None


def create_rnd(seed: int) -> Any:
    """Return a generator seeded with *seed* (numpy's when numpy is installed).

    Args:
        seed: an integer seed.
    """
    if not isinstance(seed, int):
        raise AssertionError(f"Seed has to be integer but was {seed!r} {type(seed)}")
    if not _numpy_installed():
        return random.Random(seed)
    import numpy

    from .settings import SETTINGS

    if SETTINGS.CONFIG.NUMPY_RANDOM_LEGACY_API:
        return numpy.random.RandomState(seed)
    return numpy.random.default_rng(seed)


def _seed_numpy(seed: int) -> Callable[[ModuleType], None]:
    def seed_it(module: ModuleType) -> None:
        module.seed(seed)  # numpy.random.seed

    return seed_it


def _seed_torch(seed: int) -> Callable[[ModuleType], None]:
    def seed_it(module: ModuleType) -> None:
        module.manual_seed(seed)
        cuda = getattr(module, "cuda", None)
        if cuda is not None and cuda.is_available():
            cuda.manual_seed_all(seed)

    return seed_it


def _seed_tensorflow(seed: int) -> Callable[[ModuleType], None]:
    def seed_it(module: ModuleType) -> None:
        tf_random = getattr(module, "random", None)
        if tf_random is not None and hasattr(tf_random, "set_seed"):
            tf_random.set_seed(seed)

    return seed_it


class _SeedOnImport:
    """Run a callback right after a module is first imported, then forget it."""

    def __init__(self) -> None:
        self.pending: dict[str, Callable[[ModuleType], None]] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        callback = self.pending.get(fullname)
        if callback is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _CallbackLoader(spec.loader, self, fullname)  # type: ignore[assignment]
                return spec
            if spec is not None:
                return spec
        return None


class _CallbackLoader:
    def __init__(self, loader: Any, hook: _SeedOnImport, fullname: str) -> None:
        self._loader = loader
        self._hook = hook
        self._fullname = fullname

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        # Restore the real loader first so the module's __loader__/__spec__ stay honest.
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        callback = self._hook.pending.pop(self._fullname, None)
        if callback is not None:
            callback(module)
        _drop_hook_if_idle()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


_HOOK = _SeedOnImport()


def _drop_hook_if_idle() -> None:
    if not _HOOK.pending and _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)


def _seed_now_or_on_import(module_name: str, callback: Callable[[ModuleType], None]) -> None:
    module = sys.modules.get(module_name)
    if module is not None:
        _HOOK.pending.pop(module_name, None)
        callback(module)
        return
    _HOOK.pending[module_name] = callback
    if _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)


def set_global_seed(seed: int) -> None:
    """Seed ``random``, numpy's global generator, torch and tensorflow with *seed*.

    ``random`` is seeded at once. numpy (``numpy.random``), torch and tensorflow are
    seeded at once if already imported, otherwise the moment they are first imported
    (until :func:`clear_pending_seeds`); none of them is imported here.

    Args:
        seed: the run's root seed.
    """
    random.seed(seed)
    _seed_now_or_on_import("numpy.random", _seed_numpy(seed))
    _seed_now_or_on_import("torch", _seed_torch(seed))
    _seed_now_or_on_import("tensorflow", _seed_tensorflow(seed))


def clear_pending_seeds() -> None:
    """Forget seeds waiting for a module import (call when the run ends)."""
    _HOOK.pending.clear()
    _drop_hook_if_idle()
