"""The public surface: exported names, lazy imports, the console script."""

from __future__ import annotations

import subprocess
import sys

import pytest

import sacredlite
import sacredlite.observers
from sacredlite.__main__ import main as console_main


def test_exported_members_are_sorted_and_present():
    """__all__ is sorted and every name in it exists."""
    for module in (sacredlite, sacredlite.observers):
        assert list(module.__all__) == sorted(module.__all__)
        for name in module.__all__:
            assert hasattr(module, name), name


def test_import_is_lazy():
    """Importing sacredlite loads no heavy optional dependency."""
    code = (
        "import sys, sacredlite, sacredlite.observers; "
        "print(sorted(m for m in ('pymongo', 'git', 'numpy', 'pandas', 'starlette', "
        "'uvicorn', 'jsonpickle', 'docopt') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_console_script_version(capsys):
    """'sacredlite --version' prints the version."""
    assert console_main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sacredlite {sacredlite.__version__}"


def test_console_script_unknown_command(capsys):
    """An unknown subcommand exits 2 naming it."""
    assert console_main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_experiment_without_source_file_needs_interactive():
    """An experiment defined in the REPL is refused unless interactive=True."""
    namespace = {"__name__": "__main__"}
    exec("from sacredlite import Experiment\nex = Experiment('repl', interactive=True)", namespace)
    assert namespace["ex"].mainfile is None
    with pytest.raises(RuntimeError, match="interactive=True"):
        exec("from sacredlite import Experiment\nex = Experiment('repl')", {"__name__": "x"})
