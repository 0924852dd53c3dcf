"""Sacred's ``sacred.config.config_dict`` (a re-export of :mod:`sacredlite.config.scope`)."""

from .scope import ConfigDict as ConfigDict

__all__ = ["ConfigDict"]
