"""Fixtures for the engine tests: an experiment script, its runs read back from storage.

Every engine's workers import the experiment from its script in their own processes, so
the checkout is put first on ``PYTHONPATH`` for them (:data:`checkout.THIS_CHECKOUT`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from checkout import THIS_CHECKOUT
from grid_helpers import GRID_SCRIPT


@pytest.fixture(autouse=True, scope="session")
def _workers_import_this_checkout():
    """Engine workers (separate processes) import sacredlite from this checkout."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = THIS_CHECKOUT["PYTHONPATH"]
    yield
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


@pytest.fixture
def grid_script(tmp_path: Path) -> Path:
    """The sweep's experiment script."""
    script = tmp_path / "grid_exp.py"
    script.write_text(GRID_SCRIPT)
    return script
