"""Config values as flat text parameters and back (internal; MLflow's params are text).

:func:`param_text` writes a value, :func:`typed_value` reads it back where that is safe:
integers without leading zeros, floats, ``True``/``False``, ``None``, JSON lists and
objects; anything else stays text. :func:`nested_config` turns dotted keys back into a
nested config (:func:`sacredlite.store.records.flatten` makes them).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")
_WORDS = {"True": True, "False": False, "true": True, "false": False, "None": None}


def typed_value(text: str) -> Any:
    """Return the value a parameter's *text* stands for (see the module docstring)."""
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text in _WORDS:
        return _WORDS[text]
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def param_text(value: Any) -> str:
    """Return a config value as parameter text that :func:`typed_value` reads back."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, (bool, int)):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def nested_config(params: dict[str, Any]) -> dict[str, Any]:
    """Return ``{"a.b": 1}`` as ``{"a": {"b": 1}}``; a key that is both a value and a
    parent (``a`` and ``a.b``) keeps the whole config flat."""
    out: dict[str, Any] = {}
    for key in sorted(params):
        node = out
        *parents, last = key.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict) or not part:
                return dict(params)
            node = child
        if last in node or not last:
            return dict(params)
        node[last] = params[key]
    return out
