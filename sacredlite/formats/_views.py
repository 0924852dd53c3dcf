"""Where the board's saved views are stored, on both backends (internal; documented in
:mod:`sacredlite.formats.file` and :mod:`sacredlite.formats.mongo`).

A saved view is ``{"state": <JSON object>, "created": <ISO time>, "updated": <ISO time>}``
under its name. File storage keeps all of them in one file directly under the runs
directory, :data:`VIEWS_FILE` (its name starts with ``_``, so it is never taken for a run,
by sacredlite or by Sacred's observer), replaced atomically on every change. MongoDB keeps
one document per view, ``{_id: name, state, created, updated}``, in :data:`VIEWS`.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ._io import open_atomic

VIEWS_FILE = "_sacredlite_views.json"
"""The file of saved views under a file-storage directory: ``{"views": {name: view}}``."""
VIEWS = "sacredlite.views"
"""The MongoDB collection of saved views: ``{_id: name, state, created, updated}``."""


def read_views_file(root: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Return the saved views of a file-storage directory (``{}`` when there are none, or
    the file is not a views object)."""
    path = os.path.join(root, VIEWS_FILE)
    if os.path.islink(path):
        return {}  # never follow a planted link out of the storage root
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read())
    except (FileNotFoundError, ValueError):
        return {}
    views = data.get("views") if isinstance(data, dict) else None
    return (
        {str(k): v for k, v in views.items() if isinstance(v, dict)}
        if isinstance(views, dict)
        else {}
    )


def write_views_file(root: str | os.PathLike[str], views: dict[str, dict[str, Any]]) -> None:
    """Replace the saved views of a file-storage directory (atomically)."""
    with open_atomic(os.path.join(root, VIEWS_FILE)) as fh:
        fh.write(json.dumps({"views": views}, indent=1, sort_keys=True).encode("utf-8"))


def read_views_collection(db: Any) -> dict[str, dict[str, Any]]:
    """Return the saved views kept in a MongoDB database."""
    out = {}
    for doc in db[VIEWS].find({}):
        out[str(doc["_id"])] = {k: doc.get(k) for k in ("state", "created", "updated")}
    return out


def put_view_document(db: Any, name: str, view: dict[str, Any]) -> None:
    """Insert or replace one saved view in a MongoDB database."""
    db[VIEWS].replace_one({"_id": name}, {"_id": name, **view}, upsert=True)


def delete_view_document(db: Any, name: str) -> bool:
    """Delete one saved view from a MongoDB database; return whether it existed."""
    return bool(db[VIEWS].delete_one({"_id": name}).deleted_count)
