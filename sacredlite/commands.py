"""The built-in commands every experiment has, and their text (Sacred's).

``print_config``, ``print_dependencies``, ``save_config`` and ``print_named_configs`` print
exactly what Sacred 0.8.7 prints, colours included (Sacred writes them piped or not).
"""

from __future__ import annotations

import pydoc
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .config.summary import COLOR_ADDED as COLOR_ADDED
from .config.summary import COLOR_DIRTY as COLOR_DIRTY
from .config.summary import COLOR_DOC as COLOR_DOC
from .config.summary import COLOR_MODIFIED as COLOR_MODIFIED
from .config.summary import COLOR_TYPECHANGED as COLOR_TYPECHANGED
from .config.summary import ENDC as ENDC
from .config.summary import ConfigEntry as ConfigEntry
from .config.summary import PathEntry as PathEntry
from .config.summary import format_config, format_entry, iterate_marked

if TYPE_CHECKING:
    import logging

__all__ = [
    "help_for_command",
    "print_config",
    "print_dependencies",
    "print_named_configs",
    "save_config",
]

# Sacred's private names, which its own tests import
_format_config = format_config
_format_entry = format_entry
_iterate_marked = iterate_marked


def _without_annotations(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give *func* the unannotated signature ``help COMMAND`` shows for Sacred's commands."""
    import inspect

    signature = inspect.signature(func)
    params = [p.replace(annotation=p.empty) for p in signature.parameters.values()]
    func.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=signature.empty
    )
    return func


def print_config(_run: Any) -> None:
    """
    Print the updated configuration and exit.

    Text is highlighted:
      green:  value modified
      blue:   value added
      red:    value modified but type changed
    """
    print(format_config(_run.config, _run.config_modifications))


def print_dependencies(_run: Any) -> None:
    """Print the detected source-files and dependencies."""
    from .info.sources import format_dependencies

    print(format_dependencies(_run.experiment_info, color=True), end="")


def save_config(
    _config: Mapping[str, Any], _log: logging.Logger, config_filename: str = "config.json"
) -> None:
    """
    Store the updated configuration in a file.

    By default uses the filename "config.json", but that can be changed by
    setting the config_filename config entry.
    """
    from .config.files import save_config_file

    config = {k: v for k, v in _config.items() if k != "config_filename"}
    _log.info(f'Saving config to "{config_filename}"')
    save_config_file(config, config_filename)


def _named_config_doc(named_config: Any) -> str | None:
    """The docstring of a named config: a config scope's function doc; none for a dict.

    Only the object's own ``__doc__`` counts (a config scope sets it), never its class's.
    """
    doc = getattr(named_config, "__dict__", {}).get("__doc__")
    if doc is None:
        doc = getattr(named_config, "doc", None)  # sacredlite's earlier config layers
    return None if doc is None else str(doc)


def format_named_config(indent: int, path: str, named_config: Any) -> str:
    """Return the line(s) for one named config: its name, then its docstring dimmed.

    A one-line docstring follows the name as ``   # doc``; a longer one goes below it in
    triple quotes.
    """
    pad = " " * indent
    text = pad + path
    doc = _named_config_doc(named_config)
    if doc is None:
        return text
    if doc.strip().count("\n") == 0:
        return f"{text}{COLOR_DOC}   # {doc.strip()}{ENDC}"
    body = doc.replace("\n", "\n" + pad)
    return f'{text}{COLOR_DOC}\n{pad}  """{body}"""{ENDC}'


def format_named_configs(
    named_configs: Mapping[str, Any] | Iterable[tuple[str, Any]], indent: int = 2
) -> str:
    """Return the text ``print_named_configs`` prints for ``{name: named config}``."""
    items = named_configs.items() if isinstance(named_configs, Mapping) else named_configs
    lines = [f"Named Configurations ({COLOR_DOC}doc{ENDC}):"]
    lines += [format_named_config(indent, path, config) for path, config in items]
    if len(lines) < 2:
        lines.append(" " * indent + "No named configs")
    return "\n".join(lines)


_format_named_config = format_named_config
_format_named_configs = format_named_configs


def print_named_configs(ingredient: Any) -> Callable[[], None]:
    """Return the ``print_named_configs`` command of *ingredient* (Sacred's factory).

    The command prints the named configs of the ingredient and its sub-ingredients, each
    with its docstring.
    """

    def print_named_configs() -> None:
        """Print the available named configs and exit."""
        print(format_named_configs(dict(ingredient.gather_named_configs()), 2))

    return _without_annotations(print_named_configs)


def help_for_command(command: Callable[..., Any]) -> str:
    """Return a command's help: its signature and docstring, as ``pydoc`` writes them."""
    import inspect

    target = command if inspect.isroutine(command) else getattr(command, "__wrapped__", command)
    return re.sub(".\b", "", pydoc.text.document(target))


for _command in (print_config, print_dependencies, save_config):
    _without_annotations(_command)
