"""Sacred's ``sacred.config.config_summary`` (a re-export of :mod:`sacredlite.config.summary`)."""

from .summary import ConfigSummary as ConfigSummary

__all__ = ["ConfigSummary"]
