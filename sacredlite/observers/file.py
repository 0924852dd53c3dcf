"""FileStorageObserver: runs stored in a directory, in Sacred 0.8's layout.

``DIR/<run_id>/`` holds ``run.json``, ``config.json``, ``info.json``, ``cout.txt``,
``metrics.json`` and the artifacts; ``DIR/_sources/`` and ``DIR/_resources/`` hold source
and resource files once each. The layout, every file and field, and what sacredlite adds
beyond Sacred (all backwards compatible) are documented in :mod:`sacredlite.formats.file`,
through which this observer writes everything. Run ids are the directory names, strings
(``"1"``), as in Sacred.

What the observer adds in behaviour:

* ``metrics.json`` holds every point after each batch while a run's metrics are small;
  past :data:`~sacredlite.formats.file.LIVE_LIMIT` bytes, new points are appended to the
  side file, so a flush costs O(new points), and ``metrics.json`` is completed, streaming,
  when the run ends. The Run hands its compact points to :meth:`metrics_event` as they
  are; :meth:`log_metrics` (Sacred's call) takes Sacred's lists.
* ``heartbeat_event`` receives the whole captured output (Sacred's contract); ``cout.txt``
  is written so that a heartbeat costs O(new output) in practice.
* A ``diff`` text in ``experiment.repositories[i]`` (uncommitted changes) is stored in
  ``_sources/`` and referenced as ``diff_file``. With ``copy_sources=False`` the diff stays
  inline.
* A new run id is found with ``os.mkdir`` (the next number is tried when another process
  took one), starting after the last id this observer created instead of listing DIR.
* A value jsonpickle cannot flatten (in config, info, the result or a metric) is stored
  as its string form with one warning naming it, instead of failing the write: a run
  never stays RUNNING, nor loses its other data, over one value.
* ``--resume ID`` continues run ID in its directory (:meth:`resumed_event`): ``run.json``
  back to RUNNING with ``meta.resumes`` extended, ``cout.txt`` and the metrics appended to
  (the format module documents the fields).
* Starting a run with a queued run's id takes over its directory. An artifact added twice
  under one name is listed once; artifact names that leave the run directory are refused.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import warnings
from collections.abc import Mapping
from datetime import datetime
from typing import IO, Any

from ..errors import ObserverError
from ..events import MetricPoints, RunId, RunStatus, StoredRun
from ..formats.file import (
    CONFIG_FILE,
    COUT_FILE,
    INFO_FILE,
    RESOURCES_DIR,
    RUN_FILE,
    SOURCES_DIR,
    STATIC_RUN_KEYS,
    TEMPLATE_FILE,
    CoutFile,
    MetricsWriter,
    RunJsonEncoder,
    Warner,
    artifact_path,
    copy_atomic,
    dumps,
    finalize_metrics,
    flatten,
    is_run_name,
    iso_utc,
    last_steps,
    make_run_dir,
    new_run_entry,
    open_inside,
    read_metrics,
    read_run,
    report_file,
    store_diff,
    store_once,
    store_sources,
    write_atomic,
    write_text,
)
from .base import RunObserver

__all__ = ["DEFAULT_FILE_STORAGE_PRIORITY", "FileStorageObserver", "read_metrics", "flatten"]

DEFAULT_FILE_STORAGE_PRIORITY = 20


def check_basedir(basedir: str) -> None:
    """Raise :class:`ObserverError` unless *basedir* is, or can become, a writable directory."""
    path = os.path.abspath(basedir)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ObserverError(
            f"FileStorageObserver basedir {basedir!r} is a file, not a directory: "
            "pass a directory path (it is created if missing)."
        )
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ObserverError(
            f"FileStorageObserver basedir {basedir!r} cannot be created because "
            f"{existing!r} is a file: pass a path under a directory."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ObserverError(
            f"FileStorageObserver basedir {basedir!r} is not writable ({existing!r} denies "
            "writing): pass a writable directory or fix its permissions."
        )


class FileStorageObserver(RunObserver):
    """Store each run in its own directory under *basedir*, as Sacred 0.8 does.

    Args:
        basedir: the directory holding the runs; created when the first run starts.
        resource_dir: where resources are stored (default ``basedir/_resources``).
        source_dir: where source files are stored (default ``basedir/_sources``).
        template: a mako template rendered to ``report<ext>`` in the run directory when
            the run ends (needs ``pip install mako``); by default ``basedir/template.html``
            if that exists and mako is installed, as in Sacred.
        priority: the observer's priority (higher observers are called first).
        copy_artifacts: when ``False``, resources already inside *basedir* are referenced
            where they are instead of copied (Sacred's meaning); artifacts are always copied
            into the run directory, where readers look for them.
        copy_sources: copy source files to *source_dir*; when ``False`` their original
            paths are recorded instead.

    Raises:
        FileNotFoundError: *template* is not a file (as in Sacred).
        ObserverError: *basedir* is a file or not writable, or mako is not installed for
            *template*.
    """

    VERSION = "FileStorageObserver-0.7.0"
    flush_interval = 1.0
    """Seconds within which new metrics and output reach disk (independent of the run's
    heartbeat): a killed process loses at most this much."""

    @classmethod
    def create(cls, *args: Any, **kwargs: Any) -> FileStorageObserver:
        """Create the observer (Sacred's deprecated spelling of the constructor).

        .. deprecated:: 0.1 Call ``FileStorageObserver(...)`` instead.
        """
        warnings.warn(
            "FileStorageObserver.create(...) is deprecated. Use FileStorageObserver(...) instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return cls(*args, **kwargs)

    def __init__(
        self,
        basedir: str | os.PathLike[str],
        resource_dir: str | os.PathLike[str] | None = None,
        source_dir: str | os.PathLike[str] | None = None,
        template: str | os.PathLike[str] | None = None,
        priority: int = DEFAULT_FILE_STORAGE_PRIORITY,
        copy_artifacts: bool = True,
        copy_sources: bool = True,
    ) -> None:
        self.basedir = os.fspath(basedir)
        self.resource_dir = os.fspath(resource_dir or os.path.join(self.basedir, RESOURCES_DIR))
        self.source_dir = os.fspath(source_dir or os.path.join(self.basedir, SOURCES_DIR))
        self.template = os.fspath(template) if template is not None else None
        self.priority = priority
        self.copy_artifacts = copy_artifacts
        self.copy_sources = copy_sources
        self.dir: str | None = None
        self.run_entry: dict[str, Any] = {}
        self._run_json = RunJsonEncoder(STATIC_RUN_KEYS)
        self._last_id: int | None = None
        self.config: dict[str, Any] = {}
        self.info: dict[str, Any] = {}
        self._metrics: MetricsWriter | None = None
        self._cout: CoutFile | None = None
        self._cout_prefix = ""  # a resumed run's earlier output, before this run's
        self._read_for_resume: tuple[str, dict[str, Any]] | None = None  # (dir, metrics)
        self._warn = Warner("FileStorageObserver")
        check_basedir(self.basedir)
        if self.template is not None:
            if not os.path.isfile(self.template):
                raise FileNotFoundError(  # Sacred's error type
                    f"FileStorageObserver template {self.template!r} is not a file: "
                    "pass the path of a mako template."
                )
            if importlib.util.find_spec("mako") is None:
                raise ObserverError(
                    "FileStorageObserver(template=...) needs mako: pip install mako"
                )
        else:  # Sacred's default: basedir/template.html, used when mako is installed
            default = os.path.join(self.basedir, TEMPLATE_FILE)
            if os.path.isfile(default) and importlib.util.find_spec("mako") is not None:
                self.template = default

    @classmethod
    def create_from(cls, *args: Any, **kwargs: Any) -> FileStorageObserver:
        """Create the observer from the constructor's arguments (Sacred's spelling)."""
        return cls(*args, **kwargs)

    # -- run directory and files --------------------------------------------------------

    def _ensure_basedir(self) -> None:
        check_basedir(self.basedir)
        try:
            os.makedirs(self.basedir, exist_ok=True)
        except FileExistsError:
            raise  # what Sacred raises (a file system that refuses every mkdir)
        except OSError as exc:
            raise ObserverError(
                f"FileStorageObserver cannot create basedir {self.basedir!r} ({exc}): "
                "pass a writable directory."
            ) from None

    def _make_run_dir(self, _id: RunId) -> RunId:
        """Create the run directory; return the given *_id*, or the new name (a string)."""
        self.dir, name = make_run_dir(self.basedir, _id, after=self._last_id)
        if _id is not None:
            return _id
        self._last_id = int(name)
        return name

    def _cout_file(self) -> CoutFile:
        self._run_dir()
        assert self._cout is not None  # set with the run directory
        return self._cout

    def _run_dir(self) -> str:
        if self.dir is None:
            raise ObserverError(
                "FileStorageObserver received an event before started_event: start a run first."
            )
        return self.dir

    def save_json(self, obj: Any, filename: str, atomic: bool = True) -> None:
        """Write *obj* (flattened) to *filename* in the run directory, atomically unless
        *atomic* is false (for files written once, before ``run.json`` exists)."""
        if filename == RUN_FILE:
            text = self._run_json.encode(obj, self._warn)
        else:
            text = dumps(obj, filename.removesuffix(".json"), self._warn)
        write_text(os.path.join(self._run_dir(), filename), text, atomic)

    def save_file(self, filename: str | os.PathLike[str], target_name: str | None = None) -> None:
        """Copy *filename* into the run directory as *target_name* (default: its basename).

        Raises:
            FileExistsError: the name is one of the observer's own files (as in Sacred).
            ObserverError: the name leaves the run directory.
        """
        filename = os.fspath(filename)
        dest = artifact_path(self._run_dir(), target_name or os.path.basename(filename))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if os.path.exists(dest) and os.path.samefile(filename, dest):
            return
        copy_atomic(filename, dest)

    def find_or_save(self, filename: str | os.PathLike[str], store_dir: str) -> str:
        """Store *filename* once in *store_dir* as ``<stem>_<md5><ext>``; return that path.

        With ``copy_artifacts=False``, a file already inside *basedir* is not copied and
        its own path is returned (Sacred's rule).
        """
        filename = os.fspath(filename)
        inside = not os.path.relpath(
            os.path.realpath(filename), os.path.realpath(self.basedir)
        ).startswith(os.pardir)
        if inside and not self.copy_artifacts:
            return filename
        return store_once(filename, store_dir)

    def save_sources(self, ex_info: dict[str, Any]) -> list[list[str]]:
        """Store the experiment's sources; return ``[[relpath, stored path rel. to basedir]]``."""
        return store_sources(ex_info, self.source_dir, self.basedir, self.copy_sources)

    def _experiment_entry(self, ex_info: dict[str, Any]) -> dict[str, Any]:
        experiment = dict(ex_info, sources=self.save_sources(ex_info))
        if "repositories" in ex_info and self.copy_sources:
            experiment["repositories"] = [
                store_diff(repo, self.source_dir, self.basedir) for repo in ex_info["repositories"]
            ]
        return experiment

    def _begin(
        self, _id: RunId, entry: dict[str, Any], config: dict[str, Any], *, output: bool = True
    ) -> RunId:
        self._ensure_basedir()
        entry["experiment"] = self._experiment_entry(entry["experiment"])  # before the mkdir
        run_id = self._make_run_dir(_id)
        self.run_entry = entry
        self.config = config
        self.info = {}
        self._warn = Warner("FileStorageObserver")  # warns once per place, per run
        self._metrics = MetricsWriter(self._run_dir())
        self._cout_prefix = ""
        # Written before run.json, whose presence marks a complete start: a temporary file
        # and rename would only cost a file operation per run, unless a queued run's
        # run.json is already there for readers.
        taken_over = os.path.exists(os.path.join(self._run_dir(), RUN_FILE))
        self.save_json(self.config, CONFIG_FILE, atomic=taken_over)
        self._cout = CoutFile(os.path.join(self._run_dir(), COUT_FILE))
        if output:  # like Sacred, a queued run has no cout.txt
            self._cout.create()
        self.save_json(self.run_entry, RUN_FILE)  # last: run.json means a complete start
        return run_id

    # -- events -------------------------------------------------------------------------

    def queued_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        queue_time: datetime,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: RunId,
    ) -> RunId:
        """Create a run directory with status ``QUEUED``; return the run id.

        Like Sacred, ``run.json`` records no queue time.
        """
        entry = new_run_entry(RunStatus.QUEUED, ex_info, command, dict(host_info), meta_info)
        return self._begin(_id, entry, config, output=False)

    def started_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        start_time: datetime,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: RunId,
    ) -> RunId:
        """Create the run directory and write ``run.json`` and ``config.json``; return the id."""
        entry = new_run_entry(
            RunStatus.RUNNING, ex_info, command, dict(host_info), meta_info, start_time
        )
        return self._begin(_id, entry, config)

    # -- resume --------------------------------------------------------------------------

    def _stored_dir(self, run_id: RunId) -> str | None:
        name = str(run_id)
        run_dir = os.path.join(self.basedir, name)
        if (
            not is_run_name(name)
            or os.sep in name
            or not os.path.isfile(os.path.join(run_dir, RUN_FILE))
        ):
            return None
        return run_dir

    def stored_run(self, run_id: RunId) -> StoredRun | None:
        """Return what is stored of run *run_id* (to resume it), or ``None``."""
        run_dir = self._stored_dir(run_id)
        if run_dir is None:
            return None
        entry, config = read_run(run_dir)
        alive = entry.get("heartbeat") or entry.get("start_time")
        meta = entry.get("meta") or {}
        metrics = read_metrics(run_dir)
        self._read_for_resume = (run_dir, metrics)  # resumed_event continues these
        return StoredRun(
            run_id=str(run_id),
            status=str(entry.get("status")),
            alive_at=datetime.fromisoformat(alive) if isinstance(alive, str) else None,
            config=config,
            last_steps=last_steps(metrics),
            resumes=list(meta.get("resumes") or []),
            point=meta.get("resume_point"),
        )

    def stored_config_form(self, config: dict[str, Any]) -> dict[str, Any]:
        """Return *config* as ``config.json`` would hold it once read back."""
        stored: dict[str, Any] = json.loads(dumps(config, "config", Warner("resume")))
        return stored

    def resumed_event(self, _id: RunId, start_time: datetime, resume: dict[str, Any]) -> RunId:
        """Continue the stored run *_id* in its directory: RUNNING again, ``meta.resumes``
        extended by *resume*, metrics and ``cout.txt`` continued."""
        run_dir = self._stored_dir(_id)
        if run_dir is None:
            raise ObserverError(f"FileStorageObserver: no run {_id!r} in {self.basedir!r}.")
        entry, config = read_run(run_dir)
        self.dir, self.config, self.info = run_dir, config, {}
        self._warn = Warner("FileStorageObserver")
        self._run_json = RunJsonEncoder(STATIC_RUN_KEYS)
        folded = finalize_metrics(run_dir)  # a killed run's side file first
        cached, self._read_for_resume = self._read_for_resume, None
        metrics = cached[1] if cached and cached[0] == run_dir else read_metrics(run_dir)
        if folded:  # the same points, now all in metrics.json
            metrics = read_metrics(run_dir)
        self._metrics = MetricsWriter(run_dir)
        self._metrics.continue_from(metrics)
        self._cout = CoutFile(os.path.join(run_dir, COUT_FILE))
        self._cout_prefix = self._cout.resume()
        for key in ("stop_time", "fail_trace", "result"):
            entry.pop(key, None)
        meta = dict(entry.get("meta") or {})
        meta.pop("resume_point", None)
        meta["resumes"] = [
            *(meta.get("resumes") or []),
            {**resume, "time": iso_utc(resume["time"])},
        ]
        entry.update(meta=meta, status=RunStatus.RUNNING.value, heartbeat=iso_utc(start_time))
        self.run_entry = entry
        self.save_json(entry, RUN_FILE)
        return str(_id)

    def resume_point_event(self, point: dict[str, Any]) -> None:
        """Record where the interrupted run can be resumed (``meta.resume_point``; written
        with the run's end)."""
        meta = dict(self.run_entry.get("meta") or {})
        meta["resume_point"] = {**point, "time": iso_utc(point["time"])}
        self.run_entry["meta"] = meta  # a new object: the encoder's cache sees the change

    def open_artifact(self, run_id: RunId, name: str) -> IO[bytes] | None:
        """Open the artifact *name* of run *run_id* (binary), or ``None`` if it has none."""
        run_dir = self._stored_dir(run_id)
        if run_dir is None:
            return None
        try:
            return open_inside(run_dir, *name.split("/"))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def heartbeat_event(
        self, info: dict[str, Any], captured_out: str, beat_time: datetime, result: Any
    ) -> None:
        """Store the whole captured output in ``cout.txt``; rewrite ``run.json``, ``info.json``.

        Safe to retry after a failure (the failure policy does): the output is the whole
        text, and bytes that a failed call half-wrote are cut off before writing again.
        """
        self.info = info
        self.run_entry["heartbeat"] = iso_utc(beat_time)
        self.run_entry["result"] = result
        self.save_json(self.run_entry, RUN_FILE)
        if info:
            self.save_json(info, INFO_FILE)
        self._cout_file().save(self._cout_prefix + (captured_out or ""))

    def log_metrics(self, metrics_by_name: dict[str, Any], info: dict[str, Any]) -> None:
        """Store new points, Sacred's ``{name: {"steps", "values", "timestamps"}}`` lists:
        ``metrics.json`` while small, then the side file (crash-safe)."""
        self._metrics_writer().add(metrics_by_name)

    def metrics_event(self, points: Mapping[str, MetricPoints], info: dict[str, Any]) -> None:
        """Store new points as the Run hands them over, compact (no Python object per
        point): ``metrics.json`` while small, then the side file (crash-safe)."""
        self._metrics_writer().add(points)

    def _metrics_writer(self) -> MetricsWriter:
        run_dir = self._run_dir()
        if self._metrics is None:  # pragma: no cover - set by started_event
            self._metrics = MetricsWriter(run_dir)
        return self._metrics

    def _end(self, stop_time: datetime, status: str | RunStatus, **fields: Any) -> None:
        if self._metrics is not None:
            self._metrics.finish()  # before run.json says the run ended
        self.run_entry["stop_time"] = iso_utc(stop_time)
        self.run_entry["status"] = status.value if isinstance(status, RunStatus) else status
        self.run_entry.update(fields)
        self.save_json(self.run_entry, RUN_FILE)
        if self.template is not None:
            self.render_template()

    def completed_event(self, stop_time: datetime, result: Any) -> None:
        """Write metrics.json and mark the run ``COMPLETED`` with its result."""
        self._end(stop_time, RunStatus.COMPLETED, result=result)

    def interrupted_event(self, interrupt_time: datetime, status: str) -> None:
        """Write metrics.json and mark the run with *status* (``INTERRUPTED``, ...)."""
        self._end(interrupt_time, str(status))

    def failed_event(self, fail_time: datetime, fail_trace: list[str]) -> None:
        """Write metrics.json and mark the run ``FAILED`` with its traceback (as given)."""
        self._end(fail_time, RunStatus.FAILED, fail_trace=fail_trace)

    def resource_event(self, filename: str) -> None:
        """Store the resource in the resource directory and list it in ``run.json``."""
        store_path = self.find_or_save(filename, self.resource_dir)
        resources = self.run_entry.setdefault("resources", [])
        resources.append([filename, store_path])
        try:
            self.save_json(self.run_entry, RUN_FILE)
        except BaseException:
            resources.pop()  # the event is retried: list the resource once
            raise

    def artifact_event(
        self,
        name: str,
        filename: str,
        metadata: dict[str, Any] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Copy the artifact into the run directory as *name* and list it in ``run.json``."""
        self.save_file(filename, name)
        artifacts = self.run_entry.setdefault("artifacts", [])
        if name not in artifacts:
            artifacts.append(name)
        self.save_json(self.run_entry, RUN_FILE)

    def render_template(self) -> None:
        """Render the mako *template* to ``report<ext>`` in the run directory."""
        template_class = importlib.import_module("mako.template").Template
        if self.template is None:
            return
        report = template_class(filename=self.template).render(
            run=self.run_entry,
            config=self.config,
            info=self.info,
            cout=self._cout_file().text,
            savedir=self.dir,
        )
        write_atomic(os.path.join(self._run_dir(), report_file(self.template)), report)

    def __eq__(self, other: object) -> bool:
        """Observers are equal when they store into the same basedir (Sacred's rule)."""
        if isinstance(other, FileStorageObserver):
            return self.basedir == other.basedir
        return False

    def __hash__(self) -> int:
        return hash(("FileStorageObserver", self.basedir))

    def __repr__(self) -> str:
        return f"FileStorageObserver({self.basedir!r})"
