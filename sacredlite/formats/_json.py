"""Make any value storable: what Sacred stores, else a string form and a warning (internal).

Observers must never be poisoned by one value they cannot encode (issue 9): a run whose
``info``, result, config or one metric point holds such a value still stores everything
else, and still reaches its final status. Where Sacred stores a value (flattened by
jsonpickle), so do we; where even that fails, the value's string form is stored instead and
one warning names the value and where it was (``info['model']``, ``metric 'loss'``).

This module knows JSON (both stored formats flatten values the way Sacred does);
:mod:`sacredlite.formats.mongo` applies the same rule to BSON. It imports only the standard
library (jsonpickle is imported by :func:`flatten` when needed).
"""

from __future__ import annotations

import json
import logging
import reprlib
import sys
from collections.abc import Callable
from typing import Any

__all__ = [
    "MAX_WALK_DEPTH",
    "Warn",
    "Warner",
    "brief",
    "flatten",
    "is_plain",
    "json_data",
    "json_item",
    "text_form",
]

# the observers' logger: what users filter on, whichever layer does the work
logger = logging.getLogger("sacredlite.observers")

Warn = Callable[[str, Any, object, str], None]
"""``warn(where, value, reason, stored)``: reports that the value at *where* could not be
stored for *reason* and that the string *stored* was stored instead."""


def is_plain(obj: Any) -> bool:
    """Return whether *obj* is JSON data that jsonpickle would leave unchanged."""
    kind = type(obj)
    if kind in (str, int, float, bool) or obj is None:
        return True
    if kind is list:
        return all(is_plain(v) for v in obj)
    if kind is dict:
        return all(type(k) is str and is_plain(v) for k, v in obj.items())
    return False


_handlers_registered: set[str] = set()


def flatten(obj: Any) -> Any:
    """Return *obj* as JSON data, flattened with jsonpickle exactly as Sacred stores it.

    numpy and pandas handlers are registered when those libraries are loaded (only then
    can their objects be in a config), so this never imports them itself.
    """
    if is_plain(obj):
        return obj
    import jsonpickle

    for lib in ("numpy", "pandas"):
        if lib in sys.modules and lib not in _handlers_registered:
            ext = __import__(f"jsonpickle.ext.{lib}", fromlist=["register_handlers"])
            ext.register_handlers()
            _handlers_registered.add(lib)
    return json.loads(jsonpickle.encode(obj, keys=True))


_short = reprlib.Repr()
_short.maxstring = 80
_short.maxother = 80


def text_form(value: Any) -> str:
    """Return ``str(value)`` as valid UTF-8 text (lone surrogates escaped); never raises."""
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # noqa: BLE001 - a __str__ that raises: name the type instead
        text = f"<unprintable {type(value).__name__} object>"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return str(text)


def brief(value: Any) -> str:
    """Return a short ``repr`` of *value* for a message; never raises."""
    try:
        return text_form(_short.repr(value))
    except Exception:  # noqa: BLE001 - a __repr__ that raises
        return f"<{type(value).__name__} object>"


class Warner:
    """Log one warning per place where a value had to be stored as its string form
    (a :data:`Warn`).

    Args:
        backend: how the storage is named in the message (``"JSON"``, ``"MongoDB"``).
    """

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._seen: set[str] = set()

    def __call__(self, where: str, value: Any, reason: object, stored: str) -> None:
        """Warn that *value* at *where* could not be stored and *stored* was stored instead."""
        if where in self._seen:
            return
        self._seen.add(where)
        logger.warning(
            "%s cannot hold %s = %s (%s); its string form %s is stored instead.",
            self.backend,
            where,
            brief(value),
            text_form(reason)[:200],
            brief(stored),
        )


def _item_where(where: str, key: Any) -> str:
    return f"{where}[{brief(key)}]"


MAX_WALK_DEPTH = 32
"""Levels of dicts and lists walked to find the part that cannot be stored; a value nested
deeper (thousands of levels: no encoder takes it) is stored as a whole as its string form."""


def json_data(obj: Any, where: str, warn: Warn, depth: int = 0) -> Any:
    """Return *obj* as JSON data, flattened as Sacred flattens it (:func:`flatten`).

    A part that jsonpickle cannot flatten is stored as its string form, with a warning
    naming it (*where* names *obj*, e.g. ``"info"``); everything else is kept.
    """
    try:
        return flatten(obj)
    except Exception as exc:  # noqa: BLE001 - any error of a user's object
        return _json_parts(obj, where, warn, exc, depth)


def _json_parts(obj: Any, where: str, warn: Warn, exc: BaseException, depth: int) -> Any:
    if depth >= MAX_WALK_DEPTH:
        pass
    elif isinstance(obj, dict):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if type(key) is str:
                name = key
            else:  # jsonpickle's own form of a non-string key, else its text
                try:
                    name = next(iter(flatten({key: None})))
                except Exception:  # noqa: BLE001
                    name = text_form(key)
            out[name] = json_data(value, _item_where(where, key), warn, depth + 1)
        return out
    elif isinstance(obj, list | tuple):
        return [json_data(v, _item_where(where, i), warn, depth + 1) for i, v in enumerate(obj)]
    text = text_form(obj)
    warn(where, obj, f"{type(exc).__name__}: {exc}", text)
    return text


def json_item(where: str, warn: Warn) -> Callable[[Any], Any]:
    """Return a function that turns one metric value or step into JSON data.

    Number-like scalars (numpy's, and anything with ``.item()``) become the Python number
    they hold, as Sacred's ``log_scalar`` converts them; other values are flattened as
    Sacred's file observer flattens them (a numpy array becomes jsonpickle's numpy
    object); what cannot be flattened becomes its string form, with one warning.
    """

    def convert(value: Any) -> Any:
        if value is None or type(value) in (str, int, float, bool):
            return value
        item = getattr(value, "item", None)
        if callable(item) and getattr(value, "ndim", 0) == 0:
            try:
                return item()
            except Exception:  # noqa: BLE001,S110 - not a scalar after all: flatten it
                pass
        return json_data(value, where, warn)

    return convert
