"""Export runs as TensorBoard event files: ``sacredlite export SRC --to tensorboard LOGDIR``
and :func:`export_tensorboard`.

Each run's metrics go to ``LOGDIR/<experiment>/<run id>/events.out.tfevents.*`` as
scalars (full double precision, each point with its step and wall time), so ``tensorboard
--logdir LOGDIR`` shows them and :func:`~.tensorboard_import.import_tensorboard` reads them
back. A run whose directory exists already is skipped.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from .location import opened
from .selection import selection_of
from .tensorboard_events import ScalarWriter


def _folder(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"


def export_tensorboard(
    src: Any,
    logdir: str | os.PathLike[str],
    *,
    status: list[str] | str | None = None,
    experiment: str | None = None,
    ids: str | None = None,
    since: datetime | str | None = None,
) -> int:
    """Write the metrics of the selected runs of *src* as event files; return how many
    runs were written.

    Args:
        src: the store: a directory, a ``mongodb://`` URL or an open store.
        logdir: TensorBoard's log directory (made when missing).
        status: only runs with one of these statuses.
        experiment: only runs of this experiment.
        ids: only these ids (``"3-17,20"``).
        since: only runs started at or after this time.
    """
    selection = selection_of(status, experiment, ids, since)
    count = 0
    with opened(src) as store:
        for record in selection.records(store):
            run_id = record["_id"]
            name = str((record.get("experiment") or {}).get("name") or "experiment")
            folder = os.path.join(os.fspath(logdir), _folder(name), _folder(str(run_id)))
            if os.path.isdir(folder) and os.listdir(folder):
                continue
            os.makedirs(folder, exist_ok=True)
            writer = ScalarWriter(folder)
            try:
                for metric in store.metric_names(run_id):
                    points = store.metric_points(run_id, metric)
                    for step, value, stamp in zip(
                        points["steps"], points["values"], points["timestamps"], strict=False
                    ):
                        wall = stamp.timestamp() if isinstance(stamp, datetime) else 0.0
                        writer.add(metric, float(value), int(step), wall)
            finally:
                writer.close()
            count += 1
    return count
