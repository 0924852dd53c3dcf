"""Read runs from a file storage directory in Sacred's layout (internal).

The layout, its files and their rules are :mod:`sacredlite.formats.file`'s; this module
reads through it. The index of runs is kept in memory keyed on the modification times and
sizes of each run's small JSON files, so listing 10,000 runs re-parses only what changed.
Metrics are read from ``metrics.json`` plus the side file that may continue it; a growing
side file is read from where the last read stopped. Tags and notes live in
``omniboard.json`` beside ``run.json``, which is never rewritten. Every file is opened
through :func:`sacredlite.formats.file.open_inside`, so nothing outside the storage root is
read, symlinks included.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from ..events import RunStatus
from ..formats import file as fmt
from . import series as _series
from .base import SECTIONS, RunId, RunStore, clean_notes, clean_tags, content_type
from .filecache import load_index, load_series, save_index, save_series
from .records import NotFound, Record, RunNotFound, StoreError, UnsafePathError, parse_time
from .series import Series

logger = logging.getLogger(__name__)

_WATCHED = (fmt.RUN_FILE, fmt.CONFIG_FILE, fmt.INFO_FILE, fmt.OMNIBOARD_FILE)

StatKey = tuple[int, int, int] | None
_Entry = tuple[Any, tuple[StatKey, ...], Record]
"""An index entry: the folder's (mtime, inode), the JSON files' stats, the record."""
_FINISHED = tuple(
    s.value
    for s in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.INTERRUPTED, RunStatus.TIMEOUT)
)
_T = TypeVar("_T")


def _inside(read: Callable[..., _T], root: str | os.PathLike[str], *parts: str) -> _T:
    """Call a safe-read function of the format (``open_inside``, ``read_inside``,
    ``safe_join``), raising the store's :class:`UnsafePathError` for a refused path."""
    try:
        return read(root, *parts)
    except fmt.UnsafePathError as exc:
        raise UnsafePathError(str(exc)) from None


def _stat(path: str) -> StatKey:
    # lstat: a planted symlink's key is its own, never that of a file outside the root.
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _open_own(root: Path, *parts: str) -> BinaryIO | None:
    """Open a run's own file (``run.json``, ``cout.txt``, ...); ``None`` when it is absent.

    A file that resolves outside the root (a planted symlink) counts as absent, with a
    warning in the log: the run is still shown, without that file (issue 9).
    """
    try:
        return fmt.open_inside(root, *parts)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except fmt.UnsafePathError as exc:
        _ignore(exc)
        return None


def _read_own(root: Path, *parts: str) -> bytes | None:
    """Return the content of a run's own file, ``None`` when it is absent (see ``_open_own``)."""
    fh = _open_own(root, *parts)
    if fh is None:
        return None
    with fh:
        return fh.read()


_ignored: set[str] = set()


def _ignore(exc: fmt.UnsafePathError) -> None:
    """Log a refused file once per process (listings re-read it every time)."""
    if str(exc) not in _ignored and len(_ignored) < 10_000:
        _ignored.add(str(exc))
        logger.warning("Ignoring a file of the run: %s", exc)


def _load_json(root: Path, *parts: str, default: Any) -> Any:
    data = _read_own(root, *parts)
    return default if data is None else json.loads(data)


class _Metrics:
    """The parsed metrics of one run and where reading ``metrics.jsonl`` stopped."""

    def __init__(
        self,
        key: tuple[StatKey, StatKey],
        offset: int,
        series: dict[str, Series],
        follows: bool,
    ) -> None:
        self.key = key
        self.offset = offset
        self.series = series
        self.follows = follows  # the side file continues metrics.json


def _parse_array(data: bytes) -> Any:
    """Parse a flat JSON array of numbers, fast with numpy when it is a plain number list."""
    np = _series._np
    if np is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                body = data[1:-1].decode("ascii").strip()
                if not body:
                    return np.empty(0)
                if not any(ch in body for ch in ".eEnNiI-"):
                    # Whole non-negative numbers (steps, mostly): integer parsing is ~8x faster.
                    return np.fromstring(body, sep=",", dtype=np.int64)
                return np.fromstring(body, sep=",")
        except (ValueError, UnicodeDecodeError, DeprecationWarning):
            pass  # null, strings or other non-numbers: let json decide
    return json.loads(data)


def parse_final_metrics(data: bytes) -> dict[str, tuple[Any, Any]]:
    """Return ``{name: (steps, values)}`` from the bytes of a ``metrics.json``, no timestamps
    (:func:`sacredlite.formats.file.parse_final_metrics`, numbers parsed by numpy)."""
    return fmt.parse_final_metrics(data, _parse_array)


def _as_arrays(metrics: dict[str, tuple[Any, Any]]) -> dict[str, tuple[Any, Any]]:
    """Return *metrics* with numpy float arrays (for the binary cache)."""
    return {n: (_series._numbers(s), _series._numbers(v)) for n, (s, v) in metrics.items()}


def _read_jsonl(root: Path, name: str, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Return the complete JSON lines of a run's side file from byte *offset* on, and the
    offset after them."""
    fh = _open_own(root, name, fmt.SIDE_FILE)
    if fh is None:
        return [], offset
    with fh:
        fh.seek(offset)
        _, batches, used = fmt.parse_side_lines(fh.read())
    return batches, offset + used


class FileStore(RunStore):
    """Runs stored by ``FileStorageObserver`` (ours or Sacred's) under one directory.

    Args:
        root: the storage directory (``-F DIR``).
        read_only: refuse tags, notes and deletes.
        cache_index: keep the run index on disk between sessions (see ``filecache``).
    """

    backend = "file"

    def __init__(
        self, root: str | os.PathLike[str], *, read_only: bool = False, cache_index: bool = True
    ) -> None:
        super().__init__(read_only=read_only)
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise StoreError(
                f"Storage directory {str(root)!r} does not exist; pass the DIR given to -F."
            )
        self.location = str(self.root)
        self._cache_index = cache_index
        self._index: dict[str, _Entry] = load_index(self.root) if cache_index else {}
        self._metrics: OrderedDict[str, _Metrics] = OrderedDict()
        self._metrics_lock = threading.Lock()

    # -- index -------------------------------------------------------------------------
    def _load_record(self, name: str, sections: Collection[str] = SECTIONS) -> Record | None:
        try:
            run = _load_json(self.root, name, fmt.RUN_FILE, default=None)
            if not isinstance(run, dict):
                return None
            side = _load_json(self.root, name, fmt.OMNIBOARD_FILE, default={})
        except ValueError:
            return None  # caught mid-write by a non-atomic writer; read again next time
        record = dict(run)
        record["_id"] = self.parse_id(name)
        for field in fmt.TIME_FIELDS:
            if field in record:
                record[field] = parse_time(record[field])
        record["omniboard"] = fmt.omniboard_entry(side)
        return record if self._add_sections(name, record, sections) else None

    def _add_sections(self, name: str, record: Record, sections: Collection[str]) -> bool:
        """Read ``config.json``/``info.json`` into *record* where missing; False if torn."""
        for section in sections:
            if section not in record:
                try:
                    value = _load_json(self.root, name, fmt.SECTION_FILES[section], default={})
                except ValueError:
                    return False
                record[section] = value if isinstance(value, dict) else {}
        return True

    def records(self, need: Collection[str] = SECTIONS) -> list[Record]:
        """Return every run's record, re-reading only runs whose files changed.

        A finished run is checked with one ``stat`` of its folder (every writer we know
        replaces files, which changes the folder's mtime; a finished Sacred run is not
        rewritten); a live run with a ``stat`` of each of its JSON files. ``config.json``
        and ``info.json`` are read only when *need* asks for them.
        """
        with self._lock:
            fresh: dict[str, _Entry] = {}
            root = str(self.root)
            parsed = 0
            with os.scandir(root) as it:
                entries = [e for e in it if fmt.is_run_name(e.name)]
            for entry in entries:
                name = entry.name
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if not stat.S_ISDIR(st.st_mode):
                    continue
                dirkey = (st.st_mtime_ns, st.st_ino)
                old = self._index.get(name)
                if old is not None and old[0] == dirkey and old[2].get("status") in _FINISHED:
                    entry_: _Entry | None = old
                else:
                    base = f"{root}/{name}/"
                    keys = tuple(_stat(base + f) for f in _WATCHED)
                    if keys[0] is None:
                        continue  # not a run (yet)
                    if old is not None and old[1] == keys:
                        entry_ = (dirkey, keys, old[2])
                    else:
                        record = self._load_record(name, need)
                        parsed += 1
                        if record is not None:
                            entry_ = (dirkey, keys, record)
                        elif old is not None:  # keep the last good copy, retry later
                            entry_ = (None, (None,), old[2])
                        else:
                            entry_ = None
                if entry_ is None:
                    continue
                if any(section not in entry_[2] for section in need):
                    if not self._add_sections(name, entry_[2], need):
                        entry_ = (None, (None,), entry_[2])
                    parsed += 1
                fresh[name] = entry_
            self._index = fresh
            if parsed and self._cache_index:
                save_index(self.root, fresh)
            return [entry[2] for entry in fresh.values()]

    def _dir(self, run_id: RunId) -> str:
        name = str(run_id)
        path = os.path.join(self.root, name)
        if (
            not fmt.is_run_name(name)
            or "/" in name
            or "\\" in name
            or not os.path.isfile(os.path.join(path, fmt.RUN_FILE))
            or os.path.islink(path)
        ):
            raise RunNotFound(run_id, self.location)
        return path

    def run(self, run_id: RunId) -> Record:
        """Return the full record of a run (with uncommitted git diffs read back in)."""
        record = self._record(run_id)
        repos = (record.get("experiment") or {}).get("repositories") or []
        if not any(isinstance(r, dict) and r.get("diff_file") for r in repos):
            return record
        record = dict(record)
        record["experiment"] = dict(record["experiment"])
        record["experiment"]["repositories"] = [self._with_diff(r) for r in repos]
        return record

    def _with_diff(self, repo: Any) -> Any:
        if not isinstance(repo, dict) or not repo.get("diff_file"):
            return repo
        try:
            data = _inside(fmt.read_inside, self.root, str(repo["diff_file"]))
            diff = data.decode("utf-8", "replace")
        except (OSError, StoreError):
            diff = f"(diff file {repo['diff_file']!r} is missing)"
        return {**repo, "diff": diff}

    def _record(self, run_id: RunId) -> Record:
        path = self._dir(run_id)
        name = os.path.basename(path)
        keys = tuple(_stat(os.path.join(path, f)) for f in _WATCHED)
        with self._lock:
            old = self._index.get(name)
            if old is not None and old[1] == keys:
                if self._add_sections(name, old[2], SECTIONS):
                    return old[2]
                old = None
        record = self._load_record(name)
        if record is None:
            if old is not None:
                return old[2]
            _inside(fmt.safe_join, self.root, name, fmt.RUN_FILE)  # a link leading out: say so
            raise StoreError(f"Run {run_id!r}: run.json in {path!r} is not valid JSON.")
        try:
            st = os.stat(path)
            dirkey: Any = (st.st_mtime_ns, st.st_ino)
        except OSError:
            dirkey = None
        with self._lock:
            self._index[name] = (dirkey, keys, record)
        return record

    def output(self, run_id: RunId, offset: int = 0, tail: int | None = None) -> dict[str, Any]:
        """Return captured output from ``cout.txt``."""
        fh = _open_own(self.root, os.path.basename(self._dir(run_id)), fmt.COUT_FILE)
        if fh is None:
            return {"text": "", "start": 0, "end": 0}
        with fh:
            size = fh.seek(0, os.SEEK_END)
            start = max(0, size - tail) if tail is not None else min(max(0, offset), size)
            fh.seek(start)
            data = fh.read(size - start)
        return {"text": data.decode("utf-8", "replace"), "start": start, "end": start + len(data)}

    # -- metrics -----------------------------------------------------------------------
    def _run_metrics(self, run_id: RunId) -> _Metrics:
        base = self._dir(run_id)
        js_path = os.path.join(base, fmt.METRICS_FILE)
        jl_path = os.path.join(base, fmt.SIDE_FILE)
        key = (_stat(js_path), _stat(jl_path))
        name = os.path.basename(base)
        with self._metrics_lock:
            hit = self._metrics.get(name)
            if hit is not None and hit.key == key:
                self._metrics.move_to_end(name)
                return hit
            # The side file counts only when it continues metrics.json (the contract of
            # sacredlite.formats.file); a growing one is read on from its offset.
            if (
                hit is not None
                and hit.key[0] == key[0]
                and hit.follows
                and hit.key[1] is not None
                and key[1] is not None
                and hit.key[1][2] == key[1][2]
                and key[1][1] >= hit.offset
            ):
                chunks, offset = _read_jsonl(self.root, name, hit.offset)
                series = hit.series
                follows = True
            else:
                series = {}
                final: dict[str, tuple[Any, Any]] | None = None
                if key[0] is not None:
                    final = load_series(js_path, key[0]) if self._cache_index else None
                    if final is None:
                        data = _read_own(self.root, name, fmt.METRICS_FILE)
                        try:
                            final = parse_final_metrics(data) if data is not None else {}
                        except ValueError:
                            final = {}  # caught mid-write by a non-atomic writer; retried later
                        if self._cache_index and _series._np is not None:
                            save_series(js_path, key[0], _as_arrays(final))
                    series = {n: Series(steps, values) for n, (steps, values) in final.items()}
                follows = False
                chunks, offset = [], 0
                if key[1] is not None:
                    side_base = None
                    try:
                        side_file = _open_own(self.root, name, fmt.SIDE_FILE)
                        if side_file is not None:
                            with side_file:
                                side_base = fmt.side_file_base(side_file)
                    except OSError:
                        pass
                    counts = None if final is None else {n: len(s) for n, s in series.items()}
                    follows = fmt.side_file_continues(side_base, counts)
                    if follows:
                        chunks, offset = _read_jsonl(self.root, name, 0)
            for chunk in chunks:
                for metric, points in chunk.items():
                    if not isinstance(points, dict):
                        continue
                    steps, values = points.get("steps", []), points.get("values", [])
                    if metric in series:
                        series[metric].extend(steps, values)
                    else:
                        series[metric] = Series(steps, values)
            entry = _Metrics(key, offset, series, follows)
            self._metrics[name] = entry
            while len(self._metrics) > 8:
                self._metrics.popitem(last=False)
            return entry

    def metric_names(self, run_id: RunId) -> list[str]:
        """Return the names of the run's metrics."""
        return sorted(self._run_metrics(run_id).series)

    def _metric_version(self, run_id: RunId, name: str) -> Any:
        return self._run_metrics(run_id).key

    def series(self, run_id: RunId, name: str) -> Series:
        """Return a metric as a :class:`Series` (kept in memory, extended as it grows)."""
        found = self._run_metrics(run_id).series.get(name)
        if found is None:
            raise NotFound(f"Run {run_id!r} has no metric {name!r}.")
        return found

    def metric_points(self, run_id: RunId, name: str) -> dict[str, list[Any]]:
        """Return a whole metric with its timestamps."""
        base = self._dir(run_id)
        for own in (fmt.METRICS_FILE, fmt.SIDE_FILE):
            if os.path.lexists(os.path.join(base, own)):  # refuse links leading out
                _inside(fmt.safe_join, self.root, os.path.basename(base), own)
        points = fmt.read_metrics(base, [name]).get(name)
        if points is None:
            raise NotFound(f"Run {run_id!r} has no metric {name!r}.")
        points["timestamps"] = [parse_time(t) for t in points["timestamps"]]
        return points

    # -- files -------------------------------------------------------------------------
    def artifacts(self, run_id: RunId) -> list[dict[str, Any]]:
        """Return the run's artifacts with their sizes and content types."""
        base = self._dir(run_id)
        out = []
        for name in self.run(run_id).get("artifacts") or []:
            name = name if isinstance(name, str) else str(name)
            try:
                size = _inside(fmt.safe_join, base, name).stat().st_size
            except (OSError, StoreError):
                size = None
            out.append({"name": name, "size": size, "content_type": content_type(name)})
        return out

    def artifact(self, run_id: RunId, name: str) -> tuple[Path | bytes, str]:
        """Return the path of an artifact inside the run's folder."""
        base = self._dir(run_id)
        if name not in (self.run(run_id).get("artifacts") or []):
            raise NotFound(f"Run {run_id!r} has no artifact {name!r}.")
        path = _inside(fmt.safe_join, base, name)
        if not path.is_file():
            raise NotFound(f"Artifact {name!r} of run {run_id!r} is missing on disk.")
        return path, content_type(name)

    def sources(self, run_id: RunId) -> list[dict[str, Any]]:
        """Return the run's source files (path as recorded, stored copy under _sources)."""
        out = []
        for item in self.run(run_id).get("experiment", {}).get("sources") or []:
            if isinstance(item, (list, tuple)) and len(item) >= 2:
                stored = str(item[1])
                out.append({"path": str(item[0]), "stored": stored, "md5": fmt.stored_md5(stored)})
        return out

    def source(self, run_id: RunId, path: str) -> bytes:
        """Return a source file's stored content."""
        for item in self.sources(run_id):
            if item["path"] == path:
                return _inside(fmt.read_inside, self.root, item["stored"])
        raise NotFound(f"Run {run_id!r} has no source file {path!r}.")

    def resource(self, run_id: RunId, path: str) -> bytes:
        """Return a resource's stored content (``_resources/<stem>_<md5><ext>``)."""
        for item in self.run(run_id).get("resources") or []:
            if isinstance(item, (list, tuple)) and len(item) >= 2 and item[0] == path:
                stored = os.path.basename(str(item[1]))
                return _inside(fmt.read_inside, self.root, fmt.RESOURCES_DIR, stored)
        raise NotFound(f"Run {run_id!r} has no resource {path!r}.")

    # -- writes ------------------------------------------------------------------------
    def _write_side(self, run_id: RunId, **changes: Any) -> None:
        base = self._dir(run_id)
        try:
            side = _load_json(self.root, os.path.basename(base), fmt.OMNIBOARD_FILE, default={})
        except ValueError:
            side = {}
        side = side if isinstance(side, dict) else {}
        side.update(changes)
        fmt.write_omniboard(base, side)
        with self._lock:
            self._index.pop(os.path.basename(base), None)

    def set_tags(self, run_id: RunId, tags: list[str]) -> None:
        """Replace the run's tags in its side file."""
        self._check_writable("change tags")
        self._write_side(run_id, tags=clean_tags(tags))

    def set_notes(self, run_id: RunId, notes: str) -> None:
        """Replace the run's notes in its side file."""
        self._check_writable("change notes")
        self._write_side(run_id, notes=clean_notes(notes))

    def delete_run(self, run_id: RunId) -> None:
        """Delete the run's folder (shared ``_sources``/``_resources`` stay)."""
        self._check_writable("delete runs")
        base = self._dir(run_id)
        shutil.rmtree(base)
        with self._lock:
            self._index.pop(os.path.basename(base), None)
        with self._metrics_lock:
            self._metrics.pop(os.path.basename(base), None)
