"""Export runs to MLflow: ``sacredlite export SRC --to mlflow URI`` and :func:`export_mlflow`.

Each run becomes an MLflow run in the experiment of its name: the flattened config as
params (:func:`~.params.param_text`, so an import types them back), every metric point
with its step and timestamp, the status and times, the artifacts and the captured output
(``cout.txt``), tags (``sacredlite.tags``, JSON), notes (``mlflow.note.content``) and
where it came from (``sacredlite.source``). A run exported before (same ``sacredlite.source``)
is skipped. Param values past MLflow's limit (6,000 characters) are cut, with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import datetime
from typing import Any

from ..events import RunStatus
from ..store.records import flatten
from .imported import chunks
from .location import opened
from .mlflow_import import (
    NOTES_TAG,
    OUTPUT_ARTIFACT,
    SACREDLITE_TAGS,
    STATUS,
    client_for,
    tracking_uri,
)
from .params import param_text
from .portable import read_run
from .selection import selection_of

logger = logging.getLogger(__name__)

SOURCE_TAG = "sacredlite.source"
"""The MLflow tag naming the exported run: ``<store location>#<run id>``."""
MAX_PARAM_CHARS = 6000
_TERMINAL = {v: k for k, v in STATUS.items() if k not in ("RUNNING", "SCHEDULED")}


def _ms(moment: Any) -> int | None:
    return int(round(moment.timestamp() * 1000)) if isinstance(moment, datetime) else None


def _metric_key(name: str) -> str:
    # MLflow allows letters, digits, _ - . space / in keys
    return "".join(c if c.isalnum() or c in "_-. /" else "_" for c in name) or "_"


def export_mlflow(
    src: Any,
    uri: str | os.PathLike[str],
    *,
    status: list[str] | str | None = None,
    experiment: str | None = None,
    ids: str | None = None,
    since: datetime | str | None = None,
) -> int:
    """Export the selected runs of *src* to the MLflow tracking store *uri*; return how
    many were exported.

    Args:
        src: the store: a directory, a ``mongodb://`` URL or an open store.
        uri: a tracking URI, or a directory for MLflow's file store (made when missing).
        status: only runs with one of these statuses.
        experiment: only runs of this experiment.
        ids: only these ids (``"3-17,20"``).
        since: only runs started at or after this time.
    """
    from mlflow.entities import Metric, Param

    selection = selection_of(status, experiment, ids, since)
    count = 0
    with opened(src) as store:
        with (
            client_for(tracking_uri(uri, create=True)) as client,
            tempfile.TemporaryDirectory(prefix="sacredlite-mlflow-") as scratch,
        ):
            experiments: dict[str, str] = {}
            done = _exported(client)
            for run_id in selection.ids_in(store):
                source = f"{store.identity or store.location}#{run_id}"
                if source in done:
                    continue
                run = read_run(store, run_id)
                name = str((run.entry.get("experiment") or {}).get("name") or "Default")
                if name not in experiments:
                    found = client.get_experiment_by_name(name)
                    experiments[name] = (
                        found.experiment_id if found else client.create_experiment(name)
                    )
                tags = {SOURCE_TAG: source, SACREDLITE_TAGS: json.dumps(run.tags)}
                if run.notes:
                    tags[NOTES_TAG] = run.notes
                comment = (run.entry.get("meta") or {}).get("comment")
                created = client.create_run(
                    experiments[name],
                    start_time=_ms(run.entry.get("start_time")),
                    tags=tags,
                    run_name=str(comment or f"{name}-{run_id}"),
                )
                their = created.info.run_id
                params = []
                for key, value in flatten(run.config).items():
                    text = param_text(value)
                    if len(text) > MAX_PARAM_CHARS:
                        logger.warning(
                            "Param %r of run %r has %d characters; MLflow keeps %d.",
                            key,
                            run_id,
                            len(text),
                            MAX_PARAM_CHARS,
                        )
                        text = text[:MAX_PARAM_CHARS]
                    params.append(Param(key, text))
                for batch in chunks(params, 100):
                    client.log_batch(their, params=batch)
                for metric in run.metric_names:
                    points = run.read_metric(metric)
                    rows = [
                        Metric(_metric_key(metric), float(v), _ms(t) or 0, int(s))
                        for s, v, t in zip(
                            points["steps"], points["values"], points["timestamps"], strict=False
                        )
                    ]
                    for batch in chunks(rows, 1000):
                        client.log_batch(their, metrics=batch)
                for artifact in run.artifacts:
                    local = artifact.path
                    if local is None:
                        local = os.path.join(scratch, their, artifact.name)
                        os.makedirs(os.path.dirname(local), exist_ok=True)
                        with open(local, "wb") as handle:
                            handle.write(artifact.read())
                    folder = os.path.dirname(artifact.name) or None
                    if os.path.basename(local) != os.path.basename(artifact.name):
                        renamed = os.path.join(scratch, their, "named", artifact.name)
                        os.makedirs(os.path.dirname(renamed), exist_ok=True)
                        with open(renamed, "wb") as handle:
                            handle.write(artifact.read())
                        local = renamed
                    client.log_artifact(their, local, folder)
                if run.output:
                    client.log_text(their, run.output, OUTPUT_ARTIFACT)
                state = str(run.entry.get("status") or "")
                if state in _TERMINAL or state == RunStatus.TIMEOUT.value:
                    client.set_terminated(
                        their,
                        _TERMINAL.get(state, "FAILED"),
                        end_time=_ms(run.entry.get("stop_time")),
                    )
                count += 1
    return count


def _exported(client: Any) -> set[str]:
    """Return the ``sacredlite.source`` tags of the runs in the tracking store."""
    found: set[str] = set()
    experiment_ids = [e.experiment_id for e in client.search_experiments()]
    if not experiment_ids:
        return found
    token = None
    while True:
        page = client.search_runs(experiment_ids, max_results=1000, page_token=token)
        found.update(r.data.tags[SOURCE_TAG] for r in page if SOURCE_TAG in r.data.tags)
        token = page.token
        if not token:
            return found
