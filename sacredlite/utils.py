"""Sacred-compatible names from ``sacred.utils`` (a thin re-export, nothing else).

Scripts written for Sacred do ``from sacred.utils import apply_backspaces_and_linefeeds``;
after switching to sacredlite the same import keeps working from here.
"""

from .capture import apply_backspaces_and_linefeeds as apply_backspaces_and_linefeeds
from .errors import CircularDependencyError as CircularDependencyError

__all__ = ["CircularDependencyError", "apply_backspaces_and_linefeeds"]


def format_filtered_stacktrace(filter_traceback: str = "default") -> str:
    """Temporary: the current exception's traceback without sacredlite's frames."""
    import sys
    import traceback

    exc = sys.exc_info()[1]
    if exc is None:
        return ""
    return "".join(traceback.format_exception(exc)).rstrip("\n")


def format_sacred_error(e: BaseException, short_usage: str) -> str:
    """Temporary: Sacred's presentation of a SacredError."""
    import traceback

    lines = []
    if getattr(e, "print_usage", False):
        lines.append(short_usage)
    if getattr(e, "print_traceback", True):
        lines.append(format_filtered_stacktrace(getattr(e, "filter_traceback", "default")))
    else:
        lines.append("\n".join(traceback.format_exception_only(type(e), e)))
    return "\n".join(lines)
