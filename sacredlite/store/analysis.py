"""Groups of runs and their aggregates, Welch's test between two groups, and the rows of a
parallel-coordinates plot (internal; the board's analysis API computes through here).

Runs are grouped by the values of one or more column paths (``config.lr``,
``experiment.name``); two values fall in the same group when their JSON text is equal, so
``0.1`` and ``"0.1"`` stay apart. A column's value is what the runs table shows
(:meth:`~sacredlite.store.base.RunStore.column_value`: ``metric:NAME:last|min|max`` for
metric summaries, dotted paths for everything else).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import limits
from .limits import check_limit
from .records import Record, RunQuery, StoreError, _sort_key
from .stats import as_float, summary, welch
from .table import clean

if TYPE_CHECKING:
    from .base import RunStore


def key_text(value: Any) -> str:
    """Return the canonical text of a group key value (what decides equality)."""
    return json.dumps(clean(value), sort_keys=True)


def label(by: list[str], values: list[Any]) -> str:
    """Return a group's label: ``lr=0.1, width=64`` (``config.`` left out of names)."""
    parts = []
    for path, value in zip(by, values, strict=True):
        name = path[len("config.") :] if path.startswith("config.") else path
        shown = value if isinstance(value, str) else json.dumps(clean(value))
        parts.append(f"{name}={shown}")
    return ", ".join(parts)


@dataclass
class Group:
    """The runs sharing one value of each grouping column."""

    values: list[Any]
    records: list[Record] = field(default_factory=list)

    def describe(self, by: list[str]) -> dict[str, Any]:
        """Return the group's key, label, count and run ids."""
        return {
            "key": dict(zip(by, self.values, strict=True)),
            "label": label(by, self.values),
            "count": len(self.records),
            "ids": [r["_id"] for r in self.records],
        }


def check_by(by: list[str]) -> list[str]:
    """Validate the grouping columns: at least one, at most ``MAX_GROUP_BY``."""
    if not by:
        raise StoreError("Say what to group by: ?by=config.lr,config.width (column paths).")
    check_limit("Columns grouped by", len(by), limits.MAX_GROUP_BY)
    return by


def all_matching(store: RunStore, query: RunQuery, columns: Iterable[str] = ()) -> list[Record]:
    """Return every run matching *query*'s filters and search (no page), bounded by
    ``MAX_ANALYSIS_RUNS``."""
    whole = RunQuery(filters=query.filters, search=query.search, sort=query.sort)
    total, records = store.list_runs(whole, columns)
    check_limit("Runs in one analysis", total, limits.MAX_ANALYSIS_RUNS)
    return records


def make_groups(store: RunStore, records: list[Record], by: list[str]) -> list[Group]:
    """Split *records* into groups by the values of the *by* columns, sorted by key."""
    found: dict[tuple[str, ...], Group] = {}
    for record in records:
        values = [store.column_value(record, path) for path in by]
        text = tuple(key_text(v) for v in values)
        group = found.get(text)
        if group is None:
            group = found[text] = Group(values)
            check_limit("Groups in one answer", len(found), limits.MAX_GROUPS)
        group.records.append(record)
    return sorted(found.values(), key=lambda g: [_sort_key(v) for v in g.values])


def column_numbers(store: RunStore, records: list[Record], column: str) -> list[float]:
    """Return the finite numbers a column holds for *records* (others are left out)."""
    numbers = (as_float(store.column_value(r, column)) for r in records)
    return [n for n in numbers if n is not None]


def groups(store: RunStore, query: RunQuery, by: list[str], columns: list[str]) -> dict[str, Any]:
    """Return the groups of the runs matching *query*, with each column's aggregate
    (``mean``, ``std``, ``min``, ``max``, ``n`` over the members' finite values)."""
    check_by(by)
    records = all_matching(store, query, [*by, *columns])
    out = []
    for group in make_groups(store, records, by):
        entry = group.describe(by)
        entry["aggregates"] = {c: summary(column_numbers(store, group.records, c)) for c in columns}
        out.append(entry)
    return {"by": by, "groups": out, "total": len(records)}


def parse_key(raw: str | None, by: list[str], side: str) -> tuple[str, ...]:
    """Turn a group key sent as JSON (``{"config.lr": 0.1}``) into its canonical texts."""
    try:
        key = json.loads(raw or "")
    except ValueError:
        key = None
    if not isinstance(key, dict) or sorted(key) != sorted(by):
        raise StoreError(
            f"Group {side!r} must be a JSON object with the keys {by} "
            f"(a group's 'key' from /api/groups), got {raw!r}."
        )
    return tuple(key_text(key[path]) for path in by)


def welch_between(
    store: RunStore, query: RunQuery, by: list[str], a: str | None, b: str | None, column: str
) -> dict[str, Any]:
    """Compare *column* between groups *a* and *b* with Welch's t-test."""
    check_by(by)
    if not column:
        raise StoreError("Say which column to compare: ?column=metric:loss:last.")
    wanted = {"a": parse_key(a, by, "a"), "b": parse_key(b, by, "b")}
    records = all_matching(store, query, [*by, column])
    members: dict[str, list[Record]] = {"a": [], "b": []}
    for record in records:
        text = tuple(key_text(store.column_value(record, path)) for path in by)
        for side, key in wanted.items():
            if text == key:
                members[side].append(record)
    for side, found in members.items():
        if not found:
            raise StoreError(f"No run matching the filter is in group {side!r} ({wanted[side]}).")
    result = welch(
        column_numbers(store, members["a"], column), column_numbers(store, members["b"], column)
    )
    return {"column": column, **result}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def categories(rows: list[dict[str, Any]], keys: list[str]) -> dict[str, list[Any]]:
    """Return, for each key holding anything but numbers, its distinct values in order."""
    out: dict[str, list[Any]] = {}
    for key in keys:
        values = [row["values"].get(key) for row in rows]
        if all(v is None or _is_number(v) for v in values):
            continue
        seen = {key_text(v): v for v in values}
        out[key] = sorted(seen.values(), key=_sort_key)
    return out


def parallel(
    store: RunStore, query: RunQuery, keys: list[str], metric: str, limit: int
) -> dict[str, Any]:
    """Return the rows of a parallel-coordinates (or scatter) plot: each run's values of
    *keys* and of *metric*, plus the distinct values of non-numeric keys."""
    if not keys:
        raise StoreError("Say which columns to draw: ?keys=config.lr,config.width.")
    check_limit("Columns drawn", len(keys), limits.MAX_COLUMNS)
    check_limit("Runs drawn", limit, limits.MAX_ANALYSIS_RUNS)
    records = all_matching(store, query, [*keys, metric] if metric else keys)[:limit]
    rows = []
    for record in records:
        values = {k: _leaf(store.column_value(record, k)) for k in keys}
        entry: dict[str, Any] = {"id": record["_id"], "values": values}
        entry["metric"] = store.column_value(record, metric) if metric else None
        rows.append(entry)
    return {"keys": keys, "metric": metric, "rows": rows, "categories": categories(rows, keys)}


def _leaf(value: Any) -> Any:
    """Return a plottable value: lists and dicts as their JSON text."""
    return key_text(value) if isinstance(value, (list, dict)) else value
