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
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .experiment import Experiment
    from .run import Run


def _program_name(ex: Experiment, program_name: str | None) -> str:
    """The script's path relative to the experiment's base dir, as Sacred shows it."""
    name = program_name or sys.argv[0] or "Dummy"
    try:
        return os.path.relpath(name, ex.base_dir)
    except ValueError:  # another drive on Windows
        return name


RESUME_FLAG = "--resume"
"""sacredlite's own flag (not a Sacred option: it is never stored in ``meta.options``)."""
_RESUME_USAGE = (
    f"  {RESUME_FLAG + '=ID':28}  Continue the stored run ID under its own id:\n"
    f"  {'':28}  the same config; metrics and output are appended.\n"
)


def _usage(ex: Experiment, program_name: str) -> str:
    from .arg_parser import format_usage
    from .commandline_options import gather_command_line_options

    options = [*gather_command_line_options(), *ex.additional_cli_options]
    usage = format_usage(program_name, ex.doc, dict(ex.gather_commands()), options)
    # sacredlite's --resume after Sacred's options (one home: the usage docopt parses)
    return usage.replace("\n\n\nArguments:\n", "\n" + _RESUME_USAGE + "\n\nArguments:\n", 1)


def usage_text(ex: Experiment, program_name: str | None = None) -> str:
    """Return the ``--help`` text of *ex*'s command line (Sacred's)."""
    return _usage(ex, _program_name(ex, program_name))


def usage_texts(ex: Experiment, program_name: str | None = None) -> tuple[str, str, str]:
    """Return ``(short usage, usage, internal usage)``: Sacred's ``get_usage``.

    The usage is the ``--help`` text; the internal usage names the program ``dummy`` for
    docopt (which cannot parse a program name with spaces); the short usage is the
    ``Usage:`` block shown before some errors.
    """
    from .arg_parser import printable_usage

    usage = usage_text(ex, program_name)
    return printable_usage(usage), usage, _usage(ex, "dummy")


def _command_help(ex: Experiment, name: str) -> str:
    """Return what ``help COMMAND`` prints: the command's signature and docstring.

    An unknown command raises ``KeyError`` as in Sacred, with a hint naming close matches.
    """
    from .commands import help_for_command
    from .errors import add_hint, suggest

    commands = dict(ex.gather_commands())
    if name not in commands:
        raise add_hint(KeyError(name), f"Command {name!r} not found.{suggest(name, commands)}")
    return help_for_command(commands[name])


def _check_command(ex: Experiment, name: str | None) -> str | None:
    from .arg_parser import check_command

    return check_command(name, [command for command, _ in ex.gather_commands()])


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
    resume = args.pop(RESUME_FLAG, None)  # never in meta.options: Sacred has no such key
    command = args.get("COMMAND") or ex.default_command
    from .arg_parser import get_config_updates

    try:
        config_updates, named_configs = get_config_updates(args["UPDATE"])
    except Exception as exc:
        if args.get("--debug"):
            raise
        print(format_error(exc, short_usage, args["UPDATE"]), file=sys.stderr)
        sys.exit(1)
    error = _check_command(ex, command)
    if not args["help"] and error:
        print(short_usage)
        print(error)
        sys.exit(1)
    if args["help"] or args["--help"]:
        if args["COMMAND"] is None:
            print(usage)
        else:
            try:
                print(_command_help(ex, args["COMMAND"]))
            except KeyError as exc:  # Sacred's KeyError for an unknown command, after a hint
                print(format_error(exc, short_usage), file=sys.stderr)
                sys.exit(1)
        sys.exit()
    from .run import SignalInterrupt

    try:
        return ex.run(
            command, config_updates, named_configs, info={}, meta_info={}, options=args,
            resume=resume,
        )  # fmt: skip
    except SignalInterrupt as exc:
        # Sacred dies silently on SIGTERM; the run is stored as interrupted, say so in a line
        run = ex.current_run
        where = f" (run {run._id} stored as {run.status})" if run is not None else ""
        print(f"Stopped by {exc.signal_name}{where}.", file=sys.stderr)
        sys.exit(128 + exc.signal_number)
    except Exception as exc:
        run = ex.current_run
        debug = run.debug if run is not None else args.get("--debug", False)
        if debug:
            raise
        if run is not None and run.pdb:
            import pdb

            traceback.print_exception(exc)
            pdb.post_mortem(exc.__traceback__)
            return None  # as Sacred: the debugger session was the error handling
        print(format_error(exc, short_usage, args["UPDATE"]), file=sys.stderr)
        sys.exit(1)


def format_error(exc: BaseException, short_usage: str, updates: Sequence[str] | None = ()) -> str:
    """Return what Sacred prints on stderr for *exc*, after sacredlite's hint lines.

    Args:
        exc: the exception that ends the command line.
        short_usage: the ``Usage:`` block, shown for errors that ask for it.
        updates: the ``with`` arguments; mistaken-looking ones add a hint.
    """
    from .config.updates import update_hints
    from .error_text import cli_error_text

    text, _ = cli_error_text(exc, short_usage, hints=update_hints(updates))
    return text[:-1]  # print() adds the last newline
