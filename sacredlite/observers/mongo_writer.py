"""Deliver a run's write operations to MongoDB, spooling what cannot be stored (internal).

Two modes (the background thread is the observers' :class:`~._retry.RetryLoop`):

* direct (plain ``MongoObserver``): each operation is applied at once. When the database
  cannot be reached, the operation and every later one go to the run's disk spool, in
  order; the spool is retried (at most every ``retry_interval`` seconds) on later events
  and once more when the run ends. :meth:`Writer.submit` returns the error of a write it
  had to keep, so the observer can raise it as Sacred's does.
* queued (``QueueObserver`` / ``QueuedMongoObserver``): every operation is first appended
  to the disk spool (write-ahead, so a crash loses nothing), then a background thread
  applies them every ``interval`` seconds, retrying every ``retry_interval`` seconds.

At the end of the run, :meth:`Writer.settle` lets the background thread store what is
pending and waits while it makes progress, but at most ``join_timeout`` seconds without a
write getting through (``SETTINGS.DEFAULT_JOIN_TIMEOUT``, a few seconds): a database that
is down costs the end of a run that long, not minutes (issue 9). Whatever is still unstored
then stays in the spool, with one log line giving the ``sacredlite sync`` command that
stores it later. A write the thread finishes after that is not acknowledged in the spool;
replaying it stores it once (every operation is idempotent).
"""

from __future__ import annotations

import logging
import os
import shlex
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..formats.mongo import Executor, Op, describe, is_transient, retrying
from ._retry import RetryLoop
from .spool import Spool

logger = logging.getLogger("sacredlite.observers.mongo")


class Writer:
    """Apply operations through an :class:`Executor`, with a disk spool as fallback.

    Args:
        executor: applies operations to the database.
        make_spool: creates this run's spool on first need.
        hosts: ``host:port`` list for messages (never a password).
        retry_interval: seconds between attempts while the database is unreachable.
        queued: write ahead to the spool and apply in a background thread.
        interval: seconds between background flushes (queued mode).
        join_timeout: seconds the end of the run waits while no write gets through, before
            leaving the rest in the spool.
        sync_target: the ``-m`` value printed in the ``sacredlite sync`` hint (a URL
            without its password; default *hosts*).
    """

    def __init__(
        self,
        executor: Executor,
        make_spool: Callable[[], Spool],
        hosts: str,
        retry_interval: float = 10.0,
        queued: bool = False,
        interval: float = 20.0,
        join_timeout: float = 5.0,
        sync_target: str | None = None,
    ) -> None:
        self.executor = executor
        self._make_spool = make_spool
        self.hosts = hosts
        self.sync_target = sync_target or hosts
        self.retry_interval = retry_interval
        self.queued = queued
        self.join_timeout = join_timeout
        self.spool: Spool | None = None
        self._backlog: deque[tuple[int, Op]] = deque()
        self._apply_lock = threading.Lock()
        self._spool_lock = threading.Lock()
        self._next_try = 0.0
        self._warned = False
        self._closed = False  # the spool is closed: acknowledge nothing more
        self._stored = 0  # operations stored so far (progress, watched by settle)
        self._loop = RetryLoop(
            lambda: self.drain(force=True),
            lambda: self._stored,
            interval=interval,
            retry_interval=retry_interval,
            name="sacredlite-mongo-writer",
        )
        self._finished = False
        self.spool_path: str | None = None
        if queued:
            self._loop.start()

    def _to_spool(self, op: Op, backlog: bool = True) -> None:
        with self._spool_lock:
            if self.spool is None:
                self.spool = self._make_spool()
                self.spool_path = str(self.spool.path)
                executor = self.executor
                spool = self.spool
                if executor.run_id is None:
                    previous = executor.on_assign

                    def on_assign(run_id: Any) -> None:
                        with self._spool_lock:  # the main thread may be appending
                            if not self._closed:
                                spool.assign(run_id)
                        if previous is not None:
                            previous(run_id)

                    executor.on_assign = on_assign
            seq = self.spool.append(op)
        if backlog:
            self._backlog.append((seq, op))

    def submit(self, op: Op) -> Exception | None:
        """Store *op* now, or keep it in the spool; return the error that made us keep it.

        Returns ``None`` when *op* is stored, or queued for the background thread, or
        waiting in the spool behind earlier writes without a new attempt having failed.
        """
        if self.queued:
            self._to_spool(op)
            return None
        if self._backlog:  # keep the order: later writes wait behind the spooled ones
            self._to_spool(op)
            return self._drain(force=False)
        try:
            with self._apply_lock:
                self.executor.apply(op)
        except Exception as exc:  # noqa: BLE001 - the run must go on; the op is kept on disk
            if is_transient(exc):
                self._lost(exc)
                self._to_spool(retrying(op))
            else:
                self._rejected(op, None, exc, "it is kept in the spool")
                self._to_spool(op, backlog=False)
            return exc
        return None

    def _lost(self, exc: BaseException) -> None:
        self._next_try = time.monotonic() + self.retry_interval
        if not self._warned:
            self._warned = True
            logger.warning(
                "MongoDB at %s is unreachable (%s); the run goes on and its data is spooled "
                "to disk until the database is back.",
                self.hosts,
                type(exc).__name__,
            )

    def _rejected(self, op: Op, seq: int | None, exc: BaseException, fate: str) -> None:
        logger.error(
            "MongoDB at %s rejected %s of run %s (%s: %s); %s.",
            self.hosts,
            describe(op, seq),
            self.executor.run_id,
            type(exc).__name__,
            str(exc)[:200],
            fate,
        )

    def drain(self, force: bool = True) -> bool:
        """Apply spooled operations in order; return whether none is left (or the spool
        is closed: nothing more is stored)."""
        self._drain(force)
        return not self._backlog or self._closed

    def _drain(self, force: bool) -> Exception | None:
        """Apply spooled operations in order; return the error that stopped an attempt."""
        if not self._backlog or (not force and time.monotonic() < self._next_try):
            return None
        with self._apply_lock:
            while self._backlog and not self._loop.abandoned and not self._closed:
                seq, op = self._backlog[0]
                try:
                    self.executor.apply(op)
                except Exception as exc:  # noqa: BLE001
                    if self._closed:  # the run has ended without it: it stays spooled
                        return None
                    if is_transient(exc):
                        self._lost(exc)
                        self._backlog[0] = (seq, retrying(op))
                        return exc
                    self._backlog.popleft()  # stays un-acknowledged in the spool for sync
                    self._rejected(op, seq, exc, "it stays in the spool")
                    continue
                with self._spool_lock:
                    if self._closed:  # the spool is closed: the replay stores it once
                        return None
                    self._backlog.popleft()
                    assert self.spool is not None
                    self.spool.ack(seq)
                    self._stored += 1
        return None

    def settle(self) -> bool:
        """Let the background thread store what is pending; return whether none is left.

        Waits while writes get through, but gives up once ``join_timeout`` seconds pass
        without one: the rest stays in the spool (the thread is told to stop).
        """
        if self._closed:
            return not self._backlog
        if not self._backlog and not self._loop.is_alive():
            return True
        if not self._loop.is_alive():
            self._loop.start(ending=True)
        self._loop.finish(self.join_timeout)
        return not self._backlog

    def finish(self) -> None:
        """Store what is pending (see :meth:`settle`), close the spool, and give the
        ``sacredlite sync`` command for leftovers.

        Only the first call does anything: a run's observer may be joined more than once
        (by its terminal event in queued mode, and by the run).
        """
        if self._finished:
            return
        self._finished = True
        self.settle()
        with self._spool_lock:
            self._closed = True  # a thread still finishing a write acknowledges nothing
            spool = self.spool
            if spool is None:
                return
            left = len(spool.pending())
            spool.close()
        if left:
            run = self.executor.run_id
            logger.warning(
                "%d write(s) of %s did not reach MongoDB at %s; they are kept in %s. "
                "Store them with: %s",
                left,
                f"run {run}" if run is not None else "a run not yet numbered",
                self.hosts,
                spool.path,
                sync_command(os.path.dirname(spool.path), self.sync_target),
            )
        else:
            self.spool_path = None


def sync_command(spool_dir: str, target: str) -> str:
    """Return the shell command that stores the spools in *spool_dir* into *target*."""
    return f"sacredlite sync --spool {shlex.quote(spool_dir)} -m {shlex.quote(target)}"
