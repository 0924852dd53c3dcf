"""Readers for stored runs (file storage and MongoDB), shared by board, query and CLI.

Internal: the public entry points are ``sacredlite board``, ``sacredlite ls/show`` and
:mod:`sacredlite.query`. :func:`open_store` picks the backend.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .records import Filter as Filter
from .records import NotFound as NotFound
from .records import ReadOnlyError as ReadOnlyError
from .records import RunNotFound as RunNotFound
from .records import RunQuery as RunQuery
from .records import StoreError as StoreError

if TYPE_CHECKING:
    from .base import RunStore

__all__ = [
    "Filter",
    "NotFound",
    "ReadOnlyError",
    "RunNotFound",
    "RunQuery",
    "StoreError",
    "open_store",
    "parse_mongo_option",
]


def parse_mongo_option(value: str, db_name: str | None = None) -> tuple[str, str]:
    """Turn Sacred's ``-m`` value into ``(url, db_name)`` for reading.

    The grammar is the observer's (:func:`sacredlite.formats.mongo.parse_mongo_option`):
    ``mongodb://...`` URLs (database from the URL path), ``DB``, ``HOST:PORT``,
    ``HOST:PORT:DB``; *db_name*, when given, wins; the default database is ``sacred``.
    """
    from ..errors import CommandLineError
    from ..formats.mongo import parse_mongo_option as parse_observer_option

    try:
        kwargs = parse_observer_option(value)
    except CommandLineError as exc:
        raise StoreError(f"{exc} Accepted: mongodb://HOST:PORT, HOST:PORT:DB or DB.") from None
    url = kwargs.get("url") or "localhost:27017"
    if "://" not in url:
        url = f"mongodb://{url}"
    return url, db_name or kwargs.get("db_name") or "sacred"


def open_store(
    path: str | os.PathLike[str] | None = None,
    *,
    mongo_url: str | None = None,
    db_name: str | None = None,
    read_only: bool = False,
) -> RunStore:
    """Open a file storage directory or a MongoDB database for reading runs.

    Args:
        path: a file storage directory (``-F DIR``).
        mongo_url: a MongoDB URL or Sacred ``-m`` value instead of *path*.
        db_name: the database (default: from the URL, else ``sacred``).
        read_only: refuse tags, notes and deletes.
    """
    if (path is None) == (mongo_url is None):
        raise StoreError("Give exactly one of a storage directory or mongo_url=....")
    if mongo_url is not None:
        from .mongo import MongoStore

        url, db = parse_mongo_option(mongo_url, db_name)
        return MongoStore(url, db, read_only=read_only)
    from .file import FileStore

    return FileStore(path, read_only=read_only)  # type: ignore[arg-type]
