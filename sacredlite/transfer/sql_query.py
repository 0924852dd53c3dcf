"""SQL over runs: ``sacredlite sql "SELECT ..."`` and :func:`sql`, through DuckDB.

Two tables are registered, as :mod:`.export` writes them: ``runs`` (the board's columns,
flattened config, ``metric:NAME:last|min|max``) and ``metrics`` (``run_id``, ``name``,
``step``, ``timestamp``, ``value``). Column names with dots or colons are quoted:
``SELECT id, "config.lr", "metric:loss:min" FROM runs ORDER BY 3``. The ``metrics``
table is read only when the query names it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ..store import StoreError
from ..store.base import RunStore
from .export import arrow_table, metric_rows, metrics_arrow, metrics_schema, runs_rows
from .location import opened
from .selection import selection_of

MAX_QUERY_CHARS = 100_000
"""Characters a query may have."""


def _tables(store: RunStore, query: str, selection: Any) -> dict[str, Any]:
    columns, rows = runs_rows(store, selection)
    tables = {"runs": arrow_table(columns, rows)}
    if re.search(r"\bmetrics\b", query, re.IGNORECASE):
        import pyarrow as pa

        ids = [r["id"] for r in rows]
        schema = metrics_schema(ids)
        parts = [metrics_arrow(p, schema) for p in metric_rows(store, selection, ids) if p]
        tables["metrics"] = pa.concat_tables(parts) if parts else schema.empty_table()
    return tables


def sql(
    query: str,
    src: Any = "runs",
    *,
    status: list[str] | str | None = None,
    experiment: str | None = None,
    ids: str | None = None,
    since: datetime | str | None = None,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run a DuckDB SQL *query* over the tables ``runs`` and ``metrics`` of a store.

    Args:
        query: the SQL text (``SELECT ... FROM runs ...``).
        src: the store: a directory, a ``mongodb://`` URL or an open store.
        status: only runs with one of these statuses.
        experiment: only runs of this experiment.
        ids: only these ids (``"3-17,20"``).
        since: only runs started at or after this time.

    Returns:
        The result's column names and rows.

    Raises:
        StoreError: the query is refused by DuckDB (its message included).
    """
    import duckdb

    if len(query) > MAX_QUERY_CHARS:
        raise StoreError(f"SQL query: at most {MAX_QUERY_CHARS:,} characters, got {len(query):,}.")
    selection = selection_of(status, experiment, ids, since)
    with opened(src) as store:
        tables = _tables(store, query, selection)
    connection = duckdb.connect(":memory:")
    try:
        for name, table in tables.items():
            connection.register(name, table)
        try:
            result = connection.execute(query)
        except duckdb.Error as exc:
            raise StoreError(f"SQL query failed: {str(exc).strip()}") from None
        names = [d[0] for d in result.description or []]
        return names, [tuple(r) for r in result.fetchall()]
    finally:
        connection.close()
