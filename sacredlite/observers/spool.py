"""A local, append-only spool of database writes not yet confirmed (internal).

One spool is one JSON-lines file per run, ``<dir>/<db>.<runs>.<key>.jsonl`` (default
``<dir>`` is ``./.sacredlite-spool``), written with MongoDB extended JSON so datetimes and
ObjectIds survive. Lines:

* the first line is the header: ``{"spool": 1, "db", "runs", "metrics", "run_id", "key"}``;
* ``{"seq": n, "op": ..., ...}``: one write operation (see ``sacredlite.observers.mongo``);
  an operation whose ``src`` names a file gets a copy of that file in ``<file>.blobs/``, so
  a deleted temporary artifact can still be replayed;
* ``{"ack": n}``: operation ``n`` is confirmed stored; ``{"assign": id}``: the run got id.

A spool is removed once every operation is acknowledged. Whoever writes a spool holds an
exclusive ``flock`` on it, so ``sacredlite sync`` skips spools of runs still going.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from ..formats._io import copy_atomic
from ..formats.mongo import Op, StoreFile, from_record, to_record

__all__ = ["DEFAULT_SPOOL_DIR", "Spool", "Spooled", "find_spools"]

DEFAULT_SPOOL_DIR = ".sacredlite-spool"
"""Where spools go by default, relative to the run's working directory."""


def _dumps(record: dict[str, Any]) -> str:
    from bson import json_util

    return json_util.dumps(record, json_options=json_util.RELAXED_JSON_OPTIONS)


def _loads(line: str) -> dict[str, Any]:
    from bson import json_util

    options = json_util.JSONOptions(tz_aware=True)
    result: dict[str, Any] = json_util.loads(line, json_options=options)
    return result


class Spooled(NamedTuple):
    """One operation in a spool, with its number there."""

    seq: int
    op: Op


class SpoolLockedError(RuntimeError):
    """Raise when another process holds a spool (its run is still going)."""


class Spool:
    """An append-only file of pending writes for one run.

    Args:
        path: the spool file.
        header: the header record (written when the file is new).
    """

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.header = header
        self.blob_dir = path.with_name(path.name + ".blobs")
        self._ops: dict[int, Op] = {}
        self._acked: set[int] = set()
        self._next_seq = 0
        self._file: io.TextIOWrapper | None = None

    @classmethod
    def create(
        cls, directory: str | os.PathLike[str], db: str, runs: str, metrics: str, run_id: Any
    ) -> Spool:
        """Create a new spool file for one run and lock it for this process."""
        key = uuid.uuid4().hex[:12]
        name = f"{db}.{runs}.{run_id if run_id is not None else 'new'}.{key}.jsonl"
        path = Path(directory).absolute() / name
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"spool": 1, "db": db, "runs": runs, "metrics": metrics, "run_id": run_id}
        header["key"] = key
        spool = cls(path, header)
        spool._open()
        spool._write(header)
        return spool

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Spool:
        """Read an existing spool and lock it; raise :class:`SpoolLockedError` if in use."""
        path = Path(path)
        spool = cls(path, {})
        spool._open()
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle):
                if not line.strip():
                    continue
                try:
                    record = _loads(line)
                except ValueError:
                    continue  # a line torn by a crash mid-write: the op was never confirmed
                if number == 0:
                    spool.header = record
                elif "ack" in record:
                    spool._acked.add(record["ack"])
                elif "assign" in record:
                    spool.header["run_id"] = record["assign"]
                elif "seq" in record:
                    spool._ops[record["seq"]] = from_record(record)
                    spool._next_seq = max(spool._next_seq, record["seq"] + 1)
        return spool

    @property
    def run_id(self) -> Any:
        """The run's id, once known."""
        return self.header.get("run_id")

    def _open(self) -> None:
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - lives with the spool
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            raise SpoolLockedError(f"Spool {self.path} is in use by a running process.") from None

    def _write(self, record: dict[str, Any]) -> None:
        assert self._file is not None, "spool is closed"
        self._file.write(_dumps(record) + "\n")
        self._file.flush()

    def append(self, op: Op) -> int:
        """Append one operation (copying its ``src`` file into the spool); return its seq."""
        if isinstance(op, StoreFile) and op.src is not None:
            if not str(op.src).startswith(str(self.blob_dir)):
                op = replace(op, src=self._store_blob(op.src))
        seq = self._next_seq
        self._next_seq += 1
        self._ops[seq] = op
        self._write({**to_record(op), "seq": seq})
        return seq

    def _store_blob(self, src: str) -> str:
        digest = hashlib.sha256()
        with open(src, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        self.blob_dir.mkdir(exist_ok=True)
        target = self.blob_dir / digest.hexdigest()
        if not target.exists():
            copy_atomic(src, target)
        return str(target)

    def ack(self, seq: int) -> None:
        """Record that operation *seq* is stored."""
        self._acked.add(seq)
        self._write({"ack": seq})

    def assign(self, run_id: Any) -> None:
        """Record the id the database gave the run."""
        self.header["run_id"] = run_id
        self._write({"assign": run_id})

    def pending(self) -> list[Spooled]:
        """Return the operations not yet acknowledged, in order."""
        return [Spooled(s, self._ops[s]) for s in sorted(self._ops) if s not in self._acked]

    def pending_and_acked(self) -> list[Spooled]:
        """Return every operation, acknowledged or not, in order."""
        return [Spooled(s, self._ops[s]) for s in sorted(self._ops)]

    def is_acked(self, seq: int) -> bool:
        """Return whether operation *seq* is stored."""
        return seq in self._acked

    def close(self) -> None:
        """Release the lock; remove the spool if nothing is pending."""
        done = not self.pending()
        if self._file is not None:
            if done:
                self.path.unlink(missing_ok=True)
                shutil.rmtree(self.blob_dir, ignore_errors=True)
            self._file.close()  # closing releases the flock
            self._file = None


def find_spools(directory: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield the spool files in *directory* (or *directory* itself if it is one), oldest first."""
    root = Path(directory)
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        return
    files = [p for p in root.glob("*.jsonl") if p.is_file()]
    yield from sorted(files, key=lambda p: p.stat().st_mtime)
