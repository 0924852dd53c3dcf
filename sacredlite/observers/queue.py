"""QueueObserver: hand an observer's work to a background thread that retries (Sacred's).

``QueueObserver(covered_observer, interval=20, retry_interval=10)`` wraps any observer. Its
events, with whatever positional and keyword arguments they come with, are queued and
delivered to the covered observer by a background thread (``_worker``) every ``interval``
seconds; an event that fails is retried every ``retry_interval`` seconds, in order.
``started_event`` is delivered at once, because it names the run, and starts the thread;
``queued_event`` is delivered at once too (the thread is :class:`~._retry.RetryLoop`, shared
with the MongoObserver's writer). A terminal event (completed, interrupted,
failed) is queued and then waits, like :meth:`QueueObserver.join`, until the queue is
delivered and the thread has stopped.

Metrics: Sacred's QueueObserver turns ``log_metrics(metrics_by_name, info)`` into one
``log_metrics(name, series, info)`` per metric, the signature of Sacred's queue-compatible
MongoObserver. sacredlite's observers, and users' ones written against Sacred's
``RunObserver``, take the whole batch ``log_metrics(metrics_by_name, info)`` instead. So
the wrapper looks at the covered observer's ``log_metrics`` once: if it takes three or
more positional arguments, or any (``*args``, as a mock does), it gets one call per
metric, as in Sacred; otherwise it gets the batch. Both kinds receive every point, in
order.

Beyond Sacred:

* A covered :class:`~sacredlite.observers.MongoObserver` is switched into its queued mode
  instead: its events are handed over at once, and every write is appended to a disk spool
  before its own background thread stores it, so neither a database outage for the whole
  run nor a crash of the process loses data (``sacredlite sync`` stores what is left), and
  a run may even start while the database is unreachable. :meth:`QueueObserver.join`
  waits for that thread (the covered observer's ``join``).
* For other observers, :meth:`QueueObserver.join` waits while events get delivered, but at
  most ``join_timeout`` seconds (``SETTINGS.DEFAULT_JOIN_TIMEOUT`` by default) without one
  getting through, then reports how many events it could not deliver (Sacred waits
  forever). Like Sacred's, it does not call the covered observer's ``join``.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from ..errors import ObserverError
from ._retry import RetryLoop, join_timeout
from .base import RunObserver

__all__ = ["QueueObserver"]

logger = logging.getLogger("sacredlite.observers.queue")

_Call = tuple[str, tuple[Any, ...], dict[str, Any]]
"""A queued event: the covered observer's method name and its arguments."""


def _takes_one_metric(method: Callable[..., Any] | None) -> bool:
    """Return whether *method* is a ``log_metrics(name, series, info)`` (or takes ``*args``)."""
    if method is None:
        return False
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):  # no signature to read: Sacred's default
        return True
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in positional for p in parameters) >= 3


class QueueObserver(RunObserver):
    """Deliver a covered observer's events from a background thread, retrying failures.

    Args:
        covered_observer: the observer that does the real work.
        interval: seconds between background deliveries.
        retry_interval: seconds to wait after a failed delivery before retrying.
        join_timeout: seconds :meth:`join` waits while no event gets delivered (default
            ``SETTINGS.DEFAULT_JOIN_TIMEOUT``, read when the run starts).
    """

    def __init__(
        self,
        covered_observer: Any,
        interval: float = 20.0,
        retry_interval: float = 10.0,
        join_timeout: float | None = None,
    ) -> None:
        self._covered_observer = covered_observer
        self._interval = interval
        self._retry_interval = retry_interval
        self._join_timeout = join_timeout
        # a class attribute, not whatever a mock answers
        self._native = callable(getattr(type(covered_observer), "_use_queue", None))
        if self._native:
            covered_observer._use_queue(interval, retry_interval, join_timeout)
        self._per_metric = _takes_one_metric(getattr(covered_observer, "log_metrics", None))
        self._queue: deque[_Call] = deque()
        self._delivering = threading.Lock()  # the thread and a direct delivery never overlap
        self._delivered = 0  # events delivered so far (progress, watched by join)
        self._loop = RetryLoop(
            self._deliver_all,
            lambda: self._delivered,
            interval=interval,
            retry_interval=retry_interval,
            name="sacredlite-queue-observer",
        )

    @property
    def _worker(self) -> threading.Thread | None:
        """The background thread (Sacred's tests look at it)."""
        return self._loop.thread

    @property
    def covered_observer(self) -> Any:
        """The wrapped observer."""
        return self._covered_observer

    @property
    def priority(self) -> int:  # type: ignore[override]
        """The covered observer's priority (0 unless it is a number)."""
        value = getattr(self._covered_observer, "priority", 0)
        return value if isinstance(value, int) else 0

    @property
    def incremental_output(self) -> bool:  # type: ignore[override]
        """Whether the covered observer's class asks for only the new output at each beat."""
        return getattr(type(self._covered_observer), "incremental_output", False) is True

    def _call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        target = getattr(self._covered_observer, method, None)
        return target(*args, **kwargs) if target is not None else None

    def started_event(self, *args: Any, **kwargs: Any) -> Any:
        """Start the background thread, then the covered observer (at once: it names the run)."""
        if not self._native:
            self._queue.clear()
            self._loop.start()
        return self._call("started_event", args, kwargs)

    def queued_event(self, *args: Any, **kwargs: Any) -> Any:
        """Store a queued run through the covered observer (at once: it names the run)."""
        return self._call("queued_event", args, kwargs)

    def resumed_event(self, _id: Any, start_time: Any, resume: dict[str, Any]) -> Any:
        """Continue a stored run through the covered observer (at once, like a start)."""
        if not callable(getattr(self._covered_observer, "resumed_event", None)):
            raise ObserverError(
                f"{type(self._covered_observer).__name__} cannot resume run {_id!r}: "
                "only file storage and MongoDB observers can."
            )
        if not self._native:
            self._queue.clear()
            self._loop.start()
        return self._call(
            "resumed_event", (), {"_id": _id, "start_time": start_time, "resume": resume}
        )

    def resume_point_event(self, point: dict[str, Any]) -> None:
        """Queue where the interrupted run can be resumed."""
        self._put("resume_point_event", (), {"point": point})

    def _put(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self._native:
            self._call(method, args, kwargs)
            return
        self._queue.append((method, args, kwargs))
        if not self._is_running():  # no thread (not started, or ended): deliver now
            self._deliver_all()

    def _is_running(self) -> bool:
        return self._loop.is_alive() and not self._loop.ending

    def heartbeat_event(self, *args: Any, **kwargs: Any) -> None:
        """Queue a heartbeat."""
        self._put("heartbeat_event", args, kwargs)

    def resource_event(self, *args: Any, **kwargs: Any) -> None:
        """Queue a resource."""
        self._put("resource_event", args, kwargs)

    def artifact_event(self, *args: Any, **kwargs: Any) -> None:
        """Queue an artifact."""
        self._put("artifact_event", args, kwargs)

    def log_metrics(self, metrics_by_name: dict[str, Any], info: dict[str, Any]) -> None:
        """Queue new metric points: one call per metric or the batch (module docstring)."""
        if self._per_metric and not self._native:
            for name, series in metrics_by_name.items():
                self._put("log_metrics", (name, series, info), {})
        else:
            self._put("log_metrics", (metrics_by_name, info), {})

    def completed_event(self, *args: Any, **kwargs: Any) -> None:
        """Queue the end of the run and wait until everything is delivered."""
        self._put("completed_event", args, kwargs)
        self.join()

    def interrupted_event(self, *args: Any, **kwargs: Any) -> None:
        """Queue the interruption of the run and wait until everything is delivered."""
        self._put("interrupted_event", args, kwargs)
        self.join()

    def failed_event(self, *args: Any, **kwargs: Any) -> None:
        """Queue the failure of the run and wait until everything is delivered."""
        self._put("failed_event", args, kwargs)
        self.join()

    def _deliver_all(self) -> bool:
        """Deliver queued events in order; return whether the queue is empty."""
        with self._delivering:
            while self._queue and not self._loop.abandoned:
                method, args, kwargs = self._queue[0]
                try:
                    self._call(method, args, kwargs)
                except Exception as exc:  # noqa: BLE001 - retried later, as in Sacred
                    logger.debug("%s failed (%s); retrying later", method, exc)
                    return False
                self._queue.popleft()
                self._delivered += 1
            return not self._queue

    def join(self) -> None:
        """Wait until the queue is delivered (retrying at most ``join_timeout`` s); stop the
        thread. A covered MongoObserver in queued mode is joined instead."""
        if self._native:
            join = getattr(self._covered_observer, "join", None)
            if callable(join):
                join()
            return
        timeout = join_timeout(self._join_timeout)
        self._loop.finish(timeout)
        if self._queue:
            logger.warning(
                "%s could not deliver %d event(s) while none got through for %g s; they are lost.",
                type(self._covered_observer).__name__,
                len(self._queue),
                timeout,
            )
            if not self._loop.is_alive():  # else the thread still holds one
                self._queue.clear()

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__") or item == "_covered_observer":
            raise AttributeError(item)
        return getattr(self._covered_observer, item)

    def __eq__(self, other: object) -> bool:
        return bool(self._covered_observer == other)

    def __hash__(self) -> int:
        return id(self)
