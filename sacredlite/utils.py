"""Sacred-compatible names from ``sacred.utils`` (a thin re-export, nothing else).

Scripts written for Sacred do ``from sacred.utils import ConfigAddedError``; after switching
to sacredlite the same import keeps working from here. The exceptions live in
:mod:`sacredlite.errors`, the error text in :mod:`sacredlite.error_text`.
"""

from .capture import apply_backspaces_and_linefeeds as apply_backspaces_and_linefeeds
from .compat import PATHCHANGE as PATHCHANGE
from .compat import convert_camel_case_to_snake_case as convert_camel_case_to_snake_case
from .compat import get_inheritors as get_inheritors
from .compat import get_package_version as get_package_version
from .compat import iterate_flattened_separately as iterate_flattened_separately
from .compat import module_exists as module_exists
from .compat import module_is_in_cache as module_is_in_cache
from .compat import modules_exist as modules_exist
from .compat import parse_version as parse_version
from .config.paths import convert_to_nested_dict as convert_to_nested_dict
from .config.paths import get_by_dotted_path as get_by_dotted_path
from .config.paths import is_prefix as is_prefix
from .config.paths import iter_prefixes as iter_prefixes
from .config.paths import iterate_flattened_sorted as iterate_flattened
from .config.paths import join_paths as join_paths
from .config.paths import recursive_update as recursive_update
from .config.paths import rel_path as rel_path
from .config.paths import set_by_dotted_path as set_by_dotted_path
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
    "PATHCHANGE",
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
    "convert_camel_case_to_snake_case",
    "convert_to_nested_dict",
    "format_filtered_stacktrace",
    "format_sacred_error",
    "get_by_dotted_path",
    "get_inheritors",
    "get_package_version",
    "is_prefix",
    "iter_prefixes",
    "iterate_flattened",
    "iterate_flattened_separately",
    "join_paths",
    "module_exists",
    "module_is_in_cache",
    "modules_exist",
    "parse_version",
    "print_filtered_stacktrace",
    "recursive_update",
    "rel_path",
    "set_by_dotted_path",
]
