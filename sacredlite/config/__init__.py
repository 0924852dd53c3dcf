"""Sacred's ``sacred.config`` names, loaded on first use (``from sacredlite.config import
ConfigScope``): scopes, dicts, config files and captured functions."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ConfigDict",
    "ConfigScope",
    "chain_evaluate_config_scopes",
    "create_captured_function",
    "dogmatize",
    "load_config_file",
    "save_config_file",
    "undogmatize",
]

_HOMES = {
    "ConfigDict": ".scope",
    "ConfigScope": ".scope",
    "chain_evaluate_config_scopes": ".utils",
    "dogmatize": ".utils",
    "undogmatize": ".utils",
    "load_config_file": ".files",
    "save_config_file": ".files",
    "create_captured_function": "..captured",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value
