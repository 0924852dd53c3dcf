"""Dispatch a run's events to its observers: the one place observers are called.

Each internal event becomes the Sacred-shaped call (:data:`.base.EVENT_METHODS`) with
keyword arguments.

Failure policy (DESIGN.md section 5), deliberately different from pluggy, which propagates
every error:

* An error in ``queued_event`` or ``started_event`` propagates, so a run never starts
  unobserved (Sacred's rule).
* A later error does not reach the user's code. The observer gets one warning, the event is
  kept, and it is retried, in order, before that observer's next event. Unlike Sacred, the
  observer is not disabled and nothing is dropped. An error marked with
  :func:`~sacredlite.observers.base.mark_event_kept` means the observer itself has kept the
  event (in its spool) to store later: it gets the warning but is not sent again.
* Terminal events (completed, failed, interrupted) are offered to every observer, including
  ones that failed before; whatever is still undelivered after that is reported by
  :meth:`Dispatcher.undelivered` (the Run hands it to the observer's spool, if it has one).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

from ..events import (
    ArtifactAdded,
    Event,
    Heartbeat,
    MetricPoints,
    MetricsLogged,
    ResourceOpened,
    ResumePointSet,
    RunCompleted,
    RunFailed,
    RunId,
    RunInterrupted,
    RunQueued,
    RunStarted,
)
from .base import event_was_kept

__all__ = ["Dispatcher"]


def _call_args(observer: Any, event: Event) -> tuple[str, dict[str, Any]]:
    """Return the Sacred method name and keyword arguments for *event*."""
    match event:
        case RunStarted() if event.resume is not None and callable(
            getattr(type(observer), "resumed_event", None)
        ):
            return "resumed_event", {
                "_id": event.run_id,
                "start_time": event.time,
                "resume": event.resume,
            }
        case ResumePointSet():
            return "resume_point_event", {"point": event.point}
        case RunStarted() | RunQueued():
            kind = "started" if isinstance(event, RunStarted) else "queue"
            return (
                "started_event" if kind == "started" else "queued_event",
                {
                    "ex_info": event.experiment,
                    "command": event.command,
                    "host_info": event.host,
                    ("start_time" if kind == "started" else "queue_time"): event.time,
                    "config": event.config,
                    "meta_info": event.meta,
                    "_id": event.run_id,
                },
            )
        case Heartbeat():
            incremental = getattr(type(observer), "incremental_output", False) is True
            use_new = incremental and event.new_output is not None
            return "heartbeat_event", {
                "info": event.info,
                "captured_out": event.new_output if use_new else event.captured_out,
                "beat_time": event.time,
                "result": event.result,
            }
        case MetricsLogged():
            if callable(getattr(type(observer), "metrics_event", None)):
                points = {
                    name: p if isinstance(p, MetricPoints) else MetricPoints.from_sacred(name, p)
                    for name, p in event.metrics.items()
                }
                return "metrics_event", {"points": points, "info": event.info}
            return "log_metrics", {"metrics_by_name": _sacred_shape(event), "info": event.info}
        case ResourceOpened():
            return "resource_event", {"filename": event.filename}
        case ArtifactAdded():
            return "artifact_event", {
                "name": event.name,
                "filename": event.filename,
                "metadata": event.metadata,
                "content_type": event.content_type,
            }
        case RunCompleted():
            return "completed_event", {"stop_time": event.time, "result": event.result}
        case RunInterrupted():
            return "interrupted_event", {"interrupt_time": event.time, "status": event.status}
        case RunFailed():
            return "failed_event", {"fail_time": event.time, "fail_trace": event.fail_trace}
    raise TypeError(f"not an event: {event!r}")  # pragma: no cover


_SACRED_SHAPE: dict[int, tuple[MetricsLogged, dict[str, Any]]] = {}


def _sacred_shape(event: MetricsLogged) -> dict[str, Any]:
    """The event's points as Sacred's ``{name: {"steps", "values", "timestamps"}}`` lists,
    made once per event however many observers want them."""
    cached = _SACRED_SHAPE.get(id(event))
    if cached is not None and cached[0] is event:
        return cached[1]
    shape = {
        name: points.as_sacred() if isinstance(points, MetricPoints) else dict(points)
        for name, points in event.metrics.items()
    }
    _SACRED_SHAPE.clear()  # only the latest event is ever asked for again
    _SACRED_SHAPE[id(event)] = (event, shape)
    return shape


def _deliver(observer: Any, event: Event) -> Any:
    method_name, kwargs = _call_args(observer, event)
    method: Callable[..., Any] | None = getattr(observer, method_name, None)
    if method is None:
        return None
    return method(**kwargs)


FailureReport = Callable[[Any, Event, BaseException, bool], None]
"""``report(observer, event, error, final)``: called once per failed delivery attempt of an
event that is kept for retry (``final``: a terminal event, offered to every observer)."""


def _warn(observer: Any, event: Event, exc: BaseException, final: bool) -> None:
    warnings.warn(
        f"Observer {type(observer).__name__} failed on {type(event).__name__} "
        f"({type(exc).__name__}: {_brief(exc)}); "
        + (
            "it keeps its events and stores them later."
            if event_was_kept(exc)
            else "its events are kept and retried."
        ),
        RuntimeWarning,
        stacklevel=4,
    )


class Dispatcher:
    """Send a run's events to its observers, applying the failure policy above.

    Args:
        observers: the run's observers, called in the given order.
        on_failure: how a failed delivery is reported (once per observer for ordinary
            events, every time for terminal ones); a warning by default.
    """

    def __init__(self, observers: Iterable[Any], on_failure: FailureReport = _warn) -> None:
        self.observers = list(observers)
        self._pending: dict[int, list[Event]] = {id(o): [] for o in self.observers}
        self._warned: set[int] = set()
        self._on_failure = on_failure
        self._stuck: dict[int, list[Event]] = {}

    def start(self, event: RunStarted | RunQueued) -> RunId:
        """Deliver a start/queue event; errors propagate. Return the run id."""
        run_id = event.run_id
        for observer in self.observers:
            if run_id != event.run_id:
                event = type(event)(**{**_fields(event), "run_id": run_id})
            returned = _deliver(observer, event)
            if run_id is None and returned is not None:
                run_id = returned
        return run_id

    def emit(self, event: Event, final: bool = False, to: Iterable[Any] | None = None) -> None:
        """Deliver a later event to every observer; failures are kept for retry.

        Args:
            event: the event.
            final: a terminal event: every failure is reported, not only the first.
            to: only these of the run's observers (default: all).
        """
        for observer in self.observers if to is None else to:
            queue = self._pending[id(observer)]
            queue.append(event)
            self._flush(observer, queue, final)
            if final and len(queue) > 1 and queue[-1] is event:
                # Earlier events are stuck: the terminal event still reaches the observer;
                # the stuck ones stay pending (reported by undelivered()).
                try:
                    _deliver(observer, event)
                except Exception as exc:  # noqa: BLE001
                    self._on_failure(observer, event, exc, final)
                else:
                    self._stuck[id(observer)] = queue[:-1]
                    queue.clear()

    def _flush(self, observer: Any, queue: list[Event], final: bool = False) -> None:
        while queue:
            try:
                _deliver(observer, queue[0])
            except Exception as exc:  # noqa: BLE001 - any observer error must not kill the run
                kept = event_was_kept(exc)
                if final or id(observer) not in self._warned:
                    self._warned.add(id(observer))
                    self._on_failure(observer, queue[0], exc, final)
                if not kept:
                    return
            queue.pop(0)

    def finish(self) -> None:
        """Retry what is pending once more, then join every observer."""
        _SACRED_SHAPE.clear()
        for observer in self.observers:
            self._flush(observer, self._pending[id(observer)])
        for observer in self.observers:
            join = getattr(observer, "join", None)
            if callable(join):
                try:
                    join()
                except Exception as exc:  # noqa: BLE001
                    warnings.warn(
                        f"Observer {type(observer).__name__} failed to finish: {exc}",
                        RuntimeWarning,
                        stacklevel=2,
                    )

    def undelivered(self) -> dict[Any, list[Event]]:
        """Return the events some observer has not accepted yet, by observer."""
        undelivered = {}
        for observer in self.observers:
            events = self._stuck.get(id(observer), []) + self._pending[id(observer)]
            if events:
                undelivered[observer] = events
        return undelivered


def _brief(exc: BaseException) -> str:
    """Return the first line of *exc*'s message, cut to 200 characters (pymongo's errors
    append a whole topology description)."""
    text = str(exc).split("\n", 1)[0]
    return text if len(text) <= 200 else text[:197] + "..."


def _fields(event: Any) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__dataclass_fields__}
