"""Where each file of a file-storage directory lives, and how the directories are made
(internal; :mod:`sacredlite.formats.file` documents the layout).
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..errors import ObserverError
from ..events import RunStatus
from ._io import copy_atomic, md5_bytes, md5_file, open_atomic, write_atomic

RUN_FILE = "run.json"
CONFIG_FILE = "config.json"
INFO_FILE = "info.json"
COUT_FILE = "cout.txt"
METRICS_FILE = "metrics.json"
"""Sacred's metrics file, complete once a run has ended."""
SIDE_FILE = "metrics.jsonl"
"""The append-only side file of a run whose metrics outgrew the live bound."""
SPILL_DIR = ".metrics_spill"
"""Where a run's encoded points go once they outgrow the writer's memory budget."""
OMNIBOARD_FILE = "omniboard.json"
"""Tags and notes of a run, written by the board: ``{"tags": [...], "notes": "..."}``."""
OPTUNA_JOURNAL_FILE = "_optuna.journal"
"""Optuna's journal of the studies ``sacredlite tune -F DIR`` runs (Optuna's own format)."""
TEMPLATE_FILE = "template.html"
"""The report template a file observer uses by default when it is in DIR (Sacred's rule)."""
SOURCES_DIR = "_sources"
RESOURCES_DIR = "_resources"
SECTION_FILES = {"config": CONFIG_FILE, "info": INFO_FILE}
"""The run files that hold one part of a run's record, by the record's key."""
TIME_FIELDS = ("start_time", "heartbeat", "stop_time", "queue_time")
"""The fields of ``run.json`` that hold times (naive-UTC ISO 8601 strings)."""

RESERVED = frozenset({RUN_FILE, CONFIG_FILE, INFO_FILE, COUT_FILE, METRICS_FILE, SIDE_FILE})
"""Names an artifact cannot take: the observer's own files."""
MAX_ID_ATTEMPTS = 1000
"""Run ids tried before giving up (about Sacred's limit)."""


def report_file(template: str) -> str:
    """Return the name of the report rendered from *template* in a run directory
    (``report`` with the template's extension)."""
    return "report" + os.path.splitext(template)[1]


def is_run_name(name: str) -> bool:
    """Return whether an entry of the storage directory can be a run's directory
    (``_sources``, ``_resources`` and hidden entries are not)."""
    return bool(name) and name[0] not in "._"


def status_of(run_dir: str) -> str | None:
    """Return the ``status`` in *run_dir*/run.json, or ``None`` if it cannot be read."""
    try:
        with open(os.path.join(run_dir, RUN_FILE), encoding="utf-8") as file:
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
            if status_of(path) != RunStatus.QUEUED.value:
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


def store_once(filename: str, store_dir: str, md5: str | None = None) -> str:
    """Copy *filename* to *store_dir* as ``<stem>_<md5><ext>`` once; return that path.

    Args:
        filename: the file to store.
        store_dir: ``_sources`` or ``_resources`` (created when needed).
        md5: the content's md5 hex digest when known (computed otherwise).
    """
    if md5 is None:
        md5 = md5_file(filename)
    stem, ext = os.path.splitext(os.path.basename(filename))
    store_path = os.path.join(store_dir, f"{stem}_{md5}{ext}")
    if not os.path.exists(store_path):
        os.makedirs(store_dir, exist_ok=True)
        copy_atomic(filename, store_path)
    return store_path


def store_sources(
    ex_info: dict[str, Any], source_dir: str, basedir: str, copy: bool = True
) -> list[list[str]]:
    """Store an experiment's sources once each; return ``run.json``'s ``sources``.

    Args:
        ex_info: the experiment's info: ``base_dir`` and ``sources``, ``[[path relative to
            base_dir, md5]]``.
        source_dir: where to store them (``DIR/_sources``).
        basedir: the storage directory the stored paths are relative to.
        copy: store copies; when false, the original paths are recorded instead.

    Returns:
        ``[[path relative to base_dir, stored path relative to basedir]]``.

    Raises:
        ObserverError: a source file cannot be read.
    """
    base_dir = ex_info.get("base_dir") or ""
    stored = []
    for entry in ex_info.get("sources", ()):
        source, md5 = entry[0], entry[1] if len(entry) > 1 else None
        path = os.path.join(base_dir, source)
        if copy:
            known = md5 if isinstance(md5, str) and len(md5) == 32 else None
            try:
                path = store_once(path, source_dir, known)
            except OSError as exc:
                raise ObserverError(
                    f"FileStorageObserver cannot store source {path!r} ({exc}): check that "
                    "the file exists and is readable, or pass copy_sources=False."
                ) from None
        stored.append([source, os.path.relpath(path, basedir)])
    return stored


def stored_md5(stored: str) -> str:
    """Return the md5 part of a content-addressed name (``_sources/exp_<md5>.py``)."""
    return os.path.splitext(os.path.basename(stored))[0].rpartition("_")[2]


def repo_name(url: Any) -> str:
    """Return a short file-name-safe name for a repository URL or path."""
    text = str(url or "").rstrip("/")
    text = text[:-5] if text.endswith("/.git") else text.removesuffix(".git")
    name = text.replace(":", "/").rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return safe or "repo"


def store_diff(repo: dict[str, Any], source_dir: str, basedir: str) -> dict[str, Any]:
    """Return *repo* with its ``diff`` text stored once in *source_dir* as ``diff_file``.

    The file is ``<repo name>_<md5>.diff``; ``diff_file`` is its path relative to *basedir*.
    """
    repo = dict(repo)
    if "diff" not in repo:
        return repo
    data = str(repo.pop("diff")).encode("utf-8")
    path = os.path.join(source_dir, f"{repo_name(repo.get('url'))}_{md5_bytes(data)}.diff")
    if not os.path.exists(path):
        os.makedirs(source_dir, exist_ok=True)
        write_atomic(path, data)
    repo["diff_file"] = os.path.relpath(path, basedir)
    return repo


def artifact_path(run_dir: str, name: str) -> str:
    """Return where the artifact *name* is stored in *run_dir* (sub-folders allowed).

    Raises:
        FileExistsError: the name is one of the observer's own files (as in Sacred).
        ObserverError: the name leaves the run directory.
    """
    dest = os.path.normpath(os.path.join(run_dir, name))
    relative = os.path.relpath(dest, run_dir)
    if relative in RESERVED:
        raise FileExistsError(
            f"Artifact name {name!r} would overwrite the observer's own file: "
            f"pick a name other than {', '.join(sorted(RESERVED))}."
        )
    if os.path.isabs(name) or relative.startswith(os.pardir):
        raise ObserverError(
            f"Artifact name {name!r} leaves the run directory: use a relative name "
            "such as 'model.pt' or 'plots/loss.png'."
        )
    return dest


def omniboard_entry(data: Any) -> dict[str, Any]:
    """Return the tags and notes of a run from the parsed ``omniboard.json`` (``{}`` when it
    is missing or not an object)."""
    side = data if isinstance(data, dict) else {}
    return {"tags": list(side.get("tags", [])), "notes": side.get("notes", "")}


def write_omniboard(run_dir: str, entry: dict[str, Any]) -> None:
    """Replace the run's ``omniboard.json`` with *entry* (never writing through a link)."""
    with open_atomic(os.path.join(run_dir, OMNIBOARD_FILE)) as file:
        file.write(json.dumps(entry, indent=2).encode("utf-8"))
