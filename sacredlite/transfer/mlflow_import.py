"""Import MLflow runs: ``sacredlite import mlflow SOURCE DST`` and :func:`import_mlflow`.

SOURCE is an ``mlruns/`` directory (MLflow's file store) or any tracking URI
(``sqlite:///mlflow.db``, ``http://host:5000``), read through ``mlflow``'s client. Each run
becomes a sacredlite run:

===================================  ==================================================
MLflow                               sacredlite
===================================  ==================================================
experiment name                      ``experiment.name``
params                               ``config`` (dotted keys nested; text typed back
                                     where safe: :func:`~.params.typed_value`)
metrics (every point)                metrics with steps and timestamps
status, start/end time               ``status`` (FINISHED: COMPLETED, KILLED:
                                     INTERRUPTED, ...), ``start_time``, ``stop_time``
run name                             ``meta.comment``
tags                                 ``info.mlflow_tags`` (all), tags ``key=value``
                                     (not ``mlflow.*``), notes (``mlflow.note.content``)
artifacts                            artifacts (same relative names)
===================================  ==================================================

``meta.imported_from`` records ``{"kind": "mlflow", "source", "id": <MLflow run id>}``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..events import RunStatus
from ..formats.file import RESERVED, PortableFile, PortableRun
from .imported import ImportReport, import_runs
from .params import nested_config, typed_value

STATUS = {
    "FINISHED": RunStatus.COMPLETED.value,
    "FAILED": RunStatus.FAILED.value,
    "KILLED": RunStatus.INTERRUPTED.value,
    "RUNNING": RunStatus.RUNNING.value,
    "SCHEDULED": RunStatus.QUEUED.value,
}
"""MLflow's run statuses and sacredlite's."""
SACREDLITE_TAGS = "sacredlite.tags"
"""The MLflow tag holding a sacredlite run's tags as a JSON list (written by the export)."""
NOTES_TAG = "mlflow.note.content"
"""MLflow's tag for a run's notes."""
PAGE = 500
OUTPUT_ARTIFACT = "cout.txt"
"""The artifact holding a run's captured output (written by the export; imported as the
run's output)."""


def tracking_uri(source: str | os.PathLike[str], create: bool = False) -> str:
    """Return the tracking URI of *source*: a directory becomes ``file://`` + its path
    (made first when *create*)."""
    text = os.fspath(source)
    if "://" in text or text.startswith("sqlite:"):
        return text
    if create:
        os.makedirs(text, exist_ok=True)
    if not os.path.isdir(text):
        raise FileNotFoundError(
            f"MLflow source {text!r} is neither a directory (mlruns/) nor a tracking URI "
            "such as sqlite:///mlflow.db or http://host:5000."
        )
    return "file://" + os.path.abspath(text)


@contextlib.contextmanager
def client_for(uri: str) -> Iterator[Any]:
    """Yield an ``MlflowClient`` for *uri* (MLflow 3 needs leave to open a file store)."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ImportError(
            "Importing from MLflow needs mlflow: pip install 'sacredlite[transfer]'."
        ) from None
    settings = {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    if uri.startswith("file:"):
        settings["MLFLOW_ALLOW_FILE_STORE"] = "true"
    before = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        yield MlflowClient(tracking_uri=uri)
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def redacted(uri: str) -> str:
    """Return *uri* without a password (``http://user:***@host``)."""
    scheme, sep, rest = uri.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return uri
    auth, _, host = rest.partition("@")
    return f"{scheme}://{auth.split(':', 1)[0]}:***@{host}"


def _time(ms: Any) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def _artifacts(client: Any, run_id: str, where: str, path: str = "") -> list[PortableFile]:
    files = []
    for item in client.list_artifacts(run_id, path or None):
        if item.is_dir:
            files.extend(_artifacts(client, run_id, where, item.path))
            continue
        local = client.download_artifacts(run_id, item.path, where)
        files.append(PortableFile(item.path, Path(local).read_bytes, path=local))
    return files


def _run(client: Any, experiment: Any, run: Any, scratch: str) -> PortableRun:
    info, data = run.info, run.data
    tags = dict(data.tags)
    config = nested_config({k: typed_value(v) for k, v in data.params.items()})
    user_tags = [
        f"{k}={v}" if v else k
        for k, v in sorted(tags.items())
        if not k.startswith(("mlflow.", "sacredlite."))
    ]
    if SACREDLITE_TAGS in tags:
        listed = typed_value(tags[SACREDLITE_TAGS])
        user_tags = [str(t) for t in listed] if isinstance(listed, list) else user_tags
    start, stop = _time(info.start_time), _time(info.end_time)
    entry: dict[str, Any] = {
        "experiment": {
            "name": experiment.name,
            "base_dir": "",
            "sources": [],
            "dependencies": [],
            "repositories": [],
            "mainfile": tags.get("mlflow.source.name") or "",
        },
        "command": "main",
        "host": {},
        "start_time": start,
        "heartbeat": stop or start,
        "meta": {"command": "main", "options": {}, "comment": info.run_name or ""},
        "status": STATUS.get(str(info.status), str(info.status)),
        "result": None,
    }
    if stop is not None:
        entry["stop_time"] = stop
    where = os.path.join(scratch, info.run_id)
    os.makedirs(where, exist_ok=True)

    def read_metric(name: str) -> dict[str, list[Any]]:
        history = sorted(
            client.get_metric_history(info.run_id, name), key=lambda m: (m.timestamp, m.step)
        )
        return {
            "steps": [int(m.step) for m in history],
            "values": [float(m.value) for m in history],
            "timestamps": [_time(m.timestamp) for m in history],
        }

    artifacts, output = [], ""
    for file in _artifacts(client, info.run_id, where):
        if file.name == OUTPUT_ARTIFACT:
            output = file.read().decode("utf-8", "replace")
        elif file.name in RESERVED:  # never one of the run's own files
            artifacts.append(replace(file, name=f"mlflow/{file.name}"))
        else:
            artifacts.append(file)
    return PortableRun(
        entry=entry,
        config=config,
        info={"mlflow_tags": tags} if tags else {},
        output=output,
        tags=user_tags,
        notes=tags.get(NOTES_TAG, ""),
        artifacts=artifacts,
        metric_names=sorted(data.metrics),
        read_metric=read_metric,
    )


def _runs(client: Any, experiment_ids: list[str]) -> Iterator[Any]:
    token = None
    while True:
        page = client.search_runs(
            experiment_ids,
            max_results=PAGE,
            page_token=token,
            order_by=["attributes.start_time ASC"],
        )
        yield from page
        token = page.token
        if not token:
            return


def import_mlflow(
    source: str | os.PathLike[str],
    dst: Any = "runs",
    *,
    experiment: str | None = None,
    progress: bool = False,
) -> ImportReport:
    """Import every run of an MLflow tracking store into *dst*.

    Args:
        source: an ``mlruns/`` directory or a tracking URI.
        dst: the store to import into (a directory, a ``mongodb://`` URL or an open store).
        experiment: import only the runs of this MLflow experiment.
        progress: show a progress bar.
    """
    uri = tracking_uri(source)
    shown = redacted(uri)
    scratch = tempfile.mkdtemp(prefix="sacredlite-mlflow-")
    try:
        with client_for(uri) as client:
            experiments = {e.experiment_id: e for e in client.search_experiments()}
            if experiment is not None:
                experiments = {k: e for k, e in experiments.items() if e.name == experiment}
                if not experiments:
                    raise ValueError(f"MLflow at {shown} has no experiment {experiment!r}.")

            def made() -> Iterator[tuple[str, Any]]:
                for run in _runs(client, list(experiments)):
                    exp = experiments[run.info.experiment_id]
                    yield run.info.run_id, lambda run=run, exp=exp: _run(client, exp, run, scratch)

            return import_runs(dst, "mlflow", shown, made(), progress=progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
