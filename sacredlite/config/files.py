"""Load and save config files: JSON, pickle and YAML, chosen by extension (internal).

Sacred's formats: JSON is written sorted and indented, with values that JSON cannot hold
flattened by jsonpickle; pickle is Python's; YAML (when PyYAML is installed) is PyYAML's
default dump. ``HANDLER_BY_EXT`` maps each extension to its :class:`Handler`, in Sacred's
order.

JSON and YAML files are data (issue 9). A JSON file is restored with
:func:`sacredlite.serializer.restore_data`: what ``save_config`` writes (tuples, sets, numpy
values, dates, ...) comes back, and a value that would import or call code is refused.
Sacred 0.8.7 decodes it with jsonpickle, which runs a ``py/reduce`` call; only a ``.pickle``
file runs code, as in Sacred. A JSON or YAML file may hold up to
``SETTINGS.CONFIG.MAX_LOAD_SIZE`` bytes of data once expanded (a YAML anchor bomb is
measured before it is built). Whatever is wrong with a file is one :class:`ConfigFileError`
line naming the file (and, for a syntax error, the line and column).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from typing import IO, Any

from ..errors import SacredError, add_hint

__all__ = [
    "HANDLER_BY_EXT",
    "ConfigFileError",
    "Handler",
    "get_handler",
    "load_config_file",
    "save_config_file",
]

YAML_EXTENSIONS = (".yaml", ".yml")
_DATA_HINT = (
    "JSON config files are data: they hold what save_config writes (plain values, tuples, "
    "sets, numpy values, dates, ...), never code; use a .pickle file for other Python objects."
)


class ConfigFileError(SacredError, ValueError):
    """A config file that cannot be loaded: not parsable, too large, or holding code.

    The command line shows its message, one line, without a traceback. It is a
    ``ValueError``, as json's error for a corrupt file is.

    Args:
        message: what is wrong, naming the file.
        filename: the file.

    .. versionadded:: 0.1 (issue 9)
    """

    def __init__(self, message: str, filename: str = "") -> None:
        super().__init__(message, print_traceback=False)
        self.filename = filename


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


def _file_name(file: IO[Any]) -> str:
    name = getattr(file, "name", None)
    return name if isinstance(name, str) else "<stream>"


def _too_large(name: str, size: int, what: str) -> ConfigFileError:
    from ..serializer import format_size

    limit = _max_size()
    return ConfigFileError(
        f'Config file "{name}" holds {format_size(size)} {what}, more than '
        f"SETTINGS.CONFIG.MAX_LOAD_SIZE ({format_size(limit)}); raise that setting to load it.",
        name,
    )


def _max_size() -> int:
    from ..settings import SETTINGS

    return int(SETTINGS.CONFIG.MAX_LOAD_SIZE)


def _read_text(file: IO[Any]) -> str:
    """Return the file's text, refusing more than the size limit before reading it all."""
    name, limit = _file_name(file), _max_size()
    try:
        text: str = file.read(limit + 1)
    except UnicodeDecodeError as exc:
        raise ConfigFileError(
            f'Config file "{name}" is not text: {exc.reason} at byte {exc.start}.', name
        ) from exc
    if len(text) > limit:
        try:
            size = os.fstat(file.fileno()).st_size
        except (OSError, ValueError, AttributeError):
            size = len(text)
        raise _too_large(name, size, "of text")
    return text


def _load_json(file: IO[Any]) -> Any:
    import json

    from ..serializer import DataRestoreError, DataSizeError, restore_data

    name, text = _file_name(file), _read_text(file)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigFileError(
            f'Config file "{name}" is not valid JSON: {exc.msg} '
            f"(line {exc.lineno}, column {exc.colno}).",
            name,
        ) from exc
    except RecursionError:
        raise ConfigFileError(f'Config file "{name}" is nested too deeply.', name) from None
    try:
        return restore_data(data, max_size=_max_size())
    except DataSizeError as exc:
        raise _too_large(name, exc.size, "of config data once expanded") from exc
    except DataRestoreError as exc:
        error = ConfigFileError(f'Config file "{name}": {exc}.', name)
        raise add_hint(error, _DATA_HINT) from exc


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


def _yaml_parts(node: Any) -> tuple[int, Sequence[Any]]:
    """A YAML node's size without its collections, and those (an alias is its anchor's node)."""
    value = node.value
    if isinstance(value, str):
        return len(value) + 2, ()
    if value and isinstance(value[0], tuple):  # a mapping: (key node, value node) pairs
        own, items = 2 + 2 * len(value), [part for pair in value for part in pair]
    else:
        own, items = 2 + len(value), value
    children = []
    for item in items:
        if isinstance(item.value, str):
            own += len(item.value) + 2
        else:
            children.append(item)
    return own, children


def _load_yaml(file: IO[Any]) -> Any:
    import yaml

    from ..serializer import DataRestoreError, expanded_size

    name = _file_name(file)
    loader = yaml.FullLoader(_read_text(file))
    try:
        node = loader.get_single_node()  # the node graph: each alias is its anchor's node
        if node is None:
            return None
        size = expanded_size(node, _yaml_parts)
        if size > _max_size():
            raise _too_large(name, size, "of config data once expanded")
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = ": ".join(p for p in (exc.context, exc.problem) if p) or "syntax error"
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        message = f'Config file "{name}" is not valid YAML: {problem}{where}.'
        raise ConfigFileError(message, name) from exc
    except yaml.YAMLError as exc:
        message = f'Config file "{name}" is not valid YAML: {" ".join(str(exc).split())}'
        raise ConfigFileError(message, name) from exc
    except DataRestoreError as exc:
        raise ConfigFileError(f'Config file "{name}" holds an alias inside itself.', name) from exc
    finally:
        loader.dispose()


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
            f'Configuration file "{filename}" cannot be loaded as you do not have PyYAML installed.'
        )
    handler = HANDLER_BY_EXT.get(extension)
    if handler is None:
        raise ValueError(
            f'Configuration file "{filename}" has invalid or unsupported extension "{extension}".'
        )
    return handler


def load_config_file(filename: str | os.PathLike[str]) -> Any:
    """Return the config stored in *filename*.

    Raises:
        ConfigFileError: a JSON or YAML file that does not parse, holds more than
            ``SETTINGS.CONFIG.MAX_LOAD_SIZE`` of data, or (JSON) a value that is code.
    """
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
