"""The one background retry loop of the queueing observers (observers/_retry.py)."""

from __future__ import annotations

import threading
import time

from sacredlite.observers._retry import RetryLoop


class Work:
    """Items to deliver; the destination refuses while ``down`` is set."""

    def __init__(self, items: int) -> None:
        self.left = items
        self.delivered = 0
        self.attempts = 0
        self.down = threading.Event()

    def deliver(self) -> bool:
        self.attempts += 1
        while self.left and not self.down.is_set():
            self.left -= 1
            self.delivered += 1
        return self.left == 0


def loop_for(work: Work, interval: float = 60.0, retry_interval: float = 60.0) -> RetryLoop:
    return RetryLoop(
        work.deliver,
        lambda: work.delivered,
        interval=interval,
        retry_interval=retry_interval,
        name="test-retry",
    )


def test_delivers_every_interval_until_told_to_finish() -> None:
    """The thread delivers on its interval; finish() delivers the rest and stops it."""
    work = Work(3)
    loop = loop_for(work, interval=0.02)
    loop.start()
    deadline = time.monotonic() + 5
    while work.left and time.monotonic() < deadline:
        time.sleep(0.01)
    assert work.delivered == 3 and loop.is_alive()
    work.left = 2  # more work arrives
    assert loop.finish(timeout=5) is True
    assert work.delivered == 5 and not loop.is_alive() and not loop.abandoned


def test_finish_retries_often_then_gives_up_without_progress() -> None:
    """At the end a failing destination is retried often (not every retry_interval) and
    abandoned once nothing got through for the timeout."""
    work = Work(4)
    work.down.set()
    loop = loop_for(work, interval=60, retry_interval=60)
    loop.start()
    started = time.monotonic()
    assert loop.finish(timeout=0.6) is False
    assert 0.5 < time.monotonic() - started < 3
    assert loop.abandoned and work.attempts >= 2 and work.delivered == 0
    loop.thread.join(5)  # type: ignore[union-attr]
    assert not loop.is_alive()


def test_finish_waits_while_deliveries_progress() -> None:
    """A slow destination that keeps accepting is waited for past the timeout."""
    work = Work(0)
    state = {"left": 6}

    def slow() -> bool:
        while state["left"]:
            time.sleep(0.1)
            state["left"] -= 1
            work.delivered += 1
        return True

    loop = RetryLoop(slow, lambda: work.delivered, interval=60, retry_interval=60, name="t")
    loop.start()
    assert loop.finish(timeout=0.3) is True  # 0.6 s of work, never 0.3 s without progress
    assert work.delivered == 6


def test_a_started_ending_loop_delivers_at_once() -> None:
    """start(ending=True) delivers without waiting an interval, then stops."""
    work = Work(2)
    loop = loop_for(work, interval=60)
    loop.start(ending=True)
    loop.thread.join(5)  # type: ignore[union-attr]
    assert work.delivered == 2 and not loop.is_alive()
