"""Import TensorBoard event files: ``sacredlite import tensorboard LOGDIR DST`` and
:func:`import_tensorboard`.

Every directory under LOGDIR holding event files becomes one run: its scalars become
metrics (tag as the name, with steps and wall times); the experiment is named after the
first folder of ``LOGDIR/<experiment>/<run>`` (else after LOGDIR); ``meta.comment`` is
the directory's path under LOGDIR; the start and stop times are the first and last wall
times; ``meta.imported_from`` records ``{"kind": "tensorboard", "source": LOGDIR, "id":
<the directory under LOGDIR>}``. Only scalars are imported (images, histograms and text
are not metrics).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from ..events import RunStatus
from ..formats.file import PortableRun
from .imported import ImportReport, import_runs
from .tensorboard_events import is_event_file, scalars


def event_dirs(logdir: str) -> Iterator[tuple[str, list[str]]]:
    """Yield ``(directory, event files in name order)`` for each run directory."""
    for folder, dirs, files in os.walk(logdir):
        dirs.sort()
        events = sorted(f for f in files if is_event_file(f))
        if events:
            yield folder, [os.path.join(folder, f) for f in events]


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def read_event_dir(name: str, label: str, files: list[str]) -> PortableRun:
    """Return the run of one event directory (*label*: its path under the logdir)."""
    metrics: dict[str, dict[str, list[Any]]] = {}
    first = last = None
    for path in files:
        for tag, step, wall, value in scalars(path):
            series = metrics.setdefault(tag, {"steps": [], "values": [], "timestamps": []})
            series["steps"].append(step)
            series["values"].append(value)
            series["timestamps"].append(_time(wall))
            first = wall if first is None else min(first, wall)
            last = wall if last is None else max(last, wall)
    if first is None:
        first = last = min(os.path.getmtime(p) for p in files)
    start, stop = _time(first), _time(last or first)
    for series in metrics.values():  # by time: files of a restarted run interleave
        order = sorted(range(len(series["steps"])), key=lambda i: (series["timestamps"][i], i))
        for key in series:
            series[key] = [series[key][i] for i in order]
    entry = {
        "experiment": {
            "name": name,
            "base_dir": "",
            "sources": [],
            "dependencies": [],
            "repositories": [],
            "mainfile": "",
        },
        "command": "main",
        "host": {},
        "start_time": start,
        "heartbeat": stop,
        "stop_time": stop,
        "meta": {"command": "main", "options": {}, "comment": label},
        "status": RunStatus.COMPLETED.value,
        "result": None,
    }
    return PortableRun(
        entry=entry,
        metric_names=sorted(metrics),
        read_metric=lambda metric: metrics[metric],
    )


def import_tensorboard(
    logdir: str | os.PathLike[str], dst: Any = "runs", *, progress: bool = False
) -> ImportReport:
    """Import every event directory under *logdir* as a run of *dst*.

    Args:
        logdir: TensorBoard's log directory.
        dst: the store to import into (a directory, a ``mongodb://`` URL or an open store).
        progress: show a progress bar.
    """
    root = os.path.abspath(os.fspath(logdir))
    if not os.path.isdir(root):
        raise FileNotFoundError(f"TensorBoard logdir {os.fspath(logdir)!r} is not a directory.")
    name = os.path.basename(root.rstrip(os.sep)) or "tensorboard"
    found = list(event_dirs(root))
    if not found:
        raise FileNotFoundError(
            f"No TensorBoard event files (events.out.tfevents.*) under {root!r}."
        )

    def made() -> Iterator[tuple[str, Any]]:
        for folder, files in found:
            label = os.path.relpath(folder, root).replace(os.sep, "/")
            parts = label.split("/")
            # LOGDIR/<experiment>/<run> (what the export writes): named after the experiment
            experiment = parts[0] if len(parts) >= 2 else name
            yield (
                label,
                lambda label=label, files=files, experiment=experiment: read_event_dir(
                    experiment, label, files
                ),
            )

    return import_runs(dst, "tensorboard", root, made(), total=len(found), progress=progress)
