"""Rebuild values from jsonpickle's format without importing or calling what it names
(internal; the public side is :func:`sacredlite.serializer.restore_data`).

:class:`Restorer` walks the JSON data once. Plain values stay as they are; each ``py/...``
object is rebuilt by a function of this module's tables (``_OBJECTS``, ``_REDUCERS``,
``_TYPES``; numpy's format in :mod:`sacredlite._restore_numpy`) when its type name is a key
there, and refused otherwise. A name in the data is only ever looked up in these tables:
nothing is imported by it, and nothing it names is called (issue 9).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .serializer import DataRestoreError, DataSizeError

__all__ = ["KeyPath", "Restorer", "malformed"]

KeyPath = tuple[Any, Any] | None
"""A value's place: ``(parent's KeyPath, key or index)``, ``None`` at the top level."""

_PENDING = object()  # the py/id slot of an object still being built


def _path_text(path: KeyPath) -> str:
    steps: list[Any] = []
    while path is not None:
        path, step = path
        steps.append(step)
    text = ""
    for step in reversed(steps):
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else str(step)
    return text


def _refused(path: KeyPath, name: str, tag: str) -> DataRestoreError:
    text = _path_text(path)
    where = repr(text) if text else "the top level"
    return DataRestoreError(
        f"refused to restore {name!r} ({tag}) at {where}: only plain data and the types "
        "in sacredlite.serializer.RESTORABLE are restored",
        text,
        name,
    )


def malformed(path: KeyPath, name: str, problem: str) -> DataRestoreError:
    text = _path_text(path)
    where = repr(text) if text else "the top level"
    return DataRestoreError(f"cannot restore {name} at {where}: {problem}", text, name)


class Restorer:
    """Rebuild allow-listed values from jsonpickle's format.

    Objects are numbered as jsonpickle's Unpickler numbers them (every list, dict and
    object, in the order it meets them), so a ``{"py/id": n}`` finds what jsonpickle would.
    """

    def __init__(self, max_size: int | None) -> None:
        self.refs: list[Any] = []
        self.filling: set[int] = set()  # ids of lists and dicts being filled
        self.max_size = max_size
        self.spent = 0

    def charge(self, nbytes: int) -> None:
        """Count *nbytes* about to be made from compressed or binary data."""
        self.spent += nbytes
        if self.max_size is not None and self.spent > self.max_size:
            raise DataSizeError(self.spent, self.max_size)

    def value(self, obj: Any, path: KeyPath) -> Any:
        if isinstance(obj, list):
            return self.from_list(obj, path)
        if not isinstance(obj, dict):
            return obj
        for tag, method in _TAGS.items():  # jsonpickle's order of precedence
            if tag in obj:
                return method(self, obj, path)
        return self.from_dict(obj, path)

    def from_list(self, obj: list[Any], path: KeyPath) -> list[Any]:
        out: list[Any] = []
        self.refs.append(out)
        self.filling.add(id(out))
        for index, item in enumerate(obj):
            out.append(self.value(item, (path, index)) if isinstance(item, list | dict) else item)
        self.filling.discard(id(out))
        return out

    def from_dict(self, obj: dict[Any, Any], path: KeyPath) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        self.refs.append(out)
        self.filling.add(id(out))
        encoded = []
        for key, item in obj.items():
            if isinstance(key, str) and key.startswith("json://"):
                encoded.append((key, item))  # jsonpickle restores these keys last
            else:
                out[key] = self.value(item, (path, key))
        for text, item in encoded:
            key = self.from_key(text, path)
            out[key] = self.value(item, (path, key))
        self.filling.discard(id(out))
        return out

    def from_key(self, text: str, path: KeyPath) -> Any:
        import json

        try:
            encoded = json.loads(text[len("json://") :])
        except ValueError:
            raise malformed(path, "a dict key", f"{text!r} is no JSON-encoded key") from None
        key = self.value(encoded, (path, text))
        try:
            hash(key)
        except TypeError:
            raise malformed(path, "a dict key", f"{text!r} is not hashable") from None
        return key

    def from_items(self, obj: dict[str, Any], tag: str, path: KeyPath) -> list[Any]:
        items = obj[tag]
        if not isinstance(items, list):
            raise malformed(path, tag, f"expected a list, got {type(items).__name__}")
        return [self.value(item, (path, index)) for index, item in enumerate(items)]

    def from_tuple(self, obj: dict[str, Any], path: KeyPath) -> tuple[Any, ...]:
        return tuple(self.from_items(obj, "py/tuple", path))

    def from_set(self, obj: dict[str, Any], path: KeyPath) -> set[Any]:
        try:
            return set(self.from_items(obj, "py/set", path))
        except TypeError:
            raise malformed(path, "a set", "an item is not hashable") from None

    def from_b64(self, obj: dict[str, Any], path: KeyPath) -> bytes:
        return self.binary(obj["py/b64"], "base64", path)

    def from_b85(self, obj: dict[str, Any], path: KeyPath) -> bytes:
        return self.binary(obj["py/b85"], "base85", path)

    def binary(self, text: Any, encoding: str, path: KeyPath) -> bytes:
        import base64
        import binascii

        self.charge(len(text) if isinstance(text, str) else 0)
        try:
            if encoding == "base64":
                return base64.b64decode(text, validate=True)
            return base64.b85decode(text)
        except (binascii.Error, ValueError, TypeError):
            raise malformed(path, "bytes", f"not {encoding} text") from None

    def from_id(self, obj: dict[str, Any], path: KeyPath) -> Any:
        index = obj["py/id"]
        if type(index) is not int or not 0 <= index < len(self.refs):
            raise malformed(path, "a reference", f"py/id {index!r} names no earlier value")
        target = self.refs[index]
        if target is _PENDING or id(target) in self.filling:
            raise malformed(path, "a reference", f"py/id {index} names a value containing it")
        return target

    def from_object(self, obj: dict[str, Any], path: KeyPath) -> Any:
        name = obj["py/object"]
        build = _OBJECTS.get(name) if isinstance(name, str) else None
        if build is None and isinstance(name, str) and name.startswith("numpy."):
            from ._restore_numpy import builder

            build = builder(name)
        if build is None:
            raise _refused(path, str(name), "py/object")
        slot = len(self.refs)
        self.refs.append(_PENDING)
        self.refs[slot] = result = guarded(name, path, lambda: build(self, name, obj, path))
        return result

    def from_type(self, obj: dict[str, Any], path: KeyPath) -> type:
        name = obj["py/type"]
        found = _TYPES.get(name) if isinstance(name, str) else None
        if found is None and isinstance(name, str) and name.startswith("numpy."):
            from ._restore_numpy import scalar_type

            found = scalar_type(name)
        if found is None:
            raise _refused(path, str(name), "py/type")
        return found

    def from_reduce(self, obj: dict[str, Any], path: KeyPath) -> Any:
        call = obj["py/reduce"]
        head = call[0] if isinstance(call, list) and call else None
        named = head.get("py/type") if isinstance(head, dict) else None
        build = _REDUCERS.get(named) if isinstance(named, str) else None
        if build is None:
            named = named or (head.get("py/function") if isinstance(head, dict) else None)
            raise _refused(path, str(named or head), "py/reduce")
        name = str(named)
        if len(call) > 5:
            raise malformed(path, name, "a py/reduce of more than five parts")
        slot = len(self.refs)
        self.refs.append(_PENDING)
        parts = [*(self.value(part, path) for part in call[1:]), None, None, None, None]
        args, state, listitems, dictitems = parts[:4]
        if state or listitems or (dictitems and name != "collections.OrderedDict"):
            raise malformed(path, name, "unexpected state or items")
        if not isinstance(args, tuple | list):
            raise malformed(path, name, "its arguments are not a tuple")
        self.refs[slot] = result = guarded(name, path, lambda: build(tuple(args), dictitems))
        return result

    def refuse(self, obj: dict[str, Any], path: KeyPath) -> Any:
        tag = next(t for t in _CODE_TAGS if t in obj)
        raise _refused(path, str(obj[tag]), tag)


_CODE_TAGS = ("py/iterator", "py/function", "py/module", "py/repr")
_TAGS: dict[str, Callable[[Restorer, dict[str, Any], KeyPath], Any]] = {
    "py/tuple": Restorer.from_tuple,
    "py/set": Restorer.from_set,
    "py/b64": Restorer.from_b64,
    "py/b85": Restorer.from_b85,
    "py/id": Restorer.from_id,
    "py/iterator": Restorer.refuse,
    "py/object": Restorer.from_object,
    "py/type": Restorer.from_type,
    "py/reduce": Restorer.from_reduce,
    "py/function": Restorer.refuse,
    "py/module": Restorer.refuse,
    "py/repr": Restorer.refuse,
}


def guarded(name: str, path: KeyPath, build: Callable[[], Any]) -> Any:
    """Return ``build()``; the errors a constructor raises for bad values say where."""
    try:
        return build()
    except (DataRestoreError, DataSizeError):
        raise
    except (TypeError, ValueError, ArithmeticError, IndexError, KeyError) as exc:
        raise malformed(path, name, f"{type(exc).__name__}: {exc}") from None


def check_args(
    args: tuple[Any, ...], kinds: type | tuple[type, ...], least: int, most: int
) -> tuple[Any, ...]:
    """Return *args* if there are *least* to *most* of them, each of one of the *kinds*."""
    if not least <= len(args) <= most or not all(isinstance(arg, kinds) for arg in args):
        raise TypeError(f"unexpected arguments {args!r:.100}")
    return args


def _ordered_dict(args: tuple[Any, ...], items: Any) -> Any:
    import collections

    result = collections.OrderedDict(*check_args(args, dict, 0, 0))
    for key, value in items or ():
        result[key] = value
    return result


def _timezone(args: tuple[Any, ...], _: Any) -> Any:
    import datetime

    offset, *name = check_args(args, (datetime.timedelta, str), 1, 2)
    return datetime.timezone(offset, *check_args(tuple(name), str, 0, 1))


def _frozenset(args: tuple[Any, ...], _: Any) -> frozenset[Any]:
    return frozenset(*check_args(args, (list, tuple, set), 0, 1))


def _complex_call(args: tuple[Any, ...], _: Any) -> complex:
    return complex(*check_args(args, (int, float), 0, 2))


def _range(args: tuple[Any, ...], _: Any) -> range:
    return range(*check_args(args, int, 1, 3))


def _timedelta(args: tuple[Any, ...], _: Any) -> Any:
    import datetime

    return datetime.timedelta(*check_args(args, (int, float), 0, 3))


def _decimal(args: tuple[Any, ...], _: Any) -> Any:
    import decimal

    return decimal.Decimal(*check_args(args, (str, int), 1, 1))


def _fraction(args: tuple[Any, ...], _: Any) -> Any:
    import fractions

    return fractions.Fraction(*check_args(args, (int, str), 1, 2))


def _pathlib(name: str) -> Callable[..., Any]:
    def build(args: tuple[Any, ...], _: Any) -> Any:
        import os
        import pathlib

        native = "Windows" if os.name == "nt" else "Posix"
        flavour = "Windows" if "Windows" in name else "Posix"
        pure = name.startswith("Pure") or flavour != native
        cls = getattr(pathlib, f"Pure{flavour}Path" if pure else f"{flavour}Path")
        return cls(*check_args(args, str, 0, 65535))

    return build


_REDUCERS: dict[str, Callable[[tuple[Any, ...], Any], Any]] = {
    "builtins.frozenset": _frozenset,
    "builtins.complex": _complex_call,
    "builtins.range": _range,
    "datetime.timedelta": _timedelta,
    "datetime.timezone": _timezone,
    "decimal.Decimal": _decimal,
    "fractions.Fraction": _fraction,
    "collections.OrderedDict": _ordered_dict,
    **{
        f"{module}.{cls}": _pathlib(cls)
        for module in ("pathlib", "pathlib._local")
        for cls in ("PosixPath", "WindowsPath", "PurePosixPath", "PureWindowsPath")
    },
}

_TYPES: dict[str, type] = {
    f"builtins.{t.__name__}": t
    for t in (int, float, complex, str, bytes, bool, list, dict, tuple, set, frozenset)
}


def _complex(restorer: Restorer, name: str, obj: dict[str, Any], path: KeyPath) -> complex:
    args = restorer.value(obj.get("py/newargs", {"py/tuple": []}), path)
    return complex(*check_args(tuple(args), (int, float), 0, 2))


def _uuid(restorer: Restorer, name: str, obj: dict[str, Any], path: KeyPath) -> Any:
    import uuid

    return uuid.UUID(hex=check_args((obj.get("hex"),), str, 1, 1)[0])


def _datetime(restorer: Restorer, name: str, obj: dict[str, Any], path: KeyPath) -> Any:
    """jsonpickle's datetime format: the pickled state as base64, then the tzinfo."""
    import datetime

    reduced = obj.get("__reduce__")
    if not (
        isinstance(reduced, list)
        and len(reduced) == 2
        and reduced[0] == {"py/type": name}
        and isinstance(reduced[1], list)
        and 1 <= len(reduced[1]) <= 2
    ):
        raise ValueError("not jsonpickle's datetime format")
    text, *rest = reduced[1]
    tzinfo = restorer.value(rest[0], path) if rest else None
    if tzinfo is not None and not isinstance(tzinfo, datetime.timezone):
        raise TypeError(f"a tzinfo of type {type(tzinfo).__name__}")
    state = restorer.binary(text, "base64", path)
    if name == "datetime.date" and len(state) == 4:
        return datetime.date(state[0] * 256 + state[1], state[2], state[3])
    micro = int.from_bytes(state[-3:], "big")
    if name == "datetime.time" and len(state) == 6:
        hour, fold = state[0] & 0x7F, state[0] >> 7
        return datetime.time(hour, state[1], state[2], micro, tzinfo, fold=fold)
    if name == "datetime.datetime" and len(state) == 10:
        year, month, fold = state[0] * 256 + state[1], state[2] & 0x7F, state[2] >> 7
        day, hour, minute, second = state[3:7]
        return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo, fold=fold)
    raise ValueError(f"a state of {len(state)} bytes")


_OBJECTS: dict[str, Callable[[Restorer, str, dict[str, Any], KeyPath], Any]] = {
    "builtins.complex": _complex,
    "uuid.UUID": _uuid,
    "datetime.datetime": _datetime,
    "datetime.date": _datetime,
    "datetime.time": _datetime,
}
