"""Read runs stored by Sacred's or sacredlite's TinyDbObserver (internal).

The layout is :mod:`sacredlite.formats.tinydb`'s; it is read with the standard library (no
tinydb needed): ``metadata.json`` is parsed again whenever its size or modification time
changes, stored files are read from ``hashfs/``. Read-only.
"""

from __future__ import annotations

import os
from typing import Any

from ..formats import tinydb as layout
from .records import NotFound, Record, StoreError
from .snapshot import SnapshotStore


def _plain(value: Any) -> Any:
    """Return a stored value with :class:`~sacredlite.formats.tinydb.StoredFile` as its id."""
    if isinstance(value, layout.StoredFile):
        return value.id
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _file_id(entry: Any, index: int) -> str | None:
    if isinstance(entry, list) and len(entry) > index:
        found = entry[index]
        return found.id if isinstance(found, layout.StoredFile) else str(found)
    return None


class TinyDbStore(SnapshotStore):
    """Runs in a TinyDbObserver directory (``metadata.json`` and ``hashfs/``).

    Args:
        root: the directory given to ``-t`` / ``TinyDbObserver(path)``.
        read_only: accepted for the common signature; the store is read-only anyway.
    """

    backend = "tinydb"

    def __init__(self, root: str | os.PathLike[str], *, read_only: bool = False) -> None:
        super().__init__(read_only=read_only)
        self.root = os.path.abspath(root)
        self.location = self.root
        if not os.path.isfile(os.path.join(self.root, layout.METADATA_FILE)):
            raise StoreError(
                f"No TinyDB store in {str(root)!r}: {layout.METADATA_FILE} is missing; "
                "pass the DIR given to -t."
            )
        self._docs: dict[Any, dict[str, Any]] = {}
        self._metric_docs: dict[Any, dict[str, dict[str, list[Any]]]] = {}

    def _token(self) -> Any:
        try:
            st = os.stat(os.path.join(self.root, layout.METADATA_FILE))
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _load(self) -> dict[Any, Record]:
        try:
            tables = layout.read_tables(self.root)
        except (OSError, ValueError) as exc:
            raise StoreError(f"Cannot read the TinyDB store {self.root!r}: {exc}") from None
        docs: dict[Any, dict[str, Any]] = {}
        records: dict[Any, Record] = {}
        for doc in tables.get(layout.RUNS_TABLE, {}).values():
            run_id = doc.get("_id")
            if run_id is None:
                continue
            docs[run_id] = doc
            record = {k: v for k, v in doc.items() if k != "captured_out"}
            experiment = dict(record.get("experiment") or {})
            experiment["sources"] = [
                [entry[0], _file_id(entry, 1)]
                for entry in experiment.get("sources") or []
                if isinstance(entry, list) and entry
            ]
            record["experiment"] = _plain(experiment)
            record["resources"] = [
                [entry[0], _file_id(entry, 1)]
                for entry in record.get("resources") or []
                if isinstance(entry, list) and entry
            ]
            record["artifacts"] = [
                entry[0] for entry in record.get("artifacts") or [] if isinstance(entry, list)
            ]
            records[run_id] = _plain(record)
        metrics: dict[Any, dict[str, dict[str, list[Any]]]] = {}
        for doc in tables.get(layout.METRICS_TABLE, {}).values():
            points = {key: list(doc.get(key) or []) for key in ("steps", "values", "timestamps")}
            metrics.setdefault(doc.get("run_id"), {})[str(doc.get("name"))] = points
        self._docs, self._metric_docs = docs, metrics
        return records

    def _output_text(self, run_id: Any) -> str:
        return str(self._docs[run_id].get("captured_out") or "")

    def _metrics(self, run_id: Any) -> dict[str, dict[str, list[Any]]]:
        return self._metric_docs.get(run_id, {})

    def _read_file(self, file_id: str | None, what: str) -> bytes:
        try:
            with open(layout.file_path(self.root, file_id or ""), "rb") as file:
                return file.read()
        except (OSError, ValueError):
            raise NotFound(f"{what} is missing from {self.root}/hashfs (id {file_id!r}).") from None

    def _artifact_index(self, run_id: Any) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        for entry in self._docs[run_id].get("artifacts") or []:
            file_id = _file_id(entry, 2)
            try:
                size: int | None = os.path.getsize(layout.file_path(self.root, file_id or ""))
            except (OSError, ValueError):
                size = None
            out[str(entry[0])] = size
        return out

    def _artifact_bytes(self, run_id: Any, name: str) -> bytes:
        for entry in self._docs[run_id].get("artifacts") or []:
            if entry and entry[0] == name:
                return self._read_file(_file_id(entry, 2), f"Artifact {name!r}")
        raise NotFound(f"Run {run_id!r} has no artifact {name!r}.")

    def resource(self, run_id: Any, path: str) -> bytes:
        """Return the stored content of a resource the run opened (*path* as recorded)."""
        key = self._key(run_id)
        for entry in self._docs[key].get("resources") or []:
            if entry and entry[0] == path:
                return self._read_file(_file_id(entry, 1), f"Resource {path!r}")
        raise NotFound(f"Run {run_id!r} has no resource {path!r}.")

    def _source_index(self, run_id: Any) -> list[dict[str, Any]]:
        return [
            {"path": str(path), "stored": md5, "md5": md5}
            for path, md5 in self.run(run_id)["experiment"].get("sources") or []
        ]

    def _source_bytes(self, run_id: Any, path: str) -> bytes:
        for item in self._source_index(run_id):
            if item["path"] == path:
                return self._read_file(item["md5"], f"Source {path!r}")
        raise NotFound(f"Run {run_id!r} has no source file {path!r}.")
