"""Reading a run's metrics: ``metrics.json`` and the side file that may continue it
(internal; :mod:`sacredlite.formats.file` documents both files).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._io import write_atomic
from ._layout import METRICS_FILE, SIDE_FILE
from ._metrics_text import KEYS, dump_metrics

BASE = "base"
"""The tag of the side file's first line, ``["base", {name: points}]``."""

Metrics = dict[str, dict[str, list[Any]]]
"""``{name: {"steps": [...], "timestamps": [...], "values": [...]}}``."""


def _is_base(line: Any) -> bool:
    return isinstance(line, list) and len(line) == 2 and line[0] == BASE and type(line[1]) is dict


def parse_side_lines(data: bytes) -> tuple[dict[str, int] | None, list[dict[str, Any]], int]:
    """Parse the complete lines of side-file bytes, read from its start or from the end of
    an earlier read.

    Returns:
        The base (``None`` when *data* does not begin with one), the batches (``{name:
        {"steps", "values", "timestamps"}}``), and how many bytes of *data* those complete
        lines take: a torn last line (a write still going, or a crash) is left for the next
        read; a line that does not parse is skipped.
    """
    end = data.rfind(b"\n") + 1
    base: dict[str, int] | None = None
    batches: list[dict[str, Any]] = []
    for raw in data[:end].split(b"\n"):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict):
            batches.append(line)
        elif _is_base(line) and base is None and not batches:
            base = line[1]
    return base, batches, end


def side_file_base(lines: Iterable[bytes]) -> dict[str, int] | None:
    """Return the base line of a side file (``{name: points}``), or ``None`` if it has none.

    Args:
        lines: the file's lines (an open binary file); read only up to the first line that
            parses (a retry may have put the base after a line torn by a failed write).
    """
    for raw in lines:
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


def merge_batches(into: Metrics, batches: Iterable[Mapping[str, Any]]) -> None:
    """Append the points of side-file *batches* to *into*."""
    for batch in batches:
        for name, series in batch.items():
            if not isinstance(series, dict):
                continue
            target = into.get(name)
            if target is None:
                target = into[name] = {"steps": [], "timestamps": [], "values": []}
            for key in KEYS:
                target[key].extend(series.get(key, ()))


def _read_all(run_dir: str | os.PathLike[str]) -> tuple[Metrics, bool]:
    """Return every point of a run, and whether the side file held some of them."""
    final: Metrics | None = None
    try:
        with open(os.path.join(run_dir, METRICS_FILE), encoding="utf-8") as file:
            final = json.load(file)
    except FileNotFoundError:
        pass
    metrics: Metrics = final if final is not None else {}
    try:
        with open(os.path.join(run_dir, SIDE_FILE), "rb") as file:
            base, batches, _ = parse_side_lines(file.read())
    except FileNotFoundError:
        return metrics, False
    counts = None if final is None else {n: len(s.get("steps", ())) for n, s in final.items()}
    continues = side_file_continues(base, counts)
    if continues:
        merge_batches(metrics, batches)
    return metrics, continues


def read_metrics(run_dir: str | os.PathLike[str], names: Iterable[str] | None = None) -> Metrics:
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


_ARRAY_KEY = re.compile(rb'"(steps|values|timestamps)"\s*:\s*$')


def parse_final_metrics(
    data: bytes, parse_array: Callable[[bytes], Any] = json.loads
) -> dict[str, tuple[Any, Any]]:
    """Return ``{name: (steps, values)}`` from the bytes of a ``metrics.json``, no timestamps.

    The big arrays are cut out of the text and parsed on their own by *parse_array* (given
    the bytes of one JSON array; a reader may parse numbers faster than :func:`json.loads`,
    with numpy), so a 1,000,000-point metric loads several times faster than with
    ``json.load``. Falls back to ``json.loads`` of the whole text on any unusual layout.

    Raises:
        ValueError: *data* is not JSON.
    """
    spans: list[tuple[int, int]] = []
    skeleton: list[bytes] = []
    pos = done = 0
    while True:
        start = data.find(b"[", pos)
        if start < 0:
            break
        if not _ARRAY_KEY.search(data, max(0, start - 40), start):
            pos = start + 1  # a "[" inside a metric name
            continue
        end = data.find(b"]", start) + 1
        if end <= 0:
            break
        skeleton += [data[done:start], str(len(spans)).encode()]
        spans.append((start, end))
        pos = done = end
    skeleton.append(data[done:])
    try:
        layout = json.loads(b"".join(skeleton))
        out = {}
        for name, fields in layout.items():
            steps = parse_array(data[slice(*spans[fields["steps"]])])
            values = parse_array(data[slice(*spans[fields["values"]])])
            if len(steps) != len(values):
                raise ValueError(f"metric {name!r} has {len(steps)} steps, {len(values)} values")
            out[name] = (steps, values)
        return out
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        full = json.loads(data)  # the slow, always-right way
        return {
            n: (m.get("steps", []), m.get("values", []))
            for n, m in full.items()
            if isinstance(m, dict)
        }
