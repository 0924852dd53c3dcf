"""Sacred's ``sacred.config.captured_function`` (a re-export of :mod:`sacredlite.captured`)."""

from ..captured import CapturedFunction as CapturedFunction
from ..captured import create_captured_function as create_captured_function

__all__ = ["CapturedFunction", "create_captured_function"]
