"""Rebuild numpy arrays, scalars and dtypes from jsonpickle.ext.numpy's format (internal).

Used by :mod:`sacredlite._restore` for ``py/object`` names that start with ``numpy.``. Arrays
come as nested lists (small ones), as zlib-compressed base64 bytes with a shape (larger
ones; decompressed only up to the size the shape and dtype give), or as a view of another
array (checked by numpy against that array's memory). Arrays of Python objects are never
made over raw memory.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from ._restore import KeyPath, Restorer, check_args

__all__ = ["builder", "scalar_type"]


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise TypeError("restoring numpy values needs numpy: pip install numpy") from None
    return numpy


# numpy's scalar types by the name jsonpickle writes (``numpy.float64``), numpy 1 and 2
_NUMPY_SCALARS = frozenset(
    f"numpy.{n}"
    for n in "bool bool_ bool8 bytes_ str_ object_ datetime64 timedelta64 int8 int16 int32 "
    "int64 intc longlong uint8 uint16 uint32 uint64 uintc ulonglong float16 float32 float64 "
    "longdouble float96 float128 complex64 complex128 clongdouble complex192 complex256".split()
)


def scalar_type(name: str) -> type | None:
    """The numpy scalar type *name* names; the name is checked before numpy is asked."""
    if name not in _NUMPY_SCALARS:
        return None
    found = getattr(_numpy(), name[len("numpy.") :], None)
    return found if isinstance(found, type) else None


def builder(name: str) -> Callable[[Restorer, str, dict[str, Any], KeyPath], Any] | None:
    """The function that rebuilds a ``py/object`` of numpy's called *name*, if any."""
    if name == "numpy.ndarray":
        return _ndarray
    if name == "numpy.dtype" or name.startswith("numpy.dtypes."):
        return lambda restorer, name, obj, path: _dtype(obj.get("dtype"))
    return _scalar if name in _NUMPY_SCALARS else None


def _dtype(spec: Any) -> Any:
    """Return the dtype *spec* (a string, or a list or dict literal for records) names."""
    import ast

    np = _numpy()
    if not isinstance(spec, str):
        raise TypeError(f"a dtype of {spec!r:.100}")
    try:
        return np.dtype(ast.literal_eval(spec) if spec.startswith(("{", "[")) else spec)
    except (SyntaxError, MemoryError, RecursionError) as exc:
        raise ValueError(f"dtype {spec!r:.100}: {type(exc).__name__}") from None


_SCALAR_KINDS: dict[str, tuple[type, ...]] = {
    "b": (bool, int),
    "i": (int,),
    "u": (int,),
    "f": (int, float),
    "c": (int, float, complex),
    "U": (str,),
    "S": (bytes,),
    "O": (object,),
}


def _scalar(restorer: Restorer, name: str, obj: dict[str, Any], path: KeyPath) -> Any:
    import datetime

    value = restorer.value(obj.get("value"), path)
    dtype = _dtype(obj.get("dtype"))
    if dtype.kind in "Mm":
        kinds: tuple[type, ...] = (datetime.date, datetime.timedelta, int, type(None))
        if isinstance(value, int):
            return dtype.type(value, _numpy().datetime_data(dtype)[0])
    else:
        kinds = _SCALAR_KINDS.get(dtype.kind, ())
    if not isinstance(value, kinds):
        raise TypeError(f"a {dtype} value of type {type(value).__name__}")
    return dtype.type(value)


def _shape(shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise TypeError(f"a shape of {shape!r:.100}")
    return tuple(shape)


def _leaves(values: Any) -> int:
    count, stack = 0, [values]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            count += 1
    return count


def _inflate(restorer: Restorer, text: Any, size: int | None, path: KeyPath) -> bytes:
    """Decompress base64 zlib *text*: exactly *size* bytes, or any within the size limit."""
    import zlib

    packed = restorer.binary(text, "base64", path)
    limit = size if size is not None else restorer.max_size
    if limit is not None and limit >= sys.maxsize:
        raise ValueError("an array too large to make")
    try:
        data = zlib.decompressobj().decompress(packed, 0 if limit is None else limit + 1)
    except zlib.error as exc:
        raise ValueError(f"compressed values: {exc}") from None
    if size is not None and len(data) != size:
        raise ValueError(f"{len(data)} bytes of values for {size} expected")
    if size is None:
        restorer.charge(len(data))
    return data


def _ndarray(restorer: Restorer, name: str, obj: dict[str, Any], path: KeyPath) -> Any:
    import json
    import math

    np = _numpy()
    dtype = _dtype(obj.get("dtype"))
    if "base" in obj:
        return _view(restorer, obj, dtype, path)
    order = obj.get("order", "C")
    if order not in ("C", "F"):
        raise ValueError(f"order {order!r:.20}")
    shape = _shape(obj["shape"]) if "shape" in obj else None
    values = obj.get("values")
    if isinstance(values, list):
        items = restorer.value(values, path)
        restorer.charge(_leaves(items) * dtype.itemsize)
        array = np.array(items, dtype=dtype, order=order)
    elif isinstance(values, int | float):
        array = np.array(values, dtype=dtype)
    elif dtype.hasobject:  # jsonpickle writes these as compressed plain JSON
        array = np.array(json.loads(_inflate(restorer, values, None, path)), dtype=dtype)
    else:
        if shape is None:
            raise ValueError("binary values without a shape")
        size = math.prod(shape) * dtype.itemsize
        restorer.charge(size)
        if obj.get("byteorder"):
            dtype = dtype.newbyteorder(_byteorder(obj["byteorder"]))
        data = _inflate(restorer, values, size, path)
        array = np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy()
    if shape is not None and array.shape != shape:
        array = array.reshape(shape)
    if obj.get("writeable", True) is False:
        array.flags.writeable = False
    return array


def _byteorder(order: Any) -> str:
    if order not in ("<", ">", "=", "|", "S"):
        raise ValueError(f"byte order {order!r:.20}")
    return str(order)


def _view(restorer: Restorer, obj: dict[str, Any], dtype: Any, path: KeyPath) -> Any:
    """A view on another array of the data (jsonpickle keeps the memory shared)."""
    np = _numpy()
    base = restorer.value(obj["base"], path)
    if not isinstance(base, np.ndarray):
        base = np.array(base)
    if dtype.hasobject or base.dtype.hasobject or not base.flags.forc:
        # an object array made over another array's memory would read raw pointers
        raise TypeError("a view of objects or of a non-contiguous array")
    offset = obj.get("offset", 0)
    if type(offset) is not int or offset < 0:
        raise ValueError(f"offset {offset!r:.20}")
    strides = obj.get("strides")
    if strides is not None:
        strides = check_args(tuple(strides), int, 0, 64)
    array = np.ndarray(
        buffer=base,
        dtype=dtype.newbyteorder(_byteorder(obj.get("byteorder", "|"))),
        shape=_shape(obj.get("shape")),
        offset=offset,
        strides=strides,
    )
    if obj.get("writeable", True) is False:
        array.flags.writeable = False
    return array
