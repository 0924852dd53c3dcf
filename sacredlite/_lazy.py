"""Names of a package loaded on first use (internal): the package's ``__getattr__``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(
    package: str, namespace: dict[str, Any], homes: Mapping[str, str]
) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` that imports each name from its home on first use.

    Args:
        package: the module's ``__name__`` (relative homes are resolved against its package).
        namespace: the package's ``globals()``; a loaded name is cached there.
        homes: name -> ``"module"`` (the name is taken from it) or ``"module:"`` (the
            module itself is the value).
    """

    anchor = namespace.get("__package__") or package  # relative homes start at the package

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, colon, _ = home.partition(":")
        module = importlib.import_module(module_name, anchor)
        value = module if colon else getattr(module, name)
        namespace[name] = value
        return value

    return __getattr__
