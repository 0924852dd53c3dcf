"""TinyDbObserver: runs in a TinyDB JSON file, files in HashFS (Sacred's); the reader is in
:mod:`.reader`.

The layout (``metadata.json``, ``hashfs/``, the run document's fields and tags) is
:mod:`sacredlite.formats.tinydb`'s. What the observer does beyond Sacred's:

* Metric points are kept (Sacred's TinyDbObserver drops them), in a table of their own
  that Sacred's readers never open.
* The observer writes documents already encoded (dates and stored files as their tagged
  text) and opens ``metadata.json`` only for the time of a write: a run never opens a file
  handle per stored file of every run, and no handle is left open when it ends.
  :attr:`TinyDbObserver.db` / :attr:`~TinyDbObserver.runs` are Sacred's view, opened on
  first use, which reads stored files back as open handles.
* A repository's uncommitted ``diff`` is stored in HashFS and referenced as ``diff_file``.
* A value JSON cannot hold is stored as its text with a warning.
"""

from __future__ import annotations

import io
import os
import uuid
import warnings
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ...commandline_options import tiny_db_option as tiny_db_option
from ...events import RunStatus
from ...formats import tinydb as layout
from .._ending import EndsInOneStep
from ..base import RunObserver
from ._imports import require
from .reader import TinyDbReader as TinyDbReader

__all__ = ["TinyDbObserver", "TinyDbReader", "tiny_db_option"]


class TinyDbObserver(EndsInOneStep, RunObserver):
    """Store runs in ``DIR/metadata.json`` (TinyDB) and their files in ``DIR/hashfs``.

    Args:
        path: the directory (made if missing).
        overwrite: Sacred's argument, kept for its signature (unused, as in Sacred).
    """

    VERSION = layout.FORMAT

    @classmethod
    def create(cls, path: str = "./runs_db", overwrite: Any = None) -> TinyDbObserver:
        """Sacred's deprecated constructor: ``TinyDbObserver(path)``."""
        warnings.warn(
            "TinyDbObserver.create(...) is deprecated. Please use TinyDbObserver(...) instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return cls(path, overwrite)

    def __init__(self, path: str | os.PathLike[str] = "./runs_db", overwrite: Any = None) -> None:
        require()
        from .bases import open_hashfs

        self.root = os.path.abspath(path)
        os.makedirs(self.root, exist_ok=True)
        self.fs = open_hashfs(self.root)
        self.overwrite = overwrite
        self._db: Any = None
        self._given_db = False
        self._reset()

    @classmethod
    def create_from(
        cls, db: Any, fs: Any, overwrite: Any = None, root: str | None = None
    ) -> TinyDbObserver:
        """Return an observer writing to an open TinyDB *db* and HashFS *fs*."""
        self = cls.__new__(cls)
        self.root = root  # type: ignore[assignment]
        self.fs = fs
        self.overwrite = overwrite
        self._db = db
        self._given_db = True
        self._reset()
        return self

    def _reset(self) -> None:
        self.run_entry: dict[str, Any] = {}
        self.db_run_id: int | None = None
        self._metrics: dict[str, dict[str, list[Any]]] = {}
        self._metric_doc_ids: dict[str, int] = {}

    # -- Sacred's view -------------------------------------------------------------------
    @property
    def db(self) -> Any:
        """The TinyDB (Sacred's view: stored files read back as open handles)."""
        if self._db is None:
            from .bases import get_db_file_manager

            self._db = get_db_file_manager(self.root)[0]
        return self._db

    @property
    def runs(self) -> Any:
        """The ``runs`` table of :attr:`db`."""
        return self.db.table(layout.RUNS_TABLE)

    # -- writing -------------------------------------------------------------------------
    def _write(self, action: Any) -> Any:
        """Run ``action(db)`` on a TinyDB opened for this write only (or the given one)."""
        if self._given_db:
            return action(self._db)
        from tinydb import TinyDB

        with TinyDB(os.path.join(self.root, layout.METADATA_FILE), default=layout.text_form) as db:
            return action(db)

    def save(self) -> None:
        """Insert or update the current run's document."""
        entry = layout.encode_document(self.run_entry)

        def write(db: Any) -> None:
            runs = db.table(layout.RUNS_TABLE)
            if self.db_run_id:
                runs.update(entry, doc_ids=[self.db_run_id])
            else:
                self.db_run_id = runs.insert(entry)

        self._write(write)

    def _store_file(self, data: Any) -> str:
        """Put a path or a binary file object into HashFS; return its md5 id."""
        return str(self.fs.put(data).id)

    def save_sources(self, ex_info: dict[str, Any]) -> list[list[Any]]:
        """Store the experiment's sources once each; return ``[[path, md5, file]]``."""
        stored = []
        for source_name, md5 in ex_info["sources"]:
            found = self.fs.get(md5)
            if found:
                file_id = found.id
            else:
                full = os.path.join(ex_info["base_dir"], source_name)
                file_id = self._store_file(os.path.expandvars(os.path.expanduser(full)))
            stored.append([source_name, file_id, layout.StoredFile(file_id)])
        return stored

    def _repositories(self, repositories: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for repository in repositories:
            entry = dict(repository)
            diff = entry.pop("diff", None)
            if diff:
                entry["diff_file"] = layout.StoredFile(
                    self._store_file(io.BytesIO(str(diff).encode("utf-8")))
                )
            out.append(entry)
        return out

    def queued_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        queue_time: datetime,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: Any,
    ) -> Any:
        """Refuse to queue, as Sacred's TinyDbObserver does."""
        raise NotImplementedError(
            "queued_event method is not implemented for local TinyDbObserver."
        )

    def started_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        start_time: datetime,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: Any,
    ) -> Any:
        """Insert the run's document; return its id (a random hex id when none is given)."""
        self._reset()
        experiment = dict(ex_info)
        if "repositories" in experiment:
            experiment["repositories"] = self._repositories(experiment["repositories"])
        experiment["sources"] = self.save_sources(ex_info)
        self.run_entry = {
            "experiment": experiment,
            "format": self.VERSION,
            "command": command,
            "host": dict(host_info),
            "start_time": start_time,
            "config": config,
            "meta": meta_info,
            "status": RunStatus.RUNNING.value,
            "resources": [],
            "artifacts": [],
            "captured_out": "",
            "info": {},
            "heartbeat": None,
            "_id": uuid.uuid4().hex if _id is None else _id,
        }
        self.save()
        return self.run_entry["_id"]

    def heartbeat_event(
        self, info: dict[str, Any], captured_out: str, beat_time: datetime, result: Any
    ) -> None:
        """Store info, output, heartbeat and result."""
        self.run_entry.update(info=info, captured_out=captured_out, heartbeat=beat_time)
        self.run_entry["result"] = result
        self.save()

    def log_metrics(self, metrics_by_name: dict[str, Any], info: dict[str, Any]) -> None:
        """Append new points to the run's metric documents (a sacredlite addition)."""
        changed = []
        for name, points in metrics_by_name.items():
            held = self._metrics.setdefault(name, {"steps": [], "values": [], "timestamps": []})
            for key in ("steps", "values", "timestamps"):
                held[key].extend(points[key])
            changed.append(name)
        if changed:
            self._save_metrics(changed)

    def _save_metrics(self, names: list[str]) -> None:
        run_id = self.run_entry.get("_id")

        def document(name: str) -> dict[str, Any]:
            held = self._metrics[name]
            return layout.encode_document(  # type: ignore[no-any-return]
                layout.metric_document(
                    run_id, name, held["steps"], held["values"], held["timestamps"]
                )
            )

        def write(db: Any) -> None:
            table = db.table(layout.METRICS_TABLE)
            known = [n for n in names if n in self._metric_doc_ids]
            new = [n for n in names if n not in self._metric_doc_ids]
            for name in known:
                table.update(document(name), doc_ids=[self._metric_doc_ids[name]])
            if new:
                ids = table.insert_multiple([document(n) for n in new])
                self._metric_doc_ids.update(zip(new, ids, strict=True))

        self._write(write)

    def _end(self, stop_time: datetime, status: str, **fields: Any) -> None:
        self.run_entry.update(stop_time=stop_time, status=status, **fields)
        self.save()

    def resource_event(self, filename: str) -> None:
        """Store a resource the run opened in HashFS: ``[filename, md5, file]``."""
        file_id = self._store_file(filename)
        resource = [filename, file_id, layout.StoredFile(file_id)]
        if resource not in self.run_entry["resources"]:
            self.run_entry["resources"].append(resource)
            self.save()

    def artifact_event(
        self,
        name: str,
        filename: str,
        metadata: dict[str, Any] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Store an artifact in HashFS: ``[name, filename, md5, file]``."""
        file_id = self._store_file(filename)
        artifact = [name, filename, file_id, layout.StoredFile(file_id)]
        if artifact not in self.run_entry["artifacts"]:
            self.run_entry["artifacts"].append(artifact)
            self.save()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TinyDbObserver):
            return bool(self.runs.all() == other.runs.all())
        return False

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"TinyDbObserver({self.root!r})"
