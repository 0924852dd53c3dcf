"""The import hook: ``sacred`` and ``sacred.<sub>`` are sacredlite's own module objects (internal).

A finder first on ``sys.meta_path`` answers only for ``sacred`` and ``sacred.*``. Its loader
hands back the already imported ``sacredlite`` / ``sacredlite.<sub>`` module itself, so
``sys.modules["sacred.x"] is sys.modules["sacredlite.x"]`` and ``mock.patch("sacred.run.X")``
patches the module sacredlite really uses. Nothing is installed unless :func:`install` is
called; ``import sacredlite`` never calls it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

ALIAS = "sacred"
TARGET = "sacredlite"


def target_name(fullname: str) -> str | None:
    """Return the sacredlite module that serves *fullname*, or None if it is not Sacred's.

    Args:
        fullname: a dotted module name such as ``"sacred.observers"``.
    """
    if fullname == ALIAS or fullname.startswith(ALIAS + "."):
        return TARGET + fullname[len(ALIAS) :]
    return None


def _missing_module(fullname: str, target: str) -> ModuleNotFoundError:
    """Build the error for a Sacred module that sacredlite does not provide."""
    import difflib
    import pkgutil

    parent, _, leaf = target.rpartition(".")
    package = sys.modules.get(parent)
    siblings = [i.name for i in pkgutil.iter_modules(getattr(package, "__path__", []))]
    close = difflib.get_close_matches(leaf, siblings, n=3)
    alias_parent = fullname.rpartition(".")[0]
    hint = " or ".join(repr(f"{alias_parent}.{name}") for name in close)
    message = (
        f"No module named {fullname!r}: sacred is routed to sacredlite in this process, and "
        f"sacredlite has no module {target!r}.{f' Did you mean {hint}?' if hint else ''} "
        "Hint: sacredlite may not offer this part of Sacred yet; import what the program "
        "needs from sacredlite, or run it with real Sacred."
    )
    return ModuleNotFoundError(message, name=fullname)


class _AliasLoader(importlib.abc.Loader):
    """Hand back an existing sacredlite module under its ``sacred`` name."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module
        self._spec = module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self._module

    def exec_module(self, module: ModuleType) -> None:
        # The import system has just set ``__spec__`` to the alias's spec; put the real
        # one back so importlib.reload, pickle and pkgutil still see sacredlite's module.
        module.__spec__ = self._spec


class SacredAliasFinder(importlib.abc.MetaPathFinder):
    """Find ``sacred`` and ``sacred.<sub>`` as ``sacredlite`` and ``sacredlite.<sub>``.

    A name sacredlite lacks raises ``ModuleNotFoundError`` naming both modules, with the
    ``sacred`` name as its ``name`` (so ``from sacred import x`` and ``try: import sacred.x``
    behave as with any missing module). An error raised while a sacredlite module imports
    (a missing optional dependency) propagates unchanged.
    """

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        real = target_name(fullname)
        if real is None:
            return None
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as exc:
            if exc.name != real:
                raise  # something the sacredlite module imports is missing: say that
            raise _missing_module(fullname, real) from None
        return importlib.machinery.ModuleSpec(
            fullname, _AliasLoader(module), is_package=hasattr(module, "__path__")
        )


def _finders() -> list[SacredAliasFinder]:
    return [f for f in sys.meta_path if isinstance(f, SacredAliasFinder)]


def install() -> None:
    """Route ``import sacred`` and ``import sacred.<sub>`` to sacredlite in this process.

    Idempotent. Refuses when a real Sacred is already imported: two copies of the
    "same" classes in one process would make ``isinstance`` checks lie.

    Raises:
        RuntimeError: a module named ``sacred`` that is not sacredlite is already imported.
    """
    loaded = sys.modules.get(ALIAS)
    if loaded is not None and loaded is not sys.modules.get(TARGET):
        raise RuntimeError(
            f"A real sacred is already imported in this process "
            f"({getattr(loaded, '__file__', None)!r}): route sacred to sacredlite before "
            f"anything imports sacred (start the program with 'sacredlite run-as-sacred')."
        )
    if not _finders():
        sys.meta_path.insert(0, SacredAliasFinder())


def uninstall() -> None:
    """Undo :func:`install`: remove the finder and the ``sacred`` names it created."""
    for finder in _finders():
        sys.meta_path.remove(finder)
    for name in [n for n in sys.modules if target_name(n) is not None]:
        real = target_name(name)
        if real is not None and sys.modules[name] is sys.modules.get(real):
            del sys.modules[name]


def is_installed() -> bool:
    """Return whether ``sacred`` is routed to sacredlite in this process."""
    return bool(_finders())
