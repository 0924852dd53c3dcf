"""Observers record runs: the Sacred-compatible observer API.

Backends are imported on first use, so ``import sacredlite.observers`` loads neither
pymongo nor anything else heavy (tinydb, SQLAlchemy, boto3 and python-telegram-bot are
imported only when their observer is made).
"""

from __future__ import annotations

from .._lazy import lazy_getattr
from .base import RunObserver as RunObserver

__all__ = [
    "FileStorageObserver",
    "MemoryObserver",
    "MongoObserver",
    "QueueObserver",
    "QueuedMongoObserver",
    "RunObserver",
    "S3Observer",
    "SlackObserver",
    "SqlObserver",
    "TelegramObserver",
    "TinyDbObserver",
    "TinyDbReader",
]

_LAZY = {
    "FileStorageObserver": ".file",
    "MemoryObserver": ".memory",
    "MongoObserver": ".mongo",
    "QueuedMongoObserver": ".mongo",
    "QueueObserver": ".queue",
    "S3Observer": ".s3_observer",
    "SlackObserver": ".slack",
    "SqlObserver": ".sql",
    "TelegramObserver": ".telegram_obs",
    "TinyDbObserver": ".tinydb_hashfs",
    "TinyDbReader": ".tinydb_hashfs",
}

__getattr__ = lazy_getattr(__name__, globals(), _LAZY)
