"""Import an experiment script by its path (internal; the worker and the sweeps use it)."""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType


class ScriptImportError(Exception):
    """The script could not be imported: ``cause`` is what its code raised, ``None`` when
    the file is not importable Python at all."""

    def __init__(self, cause: BaseException | None) -> None:
        super().__init__(cause)
        self.cause = cause


def import_script(path: str, module_name: str) -> ModuleType:
    """Import the script *path* as the module *module_name*, not as ``__main__`` (so
    ``automain`` does not fire), with its folder on ``sys.path`` as ``python script.py``
    would have it (its sibling modules import).

    Raises:
        ScriptImportError: the file is not importable, or its code raised.
    """
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ScriptImportError(None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ScriptImportError(exc) from exc
    return module
