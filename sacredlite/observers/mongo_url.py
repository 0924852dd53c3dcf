"""``-m/--mongo_db`` values and password redaction (internal): they live in
:mod:`sacredlite.formats.mongo`; this path stays for the command line's ``-m`` option."""

from __future__ import annotations

from ..formats.mongo import parse_mongo_option as parse_mongo_option
from ..formats.mongo import redact_url as redact_url

__all__ = ["parse_mongo_option", "redact_url"]
