"""The environment for child processes in tests: they import sacredlite from this checkout."""

from __future__ import annotations

import os
from pathlib import Path

THIS_CHECKOUT = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
    ),
}
"""``os.environ`` with this checkout first on ``PYTHONPATH``."""
