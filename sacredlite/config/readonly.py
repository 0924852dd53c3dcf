"""Read-only views of the config handed to captured functions (internal)."""

from __future__ import annotations

from typing import Any, NoReturn

from ..errors import SacredError

_MESSAGE = "The configuration is read-only in a captured function!"


def _refuse(what: str) -> NoReturn:
    """Raise Sacred's error for a change of the read-only config (*what*: the operation)."""
    raise SacredError(_MESSAGE, filter_traceback="always")


class ReadOnlyDict(dict[str, Any]):
    """A dict that refuses every change."""

    def __setitem__(self, key: str, value: Any) -> None:
        _refuse(f"setting {key!r}")

    def __delitem__(self, key: str) -> None:
        _refuse(f"deleting {key!r}")

    def clear(self) -> None:
        _refuse("clear()")

    def pop(self, *args: Any) -> Any:
        _refuse("pop()")

    def popitem(self) -> tuple[str, Any]:
        _refuse("popitem()")

    def setdefault(self, *args: Any) -> Any:
        _refuse("setdefault()")

    def update(self, *args: Any, **kwargs: Any) -> None:
        _refuse("update()")

    def __ior__(self, other: Any) -> ReadOnlyDict:  # type: ignore[override,misc]
        _refuse("|=")

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        import copy

        return {k: copy.deepcopy(v, memo) for k, v in self.items()}

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))


class ReadOnlyList(list[Any]):
    """A list that refuses every change."""

    def __setitem__(self, index: Any, value: Any) -> None:
        _refuse("item assignment")

    def __delitem__(self, index: Any) -> None:
        _refuse("item deletion")

    def __iadd__(self, other: Any) -> ReadOnlyList:  # type: ignore[misc]
        _refuse("+=")

    def __imul__(self, other: Any) -> ReadOnlyList:  # type: ignore[misc]
        _refuse("*=")

    def append(self, value: Any) -> None:
        _refuse("append()")

    def extend(self, values: Any) -> None:
        _refuse("extend()")

    def insert(self, index: Any, value: Any) -> None:
        _refuse("insert()")

    def pop(self, *args: Any) -> Any:
        _refuse("pop()")

    def remove(self, value: Any) -> None:
        _refuse("remove()")

    def clear(self) -> None:
        _refuse("clear()")

    def sort(self, *args: Any, **kwargs: Any) -> None:
        _refuse("sort()")

    def reverse(self) -> None:
        _refuse("reverse()")

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        import copy

        return [copy.deepcopy(v, memo) for v in self]

    def __reduce__(self) -> Any:
        return (list, (list(self),))


def make_read_only(value: Any) -> Any:
    """Return *value* with every dict and list inside (tuples included) turned read-only.

    Only plain dicts, lists and tuples are converted (Sacred's rule): a user's own
    container class is handed over as it is.
    """
    kind = type(value)
    if kind is dict or kind is ReadOnlyDict:
        return ReadOnlyDict({k: make_read_only(v) for k, v in value.items()})
    if kind is list or kind is ReadOnlyList:
        return ReadOnlyList(make_read_only(v) for v in value)
    if kind is tuple:
        return tuple(make_read_only(v) for v in value)
    return value
