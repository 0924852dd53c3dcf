"""Sacred-compatible names from ``sacred.utils`` (a thin re-export, nothing else).

Scripts written for Sacred do ``from sacred.utils import ConfigAddedError``; after switching
to sacredlite the same import keeps working from here. The exceptions live in
:mod:`sacredlite.errors`, the error text in :mod:`sacredlite.error_text`.
"""

from .capture import apply_backspaces_and_linefeeds as apply_backspaces_and_linefeeds
from .error_text import format_filtered_stacktrace as format_filtered_stacktrace
from .error_text import format_sacred_error as format_sacred_error
from .error_text import print_filtered_stacktrace as print_filtered_stacktrace
from .errors import CircularDependencyError as CircularDependencyError
from .errors import ConfigAddedError as ConfigAddedError
from .errors import ConfigError as ConfigError
from .errors import InvalidConfigError as InvalidConfigError
from .errors import MissingConfigError as MissingConfigError
from .errors import NamedConfigNotFoundError as NamedConfigNotFoundError
from .errors import ObserverError as ObserverError
from .errors import SacredError as SacredError
from .errors import SacredInterrupt as SacredInterrupt
from .errors import SignatureError as SignatureError
from .errors import TimeoutInterrupt as TimeoutInterrupt

__all__ = [
    "CircularDependencyError",
    "ConfigAddedError",
    "ConfigError",
    "InvalidConfigError",
    "MissingConfigError",
    "NamedConfigNotFoundError",
    "ObserverError",
    "SacredError",
    "SacredInterrupt",
    "SignatureError",
    "TimeoutInterrupt",
    "apply_backspaces_and_linefeeds",
    "format_filtered_stacktrace",
    "format_sacred_error",
    "print_filtered_stacktrace",
]
