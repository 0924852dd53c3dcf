"""One run as a row of the runs table: the columns the board lists and exports write.

Internal; used by the board's API and by anything that writes the table elsewhere.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .records import derived_status, duration, get_path

if TYPE_CHECKING:
    from .base import RunStore

ROW_FIELDS = ("experiment", "command", "host", "comment", "tags", "notes", "result")
"""The fields every row carries besides id, status, times and duration."""


NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
"""How the API sends non-finite numbers: standard JSON cannot hold them, so they go as the
strings Sacred's files spell them with (``NaN``, ``Infinity``, ``-Infinity``, which Python's
``json`` reads back as numbers). The points of a plotted metric are the exception: there a
non-finite value is ``null``, a gap in the plot."""


def clean(value: Any) -> Any:
    """Make *value* JSON-safe: datetimes as ISO strings, NaN/inf as in :data:`NON_FINITE`,
    other types as text."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else NON_FINITE[repr(float(value))]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def row(record: dict[str, Any], columns: list[str], store: RunStore) -> dict[str, Any]:
    """Return the table row of one run, with the requested extra *columns*."""
    out = {
        "id": record["_id"],
        "status": derived_status(record),
        "start_time": record.get("start_time"),
        "stop_time": record.get("stop_time"),
        "heartbeat": record.get("heartbeat"),
        "duration": duration(record),
    }
    for name in ROW_FIELDS:
        out[name] = get_path(record, name)
    out["cols"] = {c: store.column_value(record, c) for c in columns}
    return out
