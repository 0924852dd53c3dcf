"""Observers record runs: the Sacred-compatible observer API.

Backends are imported on first use, so ``import sacredlite.observers`` loads neither
pymongo nor anything else heavy.
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
    "SqlObserver",
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
    "SqlObserver": ".sql",
    "TinyDbObserver": ".tinydb_hashfs",
    "TinyDbReader": ".tinydb_hashfs",
}

__getattr__ = lazy_getattr(__name__, globals(), _LAZY)
