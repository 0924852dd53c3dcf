"""Keep a file store's run index on disk between board sessions (internal).

The index (records keyed on file stats) is pickled to
``$XDG_CACHE_HOME/sacredlite/index-<hash of the storage path>.pickle`` (default
``~/.cache``): a header, then the entries in chunks of :data:`CHUNK`, then ``None``.
Loading it uses an unpickler that accepts only plain containers and the ``datetime``
types, so a tampered cache file cannot run code; a cache that does not load is ignored.
Entries are still checked against the files' stats before use.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import threading
from pathlib import Path
from typing import Any

from ..formats._io import open_atomic

_ALLOWED = {("datetime", "datetime"), ("datetime", "timezone"), ("datetime", "timedelta")}
_VERSION = 2
CHUNK = 500
"""Entries pickled at a time: one ``pickle.dump`` holds the interpreter until it is done,
and a whole 100,000-run index took it for over a second, stalling the board's requests."""


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the index cache")


def cache_file(root: Path) -> Path:
    """Return where the index of the store at *root* is cached."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    digest = hashlib.sha1(str(root).encode("utf-8")).hexdigest()[:16]
    return Path(base) / "sacredlite" / f"index-{digest}.pickle"


def load_index(root: Path) -> dict[str, Any]:
    """Return the cached index of *root*, or ``{}`` when there is none usable."""
    index: dict[str, Any] = {}
    try:
        stream = io.BytesIO(cache_file(root).read_bytes())
        header = _SafeUnpickler(stream).load()
        if not isinstance(header, dict) or header.get("version") != _VERSION:
            return {}
        if header.get("root") != str(root):
            return {}
        while True:  # chunks of entries, then None
            chunk = _SafeUnpickler(stream).load()  # each dump has its own memo
            if chunk is None:
                return index
            if not isinstance(chunk, dict):
                return {}
            index.update(chunk)
    except Exception:  # noqa: BLE001 - any unreadable cache is simply rebuilt
        return {}


_pending: dict[Path, threading.Timer] = {}
_pending_lock = threading.Lock()
SAVE_DELAY = 5.0
"""Seconds to wait before writing the index, so a burst of changes is written once."""
INDEX_KEEP = 16
"""How many stores' indexes to keep (least recently written ones are removed)."""


def save_index(root: Path, index: dict[str, Any]) -> None:
    """Write the index of *root* to the cache a little later, in the background.

    The write is delayed and coalesced: pickling 10,000 records takes the interpreter for
    a moment, which should not slow the requests that follow a listing.
    """
    with _pending_lock:
        timer = _pending.get(root)
        if timer is not None:
            timer.cancel()
        timer = threading.Timer(SAVE_DELAY, _write_index, (root, index))
        timer.daemon = True
        timer.name = "sacredlite-index-cache"
        _pending[root] = timer
        timer.start()


def _write_index(root: Path, index: dict[str, Any]) -> None:
    with _pending_lock:
        _pending.pop(root, None)
    path = cache_file(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"version": _VERSION, "root": str(root)}
        items = list(index.items())
        with open_atomic(path, 0o600) as fh:  # private: the records of the user's runs
            pickle.dump(header, fh, protocol=pickle.HIGHEST_PROTOCOL)
            for start in range(0, len(items), CHUNK):  # other threads run between chunks
                chunk = dict(items[start : start + CHUNK])
                pickle.dump(chunk, fh, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(None, fh, protocol=pickle.HIGHEST_PROTOCOL)
        indexes = sorted(path.parent.glob("index-*.pickle"), key=lambda p: p.stat().st_mtime)
        for stale in indexes[:-INDEX_KEEP]:
            stale.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - the cache only saves time; never fail a thread over it
        pass


SERIES_MIN_POINTS = 100_000
"""Only metric files with at least this many points are worth caching as binary arrays."""
SERIES_KEEP = 16
"""How many binary metric caches to keep (least recently written ones are removed)."""
SERIES_SAVE_DELAY = 2.0
"""Seconds between parsing a big metrics file and caching its arrays."""
MIN_POINT_BYTES = 4
"""The fewest bytes one point takes in ``metrics.json`` (a one-digit step and value, each
with its comma): a smaller file cannot hold :data:`SERIES_MIN_POINTS` points."""


def may_have_series(size: int) -> bool:
    """Return whether a metrics file of *size* bytes can be big enough to have a binary
    cache (so the cache of 10,000 small runs is not looked up 10,000 times)."""
    return size >= SERIES_MIN_POINTS * MIN_POINT_BYTES


def _series_file(path: str, key: Any) -> Path:
    digest = hashlib.sha1(f"{os.path.realpath(path)}\0{key!r}".encode()).hexdigest()[:24]
    return cache_file(Path("/")).parent / "series" / f"{digest}.npz"


def load_series(path: str, key: Any) -> dict[str, tuple[Any, Any]] | None:
    """Return the arrays cached for the metrics file *path* in the state *key*, if any."""
    try:
        import numpy as np

        with np.load(_series_file(path, key), allow_pickle=False) as data:
            names = [str(n) for n in data["names"]]
            return {n: (data[f"s{i}"], data[f"v{i}"]) for i, n in enumerate(names)}
    except Exception:  # noqa: BLE001 - no cache, or an unreadable one: parse the file
        return None


def save_series(path: str, key: Any, series: dict[str, tuple[Any, Any]]) -> None:
    """Cache the parsed arrays of a big metrics file in a background thread, a little later
    (:data:`SERIES_SAVE_DELAY`)."""
    if sum(len(steps) for steps, _ in series.values()) < SERIES_MIN_POINTS:
        return

    def write() -> None:
        try:
            import numpy as np

            target = _series_file(path, key)
            target.parent.mkdir(parents=True, exist_ok=True)
            arrays: dict[str, Any] = {"names": np.array(list(series), dtype=str)}
            for i, (steps, values) in enumerate(series.values()):
                arrays[f"s{i}"], arrays[f"v{i}"] = steps, values
            with open_atomic(target) as fh:
                np.savez(fh, **arrays)
            old = sorted(target.parent.glob("*.npz"), key=lambda p: p.stat().st_mtime)
            for stale in old[:-SERIES_KEEP]:
                stale.unlink(missing_ok=True)
        except Exception:  # noqa: BLE001, S110 - the cache only saves time
            pass

    # later, not at once: writing 160 MB while the first plot is still being drawn (the
    # series built, downsampled and sent) took a core from it
    timer = threading.Timer(SERIES_SAVE_DELAY, write)
    timer.daemon = True
    timer.name = "sacredlite-series-cache"
    timer.start()
