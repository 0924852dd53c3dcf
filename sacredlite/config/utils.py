"""Config values as Sacred normalises them, and chains of config layers (internal).

Every config layer's result is *normalised* as Sacred does: tuples become lists, numpy
scalars Python numbers, and every key is checked against ``SETTINGS.CONFIG`` (a key
MongoDB or jsonpickle cannot store raises ``KeyError`` at once, naming the key).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from .custom_containers import dogmatize as dogmatize
from .custom_containers import undogmatize as undogmatize

if TYPE_CHECKING:
    from .summary import ConfigSummary

__all__ = [
    "assert_is_valid_key",
    "chain_evaluate_config_scopes",
    "dogmatize",
    "normalize_numpy",
    "normalize_or_die",
    "recursive_fill_in",
    "undogmatize",
]


def _jsonpickle_reserved(key: str) -> bool:
    if key.startswith("json://"):
        return True
    if not key.startswith("py/"):
        return False
    import jsonpickle.tags  # only for keys that look like one of its tags

    return key in jsonpickle.tags.RESERVED


def assert_is_valid_key(key: Any) -> None:
    """Raise ``KeyError`` if *key* breaks one of the ``SETTINGS.CONFIG.ENFORCE_*`` rules."""
    from ..settings import SETTINGS

    rules = SETTINGS.CONFIG
    text = key if isinstance(key, str) else None
    if text is not None and rules.ENFORCE_KEYS_MONGO_COMPATIBLE:
        if "." in text or text.startswith("$"):
            raise KeyError(f'Invalid key "{key}". Config-keys cannot contain "." or start with "$"')
    if text is not None and rules.ENFORCE_KEYS_JSONPICKLE_COMPATIBLE and _jsonpickle_reserved(text):
        import jsonpickle.tags

        raise KeyError(
            f'Invalid key "{key}". Config-keys cannot be one of the reserved jsonpickle '
            f"tags: {jsonpickle.tags.RESERVED}"
        )
    if rules.ENFORCE_STRING_KEYS and text is None:
        raise KeyError(f'Invalid key "{key}". Config-keys have to be strings, but was {type(key)}')
    if text is not None and rules.ENFORCE_VALID_PYTHON_IDENTIFIER_KEYS and not text.isidentifier():
        raise KeyError(f'Key "{key}" is not a valid python identifier')
    if text is not None and rules.ENFORCE_KEYS_NO_EQUALS and "=" in text:
        raise KeyError(f'Invalid key "{key}". Config keys may not contain an equals sign ("=").')


def normalize_numpy(value: Any) -> Any:
    """Return a numpy scalar as the Python number it holds; anything else unchanged."""
    if type(value).__module__ == "numpy":
        import numpy

        if isinstance(value, numpy.generic):
            try:
                return value.item()
            except ValueError:
                return value
    return value


def normalize_or_die(value: Any) -> Any:
    """Return *value* normalised (tuples -> lists, numpy scalars -> numbers), checking keys."""
    if isinstance(value, dict):
        normalised = {}
        for key, item in value.items():
            assert_is_valid_key(key)
            normalised[key] = normalize_or_die(item)
        return normalised
    if isinstance(value, list | tuple):
        return [normalize_or_die(item) for item in value]
    return normalize_numpy(value)


def recursive_fill_in(config: MutableMapping[str, Any], preset: Mapping[str, Any]) -> None:
    """Add the entries of *preset* that *config* lacks, descending into shared dicts."""
    for key in preset:
        if key not in config:
            config[key] = preset[key]
        elif isinstance(config[key], dict) and isinstance(preset[key], dict):
            recursive_fill_in(config[key], preset[key])


def chain_evaluate_config_scopes(
    config_scopes: Sequence[Any],
    fixed: Mapping[str, Any] | None = None,
    preset: Mapping[str, Any] | None = None,
    fallback: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[ConfigSummary]]:
    """Evaluate config layers in order, each seeing the previous results as presets.

    Returns:
        ``(final config, [summary of each layer])``.
    """
    fixed = fixed or {}
    final: dict[str, Any] = dict(preset or {})
    summaries: list[ConfigSummary] = []
    for scope in config_scopes:
        result = scope(fixed=fixed, preset=final, fallback=fallback or {})
        summaries.append(result)
        final.update(result)
    if not config_scopes:
        final.update(fixed)
    return undogmatize(final), summaries

