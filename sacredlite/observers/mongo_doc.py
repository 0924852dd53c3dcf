"""Shape values the way the MongoObserver stores them (internal): Sacred's key escaping,
jsonpickle flattening, BSON-safe numbers, the write-operation records, and the pickle a
failed final save leaves behind."""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from typing import Any

import bson
import pymongo
from bson import ObjectId

from ._storable import Warn, json_data

__all__ = ["experiment_files", "force_bson_encodeable", "force_valid_bson_key", "save_failed_run"]


def force_valid_bson_key(key: Any) -> str:
    """Return *key* as a BSON-safe string: a leading ``$`` becomes ``@``, ``.`` becomes ``,``."""
    text = str(key)
    if text.startswith("$"):
        text = "@" + text[1:]
    return text.replace(".", ",")


def _encodes(document: dict[str, Any]) -> bool:
    """Return whether *document* is valid BSON, keys included (no ``$`` start, no ``.``)."""
    try:
        bson.encode(document, check_keys=True)
    except (bson.errors.InvalidDocument, TypeError, OverflowError):
        return False
    return True


def force_bson_encodeable(obj: Any) -> Any:
    """Return *obj* in a form MongoDB can store, changing as little as possible (Sacred's).

    A dict that is valid BSON comes back unchanged; otherwise every key is made valid with
    :func:`force_valid_bson_key` and each value is treated the same way. A value that is
    not BSON (a module, an object) becomes its ``str``; numpy arrays are left alone.
    """
    if isinstance(obj, dict):
        if _encodes(obj):
            return obj
        return {force_valid_bson_key(k): force_bson_encodeable(v) for k, v in obj.items()}
    if type(obj).__module__ == "numpy" and type(obj).__name__ == "ndarray":
        return obj
    return obj if _encodes({"value": obj}) else str(obj)


def _safe(obj: Any) -> Any:
    """Return *obj* with every dict key BSON-safe (only copies what needs changing)."""
    if isinstance(obj, dict):
        return {
            (
                k
                if type(k) is str and "." not in k and not k.startswith("$")
                else force_valid_bson_key(k)
            ): _safe(v)
            for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [_safe(v) for v in obj]
    return obj


def _store(obj: Any, where: str, warn: Warn) -> Any:
    """Return *obj* flattened as Sacred stores it, keys made BSON-safe; a part jsonpickle
    cannot flatten becomes its string form (reported to *warn*)."""
    return _safe(json_data(obj, where, warn))


def _close_quietly(client: Any) -> None:
    """Close *client* without waiting long for a server that may be gone already."""
    with pymongo.timeout(0.5):
        client.close()


def _op(kind: str, **fields: Any) -> dict[str, Any]:
    """Return one write operation (see :mod:`sacredlite.observers.mongo_store`)."""
    return {"op": kind, **fields}


def _md5_file(path: str) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def experiment_files(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the GridFS operations for a run's sources and repository diffs.

    Rewrites *doc*'s ``experiment`` in place: each source becomes ``[name, file_id]`` and a
    repository's ``diff`` text becomes ``diff_file_id``.
    """
    experiment = doc["experiment"]
    ops: list[dict[str, Any]] = []
    sources = []
    for name, _md5 in experiment.get("sources", []):
        path = os.path.join(experiment.get("base_dir", ""), name)
        file_id = ObjectId()
        md5 = _md5_file(path)
        ops.append(_op("file", file_id=file_id, filename=path, md5=md5, dedupe=True, src=path))
        sources.append([name, file_id])
    experiment["sources"] = sources
    repos = []
    for repo in experiment.get("repositories", []):
        repo = dict(repo)
        diff = repo.pop("diff", None)
        if diff:
            data = diff.encode("utf-8")
            file_id = ObjectId()
            name = f"gitdiff://{repo.get('commit')}"
            md5 = hashlib.md5(data).hexdigest()
            ops.append(_op("file", file_id=file_id, filename=name, md5=md5, dedupe=True, data=data))
            repo["diff_file_id"] = file_id
        repos.append(repo)
    if "repositories" in experiment:
        experiment["repositories"] = repos
    return ops


def save_failed_run(run_entry: dict[str, Any], failure_dir: str | os.PathLike[str]) -> str:
    """Pickle *run_entry* into *failure_dir* as Sacred does when its final save fails.

    The file is ``sacred_mongo_fail_<run id>_<random>.pickle``; its path is printed to
    stderr with Sacred's warning and returned.
    """
    os.makedirs(failure_dir, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        suffix=".pickle",
        prefix=f"sacred_mongo_fail_{run_entry.get('_id')}_",
        dir=failure_dir,
        delete=False,
    ) as file:
        pickle.dump(run_entry, file)
    print(
        f"Warning: saving to MongoDB failed! Stored experiment entry in '{file.name}'",
        file=sys.stderr,
    )
    return file.name
