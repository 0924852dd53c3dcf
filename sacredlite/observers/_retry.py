"""The background retry loop of the queueing observers (internal).

One thread delivers pending work every ``interval`` seconds, and ``retry_interval``
seconds after a delivery that failed. At the end of a run, :meth:`RetryLoop.finish` makes
it deliver at once and retry often, and waits while deliveries make progress, but at most
``timeout`` seconds without any: a destination that is down costs the end of a run that
long, not minutes (issue 9). The thread is then told to stop (:attr:`RetryLoop.abandoned`)
after the delivery it is in.

Used by :class:`~sacredlite.observers.queue.QueueObserver` (events of any observer) and by
the MongoObserver's writer (write operations, with a disk spool behind them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["END_RETRY_INTERVAL", "RetryLoop", "join_timeout"]

END_RETRY_INTERVAL = 0.25
"""Seconds between attempts while the end of a run waits (at most ``retry_interval``)."""


def join_timeout(*given: float | None) -> float:
    """Return the first of *given* that is set, else ``SETTINGS.DEFAULT_JOIN_TIMEOUT`` (read
    now: as the run starts, like the core's other settings)."""
    for value in given:
        if value is not None:
            return float(value)
    from ..settings import SETTINGS

    return float(SETTINGS.DEFAULT_JOIN_TIMEOUT)


class RetryLoop:
    """Deliver pending work from a background thread, retrying what fails.

    Args:
        deliver: delivers what is pending, in order; returns whether nothing is left. It
            should stop early when :attr:`abandoned` becomes true.
        progress: returns a count that grows with every item delivered (watched by
            :meth:`finish`).
        interval: seconds between deliveries.
        retry_interval: seconds to wait after a delivery that left something.
        name: the thread's name.
    """

    def __init__(
        self,
        deliver: Callable[[], bool],
        progress: Callable[[], int],
        *,
        interval: float,
        retry_interval: float,
        name: str,
    ) -> None:
        self._deliver = deliver
        self._progress = progress
        self.interval = interval
        self.retry_interval = retry_interval
        self.name = name
        self.thread: threading.Thread | None = None
        self._wake = threading.Event()
        self.ending = False
        """The end of the run was asked for: deliver at once, stop when all is delivered."""
        self.abandoned = False
        """:meth:`finish` stopped waiting: the thread stops after its current delivery."""

    def start(self, ending: bool = False) -> None:
        """Start a new thread (*ending*: one that delivers at once and stops when done)."""
        self.ending, self.abandoned = ending, False
        self._wake.clear()
        self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.thread.start()

    def is_alive(self) -> bool:
        """Return whether the thread is running."""
        return self.thread is not None and self.thread.is_alive()

    def wake(self) -> None:
        """Make the thread deliver now instead of at the end of its wait."""
        self._wake.set()

    def _run(self) -> None:
        while not self.abandoned:
            if not self.ending:
                self._wake.wait(self.interval)
                self._wake.clear()
            if self._deliver():
                if self.ending:
                    return
                continue
            if self.abandoned:
                return
            pause = min(self.retry_interval, END_RETRY_INTERVAL) if self.ending else None
            self._wake.wait(self.retry_interval if pause is None else pause)
            self._wake.clear()

    def finish(self, timeout: float) -> bool:
        """Deliver what is pending and stop the thread; return whether it stopped by itself.

        Waits while deliveries make progress, but gives up once *timeout* seconds pass
        without one: the thread is then abandoned (it stops after its current delivery).
        """
        thread = self.thread
        if thread is None or not thread.is_alive():
            return True
        self.ending = True
        self._wake.set()
        seen, idle_since = self._progress(), time.monotonic()
        while thread.is_alive():
            thread.join(min(0.05, timeout))
            if self._progress() != seen:
                seen, idle_since = self._progress(), time.monotonic()
            elif time.monotonic() - idle_since >= timeout and thread.is_alive():
                self.abandoned = True
                self._wake.set()
                return False
        return True
