"""Sacred's TinyDB + HashFS layout (``-t DIR``): the only code that knows its files and fields.

:class:`~sacredlite.observers.TinyDbObserver` writes through this module (with ``tinydb``,
``tinydb-serialization`` and ``hashfs``); the run store (:mod:`sacredlite.store.tinydb`)
reads the same files with the standard library only. The layout, as Sacred 0.8.7 writes it::

    DIR/
      metadata.json                  TinyDB's JSON file: {"runs": {"<doc id>": run, ...}}
      hashfs/ab/cd/ef/<rest of md5>  every stored file once, named by its md5 (HashFS with
                                     depth 3, width 2, algorithm md5, no extension)

A run document (table ``runs``, TinyDB doc ids 1, 2, ...) holds ``_id`` (the run id: given,
or a random ``uuid4().hex``), ``experiment`` (``ex_info``, its ``sources`` as ``[[path,
md5, FILE]]``), ``format`` (:data:`FORMAT`), ``command``, ``host``, ``start_time``,
``heartbeat``, ``stop_time`` (dates), ``config``, ``meta``, ``status``, ``resources``
(``[[filename, md5, FILE]]``), ``artifacts`` (``[[name, filename as added, md5, FILE]]``),
``captured_out`` (the whole text), ``info``, ``result`` and ``fail_trace`` (a list of lines).

Values JSON cannot hold are written by tinydb-serialization as tagged strings
``"{TAG}:<text>"``: ``{TinyDate}:2026-11-30T06:35:21.298815`` (naive UTC,
:data:`DATE_FORMAT`), ``{TinyFile}:"<md5>"`` (a JSON string: the file's HashFS id; Sacred's
reader opens it as a file handle), ``{TinyArray}:<JSON list>`` (a numpy array),
``{TinyDataFrame}:`` / ``{TinySeries}:`` (pandas' ``to_json``).

sacredlite adds, where Sacred's readers never look: a table :data:`METRICS_TABLE` with one
document per (run, metric), ``{"run_id", "name", "steps", "values", "timestamps"
(TinyDate strings)}``, so the board can draw a TinyDB run's metrics (Sacred's
TinyDbObserver drops them); and ``omniboard`` (``{"tags", "notes"}``) in a run document
once the board sets them.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "DATE_FORMAT",
    "DATE_TAG",
    "FILE_TAG",
    "FORMAT",
    "HASHFS_ALGORITHM",
    "HASHFS_DEPTH",
    "HASHFS_DIR",
    "HASHFS_WIDTH",
    "METADATA_FILE",
    "METRICS_TABLE",
    "RUNS_TABLE",
    "StoredFile",
    "decode_date",
    "decode_document",
    "encode_date",
    "encode_document",
    "file_path",
    "metric_document",
    "read_tables",
    "text_form",
]

METADATA_FILE = "metadata.json"
HASHFS_DIR = "hashfs"
HASHFS_DEPTH = 3
HASHFS_WIDTH = 2
HASHFS_ALGORITHM = "md5"
RUNS_TABLE = "runs"
METRICS_TABLE = "sacredlite_metrics"
FORMAT = "TinyDbObserver-0.8.7"
"""The ``format`` field of a run document (Sacred's observer name and version)."""

DATE_TAG = "TinyDate"
FILE_TAG = "TinyFile"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


@dataclass(frozen=True)
class StoredFile:
    """A file kept in HashFS, as a reader sees a ``{TinyFile}`` value: its md5 id."""

    id: str


def encode_date(moment: datetime) -> str:
    """Return *moment* (naive UTC) as tinydb-serialization's ``TinyDate`` text."""
    return moment.strftime(DATE_FORMAT)


def decode_date(text: str) -> datetime:
    """Return the naive-UTC datetime of a ``TinyDate`` text."""
    return datetime.strptime(text, DATE_FORMAT)


def text_form(value: Any) -> str:
    """Return the text stored for a value JSON cannot hold, with one warning naming it
    (``json.dumps``' ``default``): a run never fails over one value."""
    warnings.warn(
        f"TinyDB cannot hold a {type(value).__name__} value; stored as its text: "
        f"{str(value)[:80]!r}",
        stacklevel=2,
    )
    return str(value)


def _tagged(tag: str, text: str) -> str:
    return "{" + tag + "}:" + text


def encode_document(value: Any) -> Any:
    """Return *value* as the JSON data tinydb-serialization would store for it: datetimes
    as ``TinyDate``, :class:`StoredFile` as ``TinyFile``, numpy arrays as ``TinyArray``,
    pandas frames and series as ``TinyDataFrame`` / ``TinySeries`` (by class, so neither
    package is imported here), tuples as lists, other dict keys as text."""
    if isinstance(value, dict):
        return {str(key): encode_document(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_document(item) for item in value]
    if isinstance(value, datetime):
        return _tagged(DATE_TAG, encode_date(value))
    if isinstance(value, StoredFile):
        return _tagged(FILE_TAG, json.dumps(value.id))
    kind = f"{type(value).__module__.split('.')[0]}.{type(value).__name__}"
    if kind == "numpy.ndarray":
        return _tagged("TinyArray", json.dumps(value.tolist()))
    if kind == "pandas.DataFrame":
        return _tagged("TinyDataFrame", value.to_json())
    if kind == "pandas.Series":
        return _tagged("TinySeries", value.to_json())
    if hasattr(value, "item") and kind.startswith("numpy."):
        return value.item()  # a numpy scalar
    return value


def file_path(root: str, file_id: str) -> str:
    """Return where HashFS keeps the file with md5 *file_id* under the store *root*."""
    if len(file_id) != 32 or not all(c in "0123456789abcdef" for c in file_id):
        raise ValueError(f"Not a HashFS md5 id: {file_id!r}.")
    cut = HASHFS_DEPTH * HASHFS_WIDTH
    parts = [file_id[i : i + HASHFS_WIDTH] for i in range(0, cut, HASHFS_WIDTH)]
    return os.path.join(root, HASHFS_DIR, *parts, file_id[cut:])


def _decode_text(text: str) -> Any:
    if text.startswith("{" + DATE_TAG + "}:"):
        try:
            return decode_date(text[len(DATE_TAG) + 3 :])
        except ValueError:
            return text
    if text.startswith("{" + FILE_TAG + "}:"):
        try:
            return StoredFile(str(json.loads(text[len(FILE_TAG) + 3 :])))
        except ValueError:
            return text
    return text


def decode_document(value: Any) -> Any:
    """Return a stored value with ``TinyDate`` texts as datetimes and ``TinyFile`` texts as
    :class:`StoredFile` (other tags stay text: a reader needs neither numpy nor pandas)."""
    if isinstance(value, str):
        return _decode_text(value) if value.startswith("{Tiny") else value
    if isinstance(value, dict):
        return {key: decode_document(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_document(item) for item in value]
    return value


def read_tables(root: str) -> dict[str, dict[int, dict[str, Any]]]:
    """Return ``{table: {doc id: document}}`` from ``DIR/metadata.json``, decoded.

    Raises:
        FileNotFoundError: the store has no metadata file.
        ValueError: the file is not TinyDB's JSON.
    """
    with open(os.path.join(root, METADATA_FILE), encoding="utf-8") as file:
        text = file.read()
    data = json.loads(text) if text.strip() else {}
    if not isinstance(data, dict):
        raise ValueError(f"{METADATA_FILE} in {root} is not a TinyDB file (no JSON object).")
    tables: dict[str, dict[int, dict[str, Any]]] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            continue
        tables[name] = {
            int(doc_id): decode_document(doc)
            for doc_id, doc in table.items()
            if doc_id.isdigit() and isinstance(doc, dict)
        }
    return tables


def metric_document(
    run_id: Any, name: str, steps: list[Any], values: list[Any], timestamps: list[datetime]
) -> dict[str, Any]:
    """Return the :data:`METRICS_TABLE` document of one metric of one run."""
    return {
        "run_id": run_id,
        "name": name,
        "steps": steps,
        "values": values,
        "timestamps": timestamps,
    }
