"""The MongoDB write operations, as typed values with a stable serialised form (internal).

An observer turns each event into a few of these; :class:`~._mongo_apply.Executor` applies
them, and applying one twice stores it once (what :func:`retrying` marks for a lost reply).
A spool keeps them on disk as :func:`to_record` dicts (one per line, MongoDB extended JSON)
and :func:`from_record` reads them back, including spools written by sacredlite before the
operations were typed: the record's ``"op"`` names the kind, the other keys its fields.

===============  ====================  =====================================================
class            ``"op"``              what it stores
===============  ====================  =====================================================
:class:`StartRun`     ``start``        insert the run document (allocating an id if it has
                                       none); with ``exists_ok``, ``$set`` its fields into
                                       an existing document instead
:class:`SetFields`    ``set``          ``$set`` fields of the run document (dotted paths);
                                       never a replace, so ``omniboard.*`` survives
:class:`StoreFile`    ``file``         a GridFS upload under a client-made ``file_id``;
                                       with ``dedupe``, one file per filename and md5
:class:`NewMetric`    ``metric_new``   insert a metric document under a client-made id
:class:`PushMetric`   ``metric_push``  ``$push/$each`` one batch into one part of a metric,
                                       guarded by the batch's ``token``
:class:`OutputChunk`  ``out_chunk``    upsert one overflow chunk of captured output
:class:`ResetOutput`  ``out_reset``    delete the run's output chunks (they follow anew)
===============  ====================  =====================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import MISSING, dataclass, fields, replace
from typing import Any, ClassVar

__all__ = [
    "NewMetric",
    "Op",
    "OutputChunk",
    "PushMetric",
    "ResetOutput",
    "SetFields",
    "StartRun",
    "StoreFile",
    "describe",
    "from_record",
    "retrying",
    "summary",
    "to_record",
]


@dataclass(frozen=True, slots=True)
class StartRun:
    """Insert the run document *doc* (it carries its ``_id`` only through the executor).

    Attributes:
        doc: the run document without ``_id``.
        exists_ok: a document with the run's id may exist already (an overwrite, or a
            replay after a lost reply): its fields are ``$set`` instead.
    """

    KIND: ClassVar[str] = "start"
    doc: dict[str, Any]
    exists_ok: bool = False


@dataclass(frozen=True, slots=True)
class SetFields:
    """``$set`` *fields* (keys may be dotted paths) in the run document, and ``$unset``
    the paths in *unset* (a resumed run loses its ``stop_time``, ...)."""

    KIND: ClassVar[str] = "set"
    fields: dict[str, Any]
    unset: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoreFile:
    """Upload a file to GridFS under *file_id*.

    Attributes:
        file_id: the GridFS ``_id``, made by the client so a replay finds it.
        filename: the stored ``filename`` (sources, resources, diffs).
        artifact: an artifact's name: the filename is ``artifact://<runs>/<run id>/<name>``.
        md5: the content's md5, stored as the file's ``md5`` field.
        dedupe: store one file per (*filename*, *md5*): an existing one is reused.
        src: the local file holding the content (read, never stored).
        data: the content itself, instead of *src*.
        content_type: an artifact's ``contentType``.
        metadata: an artifact's ``metadata``.
    """

    KIND: ClassVar[str] = "file"
    file_id: Any
    filename: str | None = None
    artifact: str | None = None
    md5: str | None = None
    dedupe: bool = False
    src: str | None = None
    data: bytes | None = None
    content_type: str | None = None
    metadata: Any = None


@dataclass(frozen=True, slots=True)
class NewMetric:
    """Insert the (empty) metric document *metric_id* of the metric *name*."""

    KIND: ClassVar[str] = "metric_new"
    metric_id: Any
    name: str


@dataclass(frozen=True, slots=True)
class PushMetric:
    """Append one batch of points to part *part* of a metric (0: the Sacred document).

    Attributes:
        metric_id: the metric document's ``_id``.
        name: the metric's name.
        part: which document: 0 is the metric document, later parts overflow documents.
        token: the batch's random token; a batch already holding it is not pushed again.
        steps: the steps (ints).
        values: the values.
        timestamps: the logging times (naive UTC datetimes).
        micros: the microseconds within the millisecond of each time, which BSON dates
            drop (a copied run's exact times; ``None``: not kept).
    """

    KIND: ClassVar[str] = "metric_push"
    metric_id: Any
    name: str
    part: int
    token: str
    steps: list[Any]
    values: list[Any]
    timestamps: list[Any]
    micros: list[int] | None = None


@dataclass(frozen=True, slots=True)
class OutputChunk:
    """Store the captured output's chunk number *chunk*, which starts at character *start*."""

    KIND: ClassVar[str] = "out_chunk"
    chunk: int
    start: int
    text: str


@dataclass(frozen=True, slots=True)
class ResetOutput:
    """Delete the run's output chunks: earlier output changed, the chunks follow anew."""

    KIND: ClassVar[str] = "out_reset"


Op = StartRun | SetFields | StoreFile | NewMetric | PushMetric | OutputChunk | ResetOutput
"""One write operation of a run."""

_KINDS: dict[str, type[Op]] = {
    cls.KIND: cls
    for cls in (StartRun, SetFields, StoreFile, NewMetric, PushMetric, OutputChunk, ResetOutput)
}


def to_record(op: Op) -> dict[str, Any]:
    """Return *op* as a plain dict (``"op"``: its kind; fields left at their default out)."""
    record: dict[str, Any] = {"op": op.KIND}
    for item in fields(op):
        value = getattr(op, item.name)
        if item.default is MISSING or value is not item.default:  # defaults: None, False
            record[item.name] = value
    return record


def from_record(record: dict[str, Any]) -> Op:
    """Return the operation a :func:`to_record` dict (or an older spool's line) holds.

    Keys that are not fields (a spool's ``seq``) are ignored. An ``out_chunk`` written before
    the chunk number had its own key held it in ``seq``, which the spool overwrote with its
    own number; any number does, as the readers order chunks by ``start``.

    Raises:
        ValueError: the record names no known kind of operation.
    """
    cls = _KINDS.get(record.get("op"))  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"not a MongoDB write operation: {record.get('op')!r}")
    if cls is OutputChunk and "chunk" not in record:
        record = {**record, "chunk": record.get("seq", 0)}
    return cls(**{f.name: record[f.name] for f in fields(cls) if f.name in record})


def retrying(op: Op) -> Op:
    """Return *op* marked as possibly applied already (a lost reply is not a lost write)."""
    if isinstance(op, StartRun) and not op.exists_ok:
        return replace(op, exists_ok=True)
    return op


def describe(op: Op, seq: int | None = None) -> str:
    """Return *op* in words, e.g. ``"write 7 (update of info, result)"`` (*seq*: its
    number in a spool)."""
    match op:
        case SetFields():
            what = f"update of {', '.join(map(str, op.fields))}"
        case StartRun():
            what = "the run document"
        case PushMetric():
            what = f"metric {op.name!r}, {len(op.steps)} points"
        case NewMetric():
            what = f"metric {op.name!r}"
        case StoreFile():
            what = f"file {op.filename or op.artifact!r}"
        case _:
            what = op.KIND.replace("_", " ")
    return f"write {'?' if seq is None else seq} ({what})"


_NOUNS = {
    "start": "run",
    "set": "update",
    "file": "file",
    "metric_new": "new metric",
    "metric_push": "metric batch",
    "out_chunk": "output chunk",
    "out_reset": "output reset",
}


def summary(ops: Iterable[Op]) -> str:
    """Return e.g. ``"3 metric batches, 2 updates"`` for some operations."""
    counts: dict[str, int] = {}
    for op in ops:
        counts[op.KIND] = counts.get(op.KIND, 0) + 1
    parts = []
    for kind, count in sorted(counts.items()):
        noun = _NOUNS.get(kind, kind.replace("_", " "))
        plural = "" if count == 1 else ("es" if noun.endswith("h") else "s")
        parts.append(f"{count} {noun}{plural}")
    return ", ".join(parts) or "nothing"
