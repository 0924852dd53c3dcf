"""Run a script or module as ``__main__`` with ``sacred`` routed to sacredlite (internal)."""

from __future__ import annotations

import importlib.util
import os
import runpy
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from ._hook import install

USAGE = """\
usage: sacredlite run-as-sacred SCRIPT [ARGS...]
       sacredlite run-as-sacred -m MODULE [ARGS...]
       python -m sacredlite.as_sacred (SCRIPT | -m MODULE) [ARGS...]

Run an unmodified Sacred script, or a tool that imports sacred, on sacredlite: inside this
process only, 'import sacred' and every 'sacred.x' load 'sacredlite' and 'sacredlite.x'.
The routing applies even when a real sacred is installed beside sacredlite; nothing outside
this process changes. SCRIPT runs as 'python SCRIPT ARGS' would run it, MODULE as
'python -m MODULE ARGS'. Processes the program starts with multiprocessing's 'spawn' or
'forkserver' methods import the real sacred (or fail), as they start a new interpreter.

example: sacredlite run-as-sacred train.py with lr=0.1 -F runs/"""


@contextmanager
def _main_process_state(argv: list[str], path0: str) -> Iterator[None]:
    """Set ``sys.argv`` and ``sys.path[0]`` as the interpreter would; restore them after.

    ``sys.path[0]`` is the entry the interpreter added for this launcher (the current
    directory for ``python -m``, the console script's directory): it is replaced, as
    the interpreter would have put *path0* there. With ``python -P`` nothing was added,
    so nothing is replaced.
    """
    saved_argv = sys.argv
    replace = bool(sys.path) and not getattr(sys.flags, "safe_path", False)
    saved_path0 = sys.path[0] if replace else None
    sys.argv = argv
    if replace:
        sys.path[0] = path0
    try:
        yield
    finally:
        sys.argv = saved_argv
        if replace and sys.path and sys.path[0] == path0 and saved_path0 is not None:
            sys.path[0] = saved_path0


def run_script(path: str, args: Sequence[str] = ()) -> dict[str, Any]:
    """Run the file *path* as ``__main__`` with ``sacred`` routed to sacredlite.

    As ``python PATH ARGS``: ``sys.argv`` is ``[PATH, *ARGS]`` and ``sys.path[0]`` the
    script's directory (both restored afterwards). ``SystemExit`` and the script's
    exceptions propagate. Returns the script's globals, as :func:`runpy.run_path` does.

    Args:
        path: the script.
        args: the script's command-line arguments.
    """
    install()
    directory = os.path.dirname(os.path.realpath(path))
    with _main_process_state([path, *args], directory):
        # run_path sets sys.argv[0] to the name it is given; an absolute path also gives
        # the absolute __file__ that ``python script.py`` gives since Python 3.9.
        return runpy.run_path(os.path.abspath(path), run_name="__main__")


def run_module(name: str, args: Sequence[str] = ()) -> dict[str, Any]:
    """Run the module *name* as ``__main__`` with ``sacred`` routed to sacredlite.

    As ``python -m NAME ARGS``: ``sys.argv`` is ``[<module file>, *ARGS]`` and
    ``sys.path[0]`` the current directory (both restored afterwards). Returns the
    module's globals, as :func:`runpy.run_module` does.

    Args:
        name: the module (or package with ``__main__``) to run.
        args: its command-line arguments.
    """
    install()
    with _main_process_state([name, *args], os.getcwd()):
        return runpy.run_module(name, run_name="__main__", alter_sys=True)


def _own_frame(tb: TracebackType) -> bool:
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module == "runpy" or module.startswith(__package__ or "sacredlite.as_sacred")


def _report(exc: BaseException) -> None:
    """Show *exc* through ``sys.excepthook`` without runpy's and this package's frames.

    ``python script.py`` shows the script's frames only; so does this.
    """
    kept: list[TracebackType] = []
    tb = exc.__traceback__
    while tb is not None:
        if not _own_frame(tb):
            kept.append(tb)
        tb = tb.tb_next
    for frame, following in zip(kept, [*kept[1:], None], strict=True):
        frame.tb_next = following
    head = kept[0] if kept else None
    sys.excepthook(type(exc), exc.with_traceback(head), head)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``[-m MODULE | SCRIPT] ARGS...`` and return the exit code.

    ``SystemExit`` raised by the program propagates (its code becomes the process's);
    an uncaught exception is shown as Python shows it and gives 1.

    Args:
        argv: the arguments after the command name; defaults to ``sys.argv[1:]``.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    as_module = args[0] == "-m"
    if as_module:
        args = args[1:]
        if not args:
            print(f"run-as-sacred: -m needs a module name.\n\n{USAGE}", file=sys.stderr)
            return 2
    elif args[0].startswith("-"):
        print(f"run-as-sacred: unknown option {args[0]!r}.\n\n{USAGE}", file=sys.stderr)
        return 2
    elif not os.path.exists(args[0]):
        print(f"run-as-sacred: can't open file {args[0]!r}: no such file.", file=sys.stderr)
        return 2
    target, args = args[0], args[1:]
    try:
        if not as_module:
            run_script(target, args)
            return 0
        install()  # before the lookup: the tool's package may import sacred
        problem = _module_problem(target)
        if problem:
            print(f"run-as-sacred: {problem}", file=sys.stderr)
            return 1
        run_module(target, args)
    except Exception as exc:
        _report(exc)
        return 1
    return 0


def _module_problem(name: str) -> str | None:
    """Return why ``python -m NAME`` could not start, or None if NAME can be found.

    Errors raised by the code of NAME's parent packages propagate (shown as tracebacks).
    """
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
            raise
        spec = None
    if spec is None:
        return f"no module named {name!r}."
    return None
