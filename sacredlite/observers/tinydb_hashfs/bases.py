"""Sacred's ``sacred.observers.tinydb_hashfs.bases``: the TinyDB file and its serializers.

:func:`get_db_file_manager` opens ``DIR/metadata.json`` through tinydb-serialization's
middleware with the serializers Sacred registers (dates, HashFS files, numpy arrays, pandas
frames and series), and the HashFS store beside it. The layout and tags are
:mod:`sacredlite.formats.tinydb`'s. Importing this module needs tinydb,
tinydb-serialization and hashfs (``pip install 'sacredlite[tinydb]'``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from io import BufferedReader, FileIO
from pathlib import Path
from typing import Any

from ...formats import tinydb as layout
from ._imports import require

require()

from hashfs import HashFS  # noqa: E402 - after the check that names the missing package
from tinydb import TinyDB  # noqa: E402
from tinydb_serialization import SerializationMiddleware, Serializer  # noqa: E402

__all__ = [
    "BufferedReaderWrapper",
    "DataFrameSerializer",
    "DateTimeSerializer",
    "FileSerializer",
    "NdArraySerializer",
    "SeriesSerializer",
    "get_db_file_manager",
]


class BufferedReaderWrapper(BufferedReader):
    """A read handle on a file that can be copied (each copy opens the file again).

    tinydb-serialization deep-copies documents before encoding them; plain file handles
    cannot be copied. The handle given is not closed (its copy is the one in use).
    """

    def __init__(self, f_obj: Any) -> None:
        super().__init__(FileIO(f_obj.name))

    def __copy__(self) -> BufferedReaderWrapper:
        with open(self.name, self.mode) as handle:
            return BufferedReaderWrapper(handle)

    def __deepcopy__(self, memo: dict[int, Any]) -> BufferedReaderWrapper:
        return self.__copy__()


def _pandas() -> Any:
    from ... import optional

    return optional.pandas


class DateTimeSerializer(Serializer):  # type: ignore[misc]
    """``{TinyDate}``: a naive-UTC datetime as text."""

    OBJ_CLASS = dt.datetime

    def encode(self, obj: dt.datetime) -> str:
        return layout.encode_date(obj)

    def decode(self, s: str) -> dt.datetime:
        return layout.decode_date(s)


class _NoClass:
    """Stands for a class whose package is not installed: nothing is an instance of it."""


def _class_of(module: str, name: str) -> type:
    from ... import optional

    found = getattr(optional, {"numpy": "np", "pandas": "pandas"}[module])
    return getattr(found, name) if found is not None else _NoClass


class NdArraySerializer(Serializer):  # type: ignore[misc]
    """``{TinyArray}``: a numpy array as its JSON list."""

    OBJ_CLASS = _class_of("numpy", "ndarray")

    def encode(self, obj: Any) -> str:
        return json.dumps(obj.tolist(), check_circular=True)

    def decode(self, s: str) -> Any:
        import numpy

        return numpy.array(json.loads(s))


class DataFrameSerializer(Serializer):  # type: ignore[misc]
    """``{TinyDataFrame}``: a pandas DataFrame as ``to_json()``."""

    OBJ_CLASS = _class_of("pandas", "DataFrame")

    def encode(self, obj: Any) -> str:
        return str(obj.to_json())

    def decode(self, s: str) -> Any:
        from io import StringIO

        return _pandas().read_json(StringIO(s))


class SeriesSerializer(Serializer):  # type: ignore[misc]
    """``{TinySeries}``: a pandas Series as ``to_json()``."""

    OBJ_CLASS = _class_of("pandas", "Series")

    def encode(self, obj: Any) -> str:
        return str(obj.to_json())

    def decode(self, s: str) -> Any:
        from io import StringIO

        return _pandas().read_json(StringIO(s), typ="series")


class FileSerializer(Serializer):  # type: ignore[misc]
    """``{TinyFile}``: a file handle, stored in HashFS and written as its JSON-quoted md5;
    read back as an open :class:`BufferedReaderWrapper` with a ``hash`` attribute."""

    OBJ_CLASS = BufferedReaderWrapper

    def __init__(self, fs: HashFS) -> None:
        self.fs = fs

    def encode(self, obj: Any) -> str:
        return json.dumps(self.fs.put(obj).id)

    def decode(self, s: str) -> Any:
        file_id = json.loads(s)
        with self.fs.open(file_id) as stored:
            reader = BufferedReaderWrapper(stored)
        reader.hash = file_id  # type: ignore[attr-defined]
        return reader


def open_hashfs(root_dir: str | os.PathLike[str]) -> HashFS:
    """Return the HashFS store under *root_dir* (Sacred's depth, width and algorithm)."""
    return HashFS(
        os.path.join(root_dir, layout.HASHFS_DIR),
        depth=layout.HASHFS_DEPTH,
        width=layout.HASHFS_WIDTH,
        algorithm=layout.HASHFS_ALGORITHM,
    )


def _middleware(file_serializer: Serializer) -> SerializationMiddleware:
    from ... import optional

    middleware = SerializationMiddleware()
    middleware.register_serializer(DateTimeSerializer(), layout.DATE_TAG)
    middleware.register_serializer(file_serializer, layout.FILE_TAG)
    if optional.has_numpy:
        middleware.register_serializer(NdArraySerializer(), "TinyArray")
    if optional.has_pandas:
        middleware.register_serializer(DataFrameSerializer(), "TinyDataFrame")
        middleware.register_serializer(SeriesSerializer(), "TinySeries")
    return middleware


def get_db_file_manager(root_dir: str | os.PathLike[str]) -> tuple[TinyDB, HashFS]:
    """Return ``(TinyDB, HashFS)`` for the store at *root_dir*, as Sacred opens them: stored
    files are read back as open handles."""
    fs = open_hashfs(root_dir)
    db = TinyDB(
        os.path.join(Path(root_dir), layout.METADATA_FILE),
        storage=_middleware(FileSerializer(fs)),
        default=layout.text_form,
    )
    return db, fs
