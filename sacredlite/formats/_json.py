"""JSON as Sacred's file storage writes it, and the rule for values it cannot hold (internal).

Sacred flattens every stored value with jsonpickle (:func:`sacredlite.serializer.flatten`)
and writes it with ``json.dump(..., sort_keys=True, indent=2)``; :func:`dumps` gives the
same bytes. Values that are JSON already skip jsonpickle (:func:`is_plain`), which is most
of them and costs a fraction of the time.

A value jsonpickle cannot flatten never poisons a write (issue 9): a run whose ``info``,
result, config or one metric point holds such a value still stores everything else, and
still reaches its final status. The part that cannot be flattened is stored as its string
form instead, and one warning names it and where it was (``info['model']``,
``metric 'loss'``). MongoDB's format applies the same rule to BSON on top of
:func:`json_data`.

Only the standard library at import time; jsonpickle is imported by ``flatten`` when a
value needs it.
"""

from __future__ import annotations

import json
import logging
import reprlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..serializer import flatten as _jsonpickle_flatten

__all__ = [
    "MAX_WALK_DEPTH",
    "RunJsonEncoder",
    "Warn",
    "Warner",
    "brief",
    "dumps",
    "flatten",
    "is_plain",
    "iso_utc",
    "json_data",
    "json_item",
    "text_form",
]

logger = logging.getLogger("sacredlite.observers")

Warn = Callable[[str, Any, object, str], None]
"""``warn(where, value, reason, stored)``: reports that the value at *where* could not be
stored for *reason* and that the string *stored* was stored instead."""

_short = reprlib.Repr()
_short.maxstring = 80
_short.maxother = 80
_SCALARS = (str, int, float, bool)


def is_plain(obj: Any) -> bool:
    """Return whether *obj* is JSON data that jsonpickle would leave unchanged."""
    kind = type(obj)
    if kind in _SCALARS or obj is None:
        return True
    if kind is list:
        return all(is_plain(v) for v in obj)
    if kind is dict:
        return all(type(k) is str and is_plain(v) for k, v in obj.items())
    return False


def flatten(obj: Any) -> Any:
    """Return *obj* as JSON data, flattened with jsonpickle exactly as Sacred stores it
    (plain JSON data is returned as it is, without jsonpickle)."""
    if is_plain(obj):
        return obj
    return _jsonpickle_flatten(obj)


def iso_utc(moment: datetime | str) -> str:
    """Return *moment* as a naive-UTC ISO 8601 string, as Sacred stores times in files.

    Naive datetimes are taken to be UTC already (Sacred's own ``utcnow()`` values);
    strings are passed through.
    """
    if isinstance(moment, str):
        return moment
    offset = moment.utcoffset()
    if offset:
        moment = moment - offset
    return moment.replace(tzinfo=None).isoformat()


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


def _item_where(where: str, key: Any) -> str:
    return f"{where}[{brief(key)}]"


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
        if value is None or type(value) in _SCALARS:
            return value
        item = getattr(value, "item", None)
        if callable(item) and getattr(value, "ndim", 0) == 0:
            try:
                return item()
            except Exception:  # noqa: BLE001,S110 - not a scalar after all: flatten it
                pass
        return json_data(value, where, warn)

    return convert


def dumps(obj: Any, where: str, warn: Warn) -> str:
    """Return *obj* as Sacred writes a JSON file: flattened, ``sort_keys=True, indent=2``.

    Args:
        obj: the value (a config, ``info``, a run entry, ...).
        where: names *obj* in warnings about parts stored as their string form.
        warn: reports such parts.
    """
    return json.dumps(json_data(obj, where, warn), sort_keys=True, indent=2)


class RunJsonEncoder:
    """Encode ``run.json`` like :func:`dumps`, reusing the text of entries that do not change.

    ``run.json`` is rewritten at every heartbeat, and most of its bytes are entries that
    never change during a run (experiment, host, meta, ...), which consecutive runs of one
    process usually share too: their text is kept and reused while the value is the same.

    Args:
        static: the keys whose text is kept.
    """

    def __init__(self, static: frozenset[str]) -> None:
        self.static = static
        self._text: dict[str, tuple[Any, str]] = {}

    def encode(self, entry: Any, warn: Warn) -> str:
        """Return the text of ``run.json`` holding *entry*; *warn* reports values stored as
        their string form."""
        if type(entry) is not dict or not entry:
            return dumps(entry, "run", warn)
        cache = self._text
        parts = []
        for key in sorted(entry):
            value = entry[key]
            cached = cache.get(key)
            if cached is not None and (cached[0] is value or cached[0] == value):
                text = cached[1]  # equal across runs too (experiment, host): compared in C
            elif value is None or type(value) in _SCALARS:
                text = json.dumps(value)  # the C encoder; indent changes nothing for scalars
            else:
                text = dumps(value, key, warn).replace("\n", "\n  ")
                if key in self.static:
                    cache[key] = (value, text)
            parts.append(f"  {json.dumps(key)}: {text}")
        return "{\n" + ",\n".join(parts) + "\n}"
