"""The end events of observers that store a run's end in one step (internal)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..events import RunStatus


class EndsInOneStep:
    """``completed_event``, ``interrupted_event`` and ``failed_event`` for an observer whose
    ``_end(stop_time, status, **fields)`` stores the end time, the status and the fields
    that come with it (``result``, ``fail_trace``). Put it before the observer base class."""

    def _end(self, stop_time: datetime, status: str, **fields: Any) -> None:
        raise NotImplementedError

    def completed_event(self, stop_time: datetime, result: Any) -> None:
        """Store the result and ``COMPLETED``."""
        self._end(stop_time, RunStatus.COMPLETED.value, result=result)

    def interrupted_event(self, interrupt_time: datetime, status: str) -> None:
        """Store the interruption's status."""
        self._end(interrupt_time, status)

    def failed_event(self, fail_time: datetime, fail_trace: list[str]) -> None:
        """Store ``FAILED`` and the traceback."""
        self._end(fail_time, RunStatus.FAILED.value, fail_trace=fail_trace)
