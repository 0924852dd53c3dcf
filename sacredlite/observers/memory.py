"""An observer that keeps everything in Python objects: the test double and notebook store.

Every call is recorded in :attr:`MemoryObserver.events` as an :class:`ObservedCall`, so a
test can compare the whole sequence with ``==``; the data of each run is assembled in a
:class:`RunRecord` in :attr:`MemoryObserver.runs`.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from ..errors import ObserverError
from ..events import RunId, RunStatus
from .base import RunObserver

__all__ = ["MemoryObserver", "ObservedCall", "RunRecord"]


class ObservedCall(NamedTuple):
    """One observer call: the Sacred method name and its keyword arguments (copied).

    Equal to a plain ``(method, kwargs)`` tuple, so tests can write the expected calls
    either way.
    """

    method: str
    kwargs: dict[str, Any]


@dataclass
class RunRecord:
    """Everything observed about one run, with times as the datetimes the Run sent.

    ``metrics`` accumulates ``{name: {"steps", "values", "timestamps"}}``; ``artifacts``
    maps each artifact name to the file's bytes at the time it was added; ``resources``
    holds ``(filename, md5 hex digest)`` pairs; ``captured_out`` is the whole output.
    """

    run_id: RunId
    experiment: dict[str, Any]
    command: str
    host: dict[str, Any]
    config: dict[str, Any]
    meta: dict[str, Any]
    status: str
    start_time: datetime | None = None
    queue_time: datetime | None = None
    heartbeat: datetime | None = None
    stop_time: datetime | None = None
    info: dict[str, Any] = field(default_factory=dict)
    captured_out: str = ""
    metrics: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)
    artifact_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: list[tuple[str, str]] = field(default_factory=list)
    result: Any = None
    fail_trace: list[str] | None = None


def _copy(value: Any) -> Any:
    """Deep-copy *value* so later mutation by the run does not change the record."""
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - uncopyable user objects are kept as they are
        return copy.copy(value) if isinstance(value, (dict, list)) else value


class MemoryObserver(RunObserver):
    """Record every observer call and every run in memory.

    One observer can watch many runs in turn (a notebook calling ``ex.run()`` repeatedly);
    runs without an id from a higher-priority observer get 1, 2, 3, ...

    Args:
        priority: the observer's priority (higher observers are called first).
        record_events: keep every call in :attr:`events`; turn off to hold only the run
            records (halves the memory a long notebook session needs).

    Example:
        >>> obs = MemoryObserver()
        >>> # ex.observers.append(obs); ex.run()
        >>> # obs.last_run.status == "COMPLETED"
    """

    def __init__(self, priority: int = 10, record_events: bool = True) -> None:
        self.priority = priority
        self.record_events = record_events
        self.events: list[ObservedCall] = []
        self.runs: dict[RunId, RunRecord] = {}
        self.current: RunRecord | None = None

    @property
    def last_run(self) -> RunRecord:
        """The most recently started (or queued) run."""
        if self.current is None:
            raise ObserverError("MemoryObserver has observed no run yet: run the experiment first.")
        return self.current

    def run(self, run_id: RunId) -> RunRecord:
        """Return the record of the run with id *run_id*."""
        try:
            return self.runs[run_id]
        except KeyError:
            known = ", ".join(repr(k) for k in self.runs) or "none"
            raise ObserverError(
                f"MemoryObserver has no run {run_id!r}; the runs it observed are: {known}."
            ) from None

    def _record(self, method: str, **kwargs: Any) -> None:
        if self.record_events:
            self.events.append(ObservedCall(method, _copy(kwargs)))

    def _active(self) -> RunRecord:
        if self.current is None:
            raise ObserverError(
                "MemoryObserver received an event before started_event: start a run first."
            )
        return self.current

    def _new_run(self, _id: RunId, status: str, **fields: Any) -> RunId:
        if _id is None:
            numbers = [k for k in self.runs if isinstance(k, int)]
            _id = max(numbers, default=0) + 1
        self.current = self.runs[_id] = RunRecord(run_id=_id, status=status, **fields)
        return _id

    def queued_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        queue_time: datetime,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: RunId,
    ) -> RunId:
        """Record a queued run; return its id."""
        return self._begin(
            "queued_event", RunStatus.QUEUED.value, "queue_time", queue_time,
            ex_info, command, host_info, config, meta_info, _id,
        )  # fmt: skip

    def started_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        start_time: datetime,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: RunId,
    ) -> RunId:
        """Record the start of a run; return its id."""
        return self._begin(
            "started_event", RunStatus.RUNNING.value, "start_time", start_time,
            ex_info, command, host_info, config, meta_info, _id,
        )  # fmt: skip

    def _begin(
        self,
        method: str,
        status: str,
        time_key: str,
        time: datetime,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: RunId,
    ) -> RunId:
        """Record a queued or started run (they differ in status and time key)."""
        self._record(
            method,
            ex_info=ex_info,
            command=command,
            host_info=host_info,
            **{time_key: time},
            config=config,
            meta_info=meta_info,
            _id=_id,
        )
        return self._new_run(
            _id,
            status,
            experiment=_copy(ex_info),
            command=command,
            host=_copy(host_info),
            config=_copy(config),
            meta=_copy(meta_info),
            **{time_key: time},
        )

    def heartbeat_event(
        self, info: dict[str, Any], captured_out: str, beat_time: datetime, result: Any
    ) -> None:
        """Record a heartbeat: info, the whole output so far, the time and the result."""
        self._record(
            "heartbeat_event",
            info=info,
            captured_out=captured_out,
            beat_time=beat_time,
            result=result,
        )
        run = self._active()
        run.info = _copy(info)
        run.captured_out = captured_out
        run.heartbeat = beat_time
        run.result = _copy(result)

    def completed_event(self, stop_time: datetime, result: Any) -> None:
        """Record the successful end of the run."""
        self._record("completed_event", stop_time=stop_time, result=result)
        run = self._active()
        run.stop_time = stop_time
        run.result = _copy(result)
        run.status = RunStatus.COMPLETED.value

    def interrupted_event(self, interrupt_time: datetime, status: str) -> None:
        """Record an interrupted run with its status (``INTERRUPTED``, ``TIMEOUT``, ...)."""
        self._record("interrupted_event", interrupt_time=interrupt_time, status=status)
        run = self._active()
        run.stop_time = interrupt_time
        run.status = str(status)

    def failed_event(self, fail_time: datetime, fail_trace: list[str]) -> None:
        """Record a failed run with its traceback lines."""
        self._record("failed_event", fail_time=fail_time, fail_trace=fail_trace)
        run = self._active()
        run.stop_time = fail_time
        run.fail_trace = list(fail_trace)
        run.status = RunStatus.FAILED.value

    def resource_event(self, filename: str) -> None:
        """Record a resource with the md5 digest of its content."""
        self._record("resource_event", filename=filename)
        with open(filename, "rb") as file:
            digest = hashlib.md5(file.read()).hexdigest()
        self._active().resources.append((filename, digest))

    def artifact_event(
        self,
        name: str,
        filename: str,
        metadata: dict[str, Any] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Record an artifact with the file's bytes as they are now."""
        self._record(
            "artifact_event",
            name=name,
            filename=filename,
            metadata=metadata,
            content_type=content_type,
        )
        with open(filename, "rb") as file:
            data = file.read()
        run = self._active()
        run.artifacts[name] = data
        run.artifact_info[name] = {
            "filename": filename,
            "metadata": _copy(metadata),
            "content_type": content_type,
        }

    def log_metrics(self, metrics_by_name: dict[str, Any], info: dict[str, Any]) -> None:
        """Append the new points of each metric to the run's series."""
        if self.record_events:  # each batch is a fresh object: no deep copy of the points
            self.events.append(
                ObservedCall(
                    "log_metrics", {"metrics_by_name": dict(metrics_by_name), "info": _copy(info)}
                )
            )
        metrics = self._active().metrics
        for name, series in metrics_by_name.items():
            target = metrics.setdefault(name, {"steps": [], "values": [], "timestamps": []})
            target["steps"].extend(series["steps"])
            target["values"].extend(series["values"])
            target["timestamps"].extend(series["timestamps"])

    def join(self) -> None:
        """Record the join (nothing is pending in memory)."""
        self._record("join")
