"""Metric series and captured output past MongoDB's 16 MB limit, written in parts (internal;
the format is documented in :mod:`sacredlite.formats.mongo`, :mod:`._mongo_read` joins the
parts again).

* :class:`MetricSeries` turns new points into :class:`~._mongo_ops.PushMetric` operations:
  the Sacred metric document takes the first ``part_points`` points, later ones go to part
  documents of ``<metrics>_overflow``.
* :class:`OutputTail` keeps the run document's ``captured_out`` bounded: older text moves to
  chunk documents of ``<runs>_output``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ._mongo_ops import NewMetric, Op, OutputChunk, PushMetric, ResetOutput

__all__ = ["METRIC_FIELDS", "MetricSeries", "OutputTail", "ms_datetimes"]

METRIC_FIELDS = ("steps", "values", "timestamps")
"""The columns of a metric document (Sacred's)."""
_EPOCH = datetime(1970, 1, 1)


def ms_datetimes(stamps: Sequence[float]) -> list[datetime]:
    """Return epoch seconds as naive UTC datetimes at BSON's precision (milliseconds), one
    shared object per millisecond.

    A half-microsecond is added before rounding down: a time that came from a datetime has
    whole microseconds, and its float may fall a hair short of the millisecond it is in.
    """
    result: list[datetime] = []
    last_ms = None
    moment = _EPOCH
    for stamp in stamps:
        ms = math.floor(stamp * 1000 + 0.0005)
        if ms != last_ms:
            last_ms, moment = ms, _EPOCH + timedelta(milliseconds=ms)
        result.append(moment)
    return result


class MetricSeries:
    """The metric documents of one run, and how many points each holds.

    Args:
        part_points: points per document before later points go to overflow parts.
    """

    def __init__(self, part_points: int) -> None:
        self.part_points = part_points
        self.refs: list[dict[str, str]] = []  # Sacred's info["metrics"] entries
        self._ids: dict[str, Any] = {}
        self._counts: dict[str, int] = {}
        self._preset: dict[str, Any] = {}

    def referenced_in(self, info: Any) -> Any:
        """Return the stored *info* with every metric of the run in ``info.metrics`` (the
        user's info may have been replaced since the metrics were referenced)."""
        if not self.refs or not isinstance(info, dict):
            return info
        have = info.get("metrics")
        if isinstance(have, list):
            return {**info, "metrics": have + [r for r in self.refs if r not in have]}
        return {**info, "metrics": list(self.refs)}

    def continue_from(self, tails: Mapping[str, Any], *, referenced: bool = True) -> None:
        """Continue the stored series of a run: *tails* is :func:`~._mongo_read.metric_tails`
        (overflow parts counted). A resumed run references them in ``info.metrics``; an
        overwritten run (``referenced=False``) only writes on after them, as Sacred does."""
        for name, (metric_id, count, _) in tails.items():
            self._ids[name] = metric_id
            self._counts[name] = int(count)
            ref = {"name": name, "id": str(metric_id)}
            if referenced and ref not in self.refs:
                self.refs.append(ref)

    def adopt(self, name: str, metric_id: Any) -> None:
        """Give the metric *name*, when it is new, the document id *metric_id* (a copied
        run keeps the ids its ``info.metrics`` references name)."""
        self._preset[name] = metric_id

    def ops(
        self,
        name: str,
        steps: Sequence[Any],
        values: Sequence[Any],
        stamps: Sequence[Any],
        info: Any,
        as_datetimes: Callable[[Sequence[Any]], list[Any]] = list,
    ) -> Iterator[Op]:
        """Yield the operations that store new points of the metric *name*.

        Each batch becomes Python lists only when its operation is made, so a caller that
        stores each operation before taking the next holds one batch at a time.

        Args:
            name: the metric.
            steps: its new steps.
            values: its new values (as many).
            stamps: their logging times.
            info: the run's info; like Sacred's observer, a new metric's reference
                ``{"name", "id"}`` is appended to ``info["metrics"]`` (when a dict).
            as_datetimes: turns a slice of *stamps* into a list of datetimes (default:
                they are datetimes; :func:`ms_datetimes` for epoch seconds).
        """
        metric_id = self._ids.get(name)
        if metric_id is None:
            from bson import ObjectId

            metric_id = self._ids[name] = self._preset.pop(name, None) or ObjectId()
            self._counts[name] = 0
            yield NewMetric(metric_id, name)
            ref = {"name": name, "id": str(metric_id)}
            self.refs.append(ref)
            if isinstance(info, dict):
                info.setdefault("metrics", []).append(dict(ref))
        done, total, size = 0, len(steps), self.part_points
        while done < total:
            count = self._counts[name]
            part = count // size
            stop = done + min((part + 1) * size - count, total - done)
            yield PushMetric(
                metric_id,
                name,
                part,
                os.urandom(6).hex(),  # a replay of this batch is recognised
                list(steps[done:stop]),  # made storable by storable()
                list(values[done:stop]),
                as_datetimes(stamps[done:stop]),
            )
            self._counts[name] = count + stop - done
            done = stop

    def sacred_ops(self, metrics_by_name: Mapping[str, Any], info: Any) -> Iterator[Op]:
        """Yield the operations that store Sacred's ``{name: {steps, values, timestamps}}``."""
        for name, series in metrics_by_name.items():
            steps, values, stamps = (list(series[key]) for key in METRIC_FIELDS)
            yield from self.ops(name, steps, values, stamps, info)


class OutputTail:
    """Turn each whole captured output into the writes that store it.

    ``heartbeat_event`` receives the run's whole captured output each time (Sacred's
    contract). Each beat costs O(new output) when the text grows at its end or changes
    only in its last line (a progress bar redrawn with ``\\r``); only a change to earlier,
    already moved text rewrites the chunks.

    Args:
        limit: characters of output kept in the run document's ``captured_out``.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._text = ""  # the whole output of the last beat
        self._tail = ""  # its last part, stored in captured_out
        self._start = 0  # characters before the tail, stored in chunks
        self._seq = 0  # the next chunk's number

    def continue_from(self, whole: str, tail: str, start: int, chunks: int) -> None:
        """Continue a resumed run's output: *whole* is all of it (:func:`read_captured_out`),
        *tail* the run document's ``captured_out``, *start* its
        ``sacredlite.captured_out_start`` and *chunks* the number of chunk documents."""
        self._text, self._tail, self._start, self._seq = whole, tail, start, chunks

    def update(self, text: str, collection: str) -> tuple[list[Op], dict[str, Any]]:
        """Return the operations and run-document fields that store *text*.

        Args:
            text: the whole captured output so far.
            collection: the name of the chunk collection (``<runs>_output``).
        """
        ops: list[Op] = []
        fields: dict[str, Any] = {}
        old = self._text
        if text.startswith(old):
            self._tail += text[len(old) :]
        else:
            kept = old.rfind("\n") + 1
            if kept >= self._start and text.startswith(old[:kept]):
                self._tail = text[self._start :]  # only text still in the document changed
            else:  # moved text changed: store it all again
                ops.append(ResetOutput())
                if self._start:
                    fields["sacredlite.captured_out_start"] = 0
                self._tail, self._start, self._seq = text, 0, 0
        self._text = text
        if len(self._tail) > self.limit:
            keep = max(self.limit // 2, 1)
            moved, self._tail = self._tail[:-keep], self._tail[-keep:]
            for i in range(0, len(moved), self.limit):
                piece = moved[i : i + self.limit]
                ops.append(OutputChunk(self._seq, self._start, piece))
                self._seq += 1
                self._start += len(piece)
            fields["sacredlite.captured_out_start"] = self._start
            fields["sacredlite.output_collection"] = collection
        fields["captured_out"] = self._tail
        return ops, fields
