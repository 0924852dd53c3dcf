"""Hostile data for the tests of issue 9: values that run code if anything decodes them
with jsonpickle (as Sacred 0.8.7 does for JSON config files)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def code_payload(marker: Path) -> dict[str, Any]:
    """A jsonpickle value that creates the file *marker* when jsonpickle decodes it."""
    command = f"{sys.executable} -c \"open({str(marker)!r}, 'w').close()\""
    return {"py/reduce": [{"py/function": "os.system"}, {"py/tuple": [command]}]}
