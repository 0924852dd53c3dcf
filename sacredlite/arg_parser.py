"""The command line's text: the docopt usage, the short usage, ``with`` updates (Sacred's).

Sacred builds a usage text and lets docopt parse argv with it; sacredlite does the same, so
the options and ``--help`` read as Sacred's. The parsing of ``with`` updates lives in
:mod:`sacredlite.config.updates` and is re-exported here under Sacred's names.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from shlex import quote
from typing import Any

from .config.updates import convert_value as _convert_value  # noqa: F401 - Sacred's name
from .config.updates import get_config_updates
from .errors import suggest

__all__ = ["format_usage", "get_config_updates", "printable_usage"]

USAGE_TEMPLATE = """Usage:
  {program_name} [(with UPDATE...)] [options]
  {program_name} help [COMMAND]
  {program_name} (-h | --help)
  {program_name} COMMAND [(with UPDATE...)] [options]

{description}

Options:
{options}

Arguments:
  COMMAND   Name of command to run (see below for list of commands)
  UPDATE    Configuration assignments of the form foo.bar=17
{arguments}
{commands}"""


def _wrapped(text: str, indent: int) -> str:
    lines = textwrap.wrap(
        text, width=79, initial_indent=" " * indent, subsequent_indent=" " * indent
    )
    return "\n".join(lines).strip()


def _format_options_usage(options: Iterable[Any]) -> str:
    """One entry per option: flags in a 28-column field, then the wrapped description."""
    text = ""
    for option in options:
        short, long = option.get_flags()
        flag = f"{short} {option.arg} {long}={option.arg}" if option.arg else f"{short} {long}"
        text += f"  {flag:28}  {_wrapped(option.get_description(), 32)}\n"
    return text


def _format_arguments_usage(options: Iterable[Any]) -> str:
    text = ""
    for option in options:
        if option.arg and option.arg_description:
            text += f"  {option.arg:8}  {_wrapped(option.arg_description, 12)}\n"
    return text


def _first_doc_line(func: Callable[..., Any]) -> str:
    return textwrap.dedent(func.__doc__ or "").strip().split("\n")[0]


def _format_command_usage(commands: Mapping[str, Callable[..., Any]] | None) -> str:
    if not commands:
        return ""
    width = max([len(name) for name in commands] + [8])
    lines = "".join(
        f"  {name:{width}}  {_first_doc_line(func)}\n" for name, func in commands.items()
    )
    return "\nCommands:\n" + lines


def format_usage(
    program_name: str,
    description: str | None,
    commands: Mapping[str, Callable[..., Any]] | None = None,
    options: Iterable[Any] = (),
) -> str:
    """Return the usage text (docopt's input and the ``--help`` output), as Sacred's.

    Args:
        program_name: usually the script's path relative to the experiment's base dir.
        description: the experiment's docstring.
        commands: command name -> function, in the order they are listed.
        options: the options (``CLIOption``), in the order shown.
    """
    options = list(options)
    return USAGE_TEMPLATE.format(
        program_name=quote(program_name),
        description=description.strip() if description else "",
        options=_format_options_usage(options),
        arguments=_format_arguments_usage(options),
        commands=_format_command_usage(commands),
    )


def printable_usage(doc: str) -> str:
    """Return the short usage: the ``Usage:`` section of *doc* up to its first blank line."""
    after = re.split(r"([Uu][Ss][Aa][Gg][Ee]:)", doc)
    return re.split(r"\n\s*\n", "".join(after[1:]))[0].strip()


def check_command(command_name: str | None, commands: Iterable[str]) -> str | None:
    """Return Sacred's ``Error: ...`` text when *command_name* cannot run, else ``None``.

    Sacred prints the short usage and then this text on stdout and exits with 1. A close
    match is suggested on a line before it.
    """
    names = list(commands)
    if command_name is None:
        return (
            "Error: No command found to be run. Specify a command or define main function. "
            f"Available commands are: {', '.join(names)}"
        )
    if command_name in names:
        return None
    error = f'Error: Command "{command_name}" not found. Available commands are: {", ".join(names)}'
    match = suggest(command_name, names)
    return f"Command {command_name!r} not found.{match}\n{error}" if match else error
