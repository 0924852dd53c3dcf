"""Sacred-compatible names from ``sacred.utils`` (a thin re-export, nothing else).

Scripts written for Sacred do ``from sacred.utils import apply_backspaces_and_linefeeds``;
after switching to sacredlite the same import keeps working from here.
"""

from .capture import apply_backspaces_and_linefeeds as apply_backspaces_and_linefeeds
from .errors import CircularDependencyError as CircularDependencyError

__all__ = ["CircularDependencyError", "apply_backspaces_and_linefeeds"]
