"""Sacred's ``sacred.config.captured_function``: names from :mod:`sacredlite.captured`.

Captured functions belong to the core, above ``config/``; they are loaded on first use, so
importing the config layer never imports the core.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

__all__ = ["CapturedFunction", "create_captured_function"]  # noqa: F822 - loaded lazily

__getattr__ = lazy_getattr(
    __name__,
    globals(),
    {"CapturedFunction": "..captured", "create_captured_function": "..captured"},
)
