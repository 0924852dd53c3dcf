"""Layers point down: the lower layers and the readers never load the experiment core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sacredlite"
CORE = ("experiment", "ingredient", "run", "cli", "initialize", "captured", "commands")
LOWER = ("config", "info", "observers", "store", "capture", "formats")
READERS = (
    "sacredlite.board.app",
    "sacredlite.store",
    "sacredlite.query",
    "sacredlite.transfer.copy",
    "sacredlite.transfer.export",
)


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _imported(path: Path) -> set[str]:
    """The sacredlite modules a file imports by name, at any depth of the file (type-checking
    blocks included), resolved from relative imports."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("folder", LOWER)
def test_lower_layers_never_import_the_core(folder):
    """No module under config/, info/, observers/, store/ or capture/ imports the core,
    not even for type checking (a protocol or plain data says what it needs)."""
    core = {f"sacredlite.{name}" for name in CORE}
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(_imported(path) & core)
        for path in _modules(folder)
        if _imported(path) & core
    }
    assert offenders == {}


@pytest.mark.parametrize("reader", READERS)
def test_readers_do_not_load_the_experiment_machinery(reader):
    """Importing the board, the store or the query API leaves the core unloaded."""
    code = (
        f"import sys, {reader}\n"
        f"print(sorted(m for m in sys.modules if m in {tuple(f'sacredlite.{c}' for c in CORE)}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_formats_are_the_bottom_layer():
    """The stored formats import nothing of the layers above them (observers, store, board,
    info, config, capture, worker): those write and read through the formats."""
    above = ("observers", "store", "board", "info", "config", "capture", "worker", "query")
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in _imported(path) if name.split(".")[1:2] and name.split(".")[1] in above
        )
        for path in _modules("formats")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
