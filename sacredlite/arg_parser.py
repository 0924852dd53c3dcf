"""Sacred's ``sacred.arg_parser`` (temporary core version; the CLI-text rework replaces it)."""

from __future__ import annotations

import ast
from typing import Any

from .config.paths import set_by_dotted_path


def _convert_value(value: str) -> Any:
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return value


def get_config_updates(updates: list[str] | None) -> tuple[dict[str, Any], list[str]]:
    """Return ``(config updates, named configs)`` from ``with`` arguments."""
    config_updates: dict[str, Any] = {}
    named_configs: list[str] = []
    for update in updates or []:
        if "=" in update:
            path, _, value = update.partition("=")
            set_by_dotted_path(config_updates, path.strip(), _convert_value(value.strip()))
        else:
            named_configs.append(update)
    return config_updates, named_configs
