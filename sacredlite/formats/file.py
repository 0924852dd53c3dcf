"""Sacred's file-storage layout (``-F DIR``): the only code that knows its files and fields.

:class:`~sacredlite.observers.FileStorageObserver` writes through this module, the run
store (:mod:`sacredlite.store.file`) reads through it. Everything Sacred 0.8.7 writes is
written with the same bytes; what sacredlite adds, Sacred's readers ignore.

The layout::

    DIR/
      _sources/<stem>_<md5><ext>      each source file once, content-addressed
      _sources/<repo>_<md5>.diff      a dirty repository's uncommitted changes (sacredlite)
      _resources/<stem>_<md5><ext>    each opened resource once, content-addressed
      _optuna.journal                 ``sacredlite tune``'s Optuna studies, in Optuna's journal
                                      format (sacredlite; not a run: it starts with ``_``)
      <run_id>/                       1, 2, 3, ... (or the id a run was given)
        run.json  config.json  info.json  cout.txt  metrics.json
        metrics.jsonl                 while a run's metrics outgrow the live bound (sacredlite)
        .metrics_spill/               the writer's temporary files (sacredlite; readers skip it)
        omniboard.json                tags and notes set in the board (sacredlite)
        <artifact names>              artifacts, sub-folders allowed
        report<ext>                   the observer's template, rendered (DIR/template.html)

Names starting with ``_`` or ``.`` in DIR are not runs (:func:`is_run_name`). A new run id
is found with ``os.mkdir`` (:func:`make_run_dir`): the next number is tried when another
process took one; a queued run's directory is taken over by the run that starts with its id.

JSON files are written as Sacred writes them: values flattened with jsonpickle
(:func:`flatten`: tuples, sets, numpy and pandas values become jsonpickle's ``py/...``
objects), then ``json.dumps(sort_keys=True, indent=2)``, ASCII with escapes. A value
jsonpickle cannot flatten is stored as its string form, with one warning naming it
(:func:`json_data`). Times are naive-UTC ISO 8601 strings (:func:`iso_utc`). Every file is
replaced through a temporary file and ``os.replace`` (:func:`write_atomic`): a reader sees
the old file or the new one, never half of one.

``run.json``
    ``experiment``: ``name``, ``base_dir``, ``mainfile``, ``doc``, ``sources`` (``[[path
    relative to base_dir, stored path relative to DIR]]``, e.g. ``["exp.py",
    "_sources/exp_<md5>.py"]``; with ``copy_sources=False`` the absolute original path),
    ``dependencies`` (``["numpy==1.26.4", ...]``), ``repositories`` (``[{url, commit,
    dirty}]``; sacredlite adds ``diff_file``, the stored diff's path relative to DIR, where
    the diff was recorded); ``command``; ``host`` (``hostname``, ``os``, ``python_version``,
    ``cpu``, ``gpus``, ``ENV``); ``start_time``, ``heartbeat``, ``stop_time``; ``meta``
    (``command``, ``options``, ``comment``, ...); ``status`` (a
    :class:`~sacredlite.events.RunStatus` value, or the ``STATUS`` of an interrupting
    exception); ``resources`` (``[[path as opened, stored path]]``); ``artifacts`` (names
    in the run directory); ``result``; ``fail_trace`` (the traceback's lines). A queued run
    has only ``experiment``, ``command``, ``host``, ``meta`` and ``status`` (``QUEUED``).
    ``run.json`` is written last when a run starts: its presence marks a complete start.

``config.json``, ``info.json``
    The run's final config, and ``run.info`` (written at heartbeats once not empty).

``cout.txt``
    The captured output (:class:`CoutFile`): appended to as it grows, its last line
    rewritten when only that changed (a progress bar), replaced otherwise. A queued run has
    none.

``metrics.json`` (Sacred's file)
    ``{name: {"steps": [...], "timestamps": [...], "values": [...]}}``, byte for byte as
    Sacred writes it. While a run's points take at most :data:`LIVE_LIMIT` bytes as JSON
    (some 20,000 to 40,000 points), it is rewritten after every batch and holds every
    point, as Sacred's does. Past that it stays as it was until the run ends, when
    :class:`MetricsWriter` writes it once more with every point, streaming.

``metrics.jsonl`` (the side file, sacredlite)
    UTF-8 text, one JSON value per line, appended and never rewritten, so a batch costs
    O(new points). The first line is the base, ``["base", {name: points}]``: how many points
    of each metric ``metrics.json`` held when the side file began. Every other line is one
    batch holding only its new points::

        ["base",{"loss":20000}]
        {"loss":{"steps":[20000,20001],"values":[0.9,0.7],"timestamps":["2026-11-28T00:32:23.123000","2026-11-28T00:32:23.223000"]}}

    ``NaN``/``Infinity`` are written the way Python's :mod:`json` writes them. A line that
    does not end in a newline (the process died mid-write) or does not parse is ignored.
    The side file continues ``metrics.json`` exactly when the point counts in
    ``metrics.json`` equal its base (or ``metrics.json`` is missing): then a reader appends
    its batches (:func:`read_metrics`). Once the run has ended, ``metrics.json`` holds more
    points than the base, so a side file left behind by a crash between the final write
    and its removal is ignored. (A side file without a base line, written by earlier
    versions, continues only a missing ``metrics.json``.) :func:`finalize_metrics` folds a
    crashed run's side file into ``metrics.json``.

Resume (sacredlite, ``--resume ID``): the run directory is reused. ``run.json`` gets
``status`` RUNNING again, loses ``stop_time``, ``fail_trace`` and ``result``, and its
``meta.resumes`` lists each resume (``{time, host, pid, command, argv,
previous_status, resume_point}``); ``cout.txt`` is appended to; the metrics continue (a side file is
folded into ``metrics.json`` first). An interrupted run that can be resumed records
``meta.resume_point`` (``{time, host, reason, last_steps}``); ``meta.requeued`` is only
written by MongoDB's queue.

``omniboard.json`` (sacredlite)
    ``{"tags": [...], "notes": "..."}``, written by the board (:func:`write_omniboard`) so
    that ``run.json`` is never rewritten by anyone but the observer.

:func:`write_run` writes a whole run read from any store (``sacredlite copy``, the
importers) in this layout, ``run.json`` last.

Readers open every file through :func:`open_inside`: nothing outside the storage root is
read, symlinks included (:mod:`._safe` states the rule).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..events import RunStatus
from ._cout import CoutFile
from ._file_write import write_run
from ._io import copy_atomic, md5_file, write_atomic
from ._json import RunJsonEncoder, Warn, Warner, dumps, flatten, iso_utc, json_data
from ._layout import (
    CONFIG_FILE,
    COUT_FILE,
    INFO_FILE,
    MAX_ID_ATTEMPTS,
    METRICS_FILE,
    OMNIBOARD_FILE,
    OPTUNA_JOURNAL_FILE,
    RESERVED,
    RESOURCES_DIR,
    RUN_FILE,
    SECTION_FILES,
    SIDE_FILE,
    SOURCES_DIR,
    SPILL_DIR,
    TEMPLATE_FILE,
    TIME_FIELDS,
    artifact_path,
    is_run_name,
    make_run_dir,
    omniboard_entry,
    report_file,
    status_of,
    store_diff,
    store_once,
    store_sources,
    stored_md5,
    write_omniboard,
)
from ._metrics_read import (
    finalize_metrics,
    parse_final_metrics,
    parse_side_lines,
    read_metrics,
    side_file_base,
    side_file_continues,
)
from ._metrics_text import dump_metrics
from ._metrics_write import LIVE_LIMIT, MetricsWriter
from ._portable import PortableFile, PortableRun
from ._safe import UnsafePathError, open_inside, read_inside, safe_join

__all__ = [
    "CONFIG_FILE",
    "COUT_FILE",
    "INFO_FILE",
    "LIVE_LIMIT",
    "MAX_ID_ATTEMPTS",
    "METRICS_FILE",
    "OMNIBOARD_FILE",
    "OPTUNA_JOURNAL_FILE",
    "RESERVED",
    "RESOURCES_DIR",
    "RUN_FILE",
    "SECTION_FILES",
    "SIDE_FILE",
    "SOURCES_DIR",
    "SPILL_DIR",
    "STATIC_RUN_KEYS",
    "TEMPLATE_FILE",
    "TIME_FIELDS",
    "CoutFile",
    "MetricsWriter",
    "PortableFile",
    "PortableRun",
    "RunJsonEncoder",
    "UnsafePathError",
    "Warn",
    "Warner",
    "artifact_path",
    "copy_atomic",
    "dump_metrics",
    "dumps",
    "finalize_metrics",
    "flatten",
    "is_run_name",
    "iso_utc",
    "last_steps",
    "json_data",
    "make_run_dir",
    "md5_file",
    "new_run_entry",
    "omniboard_entry",
    "open_inside",
    "parse_final_metrics",
    "parse_side_lines",
    "read_inside",
    "read_metrics",
    "read_run",
    "report_file",
    "safe_join",
    "side_file_base",
    "side_file_continues",
    "status_of",
    "store_diff",
    "store_once",
    "store_sources",
    "stored_md5",
    "write_atomic",
    "write_omniboard",
    "write_run",
    "write_text",
]

STATIC_RUN_KEYS = frozenset({"command", "experiment", "host", "meta", "start_time"})
"""``run.json`` entries that do not change after the run starts (their text is reused)."""


def new_run_entry(
    status: RunStatus,
    experiment: dict[str, Any],
    command: str,
    host: dict[str, Any],
    meta: dict[str, Any],
    start_time: datetime | None = None,
) -> dict[str, Any]:
    """Return the ``run.json`` entry of a run that starts (or is queued, without a
    *start_time*), with Sacred's keys."""
    entry: dict[str, Any] = {"experiment": experiment, "command": command, "host": host}
    if start_time is not None:
        entry["start_time"] = iso_utc(start_time)
    entry["meta"] = meta
    entry["status"] = status.value
    if status is not RunStatus.QUEUED:
        entry.update(resources=[], artifacts=[], heartbeat=None)
    return entry


def read_run(run_dir: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a run's parsed ``run.json`` and ``config.json`` (``{}`` when it has none),
    e.g. to resume it. Both are read without following a link out of *run_dir*."""
    entry = json.loads(read_inside(run_dir, RUN_FILE))
    try:
        config = json.loads(read_inside(run_dir, CONFIG_FILE))
    except FileNotFoundError:
        config = {}
    return entry, config if isinstance(config, dict) else {}


def last_steps(metrics: dict[str, Any]) -> dict[str, int]:
    """Return the last step of each metric of :func:`read_metrics`' result."""
    return {
        name: int(series["steps"][-1])
        for name, series in metrics.items()
        if isinstance(series, dict) and series.get("steps")
    }


def write_text(path: str, text: str, atomic: bool = True) -> None:
    """Write *text* to *path*: through a temporary file unless *atomic* is false (for a
    file no reader can look at yet)."""
    if atomic:
        write_atomic(path, text)
    else:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
