"""The in-process buffer behind ``log_scalar`` (internal).

Logging a point appends to three per-metric columns (value, step, time) and does nothing
else: no lock, no I/O, no per-call dict. The heartbeat drains the columns into batches of
``{name: {"steps", "values", "timestamps"}}`` for the observers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from .events import MetricSeries

BATCH_POINTS = 100_000
"""Points per batch handed to observers: bounds the memory of one flush."""

LogScalar = Callable[[str, Any, "int | None"], None]
"""``log_scalar(metric_name, value, step=None)``."""

_Appenders = tuple[Callable[[Any], None], Callable[[Any], None], Callable[[float], None]]
_Columns = tuple[list[Any], list[Any], list[float]]


def _datetimes(stamps: list[float]) -> list[datetime]:
    """Convert epoch seconds to naive UTC datetimes (Sacred's) at millisecond precision
    (BSON's), sharing one object per millisecond so writers format each time once."""
    result = []
    last_ms = -1
    last: datetime | None = None
    for stamp in stamps:
        ms = int(stamp * 1000)
        if ms != last_ms:
            last_ms = ms
            last = datetime.fromtimestamp(ms / 1000, timezone.utc).replace(tzinfo=None)
        result.append(last)
    return result  # type: ignore[return-value]


def _plain_numbers(values: list[Any]) -> list[Any]:
    """Return *values* with numpy scalars as the Python numbers they hold (as Sacred logs
    them); the list itself when there are none (the common case costs one pass in C)."""
    if not any(kind.__module__ == "numpy" for kind in set(map(type, values))):
        return values
    return [
        v.item() if type(v).__module__ == "numpy" and getattr(v, "ndim", 1) == 0 else v
        for v in values
    ]


class MetricsBuffer:
    """Columns of logged points per metric, drained in batches by the heartbeat."""

    def __init__(self) -> None:
        self._appenders: dict[str, _Appenders] = {}
        self._columns: dict[str, _Columns] = {}
        self._last_step: dict[str, int] = {}
        self.log_scalar: LogScalar = self.make_logger()
        """``log_scalar(metric_name, value, step=None)``: the hot path, a closure."""

    def make_logger(self) -> LogScalar:
        """Return ``log_scalar`` as a closure over locals: no attribute look-ups per call
        (about 7% more calls/s in bench/log_scalar.py than a method)."""
        get_appenders = self._appenders.get
        new_metric = self._new_metric
        now = time.time

        def log_scalar(metric_name: str, value: Any, step: int | None = None) -> None:
            appenders = get_appenders(metric_name)
            if appenders is None:
                appenders = new_metric(metric_name)
            add_value, add_step, add_stamp = appenders
            add_value(value)
            add_step(step)
            add_stamp(now())  # appended last: a drain takes only points whose time is there

        return log_scalar

    def _new_metric(self, name: str) -> _Appenders:
        columns: _Columns = ([], [], [])
        self._columns[name] = columns
        appenders = (columns[0].append, columns[1].append, columns[2].append)
        self._appenders[name] = appenders
        return appenders

    def drain(self) -> list[dict[str, MetricSeries]]:
        """Take the buffered points, resolve steps and times, and cut them into batches.

        Safe while another thread logs: points logged after a column's length was read
        stay for the next drain.
        """
        batches: list[dict[str, MetricSeries]] = []
        size = 0
        batch: dict[str, MetricSeries] = {}
        for name, (values, steps, stamps) in list(self._columns.items()):
            count = len(stamps)
            for start in range(0, count, BATCH_POINTS):
                n = min(BATCH_POINTS, count - start)
                series = {
                    "steps": self._resolve_steps(name, _plain_numbers(steps[:n])),
                    "values": _plain_numbers(values[:n]),
                    "timestamps": _datetimes(stamps[:n]),
                    "name": name,
                }
                del values[:n], steps[:n], stamps[:n]
                if size + n > BATCH_POINTS and batch:
                    batches.append(batch)
                    batch, size = {}, 0
                previous = batch.get(name)
                if previous is None:
                    batch[name] = series
                else:
                    for key in ("steps", "values", "timestamps"):
                        previous[key].extend(series[key])
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
            for name, series in batch.items():
                entries.extend(
                    ScalarMetricLogEntry(name, step, stamp, value)
                    for step, stamp, value in zip(
                        series["steps"], series["timestamps"], series["values"], strict=True
                    )
                )
        return entries

    def _resolve_steps(self, name: str, steps: list[int | None]) -> list[int]:
        """Replace ``None`` steps by the previous step + 1 (per metric, Sacred's rule)."""
        last = self._last_step.get(name, -1)
        if all(step is None for step in steps):  # identity: a numpy step has no plain ==
            resolved = list(range(last + 1, last + 1 + len(steps)))
        else:
            resolved = []
            for step in steps:
                last = last + 1 if step is None else step
                resolved.append(last)
        if resolved:
            self._last_step[name] = resolved[-1]
        return resolved
