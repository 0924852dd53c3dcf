"""Deliver a run's write operations to MongoDB, spooling what cannot be stored (internal).

Two modes:

* direct (plain ``MongoObserver``): each operation is applied at once. When the database
  cannot be reached, the operation and every later one go to the run's disk spool, in
  order; the spool is retried (at most every ``retry_interval`` seconds) on later events
  and once more when the run ends. :meth:`Writer.submit` returns the error of a write it
  had to keep, so the observer can raise it as Sacred's does.
* queued (``QueueObserver`` / ``QueuedMongoObserver``): every operation is first appended
  to the disk spool (write-ahead, so a crash loses nothing), then a background thread
  applies them every ``interval`` seconds, retrying every ``retry_interval`` seconds.

Whatever is still unstored when the run ends stays in the spool, with one log line naming
the ``sacredlite sync`` command that stores it later.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .mongo_store import Executor, is_transient
from .spool import Spool

logger = logging.getLogger("sacredlite.observers.mongo")


class Writer:
    """Apply operations through an :class:`Executor`, with a disk spool as fallback.

    Args:
        executor: applies operations to the database.
        make_spool: creates this run's spool on first need.
        hosts: ``host:port`` list for messages (never a password).
        sync_target: the ``-m`` value the ``sacredlite sync`` hint shows (the URL with its
            user, never its password; default *hosts*).
        retry_interval: seconds between attempts while the database is unreachable.
        queued: write ahead to the spool and apply in a background thread.
        interval: seconds between background flushes (queued mode).
        join_timeout: seconds :meth:`finish` keeps retrying before leaving the spool.
    """

    def __init__(
        self,
        executor: Executor,
        make_spool: Callable[[], Spool],
        hosts: str,
        retry_interval: float = 10.0,
        sync_target: str | None = None,
        queued: bool = False,
        interval: float = 20.0,
        join_timeout: float = 30.0,
    ) -> None:
        self.executor = executor
        self._make_spool = make_spool
        self.hosts = hosts
        self.sync_target = sync_target or hosts
        self.retry_interval = retry_interval
        self.queued = queued
        self.interval = interval
        self.join_timeout = join_timeout
        self.spool: Spool | None = None
        self._backlog: deque[tuple[int, dict[str, Any]]] = deque()
        self._apply_lock = threading.Lock()
        self._spool_lock = threading.Lock()
        self._next_try = 0.0
        self._warned = False
        self._wake = threading.Event()
        self._stopping = False
        self._deadline = 0.0
        self._thread: threading.Thread | None = None
        self._finished = False
        self.spool_path: str | None = None
        if queued:
            self._thread = threading.Thread(
                target=self._loop, name="sacredlite-mongo-writer", daemon=True
            )
            self._thread.start()

    def _to_spool(self, op: dict[str, Any], backlog: bool = True) -> None:
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
                            spool.assign(run_id)
                        if previous is not None:
                            previous(run_id)

                    executor.on_assign = on_assign
            seq = self.spool.append(op)
        if backlog:
            self._backlog.append((seq, op))

    def submit(self, op: dict[str, Any]) -> Exception | None:
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
                self._to_spool(_retrying(op))
            else:
                self._rejected(op, exc)
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

    def _rejected(self, op: dict[str, Any], exc: BaseException) -> None:
        logger.error(
            "MongoDB at %s rejected a %r write of run %s (%s: %s); it is kept in the spool.",
            self.hosts,
            op["op"],
            self.executor.run_id,
            type(exc).__name__,
            str(exc)[:200],
        )
        self._to_spool(op, backlog=False)

    def drain(self, force: bool = True) -> bool:
        """Apply spooled operations in order; return whether none is left."""
        self._drain(force)
        return not self._backlog

    def _drain(self, force: bool) -> Exception | None:
        """Apply spooled operations in order; return the error that stopped an attempt."""
        if not self._backlog or (not force and time.monotonic() < self._next_try):
            return None
        with self._apply_lock:
            while self._backlog:
                seq, op = self._backlog[0]
                try:
                    self.executor.apply(op)
                except Exception as exc:  # noqa: BLE001
                    if is_transient(exc):
                        self._lost(exc)
                        op.update(_retrying(op))
                        return exc
                    self._backlog.popleft()  # stays un-acknowledged in the spool for sync
                    self._rejected_logged(op, exc)
                    continue
                self._backlog.popleft()
                with self._spool_lock:
                    assert self.spool is not None
                    self.spool.ack(seq)
        return None

    def _rejected_logged(self, op: dict[str, Any], exc: BaseException) -> None:
        logger.error(
            "MongoDB at %s rejected a %r write of run %s (%s: %s); it stays in the spool.",
            self.hosts,
            op["op"],
            self.executor.run_id,
            type(exc).__name__,
            str(exc)[:200],
        )

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self.drain(force=True):
                if self._stopping:
                    return
                continue
            if self._stopping and time.monotonic() > self._deadline:
                return
            self._wake.wait(self.retry_interval)

    def finish(self) -> None:
        """Flush what is pending, close the spool, and say where leftovers are kept.

        Only the first call does anything: a run's observer may be joined more than once
        (by its terminal event in queued mode, and by the run).
        """
        if self._finished:
            return
        self._finished = True
        if self._thread is not None:
            self._deadline = time.monotonic() + self.join_timeout
            self._stopping = True
            self._wake.set()
            self._thread.join()
            self._thread = None
        else:
            self.drain(force=True)
        with self._spool_lock:
            spool = self.spool
            if spool is None:
                return
            left = len(spool.pending())
            spool.close()
        if left:
            directory = os.path.dirname(spool.path)
            run = self.executor.run_id
            logger.warning(
                "%d write(s) of %s did not reach MongoDB at %s; they are kept in %s. "
                "Store them with: sacredlite sync --spool %s -m %s",
                left,
                f"run {run}" if run is not None else "a run not yet numbered",
                self.hosts,
                spool.path,
                directory,
                self.sync_target,
            )
        else:
            self.spool_path = None


def _retrying(op: dict[str, Any]) -> dict[str, Any]:
    """Return *op* marked as possibly applied already (a lost reply is not a lost write)."""
    if op["op"] == "start":
        return {**op, "exists_ok": True}
    return op
