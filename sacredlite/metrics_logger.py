"""Sacred's ``sacred.metrics_logger`` names: one logged point, and points grouped by metric.

sacredlite's runs buffer points in columns (:mod:`sacredlite.metrics`); these classes are
the per-point view Sacred's API exposes (``run._metrics.get_last_metrics()``) and the
grouping observers receive in ``log_metrics``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

__all__ = ["ScalarMetricLogEntry", "linearize_metrics"]


class ScalarMetricLogEntry:
    """One logged value of a scalar metric.

    Args:
        name: the metric's name, e.g. ``"training.loss"``.
        step: the step (iteration) it was logged at.
        timestamp: when it was logged (naive UTC, as Sacred).
        value: the logged value.
    """

    __slots__ = ("name", "step", "timestamp", "value")

    def __init__(self, name: str, step: Any, timestamp: datetime, value: Any) -> None:
        self.name = name
        self.step = step
        self.timestamp = timestamp
        self.value = value

    def __repr__(self) -> str:
        return (
            f"ScalarMetricLogEntry({self.name!r}, {self.step!r}, {self.timestamp!r}, "
            f"{self.value!r})"
        )


def linearize_metrics(logged_metrics: Iterable[ScalarMetricLogEntry]) -> dict[str, Any]:
    """Group points by metric name, in logging order.

    Returns:
        ``{name: {"steps": [...], "values": [...], "timestamps": [...], "name": name}}``,
        the shape observers receive in ``log_metrics``.
    """
    grouped: dict[str, Any] = {}
    for entry in logged_metrics:
        series = grouped.get(entry.name)
        if series is None:
            series = grouped[entry.name] = {
                "steps": [],
                "values": [],
                "timestamps": [],
                "name": entry.name,
            }
        series["steps"].append(entry.step)
        series["values"].append(entry.value)
        series["timestamps"].append(entry.timestamp)
    return grouped
