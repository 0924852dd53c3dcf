"""Writing one run's metrics: ``metrics.json`` while small, then the side file (internal).

:mod:`sacredlite.formats.file` documents both files; :mod:`._metrics_read` reads them.
"""

from __future__ import annotations

import json
import os
import shutil
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from ._io import open_atomic, write_all, write_atomic
from ._json import Warner, json_item
from ._layout import METRICS_FILE, SIDE_FILE, SPILL_DIR
from ._metrics_read import BASE, finalize_metrics, merge_batches, read_metrics
from ._metrics_text import (
    ITEM_SEP,
    KEYS,
    Encoded,
    Fragment,
    batch_line,
    dump_metrics,
    encode_series,
    layout,
)

LIVE_LIMIT = 1 << 20
"""Bytes of JSON-encoded points up to which ``metrics.json`` is rewritten after each batch."""

_SIDE, _HELD, _SPILLED = 0, 1, 2
"""Where a piece of a metric's list is: the side file (compact text at an offset, laid out
when copied), held in memory (a group of fragments), or the spill file (laid-out text at
an offset)."""
_CHUNK = 1 << 20
_BIG = 1 << 14
"""Fragments from this size on are read back from the side file instead of being held."""
_OVERHEAD = 128
"""About the bytes of Python objects around each held fragment (for the memory budget)."""
_ITEM_SEP = ITEM_SEP.encode()
_SPILL_NAME = "points"


def _size(fragment: Fragment) -> int:
    return len(fragment[0]) + len(fragment[1] or "")


def _group_layout(group: list[Fragment]) -> str:
    """Return the items of consecutive fragments as they stand in ``metrics.json``."""
    if all(fragment[1] is None for fragment in group):  # numbers and times: all in C
        return ",".join([fragment[0] for fragment in group]).replace(",", ITEM_SEP)
    return ITEM_SEP.join([layout(fragment) for fragment in group])


class MetricsWriter:
    """Write one run's metrics: ``metrics.json`` while they are small, then the side file.

    Each batch is encoded once. While the run's points take at most *live_limit* bytes,
    ``metrics.json`` is rewritten with every point after each batch (Sacred's behaviour,
    at most *live_limit* bytes per batch); past that, each batch is appended to the side
    file with one write, and :meth:`finish` writes ``metrics.json`` once at the end,
    streaming, so a run's points are never all in memory, neither as text nor as Python
    objects: a big piece of a batch (the usual case when many points are logged fast) is
    copied back from the side file, where this writer remembers only its offset; small
    pieces (a long run's batches of a few points) are held, up to *memory_limit* bytes,
    then moved to a spill file in ``<run_dir>/.metrics_spill/`` (removed by :meth:`finish`),
    one contiguous piece per metric each time.

    Args:
        run_dir: the run's directory.
        memory_limit: bytes of encoded points to hold in memory before spilling to disk.
        live_limit: bytes of encoded points up to which ``metrics.json`` is kept complete
            during the run (at most *memory_limit*).
    """

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        memory_limit: int = 16 << 20,
        live_limit: int = LIVE_LIMIT,
    ) -> None:
        self.run_dir = os.fspath(run_dir)
        self.memory_limit = memory_limit
        self.live_limit = min(live_limit, memory_limit)
        self._columns: dict[str, tuple[array[int], array[int], array[int]]] = {}
        """Per metric and key of KEYS: its pieces, three numbers each (where, a, b)."""
        self._held: list[list[Fragment]] = []
        self._live_size = 0  # bytes of text in metrics.json while live
        self._held_size = 0  # bytes held in memory, objects included
        self._counts: dict[str, int] = {}  # points per metric so far
        self._live = True  # metrics.json still holds every point
        self._resync = False
        self._finished = False
        self._warn: Warner | None = None  # made when first needed

    def _path(self, name: str) -> str:
        return os.path.join(self.run_dir, name)

    def add(self, metrics_by_name: Mapping[str, Any]) -> None:
        """Store a batch, ``{name: points}``: :class:`~sacredlite.events.MetricPoints`, or
        Sacred's ``{"steps", "values", "timestamps"}`` lists.

        Safe to retry after it raised: nothing is kept until the batch is written.
        """
        encoded = [
            encode_series(name, series, self._converter) for name, series in metrics_by_name.items()
        ]
        if not encoded:  # Sacred writes metrics.json even for an empty batch: "{}"
            if self._live and not self._columns and not os.path.exists(self._path(METRICS_FILE)):
                write_atomic(self._path(METRICS_FILE), "{}")
            return
        if self._finished:  # points after the end (rare): merge them into metrics.json
            self._merge_late(encoded)
            return
        size = sum(_size(f) for _, _, frags in encoded for f in frags)
        if self._live and self._live_size + size <= self.live_limit:
            self._write_final(encoded)
            self._live_size += size
            spans = None
        else:
            spans = self._append(encoded)
            self._live = False
        for i, (name, count, frags) in enumerate(encoded):
            column = self._column(name)
            self._counts[name] = self._counts.get(name, 0) + count
            for index, fragment in enumerate(frags):
                if not fragment[0]:
                    continue
                if spans is not None and fragment[1] is None and len(fragment[0]) >= _BIG:
                    at = 6 * i + 2 * index
                    column[index].extend((_SIDE, spans[at], spans[at + 1]))
                else:
                    self._hold(column[index], fragment)
        if self._held_size > self.memory_limit and not self._live:
            try:
                self._spill()
            except OSError:
                pass  # the points stay in memory; spilling is tried again next batch

    def continue_from(self, metrics: Mapping[str, Any]) -> None:
        """Start from a resumed run's stored points (:func:`read_metrics`' shape, its side
        file already folded in with :func:`finalize_metrics`): later batches follow them.

        The stored points are taken as the first batch: while small, ``metrics.json`` is
        rewritten with the same points; past the live bound they go to a new side file whose
        base is empty, and ``metrics.json`` is removed only once the side file holds them
        (a crash in between leaves ``metrics.json``, which readers then prefer).
        """
        if not metrics:
            return
        self.add(metrics)
        if not self._live and os.path.exists(self._path(METRICS_FILE)):
            os.remove(self._path(METRICS_FILE))

    def _column(self, name: str) -> tuple[array[int], array[int], array[int]]:
        column = self._columns.get(name)
        if column is None:
            column = self._columns[name] = (array("q"), array("q"), array("q"))
        return column

    def _hold(self, pieces: array[int], fragment: Fragment) -> None:
        if pieces and pieces[-3] == _HELD:  # goes on the group of the batches before
            self._held[pieces[-2]].append(fragment)
        else:
            pieces.extend((_HELD, len(self._held), 0))
            self._held.append([fragment])
        self._held_size += _size(fragment) + _OVERHEAD

    def _converter(self, where: str) -> Callable[[Any], Any]:
        """Return what turns a value that JSON cannot hold into what Sacred stores (its
        jsonpickle form), or else its string form with one warning naming *where*."""
        if self._warn is None:
            self._warn = Warner("FileStorageObserver")
        return json_item(where, self._warn)

    def _append(self, encoded: Sequence[Encoded]) -> list[int]:
        """Append the batch to the side file with one write; return its pieces' offsets."""
        lead = "\n" if self._resync else ""  # closes the line a failed write left torn
        if self._live:  # the side file begins: record what metrics.json holds
            lead += json.dumps([BASE, self._counts], separators=(",", ":")) + "\n"
        fd = os.open(self._path(SIDE_FILE), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            start = os.fstat(fd).st_size + len(lead)  # one writer: the line lands there
            line, spans = batch_line(encoded, start)
            write_all(fd, (lead + line).encode("ascii"))  # JSON's escapes keep it ASCII
        except BaseException:
            self._resync = True
            raise
        finally:
            os.close(fd)
        self._resync = False
        return spans

    def _spill(self) -> None:
        """Move the held groups to the spill file, one piece each."""
        os.makedirs(self._path(SPILL_DIR), exist_ok=True)
        path = os.path.join(self._path(SPILL_DIR), _SPILL_NAME)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            offset = os.fstat(fd).st_size
            for column in self._columns.values():
                for pieces in column:
                    for k in range(0, len(pieces), 3):
                        if pieces[k] == _HELD:
                            data = _group_layout(self._held[pieces[k + 1]]).encode("ascii")
                            write_all(fd, data)
                            pieces[k : k + 3] = array("q", (_SPILLED, offset, len(data)))
                            offset += len(data)
        finally:
            os.close(fd)
        self._held.clear()
        self._held_size = 0

    def _write_final(self, extra: Sequence[Encoded] = ()) -> None:
        """Write ``metrics.json`` atomically, streaming, from the pieces plus *extra* (a
        batch not kept yet)."""
        more = {name: frags for name, _, frags in extra}
        sources: dict[int, int] = {}
        try:
            with open_atomic(self._path(METRICS_FILE)) as out:
                out.write(b"{")
                for i, name in enumerate(sorted(self._columns.keys() | more.keys())):
                    out.write(f"{',' if i else ''}\n  {json.dumps(name)}: {{".encode())
                    frags = more.get(name)
                    for index, key in enumerate(KEYS):
                        out.write(f'{"," if index else ""}\n    "{key}": '.encode())
                        fragment = frags[index] if frags else None
                        self._write_list(out, sources, name, index, fragment)
                    out.write(b"\n  }")
                out.write(b"\n}")
        finally:
            for fd in sources.values():
                os.close(fd)

    def _write_list(
        self, out: IO[bytes], sources: dict[int, int], name: str, index: int, extra: Any
    ) -> None:
        column = self._columns.get(name)
        pieces = column[index] if column is not None else array("q")
        if not pieces and not (extra is not None and extra[0]):
            out.write(b"[]")
            return
        out.write(b"[\n      ")
        for k in range(0, len(pieces), 3):
            if k:
                out.write(_ITEM_SEP)
            where, a, b = pieces[k : k + 3]
            if where == _HELD:
                out.write(_group_layout(self._held[a]).encode("ascii"))
            else:
                self._copy(out, self._source(sources, where), a, b, laid_out=where == _SPILLED)
        if extra is not None and extra[0]:
            if pieces:
                out.write(_ITEM_SEP)
            out.write(layout(extra).encode("ascii"))
        out.write(b"\n    ]")

    def _source(self, sources: dict[int, int], where: int) -> int:
        fd = sources.get(where)
        if fd is None:
            name = SIDE_FILE if where == _SIDE else os.path.join(SPILL_DIR, _SPILL_NAME)
            fd = sources[where] = os.open(self._path(name), os.O_RDONLY)
        return fd

    def _copy(self, out: IO[bytes], fd: int, offset: int, length: int, laid_out: bool) -> None:
        """Copy *length* bytes at *offset* of *fd*, laying compact text out on the way."""
        end = offset + length
        while offset < end:
            data = os.pread(fd, min(_CHUNK, end - offset), offset)
            if not data:
                raise OSError(f"a metrics file in {self.run_dir!r} was cut short while in use")
            offset += len(data)
            out.write(data if laid_out else data.replace(b",", _ITEM_SEP))

    def _merge_late(self, encoded: list[Encoded]) -> None:
        metrics = read_metrics(self.run_dir)
        merge_batches(metrics, [json.loads(batch_line(encoded)[0])])
        write_atomic(self._path(METRICS_FILE), dump_metrics(metrics))
        if os.path.exists(self._path(SIDE_FILE)):
            os.remove(self._path(SIDE_FILE))

    def finish(self) -> None:
        """Write the complete ``metrics.json`` and remove the side file (nothing if no metrics).

        Safe to retry after it raised.
        """
        if self._finished:
            return
        side = self._path(SIDE_FILE)
        if not self._columns:
            if os.path.exists(side):
                finalize_metrics(self.run_dir)
        else:
            if not self._live:  # while live, metrics.json is complete already
                self._write_final()
            if os.path.exists(side):
                os.remove(side)
            if os.path.exists(self._path(SPILL_DIR)):
                shutil.rmtree(self._path(SPILL_DIR), ignore_errors=True)
        self._finished = True
        self._columns.clear()
        self._held.clear()
