"""Values as MongoDB stores them: Sacred's flattening and key escaping, and what BSON refuses
made storable (internal; public through :mod:`sacredlite.formats.mongo`).

Config, info and result are flattened with jsonpickle as Sacred flattens them
(:func:`stored`), and keys are made BSON-safe the way Sacred's ``force_valid_bson_key``
does: a leading ``$`` becomes ``@``, ``.`` becomes ``,``.

BSON cannot hold some values JSON and Python can: integers beyond 64 bits (``2**100``),
text with lone surrogates (``"\\udcff"``, what ``surrogateescape`` makes of undecodable
bytes in paths and command lines), non-string or NUL-containing keys, and objects. A write
holding one is refused by pymongo every time, so it would leave the run RUNNING and wait
in the spool for good (issue 9). Sacred's answer is ``force_bson_encodeable``: a value that
cannot be stored becomes its ``str``. :func:`storable` applies that idea to each write
operation, changing only what BSON refuses, and reports one warning per place naming it
(``info['big']``, ``metric 'loss'``); the rest of the run, its result and its final status
are stored. Metric values that are not numbers are flattened as config and info are (a
numpy array becomes jsonpickle's numpy object). The common case costs one C-level pass: a
value that encodes is sent as it is.
"""

from __future__ import annotations

import numbers
from dataclasses import replace
from datetime import datetime
from typing import Any

import bson

from ._json import MAX_WALK_DEPTH, Warn, Warner, brief, json_data, text_form
from ._mongo_ops import (
    NewMetric,
    Op,
    OutputChunk,
    PushMetric,
    SetFields,
    StartRun,
    StoreFile,
)

__all__ = [
    "bson_value",
    "force_bson_encodeable",
    "force_valid_bson_key",
    "metric_column",
    "new_warner",
    "safe_keys",
    "storable",
    "stored",
]

_INT64 = (-(1 << 63), (1 << 63) - 1)


def force_valid_bson_key(key: Any) -> str:
    """Return *key* as a BSON-safe string: a leading ``$`` becomes ``@``, ``.`` becomes ``,``."""
    text = str(key)
    if text.startswith("$"):
        text = "@" + text[1:]
    return text.replace(".", ",")


def _valid_document(document: dict[str, Any]) -> bool:
    """Return whether *document* is valid BSON, keys included (no ``$`` start, no ``.``)."""
    try:
        bson.encode(document, check_keys=True)
    except (bson.errors.InvalidDocument, TypeError, OverflowError):
        return False
    return True


def force_bson_encodeable(obj: Any) -> Any:
    """Return *obj* in a form MongoDB can store, changing as little as possible (Sacred's).

    A dict that is valid BSON comes back unchanged; otherwise every key is made valid with
    :func:`force_valid_bson_key` and each value is treated the same way. A value that is
    not BSON (a module, an object) becomes its ``str``; numpy arrays are left alone.
    """
    if isinstance(obj, dict):
        if _valid_document(obj):
            return obj
        return {force_valid_bson_key(k): force_bson_encodeable(v) for k, v in obj.items()}
    if type(obj).__module__ == "numpy" and type(obj).__name__ == "ndarray":
        return obj
    return obj if _valid_document({"value": obj}) else str(obj)


def safe_keys(obj: Any) -> Any:
    """Return *obj* with every dict key BSON-safe (only copies what needs changing)."""
    if isinstance(obj, dict):
        return {
            (
                k
                if type(k) is str and "." not in k and not k.startswith("$")
                else force_valid_bson_key(k)
            ): safe_keys(v)
            for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [safe_keys(v) for v in obj]
    return obj


def stored(obj: Any, where: str, warn: Warn) -> Any:
    """Return *obj* flattened as Sacred stores it, keys made BSON-safe; a part jsonpickle
    cannot flatten becomes its string form (reported to *warn*; *where* names *obj*)."""
    return safe_keys(json_data(obj, where, warn))


def new_warner() -> Warner:
    """Return the warner of one MongoDB run (one warning per place)."""
    return Warner("MongoDB")


def _why(value: Any) -> str:
    """Return BSON's reason for refusing *value* (for the warning)."""
    try:
        bson.encode({"v": value})
    except Exception as exc:  # noqa: BLE001 - whatever bson raises is the reason
        return f"{type(exc).__name__}: {exc}"
    return "not BSON"  # pragma: no cover - only called for refused values


def _encodes(value: Any) -> bool:
    try:
        bson.encode({"v": value})
    except Exception:  # noqa: BLE001 - InvalidDocument, OverflowError, UnicodeEncodeError, ...
        return False
    return True


def _child(where: str, key: Any) -> str:
    return f"{where}[{brief(key)}]" if where else text_form(key)


def _text(value: Any, where: str, warn: Warn) -> str:
    text = text_form(value).replace("\x00", "\\x00")
    warn(where, value, _why(value), text)
    return text


def _key(key: Any, where: str, warn: Warn) -> str:
    if type(key) is str and "\x00" not in key and _encodes(key):
        return key
    text = text_form(key).replace("\x00", "\\x00")
    warn(f"the key {_child(where, key)}", key, "not a BSON key", text)
    return text


def bson_value(value: Any, where: str, warn: Warn, depth: int = 0) -> Any:
    """Return *value* unchanged if BSON can hold it, else with the refused parts replaced.

    Dicts and lists are walked, so only what BSON refuses becomes its string form (keys
    too); each replacement is reported to *warn* with its place (*where* names *value*;
    an empty *where* names the keys of a dict of fields themselves).
    """
    if _encodes(value):
        return value
    if depth >= MAX_WALK_DEPTH:
        pass
    elif isinstance(value, dict):
        return {
            _key(k, where, warn): bson_value(v, _child(where, k), warn, depth + 1)
            for k, v in value.items()
        }
    elif isinstance(value, list | tuple):
        return [bson_value(v, _child(where, i), warn, depth + 1) for i, v in enumerate(value)]
    return _text(value, where, warn)


def _scalar(value: Any, kind: type, where: str, warn: Warn) -> Any:
    """Return one metric value or step as BSON can hold it."""
    if value is None or type(value) in (bool, float):
        return value
    if isinstance(value, int):
        value = int(value)
        return value if _INT64[0] <= value <= _INT64[1] else _text(value, where, warn)
    if isinstance(value, str):
        return value if _encodes(value) else _text(value, where, warn)
    if isinstance(value, datetime):
        return bson_value(value, where, warn)
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:  # numpy scalars, 0-d arrays
        try:
            return _scalar(item(), kind, where, warn)
        except Exception:  # noqa: BLE001,S110 - not a scalar after all: flattened below
            pass
    elif isinstance(value, numbers.Number):  # Decimal, Fraction, ...: the number they hold
        try:
            return _scalar(kind(value), kind, where, warn)
        except (TypeError, ValueError, OverflowError):
            pass
    return bson_value(safe_keys(json_data(value, where, warn)), where, warn)


def metric_column(values: list[Any], kind: type, where: str, warn: Warn) -> list[Any]:
    """Return a metric's steps (*kind* ``int``) or values (``float``) as BSON can hold them.

    Numbers pass; numpy scalars and other real numbers become Python numbers; other values
    are flattened like config values; what is still refused becomes its string form.
    """
    if all(type(v) is kind for v in values):
        if kind is not int or not values:
            return values
        if _INT64[0] <= min(values) and max(values) <= _INT64[1]:
            return values
    return [_scalar(v, kind, where, warn) for v in values]


def _stamps(stamps: list[Any], where: str, warn: Warn) -> list[Any]:
    if all(type(t) is datetime for t in stamps):
        return stamps
    return [bson_value(t, where, warn) for t in stamps]


def _where(op: Op, key: str) -> str:
    return f"the {op.KIND.replace('_', ' ')} {key}"


def storable(op: Op, warn: Warn) -> Op:
    """Return *op* with every value that reaches the database storable in BSON.

    *op* itself is returned when nothing needs to change, else a changed copy; each
    replaced value is reported to *warn* (e.g. a :class:`~._json.Warner`).
    """
    changed: dict[str, Any] = {}
    match op:
        case StartRun():
            changed["doc"] = bson_value(op.doc, "", warn)
        case SetFields():
            changed["fields"] = bson_value(op.fields, "", warn)
        case StoreFile():
            for key in ("filename", "artifact", "content_type", "metadata"):
                if getattr(op, key) is not None:  # src is a local path, never stored
                    changed[key] = bson_value(getattr(op, key), _where(op, key), warn)
        case NewMetric():
            changed["name"] = bson_value(op.name, _where(op, "name"), warn)
        case PushMetric():
            name = changed["name"] = bson_value(op.name, _where(op, "name"), warn)
            where = f"metric {brief(name)}"
            changed["steps"] = metric_column(op.steps, int, f"a step of {where}", warn)
            changed["values"] = metric_column(op.values, float, where, warn)
            changed["timestamps"] = _stamps(op.timestamps, f"a timestamp of {where}", warn)
        case OutputChunk():
            changed["text"] = bson_value(op.text, _where(op, "text"), warn)
    if all(value is getattr(op, key) for key, value in changed.items()):
        return op
    return replace(op, **changed)
