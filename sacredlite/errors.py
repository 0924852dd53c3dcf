"""The exception hierarchy: Sacred's classes, messages and attributes, plus sacredlite's own.

Sacred's names (``SacredError``, ``ConfigAddedError``, ...) are the public ones; they are
importable from here and from :mod:`sacredlite.utils` (Sacred's ``sacred.utils``), and they
print as ``sacredlite.utils.<Name>``, as Sacred's print as ``sacred.utils.<Name>``.
How an error is shown on the command line lives in :mod:`sacredlite.error_text`::

    SacredliteError (Exception)           base of everything sacredlite raises on purpose
    ├── SacredError                       Sacred's base: message + how the CLI shows it
    │   ├── CircularDependencyError       ingredients that include each other: exp->ing->exp
    │   ├── ConfigError                   adds "Conflicting configuration values:" lines
    │   │   ├── ConfigAddedError          an update adds a key no captured function uses
    │   │   └── InvalidConfigError        raised by user code for an inconsistent config
    │   ├── MissingConfigError            a captured function lacks a value
    │   ├── NamedConfigNotFoundError      unknown named config
    │   └── SignatureError (+TypeError)   arguments that do not fit a captured function
    ├── ObserverError                     an observer cannot be attached or cannot start
    ├── ResumeError                       ``--resume ID``: unknown id, live run, other config
    └── CommandLineError (+ValueError)    bad flags or flag values
    SacredInterrupt (Exception)           ends a run as interrupted; subclasses set STATUS
    └── TimeoutInterrupt                  STATUS = RunStatus.TIMEOUT.value

sacredlite's one-line hints (``Did you mean 'lr'?``) are never part of an exception's
message, which stays Sacred's: they ride along on the exception (:func:`add_hint`, or a
``hint`` attribute) and the command line prints them before Sacred's text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from .events import RunStatus

_E = TypeVar("_E", bound=BaseException)
_SACRED_MODULE = "sacredlite.utils"  # where Sacred's names print from (sacred.utils there)
_HINTS = "sacredlite_hints"
_FILTER_MODES = ("always", "default", "never")


def suggest(word: str, options: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for close matches of *word*, or ``""``."""
    import difflib

    if not word:
        return ""
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


def add_hint(exc: _E, hint: str) -> _E:
    """Attach a one-line *hint* to *exc* (any exception) and return *exc*.

    The command line prints hints before Sacred's text for the error, so the exception's
    own message (and the last line of stderr) stays Sacred's::

        raise add_hint(KeyError('Command "evalute" not found'), "Did you mean 'evaluate'?")
    """
    hints: list[str] = list(getattr(exc, _HINTS, ()))
    if hint and hint not in hints:
        hints.append(hint)
    setattr(exc, _HINTS, hints)
    return exc


def input_error(exc: _E, hint: str = "") -> _E:
    """Mark *exc* as caused by a bad value the user gave (a flag, an update, a seed).

    The command line then prints the hints and the exception's own last line, without a
    traceback: the value is the problem, not the code. The exception's type and message
    stay what Sacred raises. Returns *exc* (``raise input_error(ValueError(...), "...")``).
    """
    setattr(exc, "print_traceback", False)  # noqa: B010 - any exception type
    return add_hint(exc, hint) if hint else exc


def hints_of(exc: BaseException) -> list[str]:
    """Return the hints of *exc*: those added with :func:`add_hint` (or by its constructor),
    then its ``hint`` attribute unless one of them already says it."""
    hints = list(getattr(exc, _HINTS, ()))
    extra = getattr(exc, "hint", "")
    if isinstance(extra, str) and extra and not any(extra in hint for hint in hints):
        subject = getattr(exc, "hint_subject", "")
        hints.append(f"{subject} {extra}" if subject and extra.startswith("Did you") else extra)
    return hints


def _dotted_get(config: Any, path: str) -> Any:
    """The value at *path*; the empty path is the whole config (as in Sacred)."""
    if not path:
        return config
    current = config
    for key in path.split("."):
        if not isinstance(current, Mapping) or key not in current:
            return None
        current = current[key]
    return current


def _join(prefix: str, path: str) -> str:
    return ".".join(p for p in (prefix, path) if p)


class SacredliteError(Exception):
    """Base class of every error sacredlite raises on purpose."""


class SacredError(SacredliteError):
    """Sacred's base error: a message plus how the command line should show it.

    Args:
        message: the error message.
        print_traceback: show the (filtered) traceback, not only the error line.
        filter_traceback: ``"always"``, ``"default"`` or ``"never"`` drop sacredlite's own
            frames from the traceback (see :func:`sacredlite.utils.format_filtered_stacktrace`).
        print_usage: show the short usage before the error.
    """

    __module__ = _SACRED_MODULE

    def __init__(
        self,
        message: str,
        print_traceback: bool = True,
        filter_traceback: str = "default",
        print_usage: bool = False,
    ) -> None:
        super().__init__(message)
        if filter_traceback not in _FILTER_MODES:
            raise ValueError(
                "filter_traceback must be one of 'always', 'default' or 'never', not "
                + str(filter_traceback)
            )
        self.print_traceback = print_traceback
        self.filter_traceback = filter_traceback
        self.print_usage = print_usage


class CircularDependencyError(SacredError):
    """The ingredients of the experiment form a cycle; the message shows it: ``exp->ing->exp``.

    Args:
        message: the text before the cycle.
        ingredients: the ingredients seen so far, innermost first (each needs ``.path``).
    """

    __module__ = _SACRED_MODULE

    def __init__(
        self,
        message: str = "Circular dependency detected:",
        ingredients: list[Any] | None = None,
        print_traceback: bool = True,
        filter_traceback: str = "default",
        print_usage: bool = False,
    ) -> None:
        super().__init__(message, print_traceback, filter_traceback, print_usage)
        self.__ingredients__: list[Any] = [] if ingredients is None else ingredients
        self.__circular_dependency_handled__ = False

    @classmethod
    @contextlib.contextmanager
    def track(cls, ingredient: Any) -> Iterator[None]:
        """Add *ingredient* to a cycle error passing through, until the cycle is closed."""
        try:
            yield
        except CircularDependencyError as error:
            if not error.__circular_dependency_handled__:
                if ingredient in error.__ingredients__:
                    error.__circular_dependency_handled__ = True
                error.__ingredients__.append(ingredient)
            raise

    @property
    def ingredients(self) -> list[Any]:
        """The ingredients of the cycle, innermost first."""
        return self.__ingredients__

    def __str__(self) -> str:
        cycle = "->".join(str(i.path) for i in reversed(self.__ingredients__))
        return super().__str__() + cycle


class ConfigError(SacredError):
    """An error about config values; the message lists them as ``  path=value`` lines.

    Args:
        message: the error message.
        conflicting_configs: dotted paths of the values at fault (one string or several).
        print_conflicting_configs: add the ``Conflicting configuration values:`` lines.
        config: the config the paths are looked up in (set by :meth:`track` if not given).
    """

    __module__ = _SACRED_MODULE

    def __init__(
        self,
        message: str,
        conflicting_configs: str | Iterable[str] = (),
        print_conflicting_configs: bool = True,
        print_traceback: bool = True,
        filter_traceback: str = "default",
        print_usage: bool = False,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, print_traceback, filter_traceback, print_usage)
        self.print_conflicting_configs = print_conflicting_configs
        if isinstance(conflicting_configs, str):
            conflicting_configs = (conflicting_configs,)
        self.__conflicting_configs__: tuple[str, ...] = tuple(conflicting_configs)
        self.__prefix_handled__ = False
        self.__config__: Mapping[str, Any] = {} if config is None else config

    @classmethod
    @contextlib.contextmanager
    def track(cls, config: Mapping[str, Any], prefix: str | None = None) -> Iterator[None]:
        """Give a config error raised inside the block its *config* and path *prefix*.

        Only the innermost ``track`` applies, so paths are relative to the ingredient whose
        config scope raised.
        """
        try:
            yield
        except ConfigError as error:
            if not error.__prefix_handled__:
                if prefix:
                    error.__conflicting_configs__ = tuple(
                        _join(prefix, str(c)) for c in error.__conflicting_configs__
                    )
                error.__config__ = config
                error.__prefix_handled__ = True
            raise

    @property
    def conflicting_configs(self) -> tuple[str, ...]:
        """Dotted paths of the values at fault."""
        return self.__conflicting_configs__

    @property
    def config(self) -> Mapping[str, Any]:
        """The config the conflicting values are looked up in."""
        return self.__config__

    def __str__(self) -> str:
        text = super().__str__()
        if self.print_conflicting_configs:
            text += "\nConflicting configuration values:"
            for path in self.__conflicting_configs__:
                text += f"\n  {path}={_dotted_get(self.__config__, path)}"
        return text


class InvalidConfigError(ConfigError):
    """Raise from user code when config values do not fit together.

    Example: ``raise InvalidConfigError("Need to be equal", conflicting_configs=("a", "b.a"))``
    """

    __module__ = _SACRED_MODULE


class ConfigAddedError(ConfigError):
    """An update adds a config entry that no captured function uses.

    Args:
        conflicting_configs: the added path(s).
        message: the error message.
        captured_args: argument names captured functions take; listed as "Possible config
            keys" when *print_suggestions*, and turned into a ``Did you mean`` hint always.
        config: the config the added values are looked up in.
    """

    __module__ = _SACRED_MODULE

    SPECIAL_ARGS = frozenset({"_log", "_config", "_seed", "__doc__", "config_filename", "_run"})
    """Arguments captured functions take that a user never sets."""

    def __init__(
        self,
        conflicting_configs: str | Iterable[str],
        message: str = "Added new config entry that is not used anywhere",
        captured_args: Iterable[str] = (),
        print_conflicting_configs: bool = True,
        print_traceback: bool = False,
        filter_traceback: str = "default",
        print_usage: bool = False,
        print_suggestions: bool = True,
        config: Mapping[str, Any] | None = None,
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
        keys = set(captured_args) - self.SPECIAL_ARGS
        for path in self.__conflicting_configs__:
            leaf = path.rsplit(".", 1)[-1]
            match = suggest(leaf, keys) or suggest(path, keys)
            if match:
                add_hint(self, f"Config key {path!r} is not used by any captured function.{match}")

    @property
    def hint_subject(self) -> str:
        """What a bare ``Did you mean ...?`` hint is about: the first added key."""
        if not self.__conflicting_configs__:
            return ""
        key = self.__conflicting_configs__[0]
        return f"Config key {key!r} is not used by any captured function."

    def __str__(self) -> str:
        text = super().__str__()
        if self.print_suggestions:
            possible = set(self.captured_args) - self.SPECIAL_ARGS
            if possible:
                text += f"\nPossible config keys are: {possible}"
        return text


class MissingConfigError(SacredError):
    """A captured function needs a config value that the config does not have.

    Sacred raises it as ``MissingConfigError("f is missing value(s):", missing_configs=[...])``.
    """

    __module__ = _SACRED_MODULE

    def __init__(
        self,
        message: str = "Configuration values are missing:",
        missing_configs: Sequence[str] = (),
        print_traceback: bool = False,
        filter_traceback: str = "default",
        print_usage: bool = True,
    ) -> None:
        self.missing_configs = missing_configs
        super().__init__(
            f"{message} {missing_configs}", print_traceback, filter_traceback, print_usage
        )


class NamedConfigNotFoundError(SacredError):
    """A named config (``with NAME``) that is neither defined nor an existing config file.

    Args:
        named_config: the name asked for.
        message: the text before the name.
        available_named_configs: the defined names; Sacred passes a tuple, shown as its repr.
    """

    __module__ = _SACRED_MODULE

    def __init__(
        self,
        named_config: str,
        message: str = "Named config not found:",
        available_named_configs: Iterable[str] = (),
        print_traceback: bool = False,
        filter_traceback: str = "default",
        print_usage: bool = False,
    ) -> None:
        self.named_config = named_config
        self.available_named_configs = available_named_configs
        super().__init__(
            f'{message} "{named_config}". Available config values are: {available_named_configs}',
            print_traceback,
            filter_traceback,
            print_usage,
        )
        match = suggest(str(named_config), [str(n) for n in available_named_configs])
        if match:
            add_hint(self, f"Named config {named_config!r} not found.{match}")
        elif str(named_config).endswith((".json", ".yaml", ".yml", ".pickle", ".pkl")):
            add_hint(self, f"Config file {named_config!r} does not exist; check the path.")


class SignatureError(SacredError, TypeError):
    """Arguments given to a captured function do not fit its signature."""

    __module__ = _SACRED_MODULE

    def __init__(
        self,
        message: str,
        print_traceback: bool = True,
        filter_traceback: str = "always",
        print_usage: bool = False,
    ) -> None:
        super().__init__(message, print_traceback, filter_traceback, print_usage)


class ObserverError(SacredliteError):
    """An observer cannot be attached, or an observer error that must not fail the run."""

    __module__ = _SACRED_MODULE


class ResumeError(SacredliteError):
    """A run cannot be resumed: its id is unknown, it is still running, or the config
    asked for differs from the stored one (shown as one line, no traceback)."""

    print_traceback = False


class CommandLineError(SacredliteError, ValueError):
    """Bad flags or flag values on the command line (shown as one line, no traceback)."""

    print_traceback = False


class SacredInterrupt(Exception):  # noqa: N818 - Sacred's public name
    """Raise inside a run to end it as interrupted with the status in ``STATUS``."""

    __module__ = _SACRED_MODULE
    STATUS = RunStatus.INTERRUPTED.value


class TimeoutInterrupt(SacredInterrupt):
    """Raise inside a run to end it with status ``TIMEOUT``."""

    __module__ = _SACRED_MODULE
    STATUS = RunStatus.TIMEOUT.value
