"""The board's analysis routes: groups, group plots, Welch's test, parallel coordinates,
importance and CSV export (internal). The computations live in :mod:`sacredlite.store`;
these handlers parse parameters and shape answers. Every route takes the runs list's
filter parameters (``filter``, ``status``, ``q``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..store import analysis, curves, importance, limits
from ..store.base import RunStore
from ..store.table import ROW_FIELDS, clean, row
from .api_common import json_answer, parse_int, parse_list, parse_query

CSV_FIELDS = ("id", "status", "start_time", "stop_time", "heartbeat", "duration", *ROW_FIELDS)
"""The first columns of an exported table, as the runs table lists them."""


def _by(request: Request) -> list[str]:
    return parse_list(request, "by", "Columns grouped by", limits.MAX_GROUP_BY)


class AnalysisApi:
    """The analysis handlers, bound to one store (each runs in a worker thread)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def groups(self, request: Request) -> Response:
        query, columns = parse_query(request)
        return json_answer(analysis.groups(self.store, query, _by(request), columns))

    def group_metric(self, request: Request) -> Response:
        query, _ = parse_query(request)
        params = request.query_params
        data = curves.group_curves(
            self.store,
            query,
            _by(request),
            params.get("name", ""),
            x=params.get("x", "step"),
            band=params.get("band", "minmax"),
            points=max(2, parse_int(params.get("points"), 500, "points")),
        )
        return json_answer(data)

    def welch(self, request: Request) -> Response:
        query, _ = parse_query(request)
        params = request.query_params
        data = analysis.welch_between(
            self.store,
            query,
            _by(request),
            params.get("a"),
            params.get("b"),
            params.get("column", ""),
        )
        return json_answer(data)

    def parallel(self, request: Request) -> Response:
        query, _ = parse_query(request)
        params = request.query_params
        keys = parse_list(request, "keys", "Columns drawn", limits.MAX_COLUMNS)
        limit = max(1, parse_int(params.get("limit"), 10_000, "limit"))
        data = analysis.parallel(self.store, query, keys, params.get("metric", ""), limit)
        return json_answer(data)

    def importance(self, request: Request) -> Response:
        query, _ = parse_query(request)
        keys = parse_list(request, "keys", "Keys ranked", limits.MAX_IMPORTANCE_KEYS)
        data = importance.importance(
            self.store, query, request.query_params.get("metric", ""), keys or None
        )
        return json_answer(data)

    def export_csv(self, request: Request) -> Response:
        """Every run matching the filter (not one page) as CSV, streamed row by row."""
        query, columns = parse_query(request)
        records = analysis.all_matching(self.store, query, columns)
        store = self.store

        def lines() -> Iterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow([*CSV_FIELDS, *columns])
            for i, record in enumerate(records):
                data = row(record, columns, store)
                cells = [data[f] for f in CSV_FIELDS] + [data["cols"][c] for c in columns]
                writer.writerow([_cell(v) for v in cells])
                if i % 200 == 199:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

        return StreamingResponse(
            lines(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="runs.csv"'},
        )


def _cell(value: Any) -> str:
    """Return a CSV cell: empty for missing, JSON text for lists and dicts; text that a
    spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in _FORMULA:
        return "'" + value
    value = clean(value)
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")
