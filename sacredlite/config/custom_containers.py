"""The namespace a config scope runs in: fixed values win, fallbacks are read-only (internal).

:class:`DogmaticDict` (Sacred's name) is the locals of a scope body. Values *fixed* by
updates keep their value whatever the body assigns, and the body's own assignment is
remembered: a different value makes the entry "modified", a different type
"typechanged". Fixed dicts merge: the body may add keys under a fixed dict, never replace
the fixed ones. *Fallback* values (an ingredient's config seen from its parent, ``_log``)
can be read but not become entries. :class:`DogmaticList` is a fixed list: the body's
mutations are ignored.

:meth:`DogmaticDict.revelation` ends an evaluation: fixed entries the body never assigned
are put in and reported as "added".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .readonly import ReadOnlyDict as ReadOnlyDict
from .readonly import ReadOnlyList as ReadOnlyList
from .readonly import make_read_only as make_read_only

__all__ = [
    "DogmaticDict",
    "DogmaticList",
    "ReadOnlyDict",
    "ReadOnlyList",
    "fallback_dict",
    "is_different",
    "make_read_only",
    "type_changed",
]


def fallback_dict(fallback: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Return a copy of *fallback* with *kwargs* set on top."""
    merged = dict(fallback)
    merged.update(kwargs)
    return merged


def _simple_type(value: Any) -> type:
    """The type that counts for a type change: tuples are lists, numpy scalars Python's."""
    kind = type(value)
    if kind is tuple or kind is DogmaticList:
        return list
    if kind is DogmaticDict:
        return dict
    if kind.__module__ == "numpy":
        import numpy

        if isinstance(value, numpy.bool_):
            return bool
        if isinstance(value, numpy.integer):
            return int
        if isinstance(value, numpy.floating):
            return float
    return kind


def type_changed(old_value: Any, new_value: Any) -> bool:
    """Return whether *new_value* has another type than *old_value* (``None`` never counts)."""
    return old_value is not None and _simple_type(old_value) is not _simple_type(new_value)


def is_different(old_value: Any, new_value: Any) -> bool:
    """Return whether two config values differ (numpy arrays compared element-wise, as
    Sacred: they differ only where every element differs)."""
    if type(old_value).__module__ == "numpy" or type(new_value).__module__ == "numpy":
        import numpy

        try:
            old, new = numpy.asarray(old_value), numpy.asarray(new_value)
            if old.shape != new.shape:
                return True
            result = old != new
            return bool(result) if isinstance(result, bool) else bool(result.all())
        except Exception:  # noqa: BLE001 - incomparable values are different
            return True
    try:
        return bool(old_value != new_value)
    except Exception:  # noqa: BLE001
        return True


class DogmaticDict(dict[str, Any]):
    """Locals of a config scope body where fixed values cannot be overwritten.

    Attributes:
        fixed: the fixed values (nested fixed dicts are DogmaticDicts themselves).
        typechanges: key -> ``(type assigned by the body, type of the fixed value)``.
        modified: keys whose fixed value differs from what the body assigned.
        fallback_writes: fallback names the body tried to assign.
    """

    def __init__(self, fixed: Mapping[str, Any] | None = None, fallback: Any = None) -> None:
        super().__init__()
        self.fixed: dict[str, Any] = dict(fixed or {})
        self.typechanges: dict[str, tuple[type, type]] = {}
        self.modified: set[str] = set()
        self.fallback_writes: list[str] = []
        self._fallback: Mapping[str, Any] = {}
        if fallback:
            self.fallback = fallback

    @property
    def fallback(self) -> Mapping[str, Any]:
        """Read-only values visible to the body (and to nested fixed dicts)."""
        return self._fallback

    @fallback.setter
    def fallback(self, values: Mapping[str, Any]) -> None:
        for key in set(self.fixed) & set(values):
            fixed = self.fixed[key]
            if isinstance(fixed, dict) and not isinstance(fixed, DogmaticDict):
                fixed = self.fixed[key] = DogmaticDict(fixed)
            if isinstance(fixed, DogmaticDict):
                fixed.fallback = values[key]
        self._fallback = values

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self.fixed:
            if key in self._fallback:
                self.fallback_writes.append(key)
            dict.__setitem__(self, key, value)
            return
        fixed = self.fixed[key]
        dict.__setitem__(self, key, fixed)
        if isinstance(fixed, DogmaticDict) and isinstance(value, dict):
            for sub_key, sub_value in value.items():
                fixed[sub_key] = sub_value  # the body may add keys under a fixed dict
        self._note_blocked(key, value, fixed)

    def _note_blocked(self, key: str, value: Any, fixed: Any) -> None:
        if type_changed(value, fixed):
            self.typechanges[key] = (type(value), type(fixed))
        if is_different(value, fixed):
            self.modified.add(key)
        if isinstance(fixed, DogmaticDict) and isinstance(value, dict):
            for sub_key, change in fixed.typechanges.items():
                self.typechanges[f"{key}.{sub_key}"] = change
            self.modified |= {f"{key}.{sub}" for sub in fixed.modified}

    def __getitem__(self, key: str) -> Any:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        if key in self._fallback:
            return self.fixed[key] if key in self.fixed else self._fallback[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._fallback

    def get(self, key: str, default: Any = None) -> Any:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self._fallback.get(key, default)

    def __delitem__(self, key: str) -> None:
        if key not in self.fixed:
            dict.__delitem__(self, key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for source in (*args, kwargs):
            items = (
                ((k, source[k]) for k in source) if hasattr(source, "keys") else source
            )
            for key, value in items:
                self[key] = value

    def revelation(self) -> set[str]:
        """Put in the fixed entries the body never assigned; return them (dotted)."""
        missing: set[str] = set()
        for key in self.fixed:
            if not dict.__contains__(self, key):
                self[key] = self.fixed[key]
                missing.add(key)
            value = dict.__getitem__(self, key)
            if isinstance(value, DogmaticDict | DogmaticList):
                missing |= {f"{key}.{sub}" for sub in value.revelation()}
        return missing


class DogmaticList(list[Any]):
    """A fixed list: the scope body's changes are ignored."""

    def append(self, value: Any) -> None:
        pass

    def extend(self, values: Iterable[Any]) -> None:
        pass

    def insert(self, index: Any, value: Any) -> None:
        pass

    def reverse(self) -> None:
        pass

    def sort(self, *args: Any, **kwargs: Any) -> None:
        pass

    def remove(self, value: Any) -> None:
        pass

    def pop(self, index: Any = None) -> Any:
        raise TypeError("Cannot pop from a fixed list (DogmaticList).")

    def __iadd__(self, other: Any) -> DogmaticList:  # type: ignore[override,misc]
        return self

    def __imul__(self, other: Any) -> DogmaticList:  # type: ignore[misc]
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        pass

    def __delitem__(self, index: Any) -> None:
        pass

    def revelation(self) -> set[str]:
        for item in self:
            if isinstance(item, DogmaticDict | DogmaticList):
                item.revelation()
        return set()


def dogmatize(value: Any) -> Any:
    """Return *value* with its dicts and lists turned into fixed containers."""
    if isinstance(value, dict):
        return DogmaticDict({k: dogmatize(v) for k, v in value.items()})
    if isinstance(value, list):
        return DogmaticList(dogmatize(v) for v in value)
    if isinstance(value, tuple):
        return tuple(dogmatize(v) for v in value)
    return value


def undogmatize(value: Any) -> Any:
    """Return *value* with fixed containers turned back into plain dicts and lists."""
    if isinstance(value, DogmaticDict):
        return {k: undogmatize(v) for k, v in value.items()}
    if isinstance(value, DogmaticList):
        return [undogmatize(v) for v in value]
    if isinstance(value, tuple):
        return tuple(undogmatize(v) for v in value)
    return value
