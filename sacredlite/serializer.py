"""Sacred's ``sacred.serializer``: values JSON cannot hold, flattened by jsonpickle.

``flatten`` gives JSON data (tuples, sets, numpy arrays and scalars, pandas objects, ... as
jsonpickle's ``py/...`` objects); ``restore`` turns it back. jsonpickle's numpy and pandas
handlers are registered as Sacred registers them, but only once those libraries are
imported by the user's code (a value of theirs cannot exist before), so importing this
module never imports numpy or pandas.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["flatten", "restore"]

_registered: set[str] = set()


def _register_handlers() -> None:
    if "numpy" in sys.modules and "numpy" not in _registered:
        import jsonpickle.ext.numpy

        jsonpickle.ext.numpy.register_handlers()
        _registered.add("numpy")
    if "pandas" in sys.modules and "pandas" not in _registered:
        import jsonpickle.ext.pandas

        jsonpickle.ext.pandas.register_handlers()
        _registered.add("pandas")


def flatten(obj: Any) -> Any:
    """Return *obj* as JSON data (dict keys kept, non-JSON values flattened)."""
    import json

    import jsonpickle

    _register_handlers()
    return json.loads(jsonpickle.encode(obj, keys=True))


def restore(flat: Any) -> Any:
    """Return the Python value *flat* (from :func:`flatten`) stands for."""
    import json

    import jsonpickle

    _register_handlers()
    return jsonpickle.decode(json.dumps(flat), keys=True, on_missing="error")


def __getattr__(name: str) -> Any:
    """``sacredlite.serializer.json`` is jsonpickle itself, as in Sacred."""
    if name == "json":
        import jsonpickle

        _register_handlers()
        return jsonpickle
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
