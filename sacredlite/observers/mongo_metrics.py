"""Metric points of a MongoDB run: each batch in, the write operations that store it out
(internal).

One Sacred metric document per run and name (``{run_id, name, steps, values,
timestamps}``), referenced from the run's ``info.metrics`` as ``{"name", "id"}``. A series
longer than ``part_points`` continues in overflow parts (format in
:mod:`sacredlite.observers.mongo_store`), so no document reaches MongoDB's 16 MB limit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from bson import ObjectId

from .mongo_doc import _op

__all__ = ["MetricSeries"]


class MetricSeries:
    """The metric documents of one run, and how many points each holds.

    Args:
        part_points: points per document before later points go to overflow parts.
    """

    def __init__(self, part_points: int) -> None:
        self.part_points = part_points
        self.refs: list[dict[str, str]] = []  # Sacred's info["metrics"] entries
        self._ids: dict[str, ObjectId] = {}
        self._counts: dict[str, int] = {}

    def load(self, metrics: Any, run_id: Any) -> None:
        """Continue the series stored for *run_id* (a run that is overwritten)."""
        for found in metrics.find({"run_id": run_id}, {"name": 1, "steps": 1}):
            self._ids[found["name"]] = found["_id"]
            self._counts[found["name"]] = len(found.get("steps", []))

    def ops(self, metrics_by_name: Mapping[str, Any], info: Any) -> list[dict[str, Any]]:
        """Return the operations that store a batch, ``{name: {steps, values, timestamps}}``.

        Like Sacred's observer, each new metric's reference ``{"name", "id"}`` is appended
        to ``info["metrics"]`` (when *info* is a dict).
        """
        ops: list[dict[str, Any]] = []
        for name, series in metrics_by_name.items():
            metric_id = self._ids.get(name)
            if metric_id is None:
                metric_id = self._ids[name] = ObjectId()
                self._counts[name] = 0
                ops.append(_op("metric_new", metric_id=metric_id, name=name))
                ref = {"name": name, "id": str(metric_id)}
                self.refs.append(ref)
                if isinstance(info, dict):
                    info.setdefault("metrics", []).append(dict(ref))
            steps = list(series["steps"])  # made storable by mongo_storable.storable_op
            values = list(series["values"])
            stamps = list(series["timestamps"])
            done, count, size = 0, self._counts[name], self.part_points
            while done < len(steps):
                part = count // size
                take = min((part + 1) * size - count, len(steps) - done)
                chunk = slice(done, done + take)
                ops.append(
                    _op(
                        "metric_push",
                        metric_id=metric_id,
                        name=name,
                        part=part,
                        token=os.urandom(6).hex(),  # a replay of this batch is recognised
                        steps=steps[chunk],
                        values=values[chunk],
                        timestamps=stamps[chunk],
                    )
                )
                done += take
                count += take
            self._counts[name] = count
        return ops
