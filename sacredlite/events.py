"""Run lifecycle events and the run status (internal).

The Run emits one frozen event object per lifecycle step; :func:`sacredlite.observers.base.dispatch`
turns each into the Sacred-shaped observer call. Times are UTC-aware datetimes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RunId = int | str | None
"""A run's id: assigned by the first observer that returns one; ``None`` before that."""

MetricSeries = dict[str, list[Any]]
"""One metric's new points: ``{"steps": [...], "values": [...], "timestamps": [datetime, ...]}``."""


class RunStatus(str, enum.Enum):
    """The lifecycle state of a run, stored as its string value."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"
    TIMEOUT = "TIMEOUT"
    PROBABLY_DEAD = "PROBABLY_DEAD"  # derived by readers, never written

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class RunQueued:
    """A run was queued instead of executed (``-q``)."""

    run_id: RunId
    time: datetime
    experiment: dict[str, Any]
    command: str
    host: dict[str, Any]
    config: dict[str, Any]
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStarted:
    """A run started; observers assign or accept its id."""

    run_id: RunId
    time: datetime
    experiment: dict[str, Any]
    command: str
    host: dict[str, Any]
    config: dict[str, Any]
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat:
    """A periodic update: info, the whole captured output so far, and the output new since
    the last beat (observers that append use ``new_output``; ``None`` when a filter of the
    whole text may have rewritten earlier output), and the result if any."""

    run_id: RunId
    time: datetime
    info: dict[str, Any]
    captured_out: str
    new_output: str | None
    result: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsLogged:
    """New metric points since the last flush, by metric name."""

    run_id: RunId
    metrics: dict[str, MetricSeries]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceOpened:
    """The run opened a resource file."""

    run_id: RunId
    filename: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactAdded:
    """The run added an artifact file."""

    run_id: RunId
    name: str
    filename: str
    metadata: dict[str, Any] | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunCompleted:
    """The main function returned."""

    run_id: RunId
    time: datetime
    result: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInterrupted:
    """The run was interrupted (Ctrl-C, SIGTERM, or an exception carrying ``STATUS``)."""

    run_id: RunId
    time: datetime
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFailed:
    """The main function raised."""

    run_id: RunId
    time: datetime
    fail_trace: list[str]


Event = (
    RunQueued
    | RunStarted
    | Heartbeat
    | MetricsLogged
    | ResourceOpened
    | ArtifactAdded
    | RunCompleted
    | RunInterrupted
    | RunFailed
)
"""Any event a Run emits."""

TERMINAL_EVENTS = (RunCompleted, RunInterrupted, RunFailed)
