"""The observer interface users implement, and the checks made when one is attached.

Users write observers with Sacred's method names and keyword arguments (subclass
:class:`RunObserver` or not). Events reach them through
:class:`sacredlite.observers.dispatch.Dispatcher`, which documents the failure policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, SupportsIndex

from ..errors import ObserverError, suggest
from ._notify import td_format as td_format

if TYPE_CHECKING:
    from ..events import RunId

__all__ = [
    "EVENT_METHODS",
    "ObserverList",
    "RunObserver",
    "check_observer",
    "event_was_kept",
    "mark_event_kept",
    "td_format",
]

EVENT_METHODS: dict[str, tuple[str, ...]] = {
    "queued_event": ("ex_info", "command", "host_info", "queue_time", "config", "meta_info", "_id"),
    "started_event": (
        "ex_info",
        "command",
        "host_info",
        "start_time",
        "config",
        "meta_info",
        "_id",
    ),
    "heartbeat_event": ("info", "captured_out", "beat_time", "result"),
    "completed_event": ("stop_time", "result"),
    "interrupted_event": ("interrupt_time", "status"),
    "failed_event": ("fail_time", "fail_trace"),
    "resource_event": ("filename",),
    "artifact_event": ("name", "filename", "metadata", "content_type"),
    "log_metrics": ("metrics_by_name", "info"),
}
"""Sacred's observer methods and the keyword arguments each receives."""

OWN_EVENT_METHODS: dict[str, tuple[str, ...]] = {
    "metrics_event": ("points", "info"),
    "resumed_event": ("_id", "start_time", "resume"),
    "resume_point_event": ("point",),
}
"""sacredlite's own observer methods: ``metrics_event`` receives the Run's compact points
(``{name: MetricPoints}``) instead of ``log_metrics``' lists, when an observer defines it;
``resumed_event`` continues a stored run (``--resume ID``; *resume* is the entry for its
``meta.resumes``) instead of ``started_event``; ``resume_point_event`` records where an
interrupted run can be resumed (``meta.resume_point``)."""


_KEPT = "sacredlite_event_kept"


def mark_event_kept(exc: BaseException) -> BaseException:
    """Mark *exc* as "this event is not stored yet, but the observer keeps it"; return it.

    An observer that cannot store an event now but has kept it to store later (the
    MongoObserver's disk spool) raises the original error, marked, as Sacred's observers
    raise it. The run's dispatcher then warns once and does not send the event again, as
    it would for other errors.
    """
    setattr(exc, _KEPT, True)
    return exc


def event_was_kept(exc: BaseException) -> bool:
    """Return whether *exc* was marked with :func:`mark_event_kept`."""
    return getattr(exc, _KEPT, False) is True


class RunObserver:
    """Base class for observers: every event method is a no-op by default.

    Subclass and override the events you need, with Sacred's names and arguments.
    ``priority`` orders observers (higher first); the first observer to return an id from
    ``started_event`` names the run for the others.

    ``heartbeat_event`` receives the whole captured output so far (Sacred's contract), as
    the built-in observers do.

    Beyond Sacred, an observer may set ``flush_interval`` (seconds, on its class) to get new
    metrics (``log_metrics``) and output (``heartbeat_event``) at least that often, whatever
    the run's heartbeat interval; the others get them at each heartbeat. File storage uses
    1 s, so a killed process loses at most the last second.
    """

    priority: int = 0
    incremental_output: bool = False
    flush_interval: float | None = None

    def queued_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        queue_time: Any,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: RunId,
    ) -> RunId:
        """Handle a queued run; return its id."""
        return None

    def started_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        start_time: Any,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: RunId,
    ) -> RunId:
        """Handle the start of a run; return its id (or ``None`` to accept the given one)."""
        return None

    def heartbeat_event(
        self, info: dict[str, Any], captured_out: str, beat_time: Any, result: Any
    ) -> None:
        """Handle a heartbeat."""

    def completed_event(self, stop_time: Any, result: Any) -> None:
        """Handle the successful end of a run."""

    def interrupted_event(self, interrupt_time: Any, status: str) -> None:
        """Handle an interrupted run."""

    def failed_event(self, fail_time: Any, fail_trace: list[str]) -> None:
        """Handle a failed run."""

    def resource_event(self, filename: str) -> None:
        """Handle a resource the run opened."""

    def artifact_event(
        self,
        name: str,
        filename: str,
        metadata: dict[str, Any] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Handle an artifact the run added."""

    def log_metrics(self, metrics_by_name: dict[str, Any], info: dict[str, Any]) -> None:
        """Handle new metric points, ``{name: {"steps", "values", "timestamps"}}``."""

    def join(self) -> None:
        """Block until everything this observer was given is stored."""


def check_observer(observer: Any) -> None:
    """Raise :class:`ObserverError` if *observer* cannot receive Sacred's events.

    Checked when the observer is attached, not when an event fires: a misspelled method
    (``complted_event``) or a method that does not take Sacred's keyword arguments fails
    here, naming the observer and the method.
    """
    import inspect

    name = type(observer).__name__
    methods = {**EVENT_METHODS, **OWN_EVENT_METHODS}
    known = set(methods) | {"join"}
    for attr in dir(type(observer)):
        if attr.endswith("_event") and attr not in known and not attr.startswith("_"):
            raise ObserverError(
                f"Observer {name} defines {attr!r}, which is not an observer event."
                f"{suggest(attr, known)}"
            )
    if not any(callable(getattr(observer, m, None)) for m in EVENT_METHODS):
        raise ObserverError(
            f"{name} is not an observer: it has none of the methods {', '.join(EVENT_METHODS)}."
        )
    for method_name, kwargs in methods.items():
        method = getattr(observer, method_name, None)
        if method is None:
            continue
        if not callable(method):
            raise ObserverError(f"Observer {name}.{method_name} is not callable.")
        try:
            signature = inspect.signature(method)
        except (TypeError, ValueError):  # builtins without signatures: trust them
            continue
        try:
            signature.bind(**dict.fromkeys(kwargs))
        except TypeError as exc:
            raise ObserverError(
                f"Observer {name}.{method_name} cannot take the arguments "
                f"({', '.join(kwargs)}): {exc}."
            ) from None


class ObserverList(list[Any]):
    """A list of observers that checks each observer as it is added."""

    def __init__(self, observers: Iterable[Any] = ()) -> None:
        items = list(observers)
        for observer in items:
            check_observer(observer)
        super().__init__(items)

    def append(self, observer: Any) -> None:
        check_observer(observer)
        super().append(observer)

    def insert(self, index: SupportsIndex, observer: Any) -> None:
        check_observer(observer)
        super().insert(index, observer)

    def extend(self, observers: Iterable[Any]) -> None:
        items = list(observers)
        for observer in items:
            check_observer(observer)
        super().extend(items)

    def __iadd__(self, observers: Iterable[Any]) -> ObserverList:  # type: ignore[misc]
        self.extend(observers)
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        for observer in value if isinstance(index, slice) else [value]:
            check_observer(observer)
        super().__setitem__(index, value)
