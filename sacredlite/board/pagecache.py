"""Rendered pages of the runs list, reused while the runs do not change (internal).

Under 200 concurrent listings most of a request's time went into building rows and JSON
that the previous request had just built. A page is keyed on the store's
:attr:`~sacredlite.store.base.RunStore.generation` and the request's query string; it is
reused until the runs change, or for at most :data:`VOLATILE_SECONDS` when the answer moves
with the clock (a RUNNING run's duration and status) or shows metric summaries.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

VOLATILE_SECONDS = 1.0
"""How long a page that moves with the clock is reused."""
PAGES = 256
"""Pages kept (least recently used ones are dropped)."""


class PageCache:
    """The rendered bodies of recent runs-list answers."""

    def __init__(self, size: int = PAGES) -> None:
        self.size = size
        self._pages: OrderedDict[Any, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, stable: bool) -> bytes | None:
        """Return the page stored under *key*, if it is still valid (*stable*: it holds
        until the key's generation changes, else for :data:`VOLATILE_SECONDS`)."""
        if key[0] is None:
            return None
        with self._lock:
            hit = self._pages.get(key)
            if hit is None or (not stable and time.monotonic() - hit[0] > VOLATILE_SECONDS):
                return None
            self._pages.move_to_end(key)
            return hit[1]

    def put(self, key: Any, body: bytes) -> None:
        """Store a rendered page under *key*."""
        if key[0] is None:
            return
        with self._lock:
            self._pages[key] = (time.monotonic(), body)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
