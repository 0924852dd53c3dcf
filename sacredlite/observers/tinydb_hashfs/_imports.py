"""The TinyDB observer's third-party packages, checked with one clear message (internal)."""

from __future__ import annotations

import importlib.util

PACKAGES = {"tinydb": "tinydb", "tinydb_serialization": "tinydb-serialization", "hashfs": "hashfs"}


def require() -> None:
    """Raise ``ImportError`` naming what to install when a package is missing."""
    missing = [pip for module, pip in PACKAGES.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise ImportError(
            f"TinyDbObserver needs {', '.join(missing)}: pip install 'sacredlite[tinydb]'"
        )
