"""Load and save config files: JSON, pickle and YAML, chosen by extension (internal).

Sacred's formats: JSON is written sorted and indented, with values that JSON cannot hold
flattened by jsonpickle (and restored when read); pickle is Python's; YAML (when PyYAML is
installed) is PyYAML's default dump. ``HANDLER_BY_EXT`` maps each extension to its
:class:`Handler`, in Sacred's order.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from typing import IO, Any

__all__ = ["HANDLER_BY_EXT", "Handler", "get_handler", "load_config_file", "save_config_file"]

YAML_EXTENSIONS = (".yaml", ".yml")


class Handler:
    """How to read and write one config file format.

    Args:
        load: ``load(file) -> config``.
        dump: ``dump(config, file)``.
        mode: ``""`` for text files, ``"b"`` for binary ones (added to the open mode).
    """

    def __init__(
        self, load: Callable[[IO[Any]], Any], dump: Callable[[Any, IO[Any]], None], mode: str
    ) -> None:
        self.load = load
        self.dump = dump
        self.mode = mode


def _plain(value: Any) -> Any:
    """Turn read-only config containers back into plain dicts and lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def _load_json(file: IO[Any]) -> Any:
    import json

    from ..serializer import restore

    return restore(json.load(file))


def _dump_json(config: Any, file: IO[Any]) -> None:
    import json

    from ..serializer import flatten

    json.dump(flatten(_plain(config)), file, sort_keys=True, indent=2)


def _load_pickle(file: IO[Any]) -> Any:
    import pickle

    return pickle.load(file)  # noqa: S301 - a pickle config file runs code, as in Sacred


def _dump_pickle(config: Any, file: IO[Any]) -> None:
    import pickle

    pickle.dump(_plain(config), file)


def _load_yaml(file: IO[Any]) -> Any:
    import yaml

    return yaml.load(file, Loader=yaml.FullLoader)


def _dump_yaml(config: Any, file: IO[Any]) -> None:
    import yaml

    yaml.dump(_plain(config), file)


HANDLER_BY_EXT: dict[str, Handler] = {
    ".json": Handler(_load_json, _dump_json, ""),
    ".pickle": Handler(_load_pickle, _dump_pickle, "b"),
}
if importlib.util.find_spec("yaml") is not None:
    _YAML = Handler(_load_yaml, _dump_yaml, "")
    for _extension in YAML_EXTENSIONS:
        HANDLER_BY_EXT[_extension] = _YAML


def get_handler(filename: str) -> Handler:
    """Return the handler for *filename*'s extension.

    Raises:
        KeyError: a YAML file without PyYAML installed.
        ValueError: an extension no handler knows.
    """
    extension = os.path.splitext(filename)[1]
    if extension in YAML_EXTENSIONS and extension not in HANDLER_BY_EXT:
        raise KeyError(
            f'Configuration file "{filename}" cannot be loaded as you do not have PyYAML '
            "installed."
        )
    handler = HANDLER_BY_EXT.get(extension)
    if handler is None:
        raise ValueError(
            f'Configuration file "{filename}" has invalid or unsupported extension '
            f'"{extension}".'
        )
    return handler


def load_config_file(filename: str | os.PathLike[str]) -> Any:
    """Return the config stored in *filename*."""
    filename = os.fspath(filename)
    handler = get_handler(filename)
    with open(filename, "r" + handler.mode) as file:
        return handler.load(file)


def save_config_file(config: Any, filename: str | os.PathLike[str]) -> None:
    """Write *config* to *filename* in the format its extension names."""
    filename = os.fspath(filename)
    handler = get_handler(filename)
    with open(filename, "w" + handler.mode) as file:
        handler.dump(config, file)
