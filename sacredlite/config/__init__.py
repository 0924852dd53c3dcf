"""Sacred's ``sacred.config`` names, loaded on first use (``from sacredlite.config import
ConfigScope``): scopes, dicts, config files and captured functions."""

from __future__ import annotations

from .._lazy import lazy_getattr

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

__getattr__ = lazy_getattr(__name__, globals(), _HOMES)
