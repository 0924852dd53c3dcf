"""Sacred's ``sacred.serializer``: values JSON cannot hold, flattened by jsonpickle, and the
safe way back.

``flatten`` gives JSON data (tuples, sets, numpy arrays and scalars, pandas objects, ... as
jsonpickle's ``py/...`` objects). :func:`restore_data` turns it back without importing or
calling anything the data names: it rebuilds the types in :data:`RESTORABLE` (what Sacred's
and sacredlite's writers produce for config values) from jsonpickle's format and refuses
everything else with :class:`DataRestoreError`, naming the key path and the type.
jsonpickle's own decoder calls whatever a ``py/reduce`` names (``os.system`` included, with
``safe=True`` too), so nothing here hands untrusted data to it (issue 9). ``restore``,
Sacred's name, is :func:`restore_data`: its input is data. The rebuilding itself is in the
private modules behind this one: :mod:`sacredlite._restore` (jsonpickle's tags, the tables
of allowed types) and :mod:`sacredlite._restore_numpy` (jsonpickle's numpy format).
:func:`data_size` measures data as it would be written out, shared parts repeated (the size
limit of config files and queued configs).

jsonpickle's numpy and pandas handlers are registered for ``flatten`` as Sacred registers
them, but only once those libraries are imported by the user's code (a value of theirs cannot
exist before), and :func:`restore_data` imports numpy only for data holding numpy values, so
importing this module imports neither.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .errors import SacredliteError

__all__ = [
    "RESTORABLE",
    "DataRestoreError",
    "DataSizeError",
    "data_size",
    "expanded_size",
    "flatten",
    "format_size",
    "restore",
    "restore_data",
]

RESTORABLE: tuple[str, ...] = (
    "tuple",
    "set",
    "frozenset",
    "bytes",
    "complex",
    "range",
    "collections.OrderedDict",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "datetime.timedelta",
    "datetime.timezone",
    "decimal.Decimal",
    "fractions.Fraction",
    "uuid.UUID",
    "pathlib paths",
    "numpy arrays, scalars, dtypes and scalar types",
)
"""What :func:`restore_data` rebuilds from jsonpickle's format, besides JSON's own values
(dicts with any hashable keys included) and repeated references."""


def format_size(size: int) -> str:
    """Return *size* bytes as text: ``"3,013 bytes"`` or ``"132.4 MB"``."""
    if size < 1 << 20:
        return f"{size:,} bytes"
    return f"{size / (1 << 20):,.1f} MB"


class DataRestoreError(SacredliteError, ValueError):
    """Stored data names a type :func:`restore_data` does not rebuild, or is malformed.

    Args:
        message: what is wrong and where (the key path).
        path: the key path of the value: ``"a.b[2]"``, ``""`` for the top level.
        type_name: the type, function, module or kind of value concerned.
    """

    def __init__(self, message: str, path: str, type_name: str) -> None:
        super().__init__(message)
        self.path = path
        self.type_name = type_name


class DataSizeError(SacredliteError, ValueError):
    """Data that takes more room than allowed once expanded.

    Args:
        size: the bytes the data takes once expanded (at least).
        limit: the bytes allowed.
    """

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"the data takes {format_size(size)} once expanded, more than the limit "
            f"of {format_size(limit)}"
        )
        self.size = size
        self.limit = limit


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


def restore_data(flat: Any, *, max_size: int | None = None) -> Any:
    """Return the value the JSON data *flat* (from :func:`flatten`) stands for, safely.

    Plain JSON comes back as it is; jsonpickle's objects come back as Python values when
    they are of a type in :data:`RESTORABLE` (tuples, sets, bytes, numpy arrays, dates,
    ...), repeated references (``py/id``) included. Nothing the data names is imported or
    called: a function, a module, any other class or a ``py/reduce`` call of anything else
    is refused.

    Args:
        flat: JSON data (dicts, lists, strings, numbers, ``None``).
        max_size: refuse data that takes more bytes than this once expanded (compressed
            numpy arrays decompressed, references repeated); ``None``: no limit.

    Raises:
        DataRestoreError: a refused type or a malformed value, with its key path.
        DataSizeError: the data is larger than *max_size* once expanded.

    .. versionadded:: 0.1 (issue 9)
    """
    from ._restore import Restorer

    value = Restorer(max_size).value(flat, None)
    if max_size is not None:
        size = data_size(value)
        if size > max_size:
            raise DataSizeError(size, max_size)
    return value


def restore(flat: Any) -> Any:
    """Return the Python value *flat* (from :func:`flatten`) stands for (Sacred's name).

    .. versionchanged:: 0.1 (issue 9)
       Restores with :func:`restore_data`: only the types in :data:`RESTORABLE`; other
       objects raise :class:`DataRestoreError` instead of being imported and built.
    """
    return restore_data(flat)


def __getattr__(name: str) -> Any:
    """``sacredlite.serializer.json`` is jsonpickle itself, as in Sacred."""
    if name == "json":
        import jsonpickle

        _register_handlers()
        return jsonpickle
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- measuring -------------------------------------------------------------------------------
Parts = Callable[[Any], tuple[int, Sequence[Any]]]
"""``parts(node) -> (own size, children)``: one step of :func:`expanded_size`."""


def expanded_size(root: Any, parts: Parts) -> int:
    """Return the size of *root* written out, each shared part counted every time it occurs.

    Each distinct node is visited once (sizes of shared parts are remembered), so a small
    structure that would expand to terabytes (YAML aliases, ``py/id`` references) is
    measured as quickly as it was read.

    Args:
        root: the structure.
        parts: gives a node's own size (with that of the parts that hold nothing) and the
            parts that hold more; those must belong to *root* (their ids are remembered).

    Raises:
        DataRestoreError: the structure contains itself.
    """
    sizes: dict[int, int] = {}
    entered: dict[int, tuple[int, Sequence[Any]]] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        if leaving:
            own, children = entered.pop(key)
            sizes[key] = own + sum(sizes[id(child)] for child in children)
        elif key in entered:
            raise DataRestoreError("the data contains itself", "", type(node).__name__)
        elif key not in sizes:
            own, children = parts(node)
            if children:
                entered[key] = (own, children)
                stack.append((node, True))
                stack.extend((child, False) for child in children)
            else:
                sizes[key] = own
    return sizes[id(root)]


def _leaf_size(value: Any) -> int:
    """About the bytes of a value that holds no other values, written as JSON."""
    kind = type(value)
    if kind is str:
        return len(value) + 2
    if kind is float:
        return 12
    if kind is int:
        return int(value.bit_length()) // 3 + 1
    if value is None or kind is bool:
        return 5
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, bytes | bytearray):
        return len(value) * 4 // 3 + 12
    if kind.__name__ == "ndarray" and kind.__module__ == "numpy":
        return 2 + int(value.nbytes)
    return 16


def _holds_values(value: Any) -> bool:
    if isinstance(value, dict | list | tuple | set | frozenset):
        return True
    kind = type(value)
    return kind.__name__ == "ndarray" and kind.__module__ == "numpy" and value.dtype.hasobject


def _value_parts(value: Any) -> tuple[int, Sequence[Any]]:
    """About the bytes of *value* as JSON without its containers, and those containers."""
    items: Iterable[Any]
    if isinstance(value, dict):
        own, items = 2 + 2 * len(value), [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        own, items = 2 + len(value), value
    elif _holds_values(value):  # a numpy array of objects
        own, items = 2 + value.size, value.ravel().tolist()
    else:
        return _leaf_size(value), ()
    children = []
    for item in items:
        kind = type(item)
        if kind is float:  # the common kinds first: configs hold many numbers
            own += 12
        elif kind is str:
            own += len(item) + 2
        elif kind is int:
            own += item.bit_length() // 3 + 1
        elif _holds_values(item):
            children.append(item)
        else:
            own += _leaf_size(item)
    return own, children


def data_size(value: Any) -> int:
    """Return about how many bytes *value* takes written as JSON, shared parts repeated.

    Raises:
        DataRestoreError: *value* contains itself.
    """
    return expanded_size(value, _value_parts)
