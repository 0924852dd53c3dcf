"""QueuedMongoObserver: a MongoObserver behind a QueueObserver (Sacred's class).

Importable as ``sacredlite.observers.mongo.QueuedMongoObserver``, Sacred's path.
"""

from __future__ import annotations

import warnings
from typing import Any

from .mongo import DEFAULT_MONGO_PRIORITY, MongoObserver
from .queue import QueueObserver

__all__ = ["QueuedMongoObserver"]


class QueuedMongoObserver(QueueObserver):
    """A MongoObserver whose writes go through a background thread and a disk spool.

    Args:
        interval: seconds between background flushes.
        retry_interval: seconds to wait after a failed write before retrying.
        url, db_name, collection, overwrite, priority, client, **kwargs: as for
            :class:`MongoObserver`.
        join_timeout: seconds the end of the run waits while no write reaches the database,
            before leaving the rest in the spool (default ``SETTINGS.DEFAULT_JOIN_TIMEOUT``).
    """

    @classmethod
    def create(cls, *args: Any, **kwargs: Any) -> QueuedMongoObserver:
        """Deprecated in Sacred 0.8 as here: call ``QueuedMongoObserver(...)`` instead."""
        warnings.warn(
            "QueuedMongoObserver.create(...) is deprecated. "
            "Please use QueuedMongoObserver(...) instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return cls(*args, **kwargs)

    def __init__(
        self,
        interval: float = 20.0,
        retry_interval: float = 10.0,
        url: str | None = None,
        db_name: str = "sacred",
        collection: str = "runs",
        overwrite: int | str | None = None,
        priority: int = DEFAULT_MONGO_PRIORITY,
        client: Any = None,
        join_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        covered = MongoObserver(
            url=url,
            db_name=db_name,
            collection=collection,
            overwrite=overwrite,
            priority=priority,
            client=client,
            **kwargs,
        )
        super().__init__(
            covered, interval=interval, retry_interval=retry_interval, join_timeout=join_timeout
        )
