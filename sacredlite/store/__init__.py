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
    "store_kind",
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


SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql")
"""URL schemes (before any ``+driver``) read as SQL databases without a ``sql:`` prefix."""


def store_kind(location: str) -> tuple[str, str]:
    """Return ``(backend, location)`` for a store named on the command line.

    ``tinydb:PATH`` (or a directory holding TinyDB's ``metadata.json``), ``sql:URL`` or a
    SQLAlchemy URL (``sqlite:///runs.db``, ``postgresql://...``), ``s3://BUCKET/PREFIX``,
    ``mongodb://...``; anything else is a file storage directory.
    """
    prefix, colon, rest = location.partition(":")
    if colon and prefix in ("tinydb", "sql", "file"):
        return prefix, rest
    scheme = location.split("://", 1)[0].split("+", 1)[0].lower() if "://" in location else ""
    if scheme in SQL_SCHEMES:
        return "sql", location
    if scheme == "s3":
        return "s3", location
    if scheme in ("mongodb", "mongodb+srv") or location.startswith("mongodb+srv://"):
        return "mongo", location
    from ..formats.tinydb import METADATA_FILE

    if os.path.isfile(os.path.join(location, METADATA_FILE)):
        return "tinydb", location
    return "file", location


def open_store(
    path: str | os.PathLike[str] | None = None,
    *,
    mongo_url: str | None = None,
    db_name: str | None = None,
    read_only: bool = False,
    endpoint_url: str | None = None,
) -> RunStore:
    """Open a store for reading runs: a file storage directory, MongoDB, TinyDB, SQL or S3.

    Args:
        path: a file storage directory (``-F DIR``), or ``tinydb:DIR``, ``sql:URL`` / a
            SQLAlchemy URL, ``s3://BUCKET/PREFIX`` (see :func:`store_kind`).
        mongo_url: a MongoDB URL or Sacred ``-m`` value instead of *path*.
        db_name: the database (default: from the URL, else ``sacred``).
        read_only: refuse tags, notes and deletes (TinyDB, SQL and S3 stores always do).
        endpoint_url: the S3 endpoint (a local S3 server); default ``AWS_ENDPOINT_URL``
            or AWS itself.
    """
    if (path is None) == (mongo_url is None):
        raise StoreError("Give exactly one of a storage directory or mongo_url=....")
    if path is not None:
        kind, location = store_kind(os.fspath(path))
        if kind == "mongo":
            mongo_url = location
    if mongo_url is not None:
        from .mongo import MongoStore

        url, db = parse_mongo_option(mongo_url, db_name)
        return MongoStore(url, db, read_only=read_only)
    if kind == "tinydb":
        from .tinydb import TinyDbStore

        return TinyDbStore(location, read_only=read_only)
    if kind == "sql":
        from .sql import SqlStore

        return SqlStore(location, read_only=read_only)
    if kind == "s3":
        from .s3 import S3Store

        return S3Store(location, read_only=read_only, endpoint_url=endpoint_url)
    from .file import FileStore

    return FileStore(location, read_only=read_only)
