"""What a sweep varies: grid axes and sampled distributions, read as data (internal).

``--grid lr=0.1,0.01`` and ``--grid "model.width=[64,128]"`` are axes: a dotted config key
and its values, each read like a ``with`` value (:func:`sacredlite.config.updates.
convert_value`: Python literals, restored as data, never code). ``--space
"lr=loguniform(1e-4,1e-1)"`` is a distribution: one of :data:`DISTRIBUTIONS` called with
literal arguments. The text is parsed with :mod:`ast` and only a call of a known name with
literal arguments is accepted; nothing is evaluated.
"""

from __future__ import annotations

import ast
import itertools
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import SacredliteError

__all__ = [
    "DISTRIBUTIONS",
    "Distribution",
    "SpaceError",
    "grid_points",
    "parse_axis",
    "parse_distribution",
    "parse_space_option",
    "sample_points",
    "seed_values",
]

DISTRIBUTIONS = ("uniform", "loguniform", "int", "logint", "choice")
"""Distribution names ``--space`` and ``--optuna`` accept."""

MAX_RUNS = 1_000_000
"""Runs one sweep may plan (a grid's size is the product of its axes)."""


class SpaceError(SacredliteError, ValueError):
    """Raise when a grid axis, a distribution or a seed count cannot be read."""


@dataclass(frozen=True)
class Distribution:
    """One sampled dimension: ``kind`` in :data:`DISTRIBUTIONS` and its literal arguments."""

    kind: str
    args: tuple[Any, ...]

    def sample(self, rng: random.Random) -> Any:
        """Draw one value with *rng*."""
        if self.kind == "choice":
            return self.args[rng.randrange(len(self.args))]
        low, high = self.args
        if self.kind == "uniform":
            return rng.uniform(low, high)
        if self.kind == "loguniform":
            return math.exp(rng.uniform(math.log(low), math.log(high)))
        if self.kind == "int":
            return rng.randint(low, high)
        drawn = round(math.exp(rng.uniform(math.log(low), math.log(high))))
        return min(max(int(drawn), low), high)

    def __str__(self) -> str:
        return f"{self.kind}({', '.join(map(repr, self.args))})"


def _split_key(text: str, flag: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or not value.strip():
        raise SpaceError(
            f"{flag} {text!r} is not KEY=VALUES: write it like {flag} lr=0.1,0.01 "
            f'or {flag} "model.width=[64,128]".'
        )
    return key, value.strip()


def _top_level_commas(text: str) -> list[str]:
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def parse_axis(text: str) -> tuple[str, list[Any]]:
    """Return ``(dotted key, values)`` of ``--grid KEY=VALUES``.

    ``KEY=[a,b]`` and ``KEY=a,b`` give two values; a list value itself is written inside a
    list (``KEY=[[1,2],[3]]``). Each value is read like a ``with`` value.
    """
    from ..config.updates import convert_value

    key, raw = _split_key(text, "--grid")
    value = convert_value(raw)
    if isinstance(value, list):
        values = value
    elif isinstance(value, str) and value == raw and "," in raw:
        values = [convert_value(part) for part in _top_level_commas(raw)]
    else:
        values = [value]
    if not values:
        raise SpaceError(f"--grid {text!r} gives no values: list at least one.")
    return key, values


def parse_distribution(text: str, key: str = "?") -> Distribution:
    """Return the :class:`Distribution` that *text* (``loguniform(1e-4, 1e-1)``) names.

    Raises:
        SpaceError: not a call of a known distribution with literal arguments, or
            arguments that do not fit it.
    """
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        node = None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)) or node.keywords:
        raise SpaceError(
            f"The distribution {text!r} of {key!r} is not NAME(ARGS): use one of "
            f"{', '.join(DISTRIBUTIONS)}, e.g. loguniform(1e-4, 1e-1) or choice('adam', 'sgd')."
        )
    kind = node.func.id
    if kind not in DISTRIBUTIONS:
        from ..errors import suggest

        raise SpaceError(
            f"Unknown distribution {kind!r} for {key!r}; known: {', '.join(DISTRIBUTIONS)}."
            f"{suggest(kind, DISTRIBUTIONS)}"
        )
    try:
        args = tuple(ast.literal_eval(arg) for arg in node.args)
    except ValueError:
        raise SpaceError(
            f"The arguments of {text!r} ({key!r}) must be literal values (numbers, strings)."
        ) from None
    if kind == "choice" and len(args) == 1 and isinstance(args[0], list | tuple):
        args = tuple(args[0])
    _check_arguments(kind, args, text, key)
    return Distribution(kind, args)


def _check_arguments(kind: str, args: tuple[Any, ...], text: str, key: str) -> None:
    if kind == "choice":
        if not args:
            raise SpaceError(f"{text!r} ({key!r}) chooses from nothing: give the choices.")
        return
    numbers = all(isinstance(a, int | float) and not isinstance(a, bool) for a in args)
    if len(args) != 2 or not numbers or not args[0] < args[1]:
        raise SpaceError(f"{text!r} ({key!r}) needs two numbers LOW < HIGH, e.g. {kind}(1, 10).")
    if kind in ("int", "logint") and not all(isinstance(a, int) for a in args):
        raise SpaceError(f"{text!r} ({key!r}) needs integer bounds, e.g. {kind}(16, 256).")
    if kind in ("loguniform", "logint") and args[0] <= 0:
        raise SpaceError(f"{text!r} ({key!r}) needs LOW > 0 for a log scale.")


def parse_space_option(text: str, flag: str = "--space") -> tuple[str, Distribution]:
    """Return ``(dotted key, distribution)`` of ``--space KEY=DIST(ARGS)``."""
    key, raw = _split_key(text, flag)
    return key, parse_distribution(raw, key)


def seed_values(seeds: int | Sequence[int] | str | None) -> list[int] | None:
    """Return the seeds of ``--seeds``: ``5`` is ``[0, 1, 2, 3, 4]``, ``[7, 9]`` is itself."""
    if seeds is None:
        return None
    if isinstance(seeds, str):
        from ..config.updates import convert_value

        seeds = convert_value(seeds)
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds > 0:
        return list(range(seeds))
    if isinstance(seeds, list | tuple) and seeds and all(isinstance(s, int) for s in seeds):
        return list(seeds)
    raise SpaceError(
        f"--seeds {seeds!r} is neither a count > 0 nor a list of integers: use --seeds 5 "
        "or --seeds [1,2,3]."
    )


def _check_size(size: int) -> None:
    if size > MAX_RUNS:
        raise SpaceError(f"The sweep would make {size} runs; at most {MAX_RUNS} are allowed.")


def grid_points(axes: Mapping[str, Sequence[Any]]) -> Iterator[dict[str, Any]]:
    """Yield every point of the grid (the product of *axes*), the last axis fastest."""
    _check_size(math.prod(len(values) for values in axes.values()))
    keys = list(axes)
    for values in itertools.product(*(axes[key] for key in keys)):
        yield dict(zip(keys, values, strict=True))


def sample_points(
    space: Mapping[str, Distribution], count: int, seed: int | None
) -> list[dict[str, Any]]:
    """Return *count* points drawn from *space* with a generator seeded by *seed*."""
    _check_size(count)
    rng = random.Random(seed)
    return [{key: dist.sample(rng) for key, dist in space.items()} for _ in range(count)]
