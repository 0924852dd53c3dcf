"""Which runs a copy or an export takes: ``--status``, ``--experiment``, ``--ids``,
``--since`` (internal)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..store import Filter, RunQuery, StoreError
from ..store.base import RunId, RunStore
from ..store.records import Record, parse_time


def parse_ids(text: str) -> list[tuple[int, int] | str]:
    """Parse ``"3-17,20"`` into ranges ``[(3, 17), (20, 20)]`` (non-numeric ids as text).

    Raises:
        StoreError: a range is empty or malformed.
    """
    out: list[tuple[int, int] | str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        low, dash, high = part.partition("-")
        try:
            first = int(low)
            last = int(high) if dash else first
        except ValueError:
            if dash and low.strip().isdigit():
                raise StoreError(
                    f"Run ids {text!r}: {part!r} is not a range; write ranges as 3-17."
                ) from None
            out.append(part)
            continue
        if last < first:
            raise StoreError(f"Run ids {text!r}: the range {part!r} is empty; write 3-17.")
        out.append((first, last))
    return out


def parse_since(value: Any) -> datetime:
    """Turn ``--since`` (``2026-11-28``, ``2026-11-28T10:00``, a datetime) into aware UTC.

    Raises:
        StoreError: not a date.
    """
    moment = parse_time(value) if not isinstance(value, datetime) else parse_time(value)
    if moment is None:
        raise StoreError(
            f"--since {value!r} is not a date: write 2026-11-28 or 2026-11-28T10:00 (UTC)."
        )
    return moment.astimezone(timezone.utc)


@dataclass
class Selection:
    """The runs to take from a store.

    Attributes:
        status: statuses to keep (any when empty).
        experiment: an experiment name to keep.
        ids: id ranges and ids (:func:`parse_ids`), or a text to parse.
        since: keep runs started at or after this time.
    """

    status: list[str] = field(default_factory=list)
    experiment: str | None = None
    ids: list[tuple[int, int] | str] | str | None = None
    since: datetime | str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.status, str):
            self.status = [self.status]
        self.status = [s.upper() for s in self.status]
        if isinstance(self.ids, str):
            self.ids = parse_ids(self.ids)
        if self.since is not None:
            self.since = parse_since(self.since)

    def query(self) -> RunQuery:
        """Return the store query for the status, experiment and since filters, by id."""
        filters = []
        if self.status:
            filters.append(Filter("status", "in", self.status))
        if self.experiment:
            filters.append(Filter("experiment", "eq", self.experiment))
        if self.since is not None:
            filters.append(Filter("start_time", "ge", self.since))
        return RunQuery(filters=filters, sort="id")

    def wants_id(self, run_id: RunId) -> bool:
        """Return whether *run_id* is among the ids asked for (all when none are)."""
        if not self.ids:
            return True
        for item in self.ids:
            if isinstance(item, tuple):
                if isinstance(run_id, int) and item[0] <= run_id <= item[1]:
                    return True
            elif str(run_id) == item:
                return True
        return False

    def records(self, store: RunStore) -> list[Record]:
        """Return the records of the selected runs of *store*, sorted by id (without their
        config and info: :meth:`RunStore.run` reads a whole run)."""
        _, records = store.list_runs(self.query())
        return [r for r in records if self.wants_id(r["_id"])]

    def ids_in(self, store: RunStore) -> Iterator[RunId]:
        """Yield the ids of the selected runs of *store*, in order."""
        for record in self.records(store):
            yield record["_id"]


def selection_of(
    status: Iterable[str] | str | None = None,
    experiment: str | None = None,
    ids: str | list[Any] | None = None,
    since: datetime | str | None = None,
) -> Selection:
    """Return the :class:`Selection` of the usual keyword arguments."""
    return Selection(
        status=[status] if isinstance(status, str) else list(status or []),
        experiment=experiment,
        ids=ids,
        since=since,
    )
