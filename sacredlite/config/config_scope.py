"""Sacred's ``sacred.config.config_scope`` (a re-export of :mod:`sacredlite.config.scope`)."""

from .scope import ConfigScope as ConfigScope
from .scope import dedent_body as dedent_function_body
from .scope import dedent_line as dedent_line
from .scope import function_body as get_function_body
from .scope import is_empty_or_comment as is_empty_or_comment

__all__ = [
    "ConfigScope",
    "dedent_function_body",
    "dedent_line",
    "get_function_body",
    "is_empty_or_comment",
]
