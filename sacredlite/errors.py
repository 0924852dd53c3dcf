"""The exception hierarchy of sacredlite.

Exceptions carry data (the offending value, the valid options); how they are shown
(exit code, usage text, traceback) is decided by :mod:`sacredlite.cli` only::

    SacredliteError
    ├── ConfigError
    │   ├── ConfigAddedError          an update adds a key no captured function uses
    │   ├── ConfigUpdateError         a malformed ``with`` update
    │   ├── ConfigScopeError          a return/syntax error inside a config scope
    │   ├── ConfigFileError           missing file, unknown extension, unreadable content
    │   ├── NamedConfigNotFoundError  unknown named config
    │   └── ReadOnlyConfigError       a captured function mutated ``_config``
    ├── MissingConfigError            a captured function lacks a value for an argument
    ├── CommandNotFoundError          unknown command on the command line
    ├── CommandLineError              bad flags or values on the command line
    ├── ObserverError                 an observer cannot be attached or cannot start
    └── RunError                      illegal status transitions and misuse of a Run
    SacredInterrupt (Exception)       ends a run as interrupted; subclasses set STATUS
    └── TimeoutInterrupt              STATUS = "TIMEOUT"
"""

from __future__ import annotations

from collections.abc import Iterable


def suggest(word: str, options: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for close matches of *word*, or ``""``."""
    import difflib

    candidates = sorted(set(options))
    matches = difflib.get_close_matches(word, candidates, n=3, cutoff=0.6)
    matches += [
        o
        for o in candidates
        if o not in matches and len(o) >= 2 and (word.startswith(o) or o.startswith(word))
    ][: 3 - len(matches)]
    if not matches:
        return ""
    quoted = " or ".join(repr(m) for m in matches)
    return f" Did you mean {quoted}?"


class SacredliteError(Exception):
    """Base class of every error sacredlite raises on purpose."""


class ConfigError(SacredliteError):
    """Something is wrong with the configuration."""


class ConfigAddedError(ConfigError):
    """Raise when a config update adds keys that no captured function uses.

    Args:
        conflicting_configs: the added keys (dotted paths).
        captured_args: the argument names captured functions accept, for suggestions.
    """

    def __init__(
        self, conflicting_configs: Iterable[str], captured_args: Iterable[str] = ()
    ) -> None:
        self.conflicting_configs = sorted(conflicting_configs)
        self.captured_args = sorted(set(captured_args))
        parts = []
        for key in self.conflicting_configs:
            leaf = key.rsplit(".", 1)[-1]
            parts.append(f"{key!r}{suggest(leaf, self.captured_args)}")
        noun = "key" if len(parts) == 1 else "keys"
        super().__init__(
            f"Added new config {noun} {', '.join(parts)} that no captured function uses. "
            "Fix the spelling, or pass -f/--force to add it anyway."
        )


class ConfigUpdateError(ConfigError):
    """Raise for a malformed ``with`` update such as ``lr=`` or ``=3``."""

    def __init__(self, update: str, reason: str) -> None:
        self.update = update
        self.reason = reason
        super().__init__(
            f"Malformed config update {update!r}: {reason}. Write updates as KEY=VALUE, "
            "e.g. 'lr=0.1' or 'optimizer.name=\"adam\"'."
        )


class ConfigScopeError(ConfigError):
    """Raise when a config scope's body cannot be used (return statement, syntax error)."""


class ConfigFileError(ConfigError):
    """Raise for a config file that is missing, of unknown type, or unreadable."""


class NamedConfigNotFoundError(ConfigError):
    """Raise for a named config that the experiment does not define."""

    def __init__(self, name: str, available: Iterable[str]) -> None:
        self.name = name
        self.available = sorted(available)
        listing = ", ".join(self.available) or "none defined"
        super().__init__(
            f"Named config {name!r} not found.{suggest(name, self.available)} "
            f"Available named configs: {listing}."
        )


class ReadOnlyConfigError(ConfigError, TypeError):
    """Raise when code tries to change the read-only ``_config``."""


class MissingConfigError(SacredliteError, TypeError):
    """Raise when a captured function lacks a value for one of its arguments."""

    def __init__(self, func_name: str, missing: Iterable[str]) -> None:
        self.func_name = func_name
        self.missing = list(missing)
        names = ", ".join(repr(m) for m in self.missing)
        super().__init__(
            f"{func_name}() is missing a value for {names}: pass it as an argument or "
            f"add it to the config (e.g. 'with {self.missing[0]}=...')."
        )


class CommandNotFoundError(SacredliteError):
    """Raise when the command line names a command that does not exist."""

    def __init__(self, command: str, available: Iterable[str]) -> None:
        self.command = command
        self.available = sorted(available)
        super().__init__(
            f"Command {command!r} not found.{suggest(command, self.available)} "
            f"Available commands: {', '.join(self.available)}."
        )


class CommandLineError(SacredliteError):
    """Raise for bad flags or flag values on the command line."""


class ObserverError(SacredliteError):
    """Raise when an observer cannot be attached or fails to start a run."""


class RunError(SacredliteError):
    """Raise for misuse of a Run, such as an illegal status transition."""


class SacredInterrupt(Exception):  # noqa: N818 - Sacred's public name
    """Raise inside a run to end it as interrupted with the status in ``STATUS``."""

    STATUS = "INTERRUPTED"


class TimeoutInterrupt(SacredInterrupt):
    """Raise inside a run to end it with status ``TIMEOUT``."""

    STATUS = "TIMEOUT"


# --- Sacred-shaped errors (temporary block; the errors rework replaces it) ----------------
import contextlib  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402


class SacredError(SacredliteError):
    """Sacred's base error, carrying how the command line should present it."""

    def __init__(
        self,
        message: str,
        print_traceback: bool = True,
        filter_traceback: str = "default",
        print_usage: bool = False,
    ) -> None:
        super().__init__(message)
        if filter_traceback not in ("always", "default", "never"):
            raise ValueError(
                "filter_traceback must be one of 'always', 'default' or 'never', not "
                + str(filter_traceback)
            )
        self.print_traceback = print_traceback
        self.filter_traceback = filter_traceback
        self.print_usage = print_usage


class CircularDependencyError(SacredError):
    """The ingredients form a cycle; the message names it: ``exp->ing->exp``."""

    def __init__(
        self, message: str = "Circular dependency detected:", ingredients: Any = None, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.__ingredients__: list[Any] = list(ingredients or [])
        self.__circular_dependency_handled__ = False

    @classmethod
    @contextlib.contextmanager
    def track(cls, ingredient: Any) -> Iterator[None]:
        try:
            yield
        except CircularDependencyError as exc:
            if not exc.__circular_dependency_handled__:
                if ingredient in exc.__ingredients__:
                    exc.__circular_dependency_handled__ = True
                exc.__ingredients__.append(ingredient)
            raise

    def __str__(self) -> str:
        return super().__str__() + "->".join(i.path for i in reversed(self.__ingredients__))


class SacredConfigError(SacredError):
    """Sacred's ConfigError: the message plus the conflicting values."""

    def __init__(
        self,
        message: str,
        conflicting_configs: Any = (),
        print_conflicting_configs: bool = True,
        print_traceback: bool = True,
        filter_traceback: str = "default",
        print_usage: bool = False,
        config: Any = None,
    ) -> None:
        super().__init__(message, print_traceback, filter_traceback, print_usage)
        if isinstance(conflicting_configs, str):
            conflicting_configs = (conflicting_configs,)
        self.print_conflicting_configs = print_conflicting_configs
        self.__conflicting_configs__ = tuple(conflicting_configs)
        self.__prefix_handled__ = False
        self.__config__ = config if config is not None else {}

    @classmethod
    @contextlib.contextmanager
    def track(cls, config: Any, prefix: str | None = None) -> Iterator[None]:
        try:
            yield
        except SacredConfigError as exc:
            if not exc.__prefix_handled__:
                if prefix:
                    exc.__conflicting_configs__ = tuple(
                        f"{prefix}.{c}" for c in exc.__conflicting_configs__
                    )
                exc.__config__ = config
                exc.__prefix_handled__ = True
            raise

    def __str__(self) -> str:
        from .config.paths import get_by_dotted_path

        text = super().__str__()
        if self.print_conflicting_configs:
            text += "\nConflicting configuration values:"
            for key in self.__conflicting_configs__:
                text += f"\n  {key}={get_by_dotted_path(self.__config__, key)}"
        return text


class SacredMissingConfigError(SacredError, TypeError):
    """A captured function lacks values: ``main is missing value(s): ['a']``."""

    def __init__(
        self,
        message: str = "Configuration values are missing:",
        missing_configs: Any = (),
        print_traceback: bool = False,
        filter_traceback: str = "default",
        print_usage: bool = True,
    ) -> None:
        super().__init__(
            f"{message} {missing_configs}", print_traceback, filter_traceback, print_usage
        )
        self.missing = list(missing_configs)


class SignatureError(SacredError, TypeError):
    """The call's arguments do not fit the function's signature."""

    def __init__(
        self,
        message: str,
        print_traceback: bool = True,
        filter_traceback: str = "always",
        print_usage: bool = False,
    ) -> None:
        super().__init__(message, print_traceback, filter_traceback, print_usage)


class SacredNamedConfigNotFoundError(SacredError):
    """A named config does not exist."""

    def __init__(
        self,
        named_config: str,
        message: str = "Named config not found:",
        available_named_configs: Any = (),
        print_traceback: bool = False,
        filter_traceback: str = "default",
        print_usage: bool = False,
    ) -> None:
        super().__init__(
            f'{message} "{named_config}". Available config values are: '
            f"{available_named_configs}",
            print_traceback,
            filter_traceback,
            print_usage,
        )


class SacredConfigAddedError(SacredConfigError):
    """An update adds a config entry no captured function uses."""

    SPECIAL_ARGS = frozenset({"_log", "_config", "_seed", "__doc__", "config_filename", "_run"})

    def __init__(
        self,
        conflicting_configs: Any,
        message: str = "Added new config entry that is not used anywhere",
        captured_args: Any = (),
        print_conflicting_configs: bool = True,
        print_traceback: bool = False,
        filter_traceback: str = "default",
        print_usage: bool = False,
        print_suggestions: bool = True,
        config: Any = None,
    ) -> None:
        super().__init__(
            message,
            conflicting_configs=conflicting_configs,
            print_conflicting_configs=print_conflicting_configs,
            print_traceback=print_traceback,
            filter_traceback=filter_traceback,
            print_usage=print_usage,
            config=config,
        )
        self.captured_args = captured_args
        self.print_suggestions = print_suggestions

    def __str__(self) -> str:
        text = super().__str__()
        if self.print_suggestions:
            keys = set(self.captured_args) - self.SPECIAL_ARGS
            if keys:
                text += f"\nPossible config keys are: {keys}"
        return text


MissingConfigError = SacredMissingConfigError  # type: ignore[misc]
ConfigError = SacredConfigError  # type: ignore[misc]
ConfigAddedError = SacredConfigAddedError  # type: ignore[misc]
NamedConfigNotFoundError = SacredNamedConfigNotFoundError  # type: ignore[misc]
