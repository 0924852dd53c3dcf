"""Sacred's ``sacred.config.config_scope`` (a re-export of :mod:`sacredlite.config.scope`)."""

from .scope import ConfigScope as ConfigScope
from .scope import dedent_body as dedent_function_body
from .scope import function_body as get_function_body

__all__ = ["ConfigScope", "dedent_function_body", "get_function_body"]
