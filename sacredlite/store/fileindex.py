"""The in-memory index of a file store's runs, kept up to date incrementally (internal).

A listing must not re-read, or even ``stat``, 100,000 run folders per request (issue 11).
The index therefore checks, per listing:

* the storage directory's own modification time: a run folder added or removed changes
  it, and only then are the folder names listed again (new ones read, gone ones dropped);
* the runs that are still live (not finished, or caught mid-write), with a ``stat`` of
  each of their JSON files, as they change all the time.

Finished runs change rarely (tags and notes written by another board, a run folder
rewritten by hand): every :data:`FULL_RECHECK` seconds a background thread checks every
folder's modification time and the files of those that changed, and swaps the results in
without holding up requests. Every change to the index increments :attr:`generation`, so
answers computed from it can be cached until it changes.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from ..events import RunStatus
from ..formats import file as fmt
from .filecache import load_index, save_index
from .records import Record

StatKey = tuple[int, int, int] | None
Entry = tuple[Any, tuple[StatKey, ...], Record]
"""An index entry: the folder's (mtime, inode), the JSON files' stats, the record."""

WATCHED = (fmt.RUN_FILE, fmt.CONFIG_FILE, fmt.INFO_FILE, fmt.OMNIBOARD_FILE)
FINISHED = frozenset(
    s.value
    for s in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.INTERRUPTED, RunStatus.TIMEOUT)
)
FULL_RECHECK = 30.0
"""Seconds between background checks of every run folder (finished runs included)."""


def stat_key(path: str) -> StatKey:
    """Return a file's (mtime, size, inode), ``None`` when it is missing; never follows a
    symlink (a planted link's key is its own)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def run_names(root: str) -> list[str]:
    """Return the names of the run folders under *root* (no ``stat`` per folder)."""
    with os.scandir(root) as it:
        return [e.name for e in it if fmt.is_run_name(e.name) and e.is_dir(follow_symlinks=False)]


class RunIndex:
    """The runs of one storage directory, by folder name.

    Args:
        root: the storage directory.
        load: reads a run's record (``(name, sections, absent files) -> record``, ``None``
            if torn); the files the index has just seen missing are not opened.
        add_sections: reads missing sections into a record (``False`` if torn).
        cache_index: keep the index on disk between sessions (``filecache``).
    """

    def __init__(
        self,
        root: Path,
        load: Callable[[str, Collection[str], Collection[str]], Record | None],
        add_sections: Callable[[str, Record, Collection[str]], bool],
        *,
        cache_index: bool = True,
    ) -> None:
        self.root = root
        self._load = load
        self._add_sections = add_sections
        self._cache = cache_index
        self._entries: dict[str, Entry] = load_index(root) if cache_index else {}
        self._lock = threading.RLock()
        self._root_key: Any = None
        self._checked_at: float | None = None
        self._refreshing = False
        self._sections: set[str] = set()
        """Sections every indexed record has (new records are read with them too)."""
        self._live_names: set[str] = {n for n, e in self._entries.items() if _is_live(e)}
        self._list: list[Record] | None = None
        self.generation = 0
        """Increases whenever a record is added, replaced or removed."""

    # -- reading ---------------------------------------------------------------------
    def records(self, need: Collection[str]) -> list[Record]:
        """Return every run's record, with the sections in *need* read."""
        with self._lock:
            root_key = self._dir_key(str(self.root))
            if self._checked_at is None:
                self._scan(run_names(str(self.root)), need, every=True, complete=True)
                self._root_key, self._checked_at = root_key, time.monotonic()
            else:
                if root_key != self._root_key:
                    self._root_key = root_key
                    self._scan(run_names(str(self.root)), need, every=False, complete=True)
                self._scan(self._live(), need, every=True, complete=False)
                if time.monotonic() - self._checked_at > FULL_RECHECK and not self._refreshing:
                    self._refreshing = True
                    threading.Thread(
                        target=self._recheck_all, name="sacredlite-run-index", daemon=True
                    ).start()
            if not set(need) <= self._sections:
                self._fill(need)
                self._sections.update(need)
            if self._list is None:
                self._list = [entry[2] for entry in self._entries.values()]
            return self._list

    def page_names(self) -> list[str] | None:
        """Return every run folder's name when the index has not been built yet (so a
        first page sorted by id can be answered without reading every run), else ``None``."""
        with self._lock:
            return run_names(str(self.root)) if self._checked_at is None else None

    def get(self, name: str) -> Entry | None:
        """Return the entry of one run folder, if indexed."""
        with self._lock:
            return self._entries.get(name)

    def put(self, name: str, entry: Entry) -> None:
        """Store the entry of one run folder (read by the caller)."""
        with self._lock:
            self._set(name, entry)

    def drop(self, name: str) -> None:
        """Forget one run folder (it changed or was deleted; it is read again when seen)."""
        with self._lock:
            self._del(name)

    def build_in_background(self, need: Collection[str]) -> None:
        """Build the index in a background thread (after a first page was answered)."""
        threading.Thread(
            target=self.records, args=(tuple(need),), name="sacredlite-run-index", daemon=True
        ).start()

    # -- keeping it current ----------------------------------------------------------
    def _dir_key(self, path: str) -> Any:
        try:
            st = os.lstat(path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_ino) if stat.S_ISDIR(st.st_mode) else None

    def _live(self) -> list[str]:
        return list(self._live_names)

    def _changed(self) -> None:
        self.generation += 1
        self._list = None

    def _set(self, name: str, entry: Entry) -> None:
        old = self._entries.get(name)
        self._entries[name] = entry
        if _is_live(entry):
            self._live_names.add(name)
        else:
            self._live_names.discard(name)
        if old is None or old[2] is not entry[2]:
            self._changed()

    def _del(self, name: str) -> None:
        self._live_names.discard(name)
        if self._entries.pop(name, None) is not None:
            self._changed()

    def _check(self, name: str, old: Entry | None, need: Collection[str]) -> Entry | None:
        """Return the current entry of one folder (re-reading its record only when one of
        its files changed), ``None`` when it is not a run (any more)."""
        base = f"{self.root}/{name}"
        dirkey = self._dir_key(base)
        if dirkey is None:
            return None
        if old is not None and old[0] == dirkey and old[2].get("status") in FINISHED:
            return old
        keys = tuple(stat_key(f"{base}/{f}") for f in WATCHED)
        if keys[0] is None:
            return None  # not a run (yet)
        if old is not None and old[1] == keys:
            return (dirkey, keys, old[2])
        absent = [f for f, key in zip(WATCHED, keys, strict=True) if key is None]
        record = self._load(name, {*need, *self._sections}, absent)
        if record is not None:
            return (dirkey, keys, record)
        if old is not None:  # caught mid-write: keep the last good copy, retry later
            return (None, (None,), old[2])
        return None

    def _scan(
        self, names: list[str], need: Collection[str], *, every: bool, complete: bool
    ) -> None:
        """Bring *names* up to date: each of them with *every*, else only those not indexed
        yet; with *complete* (*names* are all the folders), indexed names not among them
        are dropped."""
        parsed = 0
        if complete:
            present = set(names)
            for gone in [n for n in self._entries if n not in present]:
                self._del(gone)
        if not every:
            names = [n for n in names if n not in self._entries]
        for name in names:
            old = self._entries.get(name)
            entry = self._check(name, old, need)
            if entry is None:
                self._del(name)
                continue
            if old is None or (entry[2] is not old[2] and not _is_live(entry)):
                parsed += 1  # a live run's re-reads are not saved: it is re-read at start
            self._set(name, entry)
        if parsed and self._cache:
            save_index(self.root, dict(self._entries))

    def _fill(self, need: Collection[str]) -> None:
        for name, entry in list(self._entries.items()):
            if any(section not in entry[2] for section in need):
                if not self._add_sections(name, entry[2], need):
                    self._set(name, (None, (None,), entry[2]))
                self._changed()

    def _recheck_all(self) -> None:
        """Check every folder without holding the lock; swap in what changed."""
        try:
            with self._lock:
                snapshot = dict(self._entries)
                need = tuple(self._sections)
            names = run_names(str(self.root))
            fresh = {name: self._check(name, snapshot.get(name), need) for name in names}
            with self._lock:
                generation = self.generation
                for name, entry in fresh.items():
                    if self._entries.get(name) is not snapshot.get(name):
                        continue  # changed meanwhile: that copy is newer
                    if entry is None:
                        self.drop(name)
                    else:
                        self._set(name, entry)
                for gone in set(snapshot) - set(names):
                    if self._entries.get(gone) is snapshot[gone]:
                        self.drop(gone)
                if self._cache and self.generation != generation:
                    save_index(self.root, dict(self._entries))
        finally:
            with self._lock:
                self._refreshing = False
                self._checked_at = time.monotonic()


def _is_live(entry: Entry) -> bool:
    """Return whether an entry must be checked on every listing (not finished, or torn)."""
    return entry[0] is None or entry[2].get("status") not in FINISHED
