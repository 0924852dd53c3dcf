"""Built-in commands: print_config, print_dependencies, save_config, print_named_configs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging

    from .experiment import Experiment
    from .run import Run


def _colour() -> bool:
    return sys.stdout.isatty()


def print_config(_run: Run) -> None:
    """Print the updated configuration and exit.

    Text is highlighted: modified entries blue, added green, type-changed red; without a
    terminal the marks are written out as [modified], [added] and [typechanged].
    """
    from .config.summary import format_config

    print(format_config(_run.config, _run.config_modifications, _colour()))


def print_dependencies(_run: Run) -> None:
    """Print the detected source files, package dependencies and repositories."""
    from .info.sources import format_dependencies

    print(format_dependencies(_run.experiment_info, color=_colour()), end="")


def save_config(
    _config: dict[str, Any], _log: logging.Logger, config_filename: str = "config.json"
) -> None:
    """Store the updated configuration in a file (json, yaml or pickle by extension).

    Use ``with config_filename=other.yaml`` to choose the file.
    """
    config = {k: v for k, v in _config.items() if k != "config_filename"}
    from .config.files import save_config_file

    _log.info("Saving config to %s", config_filename)
    save_config_file(config, config_filename)


def format_named_configs(experiment: Experiment) -> str:
    """Render the named configs of *experiment* and its ingredients with their docs."""
    lines = ["Named Configurations (doc):"]
    named = sorted(experiment.gather_named_configs(), key=lambda item: item[0])
    if not named:
        lines.append("  No named configs")
    for name, layer in named:
        doc = (getattr(layer, "__doc__", None) or "").strip().splitlines()
        lines.append(f"  {name:<30}" + (f"  # {doc[0]}" if doc else ""))
    return "\n".join(lines)


def register_builtin_commands(experiment: Experiment) -> None:
    """Register the built-in commands on *experiment*, unobserved."""

    def print_named_configs() -> None:
        """Print the named configs of the experiment and its ingredients, with their docs."""
        print(format_named_configs(experiment))

    for func in (print_config, print_dependencies, save_config, print_named_configs):  # unused
        experiment.command(func, unobserved=True)


def print_named_configs(ingredient: Any) -> Any:
    """Temporary: Sacred's factory of the print_named_configs command."""

    def print_named_configs() -> None:
        """Print the available named configs and exit."""
        print(format_named_configs(ingredient))

    return print_named_configs


def help_for_command(command: Any) -> str:
    """Temporary: pydoc's text for a command."""
    import pydoc

    return pydoc.text.document(getattr(command, "__wrapped__", command))  # type: ignore[no-any-return]
