"""The ``sacredlite`` console script: ``sacredlite COMMAND ...``.

Each subcommand lives in the module that owns its job and is imported only when used.
"""

from __future__ import annotations

import importlib
import sys

from . import __version__

SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "board": ("sacredlite.board.command", "main", "serve the web dashboard"),
    "copy": ("sacredlite.transfer.command", "copy_main", "copy runs between stores"),
    "export": (
        "sacredlite.transfer.command",
        "export_main",
        "export runs to CSV/Parquet, MLflow or TensorBoard",
    ),
    "import": ("sacredlite.transfer.command", "import_main", "import MLflow or TensorBoard runs"),
    "ls": ("sacredlite.store.command", "ls_main", "list runs"),
    "run-as-sacred": (
        "sacredlite.as_sacred",
        "main",
        "run a Sacred script or -m tool, sacred routed to sacredlite (this process only)",
    ),
    "show": ("sacredlite.store.command", "show_main", "show one run"),
    "sql": ("sacredlite.transfer.command", "sql_main", "query runs with SQL (DuckDB)"),
    "sweep": (
        "sacredlite.sweeps.command",
        "sweep_main",
        "run a grid or sampled sweep of an experiment on an engine (local, slurm, dask, ray)",
    ),
    "sync": ("sacredlite.observers.sync", "main", "replay spooled events into MongoDB"),
    "tune": ("sacredlite.sweeps.command", "tune_main", "search a config space with Optuna"),
    "worker": ("sacredlite.worker", "main", "execute queued runs from MongoDB"),
}

_WIDTH = max(map(len, SUBCOMMANDS))
USAGE = "usage: sacredlite [--version] COMMAND [ARGS...]\n\ncommands:\n" + "\n".join(
    f"  {name:<{_WIDTH}} {help_}" for name, (_, _, help_) in SUBCOMMANDS.items()
)


def main(argv: list[str] | None = None) -> int:
    """Run the ``sacredlite`` console script and return its exit code."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if args[0] == "--version":
        print(f"sacredlite {__version__}")
        return 0
    entry = SUBCOMMANDS.get(args[0])
    if entry is None:
        print(f"sacredlite: unknown command {args[0]!r}.\n{USAGE}", file=sys.stderr)
        return 2
    module_name, func_name, _ = entry
    func = getattr(importlib.import_module(module_name), func_name)
    return int(func(args[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
