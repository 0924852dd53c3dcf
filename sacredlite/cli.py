"""The experiment command line: docopt usage, argv -> run. The only module that prints
errors for users and calls ``sys.exit``.

Usage shape (Sacred's)::

    script.py [COMMAND] [with UPDATE...] [options]
    script.py help [COMMAND]
"""

from __future__ import annotations

import os
import shlex
import sys
import textwrap
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from .experiment import Experiment
    from .run import Run

_USAGE = """Usage:
  {program} [(with UPDATE...)] [options]
  {program} help [COMMAND]
  {program} (-h | --help)
  {program} COMMAND [(with UPDATE...)] [options]

{doc}

Options:
{options}

Arguments:
  COMMAND   Name of command to run (see below for list of commands)
  UPDATE    Configuration assignments of the form foo.bar=17

{commands}"""


def _option_lines(extra: Sequence[Any]) -> str:
    from .commandline_options import gather_command_line_options

    rows = []
    for option in [*gather_command_line_options(), *extra]:
        if option.is_flag:
            flag = f"{option.short_flag} {option.long_flag}"
        else:
            flag = f"{option.short_flag} VALUE {option.long_flag}=VALUE"
        rows.append((flag, option.get_description().split("\n")[0]))
    width = max(len(f) for f, _ in rows) + 2
    return "\n".join(f"  {flag:<{width}}{help_}" for flag, help_ in rows)


def _command_lines(ex: Experiment) -> str:
    rows = []
    for name, command in ex.gather_commands():
        doc = (command.__doc__ or "").strip().split("\n")[0]
        rows.append((name, doc))
    if not rows:
        return ""
    width = max(len(n) for n, _ in rows) + 2
    return "Commands:\n" + "\n".join(f"  {name:<{width}}{doc}" for name, doc in rows)


def usage_text(ex: Experiment, program_name: str | None = None) -> str:
    """Return the docopt usage text of *ex*'s command line."""
    program = program_name or os.path.basename(sys.argv[0] or ex.path)
    return _USAGE.format(
        program=program,
        doc=(ex.doc or "").strip(),
        options=_option_lines(ex.additional_cli_options),
        commands=_command_lines(ex),
    )


def usage_texts(ex: Experiment, program_name: str | None = None) -> tuple[str, str, str]:
    """Return ``(short usage, long usage, usage docopt parses)``: Sacred's ``get_usage``."""
    import re

    base = program_name or sys.argv[0] or "Dummy"
    try:
        program = os.path.relpath(base, ex.base_dir)
    except ValueError:  # another drive on Windows
        program = base
    long_usage = usage_text(ex, program)
    internal = usage_text(ex, "dummy")  # docopt cannot parse spaces in program names
    parts = re.split(r"([Uu][Ss][Aa][Gg][Ee]:)", long_usage)
    short_usage = re.split(r"\n\s*\n", "".join(parts[1:]))[0].strip()
    return short_usage, long_usage, internal


def _command_help(ex: Experiment, name: str) -> str:
    from .commands import help_for_command

    return str(help_for_command(dict(ex.gather_commands())[name]))


def _check_command(ex: Experiment, name: str | None) -> str | None:
    commands = dict(ex.gather_commands())
    if name is not None and name not in commands:
        return f'Error: Command "{name}" not found. Available commands are: {", ".join(commands)}'
    if name is None:
        return (
            "Error: No command found to be run. Specify a command or define main function. "
            f"Available commands are: {', '.join(commands)}"
        )
    return None


def _wellformed_argv(argv: Sequence[str] | str | None) -> list[str]:
    if argv is None:
        return list(sys.argv)
    if isinstance(argv, str):
        return shlex.split(argv)
    if not isinstance(argv, list | tuple):
        raise ValueError(f"argv must be str or list, but was {type(argv)}")
    problems = [a for a in argv if not isinstance(a, str)]
    if problems:
        raise ValueError(
            f"argv must be list of str but contained the following elements: {problems}"
        )
    return list(argv)


def run_commandline(ex: Experiment, argv: Sequence[str] | str | None = None) -> Run | None:
    """Run the command line *argv* (default ``sys.argv``, program name first) for *ex*.

    As Sacred: a bad command prints the short usage and the error and exits 1; ``help``
    prints the usage or a command's help and exits 0; an error in the run prints the
    (filtered) traceback, or a Sacred error as its type asks, and exits 1; ``-d`` re-raises.
    """
    import docopt

    args_list = _wellformed_argv(argv)
    short_usage, usage, internal_usage = usage_texts(ex)
    try:
        args = docopt.docopt(internal_usage, [str(a) for a in args_list[1:]], default_help=False)
    except docopt.DocoptExit:
        print(
            f"Error: cannot parse the command line {shlex.join(args_list[1:])!r} "
            "(see the usage below).",
            file=sys.stderr,
        )
        raise
    command = args.get("COMMAND") or ex.default_command
    from .arg_parser import get_config_updates

    config_updates, named_configs = get_config_updates(args["UPDATE"])
    error = _check_command(ex, command)
    if not args["help"] and error:
        print(short_usage)
        print(error)
        sys.exit(1)
    if args["help"] or args["--help"]:
        print(usage if args["COMMAND"] is None else _command_help(ex, args["COMMAND"]))
        sys.exit()
    try:
        return ex.run(command, config_updates, named_configs, info={}, meta_info={}, options=args)
    except Exception as exc:
        run = ex.current_run
        debug = run.debug if run is not None else args.get("--debug", False)
        if debug:
            raise
        if run is not None and run.pdb:
            import pdb

            traceback.print_exception(exc)
            pdb.post_mortem(exc.__traceback__)
        else:
            print(format_error(exc, short_usage), file=sys.stderr)
        sys.exit(1)


def format_error(exc: BaseException, short_usage: str) -> str:
    """Return what Sacred prints on stderr for *exc* (a hint line of ours may come first)."""
    from .utils import format_filtered_stacktrace, format_sacred_error

    hint = getattr(exc, "hint", "")
    from .errors import SacredError

    if isinstance(exc, SacredError):
        text = format_sacred_error(exc, short_usage)
    else:
        text = format_filtered_stacktrace()
    return f"{hint}\n{text}" if hint else text
