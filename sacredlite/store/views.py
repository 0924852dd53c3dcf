"""The board's saved views: named, opaque UI states (columns, order, filters, sort,
grouping) kept with the runs, not in one browser (internal).

Where they are stored is :mod:`sacredlite.formats`' business (a file under the runs
directory, or a MongoDB collection); this module checks names and sizes and keeps the
creation and update times.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import limits
from .limits import check_limit
from .records import NotFound, StoreError

if TYPE_CHECKING:
    from .base import RunStore


def check_name(name: Any) -> str:
    """Validate a view's name: printable text without ``/`` or ``\\``, not blank, at most
    ``MAX_VIEW_NAME_CHARS`` characters."""
    if not isinstance(name, str) or not name.strip():
        raise StoreError(f"A view needs a name (printable text), got {name!r}.")
    check_limit("Characters of a view's name", len(name), limits.MAX_VIEW_NAME_CHARS, " characters")
    if not name.isprintable() or "/" in name or "\\" in name or name != name.strip():
        raise StoreError(
            f"View name {name!r} is not allowed: use printable characters without '/' or "
            "'\\' and no spaces at either end."
        )
    return name


def check_state(state: Any) -> dict[str, Any]:
    """Validate a view's state: a JSON object of at most ``MAX_VIEW_BYTES`` bytes."""
    if not isinstance(state, dict):
        raise StoreError(
            "A view's state must be a JSON object, as in the body "
            f'{{"state": {{...}}}}; got {type(state).__name__}.'
        )
    size = len(json.dumps(state, separators=(",", ":"), allow_nan=False).encode("utf-8"))
    check_limit("Bytes of a view's state", size, limits.MAX_VIEW_BYTES, " bytes")
    return state


def list_views(store: RunStore) -> list[dict[str, Any]]:
    """Return every saved view, ``[{"name", "state", "created", "updated"}]``, by name."""
    views = store._read_views()
    return [{"name": name, **views[name]} for name in sorted(views)]


def save_view(store: RunStore, name: str, state: Any) -> None:
    """Create or replace the view *name* (refused on a read-only store)."""
    store._check_writable("save views")
    check_name(name)
    check_state(state)
    now = datetime.now(timezone.utc).isoformat()
    with store._lock:
        views = store._read_views()
        old = views.get(name)
        if old is None:
            check_limit("Saved views", len(views) + 1, limits.MAX_VIEWS)
        created = old.get("created") if isinstance(old, dict) else None
        store._put_view(name, {"state": state, "created": created or now, "updated": now})


def delete_view(store: RunStore, name: str) -> None:
    """Delete the view *name* (refused on a read-only store)."""
    store._check_writable("delete views")
    with store._lock:
        if not store._drop_view(name):
            raise NotFound(f"There is no saved view {name!r}.")
