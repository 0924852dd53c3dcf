"""Sacred's ``sacred.optional`` names: which optional packages are installed, and the modules.

``has_numpy``, ``has_yaml``, ``has_pandas``, ... are booleans; ``np``, ``yaml`` and ``pandas``
are the modules (``None`` when missing). Nothing is imported until a name is first read, so
``import sacredlite`` never loads numpy.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Any

__all__ = ["get_tensorflow", "modules_exist", "optional_import"]  # the rest is lazy

_MODULES = {"np": "numpy", "yaml": "yaml", "pandas": "pandas"}
_IMPORTED_FLAGS = {"has_numpy": "np", "has_yaml": "yaml", "has_pandas": "pandas"}
_FOUND_FLAGS = {
    "has_sqlalchemy": ("sqlalchemy",),
    "has_mako": ("mako",),
    "has_tinydb": ("tinydb", "tinydb_serialization", "hashfs"),
    "has_tensorflow": ("tensorflow",),
}


def optional_import(*package_names: str) -> tuple[bool, ModuleType | None]:
    """Import the packages; return ``(True, first module)``, or ``(False, None)`` if any fails."""
    try:
        modules = [importlib.import_module(name) for name in package_names]
    except ImportError:
        return False, None
    return True, modules[0]


def modules_exist(*module_names: str) -> bool:
    """Return whether every module can be found, without importing it."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in module_names)
    except (ImportError, ValueError):
        return False


def get_tensorflow() -> ModuleType:
    """Return TensorFlow's v1 compatibility module (``tensorflow.compat.v1``)."""
    return importlib.import_module("tensorflow.compat.v1")


def __getattr__(name: str) -> Any:
    """Import an optional module the first time its name (or ``has_...`` flag) is read."""
    if name in _MODULES:
        value: Any = optional_import(_MODULES[name])[1]
    elif name in _IMPORTED_FLAGS:
        value = __getattr__(_IMPORTED_FLAGS[name]) is not None
    elif name in _FOUND_FLAGS:
        value = modules_exist(*_FOUND_FLAGS[name])
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # cache: later reads do not come here
    return value
