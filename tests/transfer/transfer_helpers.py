"""Shared by the transfer tests (a module of its own: ``conftest`` is a name every test
folder has)."""

from __future__ import annotations

from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
SACRED087 = CHECKOUT / "tests" / "board" / "data" / "sacred087"


def store_files(root: Path) -> dict[str, bytes]:
    """Return every file under *root* (caches and hidden files left out) by relative path."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in rel.split("/")):
            out[rel] = path.read_bytes()
    return out
