"""Run records, column paths, filters and sorting shared by every store backend (internal).

A *record* is one run as a plain dict in Sacred's run-document shape, identical for file
storage and MongoDB: ``_id``, ``experiment``, ``command``, ``host``, ``start_time``,
``heartbeat``, ``stop_time`` (UTC-aware datetimes), ``meta``, ``status`` (as stored),
``result``, ``config``, ``info``, ``artifacts`` (names), ``resources`` and ``omniboard``
(``{"tags": [...], "notes": "..."}``). Columns address it with dotted paths
(``config.optimizer.lr``) plus a few short names (``id``, ``status``, ``duration``, ...).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ..errors import SacredliteError
from ..events import RunStatus

Record = dict[str, Any]
"""One run in Sacred's run-document shape (see the module docstring)."""

DEAD_AFTER = timedelta(seconds=120)
"""A RUNNING run whose last heartbeat is older than this is shown as PROBABLY_DEAD."""

SHORT_COLUMNS: dict[str, str] = {
    "id": "_id",
    "experiment": "experiment.name",
    "name": "experiment.name",
    "host": "host.hostname",
    "hostname": "host.hostname",
    "comment": "meta.comment",
    "tags": "omniboard.tags",
    "notes": "omniboard.notes",
}
"""Short column names and the record paths they stand for."""

OPS = ("eq", "ne", "lt", "le", "gt", "ge", "contains", "in", "exists")
"""Filter operators understood by :class:`Filter`."""


class StoreError(SacredliteError):
    """A store cannot answer: unknown run, bad filter, unsafe path, read-only store."""


class NotFound(StoreError):
    """Raise when a run, metric, artifact or source file does not exist."""


class ReadOnlyError(StoreError):
    """Raise when a write is asked of a store opened read-only."""


class UnsafePathError(StoreError):
    """Raise when a requested file path would leave the storage root."""


class RunNotFound(NotFound, KeyError):
    """Raise when a run id does not exist in the store."""

    def __init__(self, run_id: Any, where: str) -> None:
        self.run_id = run_id
        super().__init__(
            f"Run {run_id!r} does not exist in {where}. List runs with 'sacredlite ls'."
        )

    def __str__(self) -> str:
        return str(self.args[0])


def parse_time(value: Any) -> datetime | None:
    """Turn a stored time (naive-UTC ISO string, naive or aware datetime) into aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value[:-1] if value.endswith("Z") else value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def derived_status(record: Record, now: datetime | None = None) -> str:
    """Return the status to show: the stored one, or PROBABLY_DEAD for a stale RUNNING run."""
    status = str(record.get("status") or "UNKNOWN")
    if status != RunStatus.RUNNING:
        return status
    beat = record.get("heartbeat") or record.get("start_time")
    now = now or datetime.now(timezone.utc)
    if isinstance(beat, datetime) and now - beat > DEAD_AFTER:
        return RunStatus.PROBABLY_DEAD.value
    return status


def duration(record: Record, now: datetime | None = None) -> float | None:
    """Return the run's duration in seconds (until now for a run still going)."""
    start = record.get("start_time")
    if not isinstance(start, datetime):
        return None
    end = record.get("stop_time")
    if not isinstance(end, datetime):
        status = derived_status(record, now)
        end = record.get("heartbeat") if status != RunStatus.RUNNING else None
        end = end if isinstance(end, datetime) else (now or datetime.now(timezone.utc))
    return (end - start).total_seconds()


_MISSING = object()


def get_path(record: Record, path: str, now: datetime | None = None) -> Any:
    """Return the value at a column *path* of *record*, or ``None`` when it is absent."""
    if path == "status":
        return derived_status(record, now)
    if path == "duration":
        return duration(record, now)
    value: Any = record
    for part in SHORT_COLUMNS.get(path, path).split("."):
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.lstrip("-").isdigit():
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else _MISSING
        else:
            value = _MISSING
        if value is _MISSING:
            return None
    return value


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts into ``{"a.b": leaf}`` (lists stay leaves)."""
    if not isinstance(value, dict) or (prefix and not value):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, sub in value.items():
        out.update(flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            parsed = parse_time(value) if len(value) >= 10 and value[4:5] == "-" else None
            return parsed.timestamp() if parsed else None
    return None


@dataclass(frozen=True)
class Filter:
    """One condition on a column: ``Filter("config.lr", "gt", 0.01)``.

    ``eq``/``ne`` compare numbers as numbers and everything else as text; ``lt``... ``ge``
    compare numbers (datetimes by time); ``contains`` is a case-insensitive substring (or a
    list member, for tags); ``in`` takes a list; ``exists`` takes a bool.
    """

    path: str
    op: str
    value: Any = None

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise StoreError(
                f"Unknown filter operator {self.op!r} on {self.path!r}; "
                f"use one of {', '.join(OPS)}."
            )

    def matches(self, record: Record, now: datetime | None = None) -> bool:
        """Return whether *record* satisfies this condition."""
        got = get_path(record, self.path, now)
        op, want = self.op, self.value
        if op == "exists":
            return (got is not None) == bool(want)
        if op == "in":
            options = want if isinstance(want, (list, tuple, set)) else [want]
            return any(_equal(got, option) for option in options)
        if op == "contains":
            needle = str(want).lower()
            if isinstance(got, list):
                return any(needle == str(item).lower() for item in got) or any(
                    needle in str(item).lower() for item in got
                )
            return got is not None and needle in _text(got).lower()
        if op in ("eq", "ne"):
            return _equal(got, want) == (op == "eq")
        a, b = _as_number(got), _as_number(want)
        if a is None or b is None or math.isnan(a) or math.isnan(b):
            return False
        return {"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _equal(got: Any, want: Any) -> bool:
    a, b = _as_number(got), _as_number(want)
    if a is not None and b is not None and not isinstance(got, str):
        return a == b
    if isinstance(got, list):
        return any(_equal(item, want) for item in got)
    return got is not None and _text(got).lower() == _text(want).lower()


@dataclass
class RunQuery:
    """What to list: filters, a text search, sorting and a page.

    Args:
        filters: conditions that must all hold.
        search: case-insensitive text found in id, experiment, command, host, comment, tags.
        sort: a column path; prefix ``-`` for descending (default newest id first).
        offset: rows to skip after sorting.
        limit: rows to return (``None`` for all).
    """

    filters: list[Filter] = field(default_factory=list)
    search: str = ""
    sort: str = "-id"
    offset: int = 0
    limit: int | None = None


_SEARCHED = ("id", "experiment", "command", "host", "comment", "tags", "notes", "status")


def select(
    records: Iterable[Record],
    query: RunQuery,
    extra: Callable[[Record, str], Any] | None = None,
) -> tuple[int, list[Record]]:
    """Filter, sort and page *records*; return ``(total matching, page)``.

    Args:
        records: candidate records.
        query: the filters, sort and page.
        extra: resolves paths :func:`get_path` does not know (metric roll-ups).
    """
    now = datetime.now(timezone.utc)

    def value(record: Record, path: str) -> Any:
        if extra is not None and path.startswith("metric:"):
            return extra(record, path)
        return get_path(record, path, now)

    needle = query.search.strip().lower()
    rows = []
    for record in records:
        if needle and not any(
            needle in _text(v).lower()
            for v in (get_path(record, p, now) for p in _SEARCHED)
            if v is not None
        ):
            continue
        ok = True
        for flt in query.filters:
            if flt.path.startswith("metric:"):
                if not Filter("_v", flt.op, flt.value).matches({"_v": value(record, flt.path)}):
                    ok = False
            elif not flt.matches(record, now):
                ok = False
            if not ok:
                break
        if ok:
            rows.append(record)
    path = query.sort.lstrip("-+") or "id"
    reverse = query.sort.startswith("-")
    rows.sort(key=lambda r: _sort_key(value(r, path)), reverse=reverse)
    # Missing values go last whatever the direction.
    present = [r for r in rows if value(r, path) is not None]
    if len(present) != len(rows):
        rows = present + [r for r in rows if value(r, path) is None]
    end = None if query.limit is None else query.offset + query.limit
    return len(rows), rows[query.offset : end]


def _sort_key(value: Any) -> tuple[int, float, str]:
    number = _as_number(value) if not isinstance(value, str) else None
    if number is not None and not math.isnan(number):
        return (0, number, "")
    if value is None:
        return (2, 0.0, "")
    return (1, 0.0, _text(value).lower())
