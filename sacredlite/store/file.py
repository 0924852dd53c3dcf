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
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from ..formats import file as fmt
from . import series as _series
from .base import SECTIONS, RunId, RunStore, clean_notes, clean_tags, content_type
from .filecache import load_series, may_have_series, save_series
from .fileindex import WATCHED, RunIndex, StatKey, stat_key
from .numberarrays import parse_array
from .records import (
    NotFound,
    Record,
    RunNotFound,
    RunQuery,
    StoreError,
    UnsafePathError,
    _sort_key,
    parse_time,
)
from .series import Series

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


def _inside(read: Callable[..., _T], root: str | os.PathLike[str], *parts: str) -> _T:
    """Call a safe-read function of the format (``open_inside``, ``read_inside``,
    ``safe_join``), raising the store's :class:`UnsafePathError` for a refused path."""
    try:
        return read(root, *parts)
    except fmt.UnsafePathError as exc:
        raise UnsafePathError(str(exc)) from None


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
        self.counted = self.points()
        """The points counted in the cache's total when this entry was stored."""

    def points(self) -> int:
        """Return how many points the run's metrics hold."""
        return sum(len(s) for s in self.series.values())


FIRST_PAGES = 1000
"""Runs a listing may reach (offset + limit) and still be read from the folder names on a
store not indexed yet; a longer one (an analysis of every run) builds the index at once."""
CACHED_RUNS = 512
"""Runs whose parsed metrics are kept in memory."""
CACHED_POINTS = 30_000_000
"""Points kept in memory across those runs (about 480 MB as float arrays)."""


def parse_final_metrics(data: bytes) -> dict[str, tuple[Any, Any]]:
    """Return ``{name: (steps, values)}`` from the bytes of a ``metrics.json``, no timestamps
    (:func:`sacredlite.formats.file.parse_final_metrics`, numbers parsed by numpy)."""
    return fmt.parse_final_metrics(data, parse_array)


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
        self._index = RunIndex(
            self.root, self._load_record, self._add_sections, cache_index=cache_index
        )
        self._metrics: OrderedDict[str, _Metrics] = OrderedDict()
        self._metrics_points = 0
        """Points held by ``_metrics``' entries (their ``counted``), kept as they change."""
        self._metrics_lock = threading.Lock()

    # -- index -------------------------------------------------------------------------
    def _load_record(
        self, name: str, sections: Collection[str] = SECTIONS, absent: Collection[str] = ()
    ) -> Record | None:
        """Read a run's record (``run.json``, tags and notes, the *sections*); ``None`` when
        ``run.json`` is missing or torn. Files named in *absent* (the index has just seen
        them missing) are not opened: they count as empty, and one that appears meanwhile
        changes the index's file stats, so the run is read again."""
        try:
            run = _load_json(self.root, name, fmt.RUN_FILE, default=None)
            if not isinstance(run, dict):
                return None
            side = (
                {}
                if fmt.OMNIBOARD_FILE in absent
                else _load_json(self.root, name, fmt.OMNIBOARD_FILE, default={})
            )
        except ValueError:
            return None  # caught mid-write by a non-atomic writer; read again next time
        record = dict(run)
        record["_id"] = self.parse_id(name)
        for field in fmt.TIME_FIELDS:
            if field in record:
                record[field] = parse_time(record[field])
        record["omniboard"] = fmt.omniboard_entry(side)
        return record if self._add_sections(name, record, sections, absent) else None

    def _add_sections(
        self, name: str, record: Record, sections: Collection[str], absent: Collection[str] = ()
    ) -> bool:
        """Read ``config.json``/``info.json`` into *record* where missing (files in *absent*
        as empty, unopened); False if torn."""
        for section in sections:
            if section not in record:
                if fmt.SECTION_FILES[section] in absent:
                    record[section] = {}
                    continue
                try:
                    value = _load_json(self.root, name, fmt.SECTION_FILES[section], default={})
                except ValueError:
                    return False
                record[section] = value if isinstance(value, dict) else {}
        return True

    def records(self, need: Collection[str] = SECTIONS) -> list[Record]:
        """Return every run's record, re-reading only runs whose files changed (see
        :mod:`.fileindex`). ``config.json`` and ``info.json`` are read only when *need*
        asks for them."""
        return self._index.records(need)

    @property
    def generation(self) -> int:
        """Changes whenever a run is added, changed or removed."""
        return self._index.generation

    def list_runs(
        self, query: RunQuery | None = None, columns: Iterable[str] = ()
    ) -> tuple[int, list[Record]]:
        """Return ``(total matching, page)``; on a store never listed before, a first page
        sorted by id is read from the folder names alone while the index builds in the
        background (so 100,000 runs list at once). Its total counts run folders."""
        query = query or RunQuery()
        columns = list(columns)
        if query.filters or query.search.strip() or query.sort.lstrip("-+") not in ("id", "_id"):
            return super().list_runs(query, columns)
        if any(c.startswith("metric:") for c in columns):
            return super().list_runs(query, columns)
        if query.limit is None or query.offset + query.limit > FIRST_PAGES:
            # every run is read anyway: build the index now rather than read them all
            # here and again in the background
            return super().list_runs(query, columns)
        names = self._index.page_names()
        if names is None:
            return super().list_runs(query, columns)
        need = {c.split(".")[0] for c in columns} & SECTIONS
        ids = sorted((self.parse_id(n) for n in names), key=_sort_key)
        if query.sort.startswith("-"):
            ids.reverse()
        page: list[Record] = []
        skipped = 0
        for run_id in ids[query.offset :]:
            if query.limit is not None and len(page) >= query.limit:
                break
            record = self._load_record(str(run_id), need)
            if record is None:
                skipped += 1
                continue
            page.append(record)
        # config is read in the same pass: the next screens (columns, groups, analysis) need it
        self._index.build_in_background({*need, "config"})
        return len(ids) - skipped, page

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
        keys = tuple(stat_key(os.path.join(path, f)) for f in WATCHED)
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
        self._index.put(name, (dirkey, keys, record))
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
        key = (stat_key(js_path), stat_key(jl_path))
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
                    final = (
                        load_series(js_path, key[0])
                        if self._cache_index and may_have_series(key[0][1])
                        else None
                    )
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
            self._forget_metrics(name)
            self._metrics[name] = entry
            self._metrics_points += entry.counted
            # Keep many runs' metrics (a group plot reads 100 runs) but bounded in points.
            while len(self._metrics) > 1 and (
                len(self._metrics) > CACHED_RUNS or self._metrics_points > CACHED_POINTS
            ):
                self._forget_metrics(next(iter(self._metrics)))
            return entry

    def _forget_metrics(self, name: str) -> None:
        """Drop a run's parsed metrics from the cache (the caller holds the lock)."""
        old = self._metrics.pop(name, None)
        if old is not None:
            self._metrics_points -= old.counted

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
        self._index.drop(os.path.basename(base))
        self._record(run_id)  # indexed again at once: a finished run is not re-checked

    def set_tags(self, run_id: RunId, tags: list[str]) -> None:
        """Replace the run's tags in its side file."""
        self._check_writable("change tags")
        self._write_side(run_id, tags=clean_tags(tags))

    def set_notes(self, run_id: RunId, notes: str) -> None:
        """Replace the run's notes in its side file."""
        self._check_writable("change notes")
        self._write_side(run_id, notes=clean_notes(notes))

    def _read_views(self) -> dict[str, dict[str, Any]]:
        return fmt.read_views_file(self.root)

    def _put_view(self, name: str, view: dict[str, Any]) -> None:
        views = fmt.read_views_file(self.root)
        views[name] = view
        fmt.write_views_file(self.root, views)

    def _drop_view(self, name: str) -> bool:
        views = fmt.read_views_file(self.root)
        if views.pop(name, None) is None:
            return False
        fmt.write_views_file(self.root, views)
        return True

    def delete_run(self, run_id: RunId) -> None:
        """Delete the run's folder (shared ``_sources``/``_resources`` stay)."""
        self._check_writable("delete runs")
        base = self._dir(run_id)
        shutil.rmtree(base)
        self._index.drop(os.path.basename(base))
        with self._metrics_lock:
            self._forget_metrics(os.path.basename(base))
