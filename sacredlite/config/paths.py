"""Dotted config paths: ``"optimizer.lr"`` <-> nested dicts (internal)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def join_paths(*parts: str) -> str:
    """Join path parts with dots, skipping empty parts (``"a.b."`` + ``"c"`` is ``"a.b.c"``)."""
    return ".".join(str(p).strip(".") for p in parts if p)


def get_by_dotted_path(config: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """Return the value at *path* (``""`` is the whole config), or *default*."""
    if not path:
        return config
    current: Any = config
    for key in path.split("."):
        if not isinstance(current, Mapping) or key not in current:
            return default
        current = current[key]
    return current


def set_by_dotted_path(config: dict[str, Any], path: str, value: Any) -> None:
    """Set *value* at *path*, creating nested dicts on the way."""
    keys = path.split(".")
    current = config
    for key in keys[:-1]:
        child = current.get(key)
        if not isinstance(child, dict):
            child = {}
            current[key] = child
        current = child
    current[keys[-1]] = value


def iterate_flattened(config: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted_path, value)`` for every leaf; empty dicts count as leaves."""
    for key, value in config.items():
        path = join_paths(prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from iterate_flattened(value, path)
        else:
            yield path, value


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of *base* with *update* merged in recursively (*update* wins)."""
    merged = dict(base)
    for key, value in update.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = value
    return merged


def nest_dotted_keys(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Turn ``{"a.b": 1, "c": 2}`` into ``{"a": {"b": 1}, "c": 2}`` (nested dicts too)."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        if isinstance(value, Mapping):
            value = nest_dotted_keys(value)
        existing = get_by_dotted_path(nested, key)
        if isinstance(existing, dict) and isinstance(value, dict):
            value = deep_merge(existing, value)
        set_by_dotted_path(nested, key, value)
    return nested


def iterate_flattened_sorted(config: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Like :func:`iterate_flattened`, in sorted key order at every level (Sacred's order)."""
    for key in _sorted_keys(config):
        value = config[key]
        if isinstance(value, Mapping) and value:
            for path, leaf in iterate_flattened_sorted(value):
                yield join_paths(str(key), path), leaf
        else:
            yield str(key), value


def _sorted_keys(config: Mapping[str, Any]) -> list[Any]:
    try:
        return sorted(config)
    except TypeError:  # keys of mixed types: by their text
        return sorted(config, key=str)


def iter_prefixes(path: str) -> Iterator[str]:
    """Yield ``"a"``, ``"a.b"``, ``"a.b.c"`` for ``"a.b.c"``."""
    parts = path.split(".")
    for end in range(1, len(parts) + 1):
        yield ".".join(parts[:end])


def is_prefix(pre_path: str, path: str) -> bool:
    """Return whether *pre_path* is a dotted prefix of *path* (``""`` is everyone's)."""
    pre_path = pre_path.strip(".")
    return not pre_path or path.strip(".").startswith(pre_path + ".")


def rel_path(base: str, path: str) -> str:
    """Return *path* relative to its dotted prefix *base*."""
    if base == path:
        return ""
    if not is_prefix(base, path):
        raise AssertionError(f"{base} not a prefix of {path}")
    return path[len(base) :].strip(".")


def recursive_update(target: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Merge *update* into *target* in place, descending into dicts; return *target*."""
    for key, value in update.items():
        if isinstance(value, Mapping):
            target[key] = recursive_update(target.get(key, {}), value)
        else:
            target[key] = value
    return target


def convert_to_nested_dict(dotted: Mapping[str, Any]) -> dict[str, Any]:
    """Turn ``{"a.b": 1}`` (dotted keys, at any level) into ``{"a": {"b": 1}}``."""
    nested: dict[str, Any] = {}
    for path, value in iterate_flattened_sorted(dotted):
        set_by_dotted_path(nested, path, value)
    return nested
