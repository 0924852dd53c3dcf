"""Metric files of a file-storage run: Sacred's ``metrics.json`` and an append-only side file.

Sacred's FileStorageObserver rewrites the whole ``metrics.json`` on every ``log_metrics``,
which is quadratic in the number of points. :class:`MetricsWriter` keeps Sacred's
observable behaviour while a run's metrics are small and appends beyond that:

* While the points of a run take at most :data:`LIVE_LIMIT` bytes as JSON (about 20,000
  to 40,000 points), ``metrics.json`` is rewritten, atomically, after every batch: it
  always holds every point, as Sacred's does. Each rewrite costs at most ``LIVE_LIMIT``.
* Past that bound, ``metrics.json`` stays as it was and each batch is appended, with one
  write, to the side file ``metrics.jsonl`` (O(new points)). When the run ends,
  ``metrics.json`` is written once more with every point and the side file is removed.

This module defines both files and is the one place that reads them: :func:`read_metrics`
returns the points of live, finished and crashed runs alike; the run store follows the
same rules through :func:`side_file_base` and :func:`side_file_continues`. It imports only
the standard library (and, for a value JSON cannot hold, :mod:`._storable`).

``<run_dir>/metrics.json`` (Sacred's file)
    ``{name: {"steps": [...], "timestamps": [...], "values": [...]}}``, laid out byte for
    byte as Sacred writes it (``sort_keys=True, indent=2``), always through a temporary
    file and ``os.replace``. Timestamps are naive-UTC ISO 8601 strings.

``<run_dir>/metrics.jsonl`` (the side file, beyond Sacred)
    UTF-8 text, one JSON value per line, appended and never rewritten. The first line is
    the base, ``["base", {name: points}]``: how many points of each metric ``metrics.json``
    held when the side file began. Every other line is one batch holding only its new
    points::

        ["base",{"loss":20000}]
        {"loss":{"steps":[20000,20001],"values":[0.9,0.7],"timestamps":["2026-11-28T00:32:23.123456","2026-11-28T00:32:23.223456"]}}

    ``NaN``/``Infinity`` are written the way Python's :mod:`json` writes them. A line that
    does not end in a newline (the process died mid-write) or does not parse is ignored.

    The side file continues ``metrics.json`` exactly when the point counts in
    ``metrics.json`` equal its base (or ``metrics.json`` is missing): then a reader appends
    its batches. Once the run has ended, ``metrics.json`` holds more points than the base,
    so a side file left behind by a crash between the final write and its removal is
    ignored. (A side file without a base line, written by earlier versions, continues only
    a missing ``metrics.json``.)

``<run_dir>/.metrics_spill/`` (temporary)
    Encoded points of a long run that outgrew the writer's memory budget; removed when
    ``metrics.json`` is written at the end. Readers ignore it.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ._metrics_json import (
    ITEM_SEP,
    KEYS,
    Encoded,
    Fragment,
    batch_line,
    fragments,
    layout,
    stamp_fragments,
)
from ._metrics_json import dump_metrics as dump_metrics
from ._metrics_json import iso_utc as iso_utc

__all__ = [
    "LIVE_LIMIT",
    "METRICS_FILE",
    "SIDE_FILE",
    "MetricsWriter",
    "append_metrics",
    "dump_metrics",
    "finalize_metrics",
    "iso_utc",
    "read_metrics",
    "side_file_base",
    "side_file_continues",
    "write_atomic",
]

METRICS_FILE = "metrics.json"
"""Sacred's metrics file, present once a run has ended."""

SIDE_FILE = "metrics.jsonl"
"""The append-only side file of a run whose metrics outgrew :data:`LIVE_LIMIT`."""

LIVE_LIMIT = 1 << 20
"""Bytes of JSON-encoded points up to which ``metrics.json`` is rewritten after each batch."""

_BASE = "base"


SPILL_DIR = ".metrics_spill"
"""Where a run's encoded points go once they outgrow the writer's memory budget."""


class MetricsWriter:
    """Write one run's metrics: ``metrics.json`` while they are small, then the side file.

    Each batch is encoded once. While the run's points take at most *live_limit* bytes,
    ``metrics.json`` is rewritten with every point after each batch (Sacred's behaviour,
    at most *live_limit* bytes per batch); past that, each batch is appended to the side
    file with one write, and :meth:`finish` writes ``metrics.json`` once at the end. The
    points are kept as encoded text (about 25-65 bytes per point, far less than Python
    objects) so that writing ``metrics.json`` only concatenates: a million points take a
    fraction of a second. Beyond *memory_limit* bytes the text moves to one spill file per
    metric and field in ``<run_dir>/.metrics_spill/`` (removed by :meth:`finish`), so a run
    of any length holds a bounded amount of memory.

    Args:
        run_dir: the run's directory.
        memory_limit: bytes of encoded points to hold in memory before spilling to disk.
        live_limit: bytes of encoded points up to which ``metrics.json`` is kept complete
            during the run (at most *memory_limit*).
    """

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        memory_limit: int = 64 << 20,
        live_limit: int = LIVE_LIMIT,
    ) -> None:
        self.run_dir = os.fspath(run_dir)
        self.memory_limit = memory_limit
        self.live_limit = min(live_limit, memory_limit)
        self._parts: dict[str, tuple[list[Fragment], list[Fragment], list[Fragment]]] = {}
        self._counts: dict[str, int] = {}  # points per metric so far
        self._held = 0
        self._live = True  # metrics.json still holds every point
        self._spill: dict[str, int] | None = None  # name -> spill file number, once spilling
        self._resync = False
        self._finished = False
        self._warn: Any = None  # a _storable.Warner, made when first needed

    def add(self, metrics_by_name: Mapping[str, Mapping[str, Iterable[Any]]]) -> None:
        """Store a ``log_metrics`` batch, ``{name: {"steps", "values", "timestamps"}}``.

        Safe to retry after it raised: nothing is kept until the batch is written.
        """
        encoded: list[Encoded] = []
        for name, series in metrics_by_name.items():
            step_list = list(series["steps"])
            steps = fragments(step_list, self._converter(f"a step of metric {name!r}"))
            stamps = stamp_fragments(list(series["timestamps"]))
            values = fragments(list(series["values"]), self._converter(f"metric {name!r}"))
            encoded.append((str(name), len(step_list), (steps, stamps, values)))
        if not encoded:  # Sacred writes metrics.json even for an empty batch: "{}"
            if self._live and not self._parts:
                final = os.path.join(self.run_dir, METRICS_FILE)
                if not os.path.exists(final):
                    write_atomic(final, "{}")
            return
        if self._finished:  # points after the end (rare): merge them into metrics.json
            self._merge_late(encoded)
            return
        size = sum(len(f[0]) + len(f[1] or "") for _, _, frags in encoded for f in frags)
        if self._live and self._held + size <= self.live_limit:
            self._write_final(encoded)
        else:
            line = batch_line(encoded)
            if self._live:  # the side file begins: record what metrics.json holds
                line = json.dumps([_BASE, self._counts], separators=(",", ":")) + "\n" + line
            try:
                append_metrics(self.run_dir, line, resync=self._resync)
            except BaseException:
                self._resync = True  # a retry first closes the torn line this may have left
                raise
            self._resync = False
            self._live = False
        for name, count, frags in encoded:
            self._counts[name] = self._counts.get(name, 0) + count
            self._keep(name, frags)

    def _converter(self, where: str) -> Callable[[Any], Any]:
        """Return what turns a value that JSON cannot hold into what Sacred stores (its
        jsonpickle form), or else its string form with one warning naming *where*."""

        def convert(value: Any) -> Any:
            if self._warn is None:  # imported only when a batch is not plain JSON
                from ._storable import Warner

                self._warn = Warner("FileStorageObserver")
            from ._storable import json_item

            return json_item(where, self._warn)(value)

        return convert

    def _merge_late(self, encoded: list[Encoded]) -> None:
        metrics = read_metrics(self.run_dir)
        for name, series in json.loads(batch_line(encoded)).items():
            target = metrics.setdefault(name, {"steps": [], "timestamps": [], "values": []})
            for key in KEYS:
                target[key].extend(series[key])
        write_atomic(os.path.join(self.run_dir, METRICS_FILE), dump_metrics(metrics))
        side = os.path.join(self.run_dir, SIDE_FILE)
        if os.path.exists(side):
            os.remove(side)

    def _keep(self, name: str, fragments: tuple[Fragment, ...]) -> None:
        if self._spill is not None:
            self._append_spill(name, fragments)
            return
        parts = self._parts.setdefault(name, ([], [], []))
        for part, fragment in zip(parts, fragments, strict=True):
            if fragment[0]:
                part.append(fragment)
                self._held += len(fragment[0]) + len(fragment[1] or "")
        if self._held > self.memory_limit:
            self._spill = {}
            os.makedirs(os.path.join(self.run_dir, SPILL_DIR), exist_ok=True)
            for held_name, held_parts in self._parts.items():
                joined = tuple(ITEM_SEP.join(layout(f) for f in p) for p in held_parts)
                self._append_spill(held_name, tuple((text, text) for text in joined))
                for part in held_parts:
                    part.clear()
            self._held = 0

    def _spill_path(self, number: int, key: str) -> str:
        return os.path.join(self.run_dir, SPILL_DIR, f"{number}.{key}")

    def _append_spill(self, name: str, fragments: tuple[Fragment, ...]) -> None:
        assert self._spill is not None
        self._parts.setdefault(name, ([], [], []))  # keeps the set of names
        number = self._spill.setdefault(name, len(self._spill))
        for key, fragment in zip(KEYS, fragments, strict=True):
            if fragment[0]:
                text = layout(fragment)
                with open(self._spill_path(number, key), "ab") as file:
                    file.write((ITEM_SEP + text if file.tell() else text).encode())

    def _write_list(self, file: Any, name: str, index: int, extra: Fragment | None) -> None:
        if self._spill is not None:
            path = self._spill_path(self._spill.get(name, -1), KEYS[index])
            if not os.path.exists(path):
                file.write(b"[]")
                return
            file.write(b"[\n      ")
            with open(path, "rb") as spilled:
                shutil.copyfileobj(spilled, file, 1 << 20)
            file.write(b"\n    ]")
            return
        part = list(self._parts.get(name, ([], [], []))[index])
        if extra is not None and extra[0]:
            part.append(extra)
        if not part:
            file.write(b"[]")
            return
        file.write(b"[\n      ")
        for k, fragment in enumerate(part):
            if k:
                file.write(ITEM_SEP.encode())
            file.write(layout(fragment).encode())
        file.write(b"\n    ]")

    def _write_final(self, extra: Sequence[Encoded] = ()) -> None:
        """Write ``metrics.json`` atomically from the kept points plus *extra* (not kept yet)."""
        final = os.path.join(self.run_dir, METRICS_FILE)
        more = {name: frags for name, _, frags in extra}
        tmp = f"{final}.tmp{os.getpid()}_{threading.get_ident()}"
        # Written piece by piece: joining one 100 MB string first would copy it several times.
        # Every fragment is ASCII (the JSON encoder escapes the rest).
        try:
            with open(tmp, "wb") as file:
                file.write(b"{")
                for i, name in enumerate(sorted(self._parts.keys() | more.keys())):
                    file.write(f"{',' if i else ''}\n  {json.dumps(name)}: {{".encode())
                    frags = more.get(name)
                    for j, key in enumerate(KEYS):
                        file.write(f'{"," if j else ""}\n    "{key}": '.encode())
                        self._write_list(file, name, j, frags[j] if frags else None)
                    file.write(b"\n  }")
                file.write(b"\n}")
            os.replace(tmp, final)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def finish(self) -> None:
        """Write the complete ``metrics.json`` and remove the side file (nothing if no metrics)."""
        if self._finished:
            return
        self._finished = True
        side = os.path.join(self.run_dir, SIDE_FILE)
        if not self._parts:
            if os.path.exists(side):
                finalize_metrics(self.run_dir)
            return
        if not self._live:  # while live, metrics.json is complete already
            self._write_final()
        if os.path.exists(side):
            os.remove(side)
        if self._spill is not None:
            shutil.rmtree(os.path.join(self.run_dir, SPILL_DIR), ignore_errors=True)


def append_metrics(run_dir: str | os.PathLike[str], line: str, *, resync: bool = False) -> None:
    """Append one encoded batch to the run's side file with a single write.

    Args:
        run_dir: the run's directory.
        line: one JSON object and its newline.
        resync: start with a newline, to close a line a failed earlier write left torn.
    """
    data = (("\n" + line) if resync else line).encode("utf-8")
    fd = os.open(os.path.join(run_dir, SIDE_FILE), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _read_side_file(path: str) -> tuple[dict[str, int] | None, list[dict[str, Any]]]:
    """Return the side file's base (``None`` without one) and its complete batches."""
    with open(path, "rb") as file:
        data = file.read()
    base: dict[str, int] | None = None
    batches: list[dict[str, Any]] = []
    for raw in data.split(b"\n")[:-1]:  # the part after the last newline is torn or empty
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict):
            batches.append(line)
        elif _is_base(line) and base is None and not batches:
            base = line[1]
    return base, batches


def _is_base(line: Any) -> bool:
    return isinstance(line, list) and len(line) == 2 and line[0] == _BASE and type(line[1]) is dict


def side_file_base(path: str | os.PathLike[str]) -> dict[str, int] | None:
    """Return the base line of a side file (``{name: points}``), or ``None`` if it has none.

    Reads only up to the first line that parses (a retry may have put the base after a line
    torn by a failed write).
    """
    with open(path, "rb") as file:
        for raw in file:
            if not raw.endswith(b"\n"):
                return None
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            return line[1] if _is_base(line) else None
    return None


def side_file_continues(base: Mapping[str, int] | None, final: Mapping[str, int] | None) -> bool:
    """Return whether a side file with *base* continues a ``metrics.json`` with *final*.

    Args:
        base: the side file's base (:func:`side_file_base`).
        final: the points per metric in ``metrics.json``, or ``None`` if there is none.
    """
    if final is None:
        return True
    return base is not None and dict(base) == dict(final)


def _merge(into: dict[str, dict[str, list[Any]]], batches: list[dict[str, Any]]) -> None:
    for batch in batches:
        for name, series in batch.items():
            if not isinstance(series, dict):
                continue
            target = into.get(name)
            if target is None:
                target = into[name] = {"steps": [], "timestamps": [], "values": []}
            for key in KEYS:
                target[key].extend(series.get(key, ()))


def _counts(metrics: Mapping[str, Any]) -> dict[str, int]:
    return {name: len(series.get("steps", ())) for name, series in metrics.items()}


def _read_all(run_dir: str | os.PathLike[str]) -> tuple[dict[str, Any], bool]:
    """Return every point of a run, and whether the side file held some of them."""
    final: dict[str, Any] | None = None
    try:
        with open(os.path.join(run_dir, METRICS_FILE), encoding="utf-8") as file:
            final = json.load(file)
    except FileNotFoundError:
        pass
    metrics: dict[str, Any] = final if final is not None else {}
    try:
        base, batches = _read_side_file(os.path.join(run_dir, SIDE_FILE))
    except FileNotFoundError:
        return metrics, False
    continues = side_file_continues(base, None if final is None else _counts(final))
    if continues:
        _merge(metrics, batches)
    return metrics, continues


def read_metrics(
    run_dir: str | os.PathLike[str], names: Iterable[str] | None = None
) -> dict[str, dict[str, list[Any]]]:
    """Return a run's metrics, ``{name: {"steps", "timestamps", "values"}}``.

    Reads ``metrics.json`` and, when it continues that file, the side file (ignoring a torn
    last line), for running, finished and crashed runs alike. Timestamps are naive-UTC ISO
    strings. A run without metrics gives ``{}``.

    Args:
        run_dir: the run's directory, e.g. ``runs/7``.
        names: only these metrics (all when ``None``).
    """
    metrics, _ = _read_all(run_dir)
    if names is not None:
        wanted = set(names)
        metrics = {k: v for k, v in metrics.items() if k in wanted}
    return metrics


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write *text* to *path* through a temporary file and ``os.replace``."""
    tmp = f"{os.fspath(path)}.tmp{os.getpid()}_{threading.get_ident()}"
    try:
        with open(tmp, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def finalize_metrics(run_dir: str | os.PathLike[str]) -> bool:
    """Fold the side file into ``metrics.json`` and remove it; return whether it was folded.

    Usable on a crashed run's directory. A side file that does not continue
    ``metrics.json`` is a leftover and is only removed.
    """
    side = os.path.join(run_dir, SIDE_FILE)
    if not os.path.exists(side):
        return False
    metrics, continues = _read_all(run_dir)
    if continues:
        write_atomic(os.path.join(run_dir, METRICS_FILE), dump_metrics(metrics))
    os.remove(side)
    return continues
