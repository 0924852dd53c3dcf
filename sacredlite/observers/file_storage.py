"""Sacred's module path ``sacred.observers.file_storage``: the file-storage observer.

The observer lives in :mod:`sacredlite.observers.file`; this module re-exports it.
"""

from __future__ import annotations

from .file import DEFAULT_FILE_STORAGE_PRIORITY as DEFAULT_FILE_STORAGE_PRIORITY
from .file import FileStorageObserver as FileStorageObserver

__all__ = ["DEFAULT_FILE_STORAGE_PRIORITY", "FileStorageObserver"]
