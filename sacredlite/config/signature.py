"""What a captured function accepts, and how its missing arguments are filled (internal).

Sacred's ``sacred.config.signature.Signature`` shape: ``name``, ``arguments`` (every
parameter that can be passed by name), ``positional_args`` (those without a default),
``kwargs`` (defaults), ``vararg_name`` and ``kw_wildcard_name``. Explicit call arguments
always win; free parameters are taken from the options (config entries and ``_run``,
``_log``, ...); a free parameter without a value and without a default is missing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import MissingConfigError, SignatureError

_NAMED = (
    inspect.Parameter.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    inspect.Parameter.KEYWORD_ONLY,
)
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


class Signature:
    """The parameters of *function*, read once.

    Args:
        function: any callable with an inspectable signature.
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self.name: str = getattr(function, "__name__", type(function).__name__)
        params = inspect.signature(function).parameters.values()
        self.arguments: list[str] = [p.name for p in params if p.kind in _NAMED]
        self.positional_args: list[str] = [
            p.name for p in params if p.kind in _POSITIONAL and p.default is p.empty
        ]
        self.kwargs: dict[str, Any] = {p.name: p.default for p in params if p.default is not p.empty}
        self.vararg_name: str | None = next(
            (p.name for p in params if p.kind is p.VAR_POSITIONAL), None
        )
        self.kw_wildcard_name: str | None = next(
            (p.name for p in params if p.kind is p.VAR_KEYWORD), None
        )

    def _expected(self, bound: bool) -> list[str]:
        # A bound method gets ``self`` from Python: it is not ours to fill.
        return self.arguments[1:] if bound else self.arguments

    def get_free_parameters(
        self, args: Sequence[Any], kwargs: Mapping[str, Any], bound: bool = False
    ) -> list[str]:
        """Return the parameters neither *args* nor *kwargs* give a value."""
        return [a for a in self._expected(bound)[len(args) :] if a not in kwargs]

    def construct_arguments(
        self,
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        options: Mapping[str, Any],
        bound: bool = False,
    ) -> tuple[Sequence[Any], dict[str, Any]]:
        """Return the call's ``(args, kwargs)`` with free parameters filled from *options*.

        Raises:
            SignatureError: unexpected positional or keyword arguments, or a parameter
                given twice.
            MissingConfigError: a parameter without value and without default remains.
        """
        expected = self._expected(bound)
        if self.vararg_name is None and len(args) > len(expected):
            raise SignatureError(
                f"{self.name} got unexpected argument(s): {tuple(args[len(expected) :])}"
            )
        if self.kw_wildcard_name is None:
            unexpected = set(kwargs) - set(expected)
            if unexpected:
                raise SignatureError(f"{self.name} got unexpected kwarg(s): {sorted(unexpected)}")
        twice = [name for name in expected[: len(args)] if name in kwargs]
        if twice:
            raise SignatureError(f"{self.name} got multiple values for argument(s) {twice}")
        filled = dict(kwargs)
        for name in self.get_free_parameters(args, kwargs, bound):
            if name in options:
                filled[name] = options[name]
        missing = [
            name for name in self.get_free_parameters(args, filled, bound) if name not in self.kwargs
        ]
        if missing:
            raise MissingConfigError(f"{self.name} is missing value(s):", missing_configs=missing)
        return args, filled

    def __str__(self) -> str:
        parts = list(self.positional_args)
        if self.vararg_name:
            parts.append("*" + self.vararg_name)
        parts.extend(f"{name}={value!r}" for name, value in self.kwargs.items())
        if self.kw_wildcard_name:
            parts.append("**" + self.kw_wildcard_name)
        return f"{self.name}({', '.join(parts)})"

    def __repr__(self) -> str:
        return f"<Signature at 0x{id(self):x} for {self.name!r}>"
