"""What every API handler shares: JSON answers, errors as status codes, and the query
parameters of the runs list (internal)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from ..store import limits
from ..store.limits import LimitError, check_limit
from ..store.records import Filter, NotFound, ReadOnlyError, RunQuery, StoreError
from ..store.table import clean


def json_answer(data: Any, status: int = 200) -> JSONResponse:
    """Answer *data* as JSON (datetimes and non-finite numbers made JSON-safe)."""
    return JSONResponse(clean(data), status_code=status)


def error_answer(exc: Exception) -> JSONResponse:
    """Answer a store error: 404 not found, 403 read-only, 413 over a limit, else 400."""
    status = 400
    if isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, ReadOnlyError):
        status = 403
    elif isinstance(exc, LimitError):
        status = 413
    return JSONResponse({"error": str(exc)}, status_code=status)


def parse_query(request: Request) -> tuple[RunQuery, list[str]]:
    """Return the runs query (``filter``, ``status``, ``q``, ``sort``, ``offset``, ``limit``)
    and the extra ``columns`` of a request."""
    params = request.query_params
    filters: list[Filter] = []
    raw = params.get("filter")
    if raw:
        try:
            items = json.loads(raw)
            if isinstance(items, list):
                check_limit("Filters per query", len(items), limits.MAX_FILTERS)
            filters = [Filter(str(p), str(o), v) for p, o, v in items]
        except (ValueError, TypeError) as exc:  # a LimitError is neither: it passes
            raise StoreError(
                f"Bad filter {raw!r}: send a JSON list of [path, op, value] triples ({exc})."
            ) from None
    statuses = [s for s in params.get("status", "").split(",") if s]
    if statuses:
        filters.append(Filter("status", "in", statuses))
    try:
        offset = max(0, int(params.get("offset", 0)))
        limit = min(1000, max(1, int(params.get("limit", 50))))
    except ValueError:
        raise StoreError("offset and limit must be whole numbers.") from None
    columns = [c for c in params.get("columns", "").split(",") if c]
    check_limit("Columns per query", len(columns), limits.MAX_COLUMNS)
    query = RunQuery(
        filters=filters,
        search=params.get("q", ""),
        sort=params.get("sort", "-id"),
        offset=offset,
        limit=limit,
    )
    return query, columns


def parse_float(value: str | None) -> float | None:
    """Return a number parameter (``None`` when absent or empty)."""
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise StoreError(f"Expected a number, got {value!r}.") from None


def parse_list(request: Request, name: str, what: str, limit: int) -> list[str]:
    """Return a comma-separated parameter as a list, at most *limit* items (else 413)."""
    items = [item for item in request.query_params.get(name, "").split(",") if item]
    check_limit(what, len(items), limit)
    return items


def parse_int(value: str | None, default: int, name: str) -> int:
    """Return a whole-number parameter, *default* when absent."""
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise StoreError(f"{name} must be a whole number, got {value!r}.") from None
