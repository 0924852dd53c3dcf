"""Write a whole :class:`~._portable.PortableRun` in Sacred's file layout (internal; public
as :func:`sacredlite.formats.file.write_run`)."""

from __future__ import annotations

import os
from typing import Any

from ..events import RunStatus
from ._io import copy_atomic, md5_bytes, write_atomic
from ._json import Warner, dumps, iso_utc
from ._layout import (
    CONFIG_FILE,
    COUT_FILE,
    INFO_FILE,
    METRICS_FILE,
    RESOURCES_DIR,
    RUN_FILE,
    SOURCES_DIR,
    TIME_FIELDS,
    artifact_path,
    make_run_dir,
    store_diff,
    write_omniboard,
)
from ._metrics_text import dump_metrics
from ._portable import PortableFile, PortableRun

__all__ = ["write_run"]


def _stored_name(name: str, md5: str) -> str:
    stem, ext = os.path.splitext(os.path.basename(name))
    return f"{stem}_{md5}{ext}"


def _store_content(file: PortableFile, store_dir: str) -> str:
    """Store *file* once in *store_dir* as ``<stem>_<md5><ext>``; return its path."""
    data = None
    md5 = file.md5
    if not md5:
        data = file.read()
        md5 = md5_bytes(data)
    path = os.path.join(store_dir, _stored_name(file.name, md5))
    if not os.path.exists(path):
        os.makedirs(store_dir, exist_ok=True)
        _write_file(file, path, data)
    return path


def _write_file(file: PortableFile, dest: str, data: bytes | None = None) -> None:
    if data is None and file.path is not None:
        copy_atomic(file.path, dest)
    else:
        write_atomic(dest, file.read() if data is None else data)


def _time_text(value: Any) -> Any:
    return iso_utc(value) if hasattr(value, "isoformat") else value


def _metrics_text(run: PortableRun) -> str:
    class Lazy(dict[str, Any]):
        # dump_metrics reads each metric once, in order: only one is held at a time
        def __getitem__(self, name: str) -> Any:
            points = run.read_metric(name)
            return {
                "steps": list(points["steps"]),
                "timestamps": [_time_text(t) for t in points["timestamps"]],
                "values": list(points["values"]),
            }

    return dump_metrics(Lazy.fromkeys(run.metric_names))  # type: ignore[arg-type]


def write_run(basedir: str, run: PortableRun, run_id: int | str | None = None) -> str:
    """Write *run* as a new run of the storage directory *basedir*; return its id.

    The run gets *run_id* when given and free, else the next free number (a taken
    *run_id* is never overwritten). Sources and resources are stored once per content in
    ``_sources``/``_resources``; ``run.json`` is written last, so a run copied halfway
    (a killed process) is not listed.

    Args:
        basedir: the storage directory (``-F DIR``).
        run: the run.
        run_id: the id wanted.
    """
    basedir = os.path.abspath(basedir)
    os.makedirs(basedir, exist_ok=True)
    try:
        run_dir, name = make_run_dir(basedir, run_id)
    except FileExistsError:
        if run_id is None:
            raise
        run_dir, name = make_run_dir(basedir, None)
    warn = Warner("JSON")
    entry = dict(run.entry)
    experiment = dict(entry.get("experiment") or {})
    source_dir = os.path.join(basedir, SOURCES_DIR)
    experiment["sources"] = [
        [src.name, os.path.relpath(_store_content(src, source_dir), basedir)] for src in run.sources
    ]
    if "repositories" in experiment:
        repos = []
        for repo in experiment["repositories"] or []:
            if isinstance(repo, dict):
                repo = {k: v for k, v in repo.items() if k not in ("diff_file", "diff_file_id")}
                repo = store_diff(repo, source_dir, basedir) if repo.get("diff") else repo
                repo.pop("diff", None)
            repos.append(repo)
        experiment["repositories"] = repos
    entry["experiment"] = experiment
    resource_dir = os.path.join(basedir, RESOURCES_DIR)
    entry["resources"] = [[res.name, _store_content(res, resource_dir)] for res in run.resources]
    for artifact in run.artifacts:
        dest = artifact_path(run_dir, artifact.name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        _write_file(artifact, dest)
    entry["artifacts"] = [artifact.name for artifact in run.artifacts]
    for key in TIME_FIELDS:
        if key in entry:
            entry[key] = _time_text(entry[key])
    queued = run.status == RunStatus.QUEUED.value
    if queued:
        for key in ("resources", "artifacts"):
            if not entry[key]:
                del entry[key]
    write_atomic(os.path.join(run_dir, CONFIG_FILE), dumps(run.config, "config", warn))
    if run.info:
        write_atomic(os.path.join(run_dir, INFO_FILE), dumps(run.info, "info", warn))
    if not queued:
        write_atomic(os.path.join(run_dir, COUT_FILE), run.output)
        write_atomic(os.path.join(run_dir, METRICS_FILE), _metrics_text(run))
    if run.tags or run.notes:
        write_omniboard(run_dir, {"tags": list(run.tags), "notes": run.notes})
    write_atomic(os.path.join(run_dir, RUN_FILE), dumps(entry, "run", warn))
    return name
