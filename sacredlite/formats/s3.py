"""Sacred's S3 layout (``-S s3://BUCKET/PREFIX``): the only code that knows its keys.

:class:`~sacredlite.observers.S3Observer` writes through this module and
:mod:`sacredlite.store.s3` reads through it (both with boto3). The layout is file storage's
(:mod:`sacredlite.formats.file`) under a key prefix, ``BASEDIR``::

    BASEDIR/<run_id>/run.json  config.json  info.json  cout.txt  metrics.json  <artifacts>
    BASEDIR/_sources/<stem>_<md5><ext>      sources, once each
    BASEDIR/_resources/<stem>_<md5><ext>    resources, once each

The JSON objects are written as file storage writes them (flattened, ``sort_keys``,
``indent=2``); ``run.json`` has the same fields, its times ISO 8601 text. Run ids are 1 +
the largest numeric "folder" under ``BASEDIR/``. In ``run.json``, ``experiment.sources`` is
``[[path, "_sources/<stem>_<md5><ext>"]]`` (relative to ``BASEDIR``) and ``resources`` is
``[[filename, "BASEDIR/_resources/<stem>_<md5><ext>"]]`` (the whole key), as Sacred writes
them.

Where sacredlite differs from Sacred 0.8.7 (whose readers do not exist: the bucket is
read with other tools): Sacred writes each source and resource under the run's folder at
``BASEDIR/<run_id>/<that key>`` although ``run.json`` names the key above, and rewrites
``cout.txt`` with only the output added since the last heartbeat. sacredlite writes them
where ``run.json`` says, once, and ``cout.txt`` whole. :func:`stored_file_keys` gives
readers both places.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable

from ._layout import (
    CONFIG_FILE,
    COUT_FILE,
    INFO_FILE,
    METRICS_FILE,
    RESOURCES_DIR,
    RUN_FILE,
    SOURCES_DIR,
    is_run_name,
)

__all__ = [
    "CONFIG_FILE",
    "COUT_FILE",
    "INFO_FILE",
    "METRICS_FILE",
    "OWN_FILES",
    "RESOURCES_DIR",
    "RUN_FILE",
    "SOURCES_DIR",
    "is_valid_bucket",
    "max_run_number",
    "parse_s3_url",
    "run_ids",
    "s3_join",
    "stored_file_keys",
    "stored_name",
]

OWN_FILES = frozenset({RUN_FILE, CONFIG_FILE, INFO_FILE, COUT_FILE, METRICS_FILE})
"""The objects of a run folder that are not artifacts."""


def s3_join(*parts: str) -> str:
    """Join key parts with ``/`` (S3 keys, never ``os.path``)."""
    return "/".join(parts)


def is_valid_bucket(name: str) -> bool:
    """Return whether *name* follows AWS's bucket naming rules (3-63 characters, labels of
    lower-case letters, digits and inner hyphens, not an IP address)."""
    if not 3 <= len(name) <= 63:
        return False
    for label in name.split("."):
        if not label or label[0] == "-" or label[-1] == "-":
            return False
        if not all(c.isdigit() or c.islower() or c == "-" for c in label):
            return False
    try:
        socket.inet_aton(name)
    except OSError:
        return True
    return False


_URL = re.compile(r"s3://([^/]*)/(.*)")


def parse_s3_url(url: str) -> tuple[str, str]:
    """Return ``(bucket, basedir)`` of ``s3://BUCKET/PATH`` (Sacred's ``-S`` value).

    Raises:
        ValueError: not of that form (Sacred's message).
    """
    match = _URL.match(url)
    if match is None:
        raise ValueError(
            "Valid bucket specification not found. Enter bucket and directory path like: "
            "s3://<bucket>/path/to/exp"
        )
    return match.group(1), match.group(2)


def stored_name(filename: str, md5: str) -> str:
    """Return the content-addressed name of a file: ``<stem>_<md5><ext>``."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        stem, ext = base, ""
    else:
        ext = "." + ext
    return f"{stem}_{md5}{ext}"


def run_ids(keys: Iterable[str], basedir: str) -> dict[str, list[str]]:
    """Return ``{run folder name: [its keys]}`` for the keys under ``BASEDIR/``."""
    prefix = basedir + "/"
    runs: dict[str, list[str]] = {}
    for key in keys:
        if not key.startswith(prefix):
            continue
        name, slash, _ = key[len(prefix) :].partition("/")
        if slash and is_run_name(name):
            runs.setdefault(name, []).append(key)
    return runs


def stored_file_keys(basedir: str, run_id: str, stored: str) -> list[str]:
    """Return where a source or resource named *stored* in ``run.json`` may be: under
    ``BASEDIR`` (sacredlite), as the whole key, or under the run's folder (Sacred)."""
    keys = []
    if not stored.startswith(basedir + "/"):
        keys.append(s3_join(basedir, stored))
        keys.append(s3_join(basedir, run_id, basedir, stored))
    else:
        keys.append(stored)
        keys.append(s3_join(basedir, run_id, stored))
    return keys


def max_run_number(keys: Iterable[str], basedir: str) -> int:
    """Return the largest numeric run folder under ``BASEDIR/`` (0 when there is none)."""
    numbers = [int(name) for name in run_ids(keys, basedir) if name.isdigit()]
    return max(numbers, default=0)
