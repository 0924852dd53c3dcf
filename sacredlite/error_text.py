"""How an error is shown on the command line: Sacred's stderr text and exit code (internal).

Sacred's rules (``Experiment.run_commandline``): a :class:`~sacredlite.errors.SacredError`
shows the short usage if it asks for it, then either its traceback or only its error line;
any other exception shows its traceback without sacredlite's own frames. sacredlite's hints
(:func:`sacredlite.errors.add_hint`) come first, one line each, so the last lines stay
Sacred's.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterable
from types import FrameType, TracebackType

from .errors import SacredError, hints_of

EXIT_CODE = 1
"""The exit status of a command line that ends with an error."""

_PACKAGE = __name__.split(".")[0]
_HEADER = "Traceback (most recent call last):\n"
_FILTERED_HEADER = "Traceback (most recent calls WITHOUT Sacred internals):\n"
_INTERNAL_HEADER = "Exception originated from within Sacred.\nTraceback (most recent calls):\n"


def _is_internal(frame: FrameType) -> bool:
    return str(frame.f_globals.get("__name__", "")).split(".")[0] == _PACKAGE


def _filter_stacks(summary: traceback.TracebackException, exc: BaseException | None) -> None:
    """Drop sacredlite's frames from *summary* and the exceptions chained to it."""
    seen: set[int] = set()
    pending = [(summary, exc)]
    while pending:
        node, error = pending.pop()
        if error is None or id(node) in seen:
            continue
        seen.add(id(node))
        frames = [frame for frame, _ in traceback.walk_tb(error.__traceback__)]
        if len(frames) == len(node.stack):
            kept = [s for s, f in zip(node.stack, frames, strict=True) if not _is_internal(f)]
            node.stack = traceback.StackSummary.from_list(kept)
        if node.__cause__ is not None:
            pending.append((node.__cause__, error.__cause__))
        if node.__context__ is not None:
            pending.append((node.__context__, error.__context__))


def _last(tb: TracebackType) -> TracebackType:
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def format_exception_traceback(exc: BaseException, filter_traceback: str = "default") -> str:
    """Return the traceback of *exc* as Sacred shows it.

    Args:
        exc: the exception.
        filter_traceback: ``"default"``: without sacredlite's frames, or, when the error
            was raised inside sacredlite, only the frame that raised it; ``"always"``:
            without sacredlite's frames; ``"never"``: everything.
    """
    tb = exc.__traceback__
    if filter_traceback == "never":
        return "\n".join(traceback.format_exception(type(exc), exc, tb))
    if filter_traceback not in ("default", "always"):
        raise ValueError("Unknown value for filter_traceback: " + str(filter_traceback))
    if filter_traceback == "default" and tb is not None and _is_internal(_last(tb).tb_frame):
        texts = traceback.format_exception(type(exc), exc, _last(tb))
        return "".join([_INTERNAL_HEADER, *texts[1:]]).strip()
    summary = traceback.TracebackException(type(exc), exc, tb, limit=None)
    _filter_stacks(summary, exc)
    return "".join(
        _FILTERED_HEADER if line == _HEADER else line for line in summary.format(chain=True)
    )


def format_filtered_stacktrace(filter_traceback: str = "default") -> str:
    """Return the traceback of the exception being handled, as Sacred shows it.

    Call it inside an ``except`` block (Sacred's ``sacred.utils`` function).
    """
    exc = sys.exc_info()[1]
    if exc is None:
        return ""
    return format_exception_traceback(exc, filter_traceback)


def print_filtered_stacktrace(filter_traceback: str = "default") -> None:
    """Print :func:`format_filtered_stacktrace` to stderr."""
    print(format_filtered_stacktrace(filter_traceback), file=sys.stderr)


def format_sacred_error(e: BaseException, short_usage: str) -> str:
    """Return Sacred's text for a :class:`SacredError`: usage, traceback or error line."""
    lines = []
    if getattr(e, "print_usage", False):
        lines.append(short_usage)
    if getattr(e, "print_traceback", True):
        lines.append(format_exception_traceback(e, getattr(e, "filter_traceback", "default")))
    else:
        lines.append("\n".join(traceback.format_exception_only(type(e), e)))
    return "\n".join(lines)


def cli_error_text(
    exc: BaseException, short_usage: str, *, debug: bool = False, hints: Iterable[str] = ()
) -> tuple[str, int]:
    """Return ``(stderr text, exit code)`` for an exception that ends a command line.

    The text is exactly what Sacred 0.8.7 writes to stderr for *exc*, preceded by
    sacredlite's hint lines (*hints*, then those attached to *exc*).

    Args:
        exc: the exception the run (or its creation) raised.
        short_usage: the ``Usage:`` block (:func:`sacredlite.arg_parser.printable_usage`).
        debug: ``-d``: Sacred re-raises and the interpreter prints the full traceback; the
            text is that traceback (from the frame that caught *exc* down), so a caller that
            re-raises instead should only print the hints first.
        hints: extra one-line hints, e.g. :func:`sacredlite.config.updates.update_hints`.
    """
    lines = list(dict.fromkeys([*hints, *hints_of(exc)]))
    if debug:
        body = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    elif isinstance(exc, SacredError):
        body = format_sacred_error(exc, short_usage) + "\n"
    elif getattr(exc, "print_traceback", True) is False:  # errors.input_error
        body = "".join(traceback.format_exception_only(type(exc), exc))
    else:
        body = format_exception_traceback(exc, "default") + "\n"
    return "".join(f"{line}\n" for line in lines) + body, EXIT_CODE
