"""Sacred's ``sacred.config.config_files`` (a re-export of :mod:`sacredlite.config.files`)."""

from .files import HANDLER_BY_EXT as HANDLER_BY_EXT
from .files import Handler as Handler
from .files import get_handler as get_handler
from .files import load_config_file as load_config_file
from .files import save_config_file as save_config_file

__all__ = ["HANDLER_BY_EXT", "Handler", "get_handler", "load_config_file", "save_config_file"]
