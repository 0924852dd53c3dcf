"""Run lifecycle events and the run status (internal).

The Run emits one frozen event object per lifecycle step; :func:`sacredlite.observers.base.dispatch`
turns each into the Sacred-shaped observer call. Times are UTC-aware datetimes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RunId = int | str | None
"""A run's id: assigned by the first observer that returns one; ``None`` before that."""

MetricSeries = dict[str, Any]
"""One metric's new points in Sacred's shape: ``{"steps": [...], "values": [...],
"timestamps": [datetime, ...], "name": name}`` (what ``log_metrics`` observers receive)."""


def _naive_utc_ms(stamp: float) -> datetime:
    from datetime import timezone

    return datetime.fromtimestamp(int(stamp * 1000) / 1000, timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class MetricPoints:
    """New points of one metric, stored compactly (what a run hands its observers).

    Attributes:
        name: the metric's name.
        steps: a ``range`` when the steps count up by one (the common case), else a list.
        values: an ``array('d')`` when every value is a float, else a list.
        stamps: an ``array('d')`` of logging times, seconds since the epoch (UTC).

    A million float points take 16 MB here, against some 100 MB as Python lists of objects.
    Observers that want Sacred's shape get it from :meth:`as_sacred`.
    """

    name: str
    steps: Sequence[Any]
    values: Sequence[Any]
    stamps: Sequence[float]

    def __len__(self) -> int:
        return len(self.stamps)

    def timestamps(self) -> list[datetime]:
        """The logging times as naive UTC datetimes at millisecond precision (BSON's),
        one shared object per millisecond."""
        result: list[datetime] = []
        last_ms = -1
        last = datetime.min
        for stamp in self.stamps:
            ms = int(stamp * 1000)
            if ms != last_ms:
                last_ms = ms
                last = _naive_utc_ms(stamp)
            result.append(last)
        return result

    def as_sacred(self) -> MetricSeries:
        """The points in Sacred's ``log_metrics`` shape (lists; a new dict every call)."""
        return {
            "steps": list(self.steps),
            "values": list(self.values),
            "timestamps": self.timestamps(),
            "name": self.name,
        }

    @classmethod
    def from_sacred(cls, name: str, series: Mapping[str, Any]) -> MetricPoints:
        """The points of Sacred's ``{"steps", "values", "timestamps"}`` (datetimes or
        epoch seconds), e.g. from a user calling ``observer.log_metrics`` directly."""
        stamps = [
            _epoch(t) if isinstance(t, datetime) else float(t) for t in series.get("timestamps", [])
        ]
        return cls(name, list(series.get("steps", [])), list(series.get("values", [])), stamps)


def _epoch(moment: datetime) -> float:
    """Seconds since the epoch of *moment* (naive means UTC)."""
    from datetime import timezone

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


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
    """A run started; observers assign or accept its id.

    ``resume`` is set when the run continues a stored run (``--resume ID``): the entry
    appended to its ``meta.resumes``. Observers that define ``resumed_event`` then continue
    the stored run instead of starting a new one.
    """

    run_id: RunId
    time: datetime
    experiment: dict[str, Any]
    command: str
    host: dict[str, Any]
    config: dict[str, Any]
    meta: dict[str, Any]
    resume: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRun:
    """What an observer holds of a run that is about to be resumed (plain data).

    Attributes:
        run_id: the run's id.
        status: its stored status.
        alive_at: its last sign of life (heartbeat, else start time), naive UTC, or ``None``.
        config: its stored config, as the observer reads it back.
        last_steps: the last stored step of each metric.
        resumes: its ``meta.resumes`` so far.
        point: its ``meta.resume_point`` (where an interruption left it), if any.
        claimed: a worker in this very process claimed it (``sacredlite worker`` resuming a
            re-queued run): it is RUNNING because of that claim, not alive elsewhere.
    """

    run_id: RunId
    status: str
    alive_at: datetime | None
    config: dict[str, Any]
    last_steps: dict[str, int]
    resumes: list[Any]
    point: dict[str, Any] | None = None
    claimed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumePointSet:
    """The run is being interrupted by a signal or a preemption and can be resumed: the
    observers record *point* as ``meta.resume_point``."""

    run_id: RunId
    point: dict[str, Any]


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
    metrics: dict[str, MetricPoints]
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
    | ResumePointSet
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
