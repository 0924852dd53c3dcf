"""Helpers of the file-storage observer (internal): flattening, content-addressed copies,
path checks.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from typing import Any

from ..errors import ObserverError
from ..formats._json import flatten as flatten

RESERVED = frozenset(
    {"run.json", "config.json", "info.json", "cout.txt", "metrics.json", "metrics.jsonl"}
)
MAX_ID_ATTEMPTS = 1000
"""Run ids tried before giving up (about Sacred's limit)."""


def md5_file(path: str) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def copy_atomic(src: str, dest: str) -> None:
    """Copy *src* to *dest* so that readers (and racing writers) see whole files only."""
    tmp = f"{dest}.tmp{os.getpid()}_{threading.get_ident()}"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def repo_name(url: Any) -> str:
    """Return a short file-name-safe name for a repository URL or path."""
    text = str(url or "").rstrip("/")
    text = text[:-5] if text.endswith("/.git") else text.removesuffix(".git")
    name = text.replace(":", "/").rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return safe or "repo"


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


def store_once(filename: str, store_dir: str, md5: str) -> str:
    """Copy *filename* to *store_dir* as ``<stem>_<md5><ext>`` once; return that path."""
    stem, ext = os.path.splitext(os.path.basename(filename))
    store_path = os.path.join(store_dir, f"{stem}_{md5}{ext}")
    if not os.path.exists(store_path):
        os.makedirs(store_dir, exist_ok=True)
        copy_atomic(filename, store_path)
    return store_path


def status_of(run_dir: str) -> str | None:
    """Return the ``status`` in *run_dir*/run.json, or ``None`` if it cannot be read."""
    try:
        with open(os.path.join(run_dir, "run.json"), encoding="utf-8") as file:
            status = json.load(file).get("status")
    except (OSError, ValueError, AttributeError):
        return None
    return status if isinstance(status, str) else None


def make_run_dir(basedir: str, _id: int | str | None, after: int | None = None) -> tuple[str, str]:
    """Create the directory of a new run in *basedir*; return its path and name.

    Without *_id*, the name is one more than the largest numeric directory, and the next
    number is tried whenever ``os.mkdir`` finds the directory taken (another process, or a
    network file system whose listing lags behind), as in Sacred. *after*, the number this
    process created last, is tried + 1 first: listing a basedir of thousands of runs for
    every run would make each run slower than the last. A given *_id* names the
    directory; it may be a queued run's, which is taken over.

    Raises:
        FileExistsError: the given *_id* is taken by a run that is not queued, or no free
            number was found after :data:`MAX_ID_ATTEMPTS` tries (Sacred raises the same).
        ObserverError: *_id* cannot name a directory.
    """
    if _id is not None:
        name = str(_id)
        if not name or os.path.basename(name) != name or name in ("..", "."):
            raise ObserverError(
                f"Run id {_id!r} cannot name a directory in {basedir!r}: use an id "
                "without path separators, such as 7 or 'run_7'."
            )
        path = os.path.join(basedir, name)
        try:
            os.mkdir(path)
        except FileExistsError:
            if status_of(path) != "QUEUED":
                raise FileExistsError(
                    f"Run directory {path!r} exists already: run id {_id!r} is taken in "
                    f"{basedir!r}; use another basedir or let the observer pick the id."
                ) from None
        return path, name
    if after is not None:
        path = os.path.join(basedir, str(after + 1))
        try:
            os.mkdir(path)
            return path, str(after + 1)
        except FileExistsError:  # someone else went on from there: find the largest id
            pass
    with os.scandir(basedir) as entries:
        numbers = [
            int(e.name) for e in entries if e.name.isascii() and e.name.isdigit() and e.is_dir()
        ]
    candidate = max(numbers, default=0) + 1
    for _ in range(MAX_ID_ATTEMPTS):
        path = os.path.join(basedir, str(candidate))
        try:
            os.mkdir(path)
        except FileExistsError:  # another process took this id: try the next one
            candidate += 1
            continue
        return path, str(candidate)
    raise FileExistsError(
        f"FileStorageObserver found no free run id in {basedir!r} after {MAX_ID_ATTEMPTS} "
        f"attempts (the last was {candidate - 1}): check the directory and the file system."
    )


def store_diff(repo: dict[str, Any], source_dir: str, basedir: str) -> dict[str, Any]:
    """Return *repo* with its ``diff`` text stored once in *source_dir* as ``diff_file``.

    The file is ``<repo name>_<md5>.diff``; ``diff_file`` is its path relative to *basedir*.
    """
    repo = dict(repo)
    if "diff" not in repo:
        return repo
    data = str(repo.pop("diff")).encode("utf-8")
    path = os.path.join(
        source_dir, f"{repo_name(repo.get('url'))}_{hashlib.md5(data).hexdigest()}.diff"
    )
    if not os.path.exists(path):
        os.makedirs(source_dir, exist_ok=True)
        tmp = f"{path}.tmp{os.getpid()}_{threading.get_ident()}"
        with open(tmp, "wb") as file:
            file.write(data)
        os.replace(tmp, path)
    repo["diff_file"] = os.path.relpath(path, basedir)
    return repo
