"""The in-process buffer behind ``log_scalar`` (internal).

Logging a point appends to three per-metric columns (value, step, time) and does nothing
else: no lock, no I/O, no per-call dict. Times, and values while they are all floats, go
into ``array('d')`` columns (8 bytes a point instead of a 32-byte float object in a list);
the first value of another type turns that metric's value column into a list. The
heartbeat drains the columns into batches of compact
:class:`~sacredlite.events.MetricPoints`: steps that count up by one become a ``range``.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .events import MetricPoints

BATCH_POINTS = 100_000
"""Points per batch handed to observers: bounds the memory of one flush."""

LogScalar = Callable[[str, Any, "int | None"], None]
"""``log_scalar(metric_name, value, step=None)``."""

_Appenders = tuple[Callable[[Any], None], Callable[[Any], None], Callable[[float], None], bool]
"""A metric's ``(add value, add step, add time, values are an array of floats)``."""
_Columns = tuple["list[Any] | array[float]", list[Any], "array[float]"]


def _plain_numbers(values: list[Any]) -> list[Any]:
    """Return *values* with numpy scalars as the Python numbers they hold (as Sacred logs
    them); the list itself when there are none (the common case costs one pass in C)."""
    if not any(kind.__module__ == "numpy" for kind in set(map(type, values))):
        return values
    return [
        v.item() if type(v).__module__ == "numpy" and getattr(v, "ndim", 1) == 0 else v
        for v in values
    ]


def _compact_values(values: list[Any]) -> Sequence[Any]:
    """An ``array('d')`` when every value is exactly a float (one C pass to check), else
    the list: an int stays an int, as Sacred stores it."""
    if values and set(map(type, values)) == {float}:
        return array("d", values)
    return values


class MetricsBuffer:
    """Columns of logged points per metric, drained in batches by the heartbeat."""

    def __init__(self) -> None:
        self._appenders: dict[str, _Appenders] = {}
        self._columns: dict[str, _Columns] = {}
        self._last_step: dict[str, int] = {}
        self._lock = threading.Lock()  # a drain and a column change; never the hot path
        self.log_scalar: LogScalar = self.make_logger()
        """``log_scalar(metric_name, value, step=None)``: the hot path, a closure."""

    def make_logger(self) -> LogScalar:
        """Return ``log_scalar`` as a closure over locals: no attribute look-ups per call
        (about 7% more calls/s in bench/log_scalar.py than a method)."""
        get_appenders = self._appenders.get
        new_metric = self._new_metric
        widen = self._widen
        now = time.time
        floating = float

        def log_scalar(metric_name: str, value: Any, step: int | None = None) -> None:
            appenders = get_appenders(metric_name)
            if appenders is None:
                appenders = new_metric(metric_name)
            add_value, add_step, add_stamp, floats = appenders
            if floats and type(value) is not floating:
                add_value = widen(metric_name)
            add_value(value)
            add_step(step)
            add_stamp(now())  # appended last: a drain takes only points whose time is there

        return log_scalar

    def _new_metric(self, name: str) -> _Appenders:
        columns: _Columns = (array("d"), [], array("d"))
        return self._install(name, columns)

    def _install(self, name: str, columns: _Columns) -> _Appenders:
        self._columns[name] = columns
        values, steps, stamps = columns
        appenders = (values.append, steps.append, stamps.append, isinstance(values, array))
        self._appenders[name] = appenders
        return appenders

    def _widen(self, name: str) -> Callable[[Any], None]:
        """Turn *name*'s value column from floats into a list (a value of another type
        came); return its new ``append``. Called by the logging thread itself."""
        with self._lock:
            values, steps, stamps = self._columns[name]
            plain = values.tolist() if isinstance(values, array) else values
            return self._install(name, (plain, steps, stamps))[0]

    def drain(self) -> list[dict[str, MetricPoints]]:
        """Take the buffered points, resolve the steps, and cut them into batches.

        Safe while another thread logs: points logged after a column's length was read
        stay for the next drain.
        """
        with self._lock:
            return self._drain_locked()

    def _drain_locked(self) -> list[dict[str, MetricPoints]]:
        batches: list[dict[str, MetricPoints]] = []
        size = 0
        batch: dict[str, MetricPoints] = {}
        for name, (values, steps, stamps) in list(self._columns.items()):
            count = len(stamps)
            for start in range(0, count, BATCH_POINTS):
                n = min(BATCH_POINTS, count - start)
                if size + n > BATCH_POINTS and batch:
                    batches.append(batch)
                    batch, size = {}, 0
                taken = values[:n]
                points = MetricPoints(
                    name,
                    self._resolve_steps(name, _plain_numbers(steps[:n])),
                    taken if isinstance(taken, array) else _compact_values(_plain_numbers(taken)),
                    stamps[:n],
                )
                del values[:n], steps[:n], stamps[:n]
                batch[name] = _joined(batch.get(name), points)
                size += n
        if batch:
            batches.append(batch)
        return batches

    def get_last_metrics(self) -> list[Any]:
        """Take the buffered points as Sacred's ``ScalarMetricLogEntry`` objects (one per
        point, each metric's in logging order); they are then gone from the buffer."""
        from .metrics_logger import ScalarMetricLogEntry

        entries: list[ScalarMetricLogEntry] = []
        for batch in self.drain():
            for name, points in batch.items():
                entries.extend(
                    ScalarMetricLogEntry(name, step, stamp, value)
                    for step, stamp, value in zip(
                        points.steps, points.timestamps(), points.values, strict=True
                    )
                )
        return entries

    def continue_steps(self, last_steps: Mapping[str, int]) -> None:
        """Number points logged without a step after these stored last steps (a resumed
        run's metrics continue where they stopped)."""
        with self._lock:
            for name, step in last_steps.items():
                self._last_step[name] = max(int(step), self._last_step.get(name, -1))

    def last_steps(self) -> dict[str, int]:
        """The last resolved step of each metric (points still buffered not included)."""
        with self._lock:
            return {name: int(step) for name, step in self._last_step.items()}

    def _resolve_steps(self, name: str, steps: list[Any]) -> Sequence[Any]:
        """Replace ``None`` steps by the previous step + 1 (per metric, Sacred's rule); a
        ``range`` when every step is implicit."""
        last = self._last_step.get(name, -1)
        resolved: Sequence[Any]
        if all(step is None for step in steps):  # identity: a numpy step has no plain ==
            resolved = range(last + 1, last + 1 + len(steps))
        else:
            explicit = []
            for step in steps:
                last = last + 1 if step is None else step
                explicit.append(last)
            resolved = explicit
        if resolved:
            self._last_step[name] = resolved[-1]
        return resolved


def _joined(first: MetricPoints | None, second: MetricPoints) -> MetricPoints:
    """One metric's points of two drains in a batch as one (rare: a metric longer than a
    batch's remainder)."""
    if first is None:
        return second

    def join(a: Sequence[Any], b: Sequence[Any]) -> Sequence[Any]:
        if isinstance(a, range) and isinstance(b, range) and a.stop == b.start:
            return range(a.start, b.stop)
        if isinstance(a, array) and isinstance(b, array) and a.typecode == b.typecode:
            return a + b
        return [*a, *b]

    return MetricPoints(
        first.name,
        join(first.steps, second.steps),
        join(first.values, second.values),
        join(first.stamps, second.stamps),
    )
