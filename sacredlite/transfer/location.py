"""Where runs come from and go to: a storage directory or a MongoDB database (internal).

A location is written as on the command line: a directory (``runs/``), or a MongoDB URL
(``mongodb://host:27017/db``, or Sacred's ``-m`` forms given with ``-m``). Reading goes
through :func:`sacredlite.store.open_store`; writing through the format's ``write_run``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..formats.file import PortableRun
from ..store import StoreError, open_store, store_kind
from ..store.base import RunStore


@dataclass(frozen=True)
class Location:
    """A store named on the command line or in Python.

    Attributes:
        path: a file storage directory.
        mongo: a MongoDB URL or Sacred ``-m`` value.
        db_name: the MongoDB database (default: from the URL, else ``sacred``).
    """

    path: str | None = None
    mongo: str | None = None
    db_name: str | None = None

    @classmethod
    def parse(cls, value: Any, *, mongo: bool = False) -> Location:
        """Return the location *value* names: a :class:`Location` or a RunStore as it is,
        ``mongodb://``/``mongodb+srv://`` URLs as MongoDB, anything else as a directory
        (a MongoDB ``-m`` value when *mongo*)."""
        if isinstance(value, Location):
            return value
        text = os.fspath(value)
        if mongo or text.startswith(("mongodb://", "mongodb+srv://")):
            return cls(mongo=text)
        return cls(path=text)

    def open(self, *, create: bool = False, read_only: bool = True) -> RunStore:
        """Open the store for reading (*create*: make a missing directory first)."""
        if self.mongo is not None:
            return open_store(mongo_url=self.mongo, db_name=self.db_name, read_only=read_only)
        assert self.path is not None
        if create and store_kind(self.path)[0] == "file":  # never a folder named "sqlite:"
            os.makedirs(self.path, exist_ok=True)
        return open_store(self.path, read_only=read_only)


@contextlib.contextmanager
def opened(where: Any, *, create: bool = False, read_only: bool = True) -> Iterator[RunStore]:
    """Yield the store *where* names (a directory, a URL, a :class:`Location`), closed
    afterwards; an open store is yielded as it is and left open."""
    if isinstance(where, RunStore):
        yield where
        return
    store = Location.parse(where).open(create=create, read_only=read_only)
    try:
        yield store
    finally:
        store.close()


def writer(store: RunStore) -> Callable[[PortableRun, Any], Any]:
    """Return ``write(run, wanted_id) -> new id`` adding runs to the store *store*.

    Raises:
        StoreError: the store's backend cannot be written by sacredlite.
    """
    if store.backend == "file":
        from ..formats.file import write_run as write_file_run

        root = str(store.root)  # type: ignore[attr-defined]
        return lambda run, run_id: store.parse_id(write_file_run(root, run, run_id))
    if store.backend == "mongo":
        from ..formats.mongo import ensure_indexes
        from ..formats.mongo import write_run as write_mongo_run

        target = store.target  # type: ignore[attr-defined]
        ensure_indexes(target)
        known: dict[Any, Any] = {}  # sources shared by the runs, looked up once
        return lambda run, run_id: write_mongo_run(target, run, run_id, known_files=known)
    raise StoreError(
        f"Cannot write runs into a {store.backend or 'this kind of'} store "
        f"({store.location}): copy into a storage directory or MongoDB."
    )
