"""Parse ``with`` updates from the command line exactly as Sacred does (internal).

``with a=1 optimizer.lr=0.1 name=adam fast`` gives the updates
``{"a": 1, "optimizer": {"lr": 0.1}, "name": "adam"}`` and the named configs ``["fast"]``.
A value is a Python literal (restored like a stored config, so ``{"py/tuple": [1, 2]}`` is a
tuple) or, when it is none, the text itself. Whatever Sacred accepts is accepted the same
way; :func:`update_hints` only explains, when a run then fails, updates that look mistaken.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Sequence
from typing import Any

CONFIG_FILE_EXTENSIONS = (".json", ".yaml", ".yml", ".pickle", ".pkl")
_TOO_DEEP = object()
_MAX_PARTS = 100
"""Dotted parts a ``with`` key may have (each is a nested dict; deeper ones exhaust
Python's recursion limit in every part of config handling, Sacred's included)."""


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_depth(path: str) -> None:
    parts = path.count(".") + 1
    if parts > _MAX_PARTS:
        from ..errors import input_error

        raise input_error(
            ValueError(
                f"The config key {_shorten(path)!r} has {parts} dotted parts; at most "
                f"{_MAX_PARTS} are supported."
            )
        )


_JSONPICKLE_TAGS = ("py/", "json://")


def _has_jsonpickle_tags(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            (isinstance(k, str) and k.startswith(_JSONPICKLE_TAGS)) or _has_jsonpickle_tags(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_has_jsonpickle_tags(v) for v in value)
    return False


def restore(value: Any) -> Any:
    """Return *value* as a stored config would come back: through JSON and jsonpickle.

    Tuples become lists and dict keys strings; ``py/`` tags are decoded, for an allow-list of
    types only (:func:`sacredlite.serializer.restore_data`; Sacred would import and call what
    they name). A value JSON cannot hold (bytes, complex, set) raises ``TypeError``, as in
    Sacred.
    """
    text = json.dumps(value)
    flat = json.loads(text)
    if not _has_jsonpickle_tags(flat):
        return flat  # nothing for jsonpickle's tags to decode
    from ..serializer import restore_data

    return restore_data(flat)  # data, never code: an allow-list of types


def convert_value(text: str, strict: bool | None = None) -> Any:
    """Return *text* as a Python literal, or the text itself if it is none.

    Args:
        text: the value part of ``KEY=VALUE``.
        strict: raise instead of falling back to the text (default:
            ``SETTINGS.COMMAND_LINE.STRICT_PARSING``).
    """
    try:
        value = ast.literal_eval(text)
    except (RecursionError, MemoryError):
        value = _TOO_DEEP
    except (ValueError, SyntaxError, TypeError):
        if strict is None:
            from ..settings import SETTINGS

            strict = bool(SETTINGS.COMMAND_LINE.STRICT_PARSING)
        if strict:
            raise
        return text
    try:
        if value is _TOO_DEEP:
            raise RecursionError
        return restore(value)
    except TypeError as exc:  # a literal JSON cannot hold (a set, bytes, complex): Sacred's error
        from ..errors import input_error

        raise input_error(
            exc, f"The value {_shorten(text)!r} cannot be stored: use a list, dict or number."
        ) from None
    except (RecursionError, MemoryError):
        from ..errors import input_error

        raise input_error(
            ValueError(f"The value {_shorten(text)!r} is nested too deeply to be read."),
            f"Config values may nest at most about {_MAX_PARTS} levels deep.",
        ) from None
    except ValueError as exc:  # a py/ tag that names no restorable type
        from ..errors import input_error

        raise input_error(
            exc,
            "Values given with 'with' are data: only plain values and tuples, sets, dates "
            "or numpy arrays in jsonpickle form are read.",
        ) from None


def _assign(updates: dict[str, Any], path: str, value: Any) -> None:
    """Set *value* at dotted *path*; like Sacred, a non-dict on the way raises TypeError."""
    *parents, last = path.split(".")
    current: Any = updates
    try:
        for key in parents:
            if key not in current:
                current[key] = {}
            current = current[key]
        current[last] = value
    except TypeError as exc:
        from ..errors import input_error

        raise input_error(
            exc, f"The update of {path!r} goes inside a value an earlier update set: {current!r}."
        ) from None


def get_config_updates(updates: Sequence[str] | None) -> tuple[dict[str, Any], list[str]]:
    """Return ``(config updates, named configs)`` from the ``with`` arguments (Sacred's).

    ``KEY=VALUE`` sets a (dotted) key, surrounding whitespace removed; a word without ``=``
    names a named config or a config file; empty arguments are skipped.
    """
    config_updates: dict[str, Any] = {}
    named_configs: list[str] = []
    for update in updates or ():
        if update == "":
            continue
        path, sep, value = update.partition("=")
        if sep:
            _check_depth(path.strip())
            _assign(config_updates, path.strip(), convert_value(value.strip()))
        else:
            named_configs.append(path)
    return config_updates, named_configs


def parse_config_updates(updates: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """Alias of :func:`get_config_updates` (sacredlite's earlier name)."""
    return get_config_updates(updates)


def _key_problem(key: str) -> str | None:
    if not key:
        return "its key is empty"
    parts = key.split(".")
    if any(not part for part in parts):
        return f"the key {key!r} has an empty part"
    bad = [part for part in parts if not part.isidentifier()]
    if bad:
        return f"{bad[0]!r} is not a valid config key"
    return None


def update_hints(updates: Iterable[str] | None) -> list[str]:
    """Return one line per ``with`` argument that looks mistaken, for when a run fails.

    Sacred accepts these (``=3`` sets the key ``""``, ``a b=1`` the key ``"a b"``), so they
    are no error by themselves; the command line prints the hints before the error they lead
    to.
    """
    hints = []
    for update in updates or ():
        if not update:
            continue
        key, sep, _ = update.partition("=")
        if sep:
            problem = _key_problem(key.strip())
        elif " " in update.strip() or not update.strip():
            problem = "it is neither KEY=VALUE nor the name of a named config"
        else:
            problem = None
        if problem:
            hints.append(
                f"The update {update!r} looks mistaken: {problem}. Write updates as "
                "KEY=VALUE, e.g. 'lr=0.1' or 'optimizer.name=\"adam\"'."
            )
    return hints
