"""Command-line options: each flag, its help text and what it does to a run.

Sacred's shape (``sacred.commandline_options``): an option is a :class:`CLIOption`
made by :func:`cli_option` from a function ``apply(value, run)`` whose docstring is the
help text ``--help`` shows. The built-in options below are the one home of every flag:
the usage text, the defaults stored in ``meta.options`` and the effect on the run all
come from this list. Users add their own with ``Experiment(additional_cli_options=[...])``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .run import Run

__all__ = ["CLIOption", "cli_option", "gather_command_line_options", "get_name"]

CLIFunction = Callable[[Any, "Run"], None]
"""``apply(value, run)``: the option's effect; its docstring is its help text."""


class CLIOption:
    """A command-line flag and what it does.

    Args:
        apply_function: ``apply(value, run)``, called after the run is created.
        short_flag: e.g. ``"-o"``.
        long_flag: e.g. ``"--own-flag"``.
        is_flag: a switch without a value.
    """

    def __init__(
        self, apply_function: CLIFunction, short_flag: str, long_flag: str, is_flag: bool
    ) -> None:
        if not re.match(r"-\w$", short_flag):
            raise ValueError("Short flag malformed. One correct short flag would be: `-j`.")
        if not re.match(r"--[\w-]+\w$", long_flag):
            raise ValueError(
                "Long flag malformed. One correct long flag would be: `--my-pretty-flag`"
            )
        self.apply_function = apply_function
        self.short_flag = short_flag
        self.long_flag = long_flag
        self.is_flag = is_flag
        self.arg = None if is_flag else "VALUE"
        self.arg_description = None if is_flag else ""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.apply_function(*args, **kwargs)

    def get_flag(self) -> str:
        """The long flag, e.g. ``--loglevel``."""
        return self.long_flag

    def get_short_flag(self) -> str:
        """The short flag, e.g. ``-l``."""
        return self.short_flag

    def get_flags(self) -> tuple[str, str]:
        """``(short flag, long flag)``."""
        return self.short_flag, self.long_flag

    def apply(self, args: Any, run: Run) -> None:
        """Apply the option with value *args* to *run*."""
        self.apply_function(args, run)

    def get_name(self) -> str:
        """The apply function's name (options are listed sorted by it)."""
        return self.apply_function.__name__

    def get_description(self) -> str:
        """The help text: the apply function's docstring."""
        return inspect.getdoc(self.apply_function) or ""

    def __repr__(self) -> str:
        return f"<CLIOption {self.short_flag} {self.long_flag}>"


def cli_option(
    short_flag: str, long_flag: str, is_flag: bool = False
) -> Callable[[CLIFunction], CLIOption]:
    """Turn ``function(value, run)`` into a command-line option (Sacred's decorator).

    Args:
        short_flag: e.g. ``"-o"``.
        long_flag: e.g. ``"--own-flag"``.
        is_flag: a switch without a value.
    """

    def wrap(function: CLIFunction) -> CLIOption:
        return CLIOption(function, short_flag, long_flag, is_flag)

    return wrap


def get_name(option: Any) -> str:
    """The name an option is sorted by."""
    if isinstance(option, CLIOption):
        return option.get_name()
    return str(option.__name__)


# -- the built-in options (the help text is each function's docstring, as Sacred's) ---------


@cli_option("-h", "--help", is_flag=True)
def help_option(args: Any, run: Run) -> None:
    """Print this help message and exit."""


@cli_option("-d", "--debug", is_flag=True)
def debug_option(args: Any, run: Run) -> None:
    """
    Set this run to debug mode.

    Suppress warnings about missing observers and don't filter the stacktrace.
    Also enables usage with ipython `--pdb`.
    """
    run.debug = True


@cli_option("-D", "--pdb", is_flag=True)
def pdb_option(args: Any, run: Run) -> None:
    """Automatically enter post-mortem debugging with pdb on failure."""
    run.pdb = True


@cli_option("-l", "--loglevel")
def loglevel_option(args: Any, run: Run) -> None:
    """
    Set the LogLevel.

    Loglevel either as 0 - 50 or as string: DEBUG(10),
    INFO(20), WARNING(30), ERROR(40), CRITICAL(50)
    """
    run.root_logger.setLevel(parse_loglevel(args))


_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def parse_loglevel(value: Any) -> int | str:
    """A log level as given: a number, or a name such as ``DEBUG``.

    Raises:
        ValueError: logging's own error for an unknown name, marked as a bad input.
    """
    import logging

    from .errors import input_error, suggest

    try:
        return int(value)
    except ValueError:
        pass
    name = str(value)
    if isinstance(logging.getLevelName(name), int):
        return name
    raise input_error(
        ValueError(f"Unknown level: {name!r}"),
        f"-l/--loglevel takes {', '.join(_LEVELS)} or a number 0-50."
        + suggest(name.upper(), _LEVELS),
    )


@cli_option("-c", "--comment")
def comment_option(args: Any, run: Run) -> None:
    """Add a comment to this run."""
    run.meta_info["comment"] = args


@cli_option("-b", "--beat-interval")
def beat_interval_option(args: Any, run: Run) -> None:
    """
    Set the heart-beat interval for this run.

    Time between two heartbeat events is measured in seconds.
    """
    from .errors import input_error

    try:
        run.beat_interval = float(args)
    except ValueError as exc:
        raise input_error(
            exc, f"-b/--beat-interval takes seconds, e.g. -b 5 (got {args!r})."
        ) from None


@cli_option("-u", "--unobserved", is_flag=True)
def unobserved_option(args: Any, run: Run) -> None:
    """Ignore all observers for this run."""
    run.unobserved = True


@cli_option("-q", "--queue", is_flag=True)
def queue_option(args: Any, run: Run) -> None:
    """Only queue this run, do not start it."""
    run.queue_only = True


@cli_option("-f", "--force", is_flag=True)
def force_option(args: Any, run: Run) -> None:
    """Disable warnings about suspicious changes for this run."""
    run.force = True


@cli_option("-P", "--priority")
def priority_option(args: Any, run: Run) -> None:
    """Sets the priority for a queued up experiment.

    `--priority=NUMBER`
    The number represent the priority for this run.
    """
    from .errors import input_error

    try:
        priority = float(args)
    except ValueError as exc:
        raise input_error(
            ValueError(f"The PRIORITY argument must be a number! (but was '{args}')")
        ) from exc
    run.meta_info["priority"] = priority


@cli_option("-e", "--enforce_clean", is_flag=True)
def enforce_clean_option(args: Any, run: Run) -> None:
    """Fail if any version control repository is dirty."""
    from .errors import input_error

    repositories = run.experiment_info["repositories"]
    if not repositories:
        raise input_error(
            RuntimeError(
                "No version control detected. Cannot enforce clean repository.\n"
                "Make sure that your sources under VCS and the corresponding python package "
                "is installed."
            ),
            "--enforce_clean: no git repository holds the experiment's sources; commit them "
            "to git or drop -e.",
        )
    for repo in repositories:
        if repo["dirty"]:
            from .info.git import dirty_files

            shown = {key: repo.get(key) for key in ("url", "commit", "dirty")}  # Sacred's keys
            changed = ", ".join(dirty_files(repo)) or "uncommitted changes"
            raise input_error(
                RuntimeError(f'EnforceClean: Uncommited changes in the "{shown}" repository.'),
                f"--enforce_clean: the repository is dirty ({changed}); commit or stash first.",
            )


@cli_option("-p", "--print-config", is_flag=True)
def print_config_option(args: Any, run: Run) -> None:
    """Always print the configuration first."""
    from .commands import print_config

    print_config(run)
    print("-" * 79)


@cli_option("-i", "--id")
def id_option(args: Any, run: Run) -> None:
    """Set the id for this run."""
    run._id = args


@cli_option("-n", "--name")
def name_option(args: Any, run: Run) -> None:
    """Set the name for this run."""
    run.experiment_info["name"] = args
    run.run_logger = run.root_logger.getChild(args)


@cli_option("-C", "--capture")
def capture_option(args: Any, run: Run) -> None:
    """
    Control the way stdout and stderr are captured.

    The argument value must be one of [no, sys, fd]
    """
    run.capture_mode = args


@cli_option("-F", "--file_storage")
def file_storage_option(args: Any, run: Run) -> None:
    """Add a file-storage observer to the experiment.

    The value of the arguement should be the
    base-directory to write the runs to
    """
    from .observers.file import FileStorageObserver

    run.observers.append(FileStorageObserver(args))


@cli_option("-m", "--mongo_db")
def mongo_db_option(args: Any, run: Run) -> None:
    """Add a MongoDB Observer to the experiment.

    The argument value is the database specification.
    Should be in the form:

    `[host:port:]db_name[.collection[:id]][!priority]`
    """
    from .observers.mongo_url import parse_mongo_option

    run.observers.append(_mongo_observer(parse_mongo_option(str(args)), str(args)))


_BAD_DB_CHARS = frozenset('/\\. "$*<>:|?\0\n\r\t')


def _mongo_observer(kwargs: dict[str, Any], value: str) -> Any:
    """Make the MongoObserver for ``-m``; a value pymongo refuses is one clear line."""
    from .errors import input_error
    from .observers.mongo_url import redact_url

    shown = redact_url(value)
    db_name = kwargs.get("db_name")
    if db_name is not None:
        problem = ""
        if set(db_name) & _BAD_DB_CHARS:
            problem = f'the database name {db_name!r} contains one of / \\ . space " $ * < > : | ?'
        elif len(db_name.encode()) > 64:
            problem = f"the database name is {len(db_name.encode())} bytes long (at most 64)"
        if problem:
            raise input_error(ValueError(f"Invalid -m/--mongo_db value {shown!r}: {problem}."))
    import pymongo.errors

    from .observers.mongo import MongoObserver

    try:
        return MongoObserver(**kwargs)
    except (ValueError, TypeError, pymongo.errors.ConfigurationError) as exc:
        reason = str(exc).split("\n", 1)[0]
        raise input_error(
            ValueError(f"Invalid -m/--mongo_db value {shown!r}: {redact_url(reason)}")
        ) from None


@cli_option("-S", "--s3")
def s3_option(args: Any, run: Run) -> None:
    """Add a S3 File observer to the experiment.

    The argument value should be `s3://<bucket>/path/to/exp`.
    """
    from .errors import input_error
    from .formats.s3 import parse_s3_url
    from .observers.s3_observer import S3Observer

    try:
        bucket, basedir = parse_s3_url(str(args))
        observer = S3Observer(bucket=bucket, basedir=basedir)
    except ValueError as exc:
        raise input_error(exc, f"-S/--s3 takes s3://BUCKET/PATH (got {args!r}).") from None
    run.observers.append(observer)


@cli_option("-s", "--sql")
def sql_option(args: Any, run: Run) -> None:
    """Add a SQL Observer to the experiment.

    The typical form is: dialect://username:password@host:port/database
    """
    from .errors import input_error
    from .observers.mongo_url import redact_url
    from .observers.sql import SqlObserver

    try:
        observer = SqlObserver(args)
    except ImportError:
        raise
    except Exception as exc:
        if type(exc).__module__ != "sqlalchemy.exc":
            raise
        raise input_error(
            exc,
            "-s/--sql takes a SQLAlchemy URL such as sqlite:///runs.db or "
            f"postgresql://user@host/db (got {redact_url(str(args))!r}).",
        ) from None
    run.observers.append(observer)


@cli_option("-t", "--tiny_db")
def tiny_db_option(args: Any, run: Run) -> None:
    """Add a TinyDB Observer to the experiment.

    The argument is the path to be given to the TinyDbObserver.
    """
    from .errors import input_error
    from .observers.tinydb_hashfs import TinyDbObserver

    try:
        observer = TinyDbObserver(path=args)
    except (FileNotFoundError, NotADirectoryError, PermissionError, FileExistsError) as exc:
        raise input_error(
            exc, f"-t/--tiny_db takes a directory that exists or can be made (got {args!r})."
        ) from None
    run.observers.append(observer)


DEFAULT_COMMAND_LINE_OPTIONS = [
    s3_option,
    pdb_option,
    debug_option,
    file_storage_option,
    loglevel_option,
    mongo_db_option,
    sql_option,
    capture_option,
    help_option,
    print_config_option,
    name_option,
    id_option,
    priority_option,
    unobserved_option,
    beat_interval_option,
    queue_option,
    force_option,
    comment_option,
    enforce_clean_option,
    tiny_db_option,
]


def gather_command_line_options(filter_disabled: bool | None = None) -> list[CLIOption]:
    """Return the built-in options sorted by name (``filter_disabled``: Sacred's argument,
    kept for its signature: every built-in option is enabled)."""
    return sorted(DEFAULT_COMMAND_LINE_OPTIONS, key=get_name)
