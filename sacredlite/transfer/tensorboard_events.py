"""TensorBoard event files: read their scalars, write scalars (internal).

An event file (``events.out.tfevents.*``) is a sequence of TFRecords: an 8-byte
little-endian length, a 4-byte masked CRC-32C of the length, the data, a 4-byte masked
CRC-32C of the data. Each record's data is an ``Event`` protobuf, decoded with
tensorboard's compiled protos (no TensorFlow). Scalars come as ``simple_value`` (TF1,
tensorboardX) or as a rank-0 tensor with the ``scalars`` plugin (TF2, ``tensorboard``'s
own writer); both are read. A torn last record (a writer still running or killed) ends
the file.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

EVENT_FILE_MARK = "tfevents"
"""Event files have this in their names (``events.out.tfevents.<time>.<host>...``)."""
MAX_RECORD_BYTES = 256 << 20
"""A record longer than this is taken as a corrupt length and ends the file."""


def is_event_file(name: str) -> bool:
    """Return whether *name* is a TensorBoard event file's name."""
    return EVENT_FILE_MARK in name and not name.endswith(".tmp")


def records(handle: BinaryIO) -> Iterator[bytes]:
    """Yield the data of each complete TFRecord of *handle*."""
    while True:
        header = handle.read(12)
        if len(header) < 12:
            return
        (length,) = struct.unpack("<Q", header[:8])
        if length > MAX_RECORD_BYTES:
            return
        data = handle.read(length)
        if len(data) < length or len(handle.read(4)) < 4:
            return
        yield data


def _tensor_value(tensor: Any) -> float | None:
    """Return the single number of a rank-0 tensor, or ``None``."""
    for field in ("double_val", "float_val", "int64_val", "int_val", "half_val"):
        values = getattr(tensor, field)
        if len(values) == 1:
            return float(values[0])
    content = tensor.tensor_content
    formats = {1: "<f", 2: "<d", 3: "<i", 9: "<q"}  # DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64
    fmt = formats.get(tensor.dtype)
    if fmt is not None and len(content) == struct.calcsize(fmt):
        return float(struct.unpack(fmt, content)[0])
    return None


def scalars(path: str | os.PathLike[str]) -> Iterator[tuple[str, int, float, float]]:
    """Yield ``(tag, step, wall_time, value)`` of every scalar in the event file *path*."""
    from tensorboard.compat.proto import event_pb2

    with open(path, "rb") as handle:
        for data in records(handle):
            event = event_pb2.Event.FromString(data)
            if not event.HasField("summary"):
                continue
            for value in event.summary.value:
                kind = value.WhichOneof("value")
                if kind == "simple_value":
                    number: float | None = float(value.simple_value)
                elif kind == "tensor" and (
                    value.metadata.plugin_data.plugin_name in ("scalars", "")
                    and not value.tensor.tensor_shape.dim
                ):
                    number = _tensor_value(value.tensor)
                else:
                    continue
                if number is not None:
                    yield value.tag, int(event.step), float(event.wall_time), number


class ScalarWriter:
    """Write scalars to a new event file in *logdir*, as TensorBoard's ``scalars`` plugin
    reads them (rank-0 double tensors, so values keep full precision).

    Args:
        logdir: the run's directory (made when missing).
    """

    def __init__(self, logdir: str | os.PathLike[str]) -> None:
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._writer = EventFileWriter(os.fspath(logdir))

    def add(self, tag: str, value: float, step: int, wall_time: float) -> None:
        """Add one point of the scalar *tag*."""
        from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2

        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE, double_val=[value])
        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
        )
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=metadata)]
        )
        self._writer.add_event(event_pb2.Event(wall_time=wall_time, step=step, summary=summary))

    def close(self) -> None:
        """Flush and close the file."""
        self._writer.close()
