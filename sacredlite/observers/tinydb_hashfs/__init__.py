"""Sacred's ``sacred.observers.tinydb_hashfs``: TinyDbObserver, TinyDbReader, ``-t`` option.

Importing this package needs none of tinydb, tinydb-serialization or hashfs; making an
observer or reader does (``pip install 'sacredlite[tinydb]'``).
"""

from __future__ import annotations

from .tinydb_hashfs import TinyDbObserver as TinyDbObserver
from .tinydb_hashfs import TinyDbReader as TinyDbReader
from .tinydb_hashfs import tiny_db_option as tiny_db_option

__all__ = ["TinyDbObserver", "TinyDbReader", "tiny_db_option"]
