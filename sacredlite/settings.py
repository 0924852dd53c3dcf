"""Global settings with Sacred's names: ``from sacredlite import SETTINGS``.

Users change them before running, with attribute or item access::

    SETTINGS.CAPTURE_MODE = "sys"
    SETTINGS["HOST_INFO"]["INCLUDE_GPU_INFO"] = False

The keys are Sacred 0.8.7's, plus sacredlite's ``DEFAULT_JOIN_TIMEOUT`` (how long the end
of a run waits for an unreachable database) and ``CONFIG.MAX_LOAD_SIZE`` (the largest config
read from a file), and fixed: an unknown key, or a plain value assigned over a section,
raises :class:`SettingError` (Sacred's class) with a suggestion; values with a fixed set of
choices are checked on assignment. ``copy.deepcopy(SETTINGS)`` gives an independent copy
with the same rules. The core calls :meth:`Settings.snapshot` once when it creates a run
and passes the (read-only) copy down as arguments; no module reads the global settings in
the middle of a run.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from .errors import SacredliteError, suggest

__all__ = ["SETTINGS", "SettingError", "Settings"]

_DEFAULTS: dict[str, Any] = {
    "CONFIG": {
        # make sure all config keys are compatible with MongoDB
        "ENFORCE_KEYS_MONGO_COMPATIBLE": True,
        # make sure all config keys are serializable with jsonpickle
        "ENFORCE_KEYS_JSONPICKLE_COMPATIBLE": True,
        # make sure all config keys are valid python identifiers
        "ENFORCE_VALID_PYTHON_IDENTIFIER_KEYS": False,
        # make sure all config keys are strings
        "ENFORCE_STRING_KEYS": False,
        # make sure no config key contains an equals sign
        "ENFORCE_KEYS_NO_EQUALS": True,
        # captured functions get read-only dicts and lists in their config
        "READ_ONLY_CONFIG": True,
        # regex patterns of IDE/linter directives ignored in config comments
        "IGNORED_COMMENTS": ["^pylint:", "^noinspection"],
        # _rnd is a numpy.random.RandomState instead of a numpy.random.Generator. Sacred
        # turns it on for numpy < 1.19 only, which supports no Python sacredlite runs on.
        "NUMPY_RANDOM_LEGACY_API": False,
        # largest config read from a JSON or YAML file or restored for a queued run, in bytes
        # of data once expanded (YAML aliases and jsonpickle references repeated, compressed
        # numpy arrays unpacked); a larger one is refused. sacredlite's own (issue 9).
        "MAX_LOAD_SIZE": 16 * 1024 * 1024,
    },
    "HOST_INFO": {
        # collect GPU information with nvidia-smi (when it is on PATH)
        "INCLUDE_GPU_INFO": True,
        # read the CPU model name (never spawns a process)
        "INCLUDE_CPU_INFO": True,
        # names of environment variables to store in host info
        "CAPTURED_ENV": [],
    },
    "COMMAND_LINE": {
        # disallow the string fallback when a command-line value does not parse
        "STRICT_PARSING": False,
        # show command-line options that are disabled (e.g. unmet dependencies)
        "SHOW_DISABLED_OPTIONS": True,
    },
    # how stdout/stderr are captured: 'no', 'sys' or 'fd'
    "CAPTURE_MODE": "sys" if sys.platform == "win32" else "fd",
    # how package dependencies are discovered: 'none', 'imported', 'sys' or 'pkg'
    "DISCOVER_DEPENDENCIES": "imported",
    # how source files are discovered: 'none', 'imported', 'sys' or 'dir'
    "DISCOVER_SOURCES": "imported",
    # seconds between two heartbeats of a run
    "DEFAULT_BEAT_INTERVAL": 10.0,
    # beyond Sacred: seconds the end of a run waits while an observer's database takes no
    # write (it is unreachable) before leaving the rest in its spool for `sacredlite sync`
    "DEFAULT_JOIN_TIMEOUT": 5.0,
    # beyond Sacred: log the run's CPU %, memory and the host's GPUs as system/... metrics at
    # every heartbeat
    "SYSTEM_METRICS": True,
}

_CHOICES: dict[str, tuple[str, ...]] = {
    "CAPTURE_MODE": ("fd", "no", "sys"),
    "DISCOVER_DEPENDENCIES": ("imported", "none", "pkg", "sys"),
    "DISCOVER_SOURCES": ("dir", "imported", "none", "sys"),
}


class SettingError(SacredliteError, KeyError, AttributeError):
    """Raise for an unknown setting, or for a plain value assigned over a section.

    Sacred's class (``sacred.settings.SettingError``). It is also a ``KeyError`` and an
    ``AttributeError``, the errors a missing key or attribute raises anywhere else, so
    ``SETTINGS.get(name)``, ``getattr(SETTINGS, name, default)`` and code that caught
    ``KeyError`` before keep working.
    """

    def __str__(self) -> str:
        # KeyError would show the repr of the message (quoted)
        return str(self.args[0]) if self.args else ""


class Settings(Mapping[str, Any]):
    """A nested mapping with fixed keys, readable as attributes and items.

    Args:
        values: the nested dict of values (copied).
        path: the dotted path of this section, for error messages.
        read_only: reject all assignments (used by :meth:`snapshot`).
    """

    __slots__ = ("_values", "_path", "_read_only")

    def __init__(
        self, values: Mapping[str, Any], path: str = "SETTINGS", read_only: bool = False
    ) -> None:
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_read_only", read_only)
        object.__setattr__(
            self,
            "_values",
            {
                key: Settings(val, f"{path}.{key}", read_only)
                if isinstance(val, Mapping)
                else copy.deepcopy(val)
                for key, val in values.items()
            },
        )

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise SettingError(self._unknown(key)) from None

    def __setitem__(self, key: str, value: Any) -> None:
        if self._read_only:
            raise TypeError(
                f"{self._path} is a read-only snapshot; change sacredlite.SETTINGS "
                "before the run is created instead."
            )
        if key not in self._values:
            raise SettingError(self._unknown(key))
        current = self._values[key]
        if isinstance(current, Settings):
            if not isinstance(value, Mapping):
                raise SettingError(
                    f"{self._path}.{key} is a section of settings, not a value (got "
                    f"{value!r}); set its entries instead, e.g. {self._path}.{key}."
                    f"{next(iter(current))} = ..."
                )
            for sub_key, sub_value in value.items():
                current[sub_key] = sub_value
            return
        choices = _CHOICES.get(key)
        if choices is not None and value not in choices:
            raise ValueError(
                f"Invalid value {value!r} for {self._path}.{key}.{suggest(str(value), choices)}"
                f" Use one of {', '.join(repr(c) for c in choices)}."
            )
        self._values[key] = value

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Settings({self.to_dict()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # copy, deepcopy and pickle rebuild through __init__ (plain values, deep-copied):
        # the slots cannot be restored one by one through the guarded __setattr__.
        return (Settings, (self.to_dict(), self._path, self._read_only))

    def _unknown(self, key: str) -> str:
        return (
            f"Unknown setting: {self._path}.{key}.{suggest(str(key), self._values)} "
            f"Possible keys are: {list(self._values)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a plain nested dict copy of the settings."""
        return {
            key: val.to_dict() if isinstance(val, Settings) else copy.deepcopy(val)
            for key, val in self._values.items()
        }

    def snapshot(self) -> Settings:
        """Return a read-only deep copy to pass down into a run."""
        return Settings(self.to_dict(), self._path, read_only=True)

    def reset(self) -> None:
        """Restore the defaults (for tests)."""
        if self._path != "SETTINGS":
            raise TypeError("Call reset() on SETTINGS itself.")
        object.__setattr__(self, "_values", Settings(_DEFAULTS)._values)


SETTINGS = Settings(_DEFAULTS)
"""The global settings; see the module docstring."""
