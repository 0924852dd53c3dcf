"""One whole stored run, independent of where it is stored (internal; used by
``sacredlite copy`` and the importers to hand a run to a format's writer).

A :class:`PortableRun` is read from any store and written by :func:`sacredlite.formats.file.
write_run` or :func:`sacredlite.formats.mongo.write_run`; each writer lays it out in its own
format. Contents (files, metric points) are read lazily, one at a time, so a run's
artifacts and metrics are never all in memory together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PortableFile", "PortableRun", "RUN_RECORD_KEYS"]

RUN_RECORD_KEYS = frozenset({"experiment", "command", "host", "start_time", "meta", "status"})
"""The entry fields every started run has (Sacred's); others are copied when present."""


@dataclass(frozen=True)
class PortableFile:
    """A stored file of a run: a source, a resource or an artifact.

    Attributes:
        name: a source's path relative to the experiment's ``base_dir``, a resource's path
            as opened, an artifact's name.
        read: returns the content.
        md5: the content's md5 hex digest, when the store knows it.
        path: a local file holding the content (copied without reading it whole), if any.
        content_type: an artifact's content type, if recorded.
        metadata: an artifact's metadata, if recorded.
    """

    name: str
    read: Callable[[], bytes]
    md5: str | None = None
    path: str | None = None
    content_type: str | None = None
    metadata: Any = None


@dataclass
class PortableRun:
    """One run with everything it stored.

    Attributes:
        entry: Sacred's run fields (``experiment`` with ``repositories`` whose ``diff`` is
            text, ``command``, ``host``, ``start_time``, ``heartbeat``, ``stop_time`` as
            datetimes, ``meta``, ``status``, ``result``, ``fail_trace``, ...); the
            writers replace ``experiment.sources``, ``resources`` and ``artifacts``.
        config: the run's config (as stored: flattened JSON data).
        info: the run's info as recorded (``info.metrics`` references to metric documents
            included when the run has them: a MongoDB writer keeps their ids).
        output: the captured output.
        tags: Omniboard's tags.
        notes: Omniboard's notes.
        sources: the source files, in ``experiment.sources`` order.
        resources: the opened resources.
        artifacts: the artifacts.
        metric_names: the names of the run's metrics.
        read_metric: returns one metric as ``{"steps", "values", "timestamps"}``
            (timestamps as datetimes, naive UTC or aware).
    """

    entry: dict[str, Any]
    config: Any = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    output: str = ""
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    sources: list[PortableFile] = field(default_factory=list)
    resources: list[PortableFile] = field(default_factory=list)
    artifacts: list[PortableFile] = field(default_factory=list)
    metric_names: list[str] = field(default_factory=list)
    read_metric: Callable[[str], dict[str, list[Any]]] = lambda name: {
        "steps": [],
        "values": [],
        "timestamps": [],
    }

    @property
    def status(self) -> str:
        """The run's status as stored."""
        return str(self.entry.get("status") or "")
