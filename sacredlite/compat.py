"""Small helpers that Sacred exposes in ``sacred.utils`` and users import from there.

sacredlite itself does not need them; they live here so ``sacredlite.utils`` can offer
them under Sacred's names without becoming a grab-bag module.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .config.paths import join_paths

__all__ = [
    "PATHCHANGE",
    "convert_camel_case_to_snake_case",
    "get_inheritors",
    "get_package_version",
    "iterate_flattened_separately",
    "module_exists",
    "module_is_in_cache",
    "modules_exist",
    "parse_version",
]

PATHCHANGE = object()
"""Yielded by :func:`iterate_flattened_separately` when it enters a nested dict."""


def iterate_flattened_separately(
    dictionary: Mapping[str, Any], manually_sorted_keys: Sequence[str] | None = None
) -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted path, value)``: first the keys in *manually_sorted_keys* (in that
    order), then plain values, then nested dicts (each announced by ``(key, PATHCHANGE)``),
    each group sorted by key."""
    first = list(manually_sorted_keys or [])

    def order(item: tuple[str, Any]) -> tuple[int, Any]:
        key, value = item
        if key in first:
            return 0, first.index(key)
        return (2 if isinstance(value, dict) and value else 1), key

    for key, value in sorted(dictionary.items(), key=order):
        if isinstance(value, dict) and value:
            yield key, PATHCHANGE
            for path, leaf in iterate_flattened_separately(value, first):
                yield join_paths(key, path), leaf
        else:
            yield key, value


def get_inheritors(cls: type) -> set[type]:
    """Return every class that inherits from *cls*, directly or not."""
    found: set[type] = set()
    todo: list[type] = [cls]
    while todo:
        parent = todo.pop()
        children: list[type] = parent.__subclasses__()
        for child in children:
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def convert_camel_case_to_snake_case(name: str) -> str:
    """``"CamelCaseName"`` -> ``"camel_case_name"``."""
    spaced = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z0-9])([A-Z])", r"\1_\2", spaced).lower()


def module_exists(modname: str) -> bool:
    """Return whether *modname* can be imported, without importing it."""
    try:
        return importlib.util.find_spec(modname) is not None
    except (ImportError, ValueError):
        return False


def modules_exist(*modnames: str) -> bool:
    """Return whether every module in *modnames* can be imported."""
    return all(module_exists(name) for name in modnames)


def module_is_in_cache(modname: str) -> bool:
    """Return whether *modname* has been imported already."""
    return modname in sys.modules


def parse_version(version_string: str) -> Any:
    """Return *version_string* parsed by ``packaging.version`` (install ``packaging``)."""
    from packaging import version

    return version.parse(version_string)


def get_package_version(name: str) -> Any:
    """Return the parsed ``__version__`` of the package *name* (it is imported)."""
    return parse_version(importlib.import_module(name).__version__)
