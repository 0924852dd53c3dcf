"""Export runs as tables: ``sacredlite export`` and :func:`export_runs`.

The runs table has the columns of the board's table (:func:`sacredlite.store.table.row`):
``id``, ``status``, ``start_time``, ``stop_time``, ``heartbeat``, ``duration``,
``experiment``, ``command``, ``host``, ``comment``, ``tags``, ``notes``, ``result``, then
the flattened config (``config.optimizer.lr``) and each metric's summary
(``metric:NAME:last``, ``metric:NAME:min``, ``metric:NAME:max``, as the board's
:meth:`~sacredlite.store.base.RunStore.metric_column` computes them). A column whose
values are not all of one scalar type, and every list or dict, holds JSON text.

The metrics table (``--metrics``) is long: ``run_id``, ``name``, ``step``, ``timestamp``,
``value``, one row per point, written run by run.

CSV needs nothing beyond Python; Parquet needs pyarrow.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from ..store.base import RunStore
from ..store.records import flatten
from ..store.table import NON_FINITE, row
from .location import opened
from .selection import Selection, selection_of

FORMATS = ("csv", "parquet")
METRIC_COLUMNS = ("run_id", "name", "step", "timestamp", "value")
_SUMMARIES = ("last", "min", "max")


def runs_rows(store: RunStore, selection: Selection) -> tuple[list[str], list[dict[str, Any]]]:
    """Return the column names and rows of the runs table of the selected runs."""
    _, records = store.list_runs(selection.query(), columns=["config"])
    records = [r for r in records if selection.wants_id(r["_id"])]
    config_columns: dict[str, None] = {}
    metric_names: dict[str, None] = {}
    flat = []
    rollups = []
    for record in records:
        config = flatten(record.get("config") or {}, "config")
        config.pop("config", None)  # an empty config
        flat.append(config)
        config_columns.update(dict.fromkeys(config))
        # the board's metric columns (RunStore.metric_column) are these roll-ups, read once
        # per run (without the board's cache: an export reads each run once)
        summary = {
            n: store.series(record["_id"], n).rollup() for n in store.metric_names(record["_id"])
        }
        rollups.append(summary)
        metric_names.update(dict.fromkeys(summary))
    metric_columns = [(n, kind) for n in sorted(metric_names) for kind in _SUMMARIES]
    rows = []
    for record, config, summary in zip(records, flat, rollups, strict=True):
        line = row(record, [], store)
        del line["cols"]
        for column in config_columns:
            line[column] = config.get(column)
        for name, kind in metric_columns:
            line[f"metric:{name}:{kind}"] = summary.get(name, {}).get(kind)
        rows.append(line)
    columns = list(rows[0]) if rows else [c for c in row({"_id": 0}, [], store) if c != "cols"]
    return columns, rows


def metric_rows(
    store: RunStore, selection: Selection, ids: list[Any] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Yield the long metrics table run by run (one list of point rows per metric)."""
    for run_id in selection.ids_in(store) if ids is None else ids:
        for name in store.metric_names(run_id):
            points = store.metric_points(run_id, name)
            yield [
                {"run_id": run_id, "name": name, "step": s, "timestamp": t, "value": v}
                for s, t, v in zip(
                    points["steps"], points["timestamps"], points["values"], strict=False
                )
            ]


def _kind(value: Any) -> type | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return bool
    if isinstance(value, (int, float)):
        return float if isinstance(value, float) else int
    if isinstance(value, (str, datetime)):
        return type(value)
    return list  # lists, dicts, anything else: JSON text


def _json_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str, sort_keys=True)


def column_values(values: list[Any]) -> list[Any]:
    """Return a column's values, all of one type: numbers (ints widened to floats when
    mixed), bools, datetimes or text; anything mixed or nested as JSON text."""
    kinds = {_kind(v) for v in values} - {None}
    if kinds == {int, float}:
        return [None if v is None else float(v) for v in values]
    if len(kinds) <= 1 and list not in kinds:
        return values
    return [_json_text(v) for v in values]


def arrow_table(columns: list[str], rows: list[dict[str, Any]]) -> Any:
    """Return *rows* as a ``pyarrow.Table`` with one type per column."""
    import pyarrow as pa

    data = {c: column_values([r.get(c) for r in rows]) for c in columns}
    return pa.table(data)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else NON_FINITE[repr(value)]
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str, sort_keys=True)
    return value


def write_csv(
    handle: IO[str], columns: list[str], rows: list[dict[str, Any]], header: bool
) -> None:
    """Write *rows* as CSV (datetimes ISO 8601, lists and dicts as JSON)."""
    out = csv.writer(handle)
    if header:
        out.writerow(columns)
    for line in rows:
        out.writerow([_csv_cell(line.get(c)) for c in columns])


def _format_of(out: str, fmt: str | None) -> str:
    chosen = (fmt or os.path.splitext(out)[1].lstrip(".") or "csv").lower()
    if chosen not in FORMATS:
        raise ValueError(
            f"Export format {chosen!r} is not known: use --format csv or --format parquet."
        )
    return chosen


def export_runs(
    src: Any,
    out: str | os.PathLike[str],
    *,
    format: str | None = None,  # noqa: A002 - the command line's name
    metrics: bool = False,
    status: list[str] | str | None = None,
    experiment: str | None = None,
    ids: str | None = None,
    since: datetime | str | None = None,
) -> int:
    """Write the runs table (or with *metrics*, the long metrics table) to *out*.

    Args:
        src: the store: a directory, a ``mongodb://`` URL or an open store.
        out: the file to write.
        format: ``csv`` or ``parquet`` (default: from *out*'s extension, else CSV).
        metrics: write the metric points instead of the runs table.
        status: only runs with one of these statuses.
        experiment: only runs of this experiment.
        ids: only these ids (``"3-17,20"``).
        since: only runs started at or after this time.

    Returns:
        The number of rows written.
    """
    path = os.fspath(out)
    fmt = _format_of(path, format)
    selection = selection_of(status, experiment, ids, since)
    with opened(src) as store:
        if metrics:
            return _write_metrics(store, selection, path, fmt)
        columns, rows = runs_rows(store, selection)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(arrow_table(columns, rows), path)
        else:
            with open(path, "w", newline="", encoding="utf-8") as handle:
                write_csv(handle, columns, rows, header=True)
        return len(rows)


def _write_metrics(store: RunStore, selection: Selection, path: str, fmt: str) -> int:
    columns = list(METRIC_COLUMNS)
    count = 0
    ids = list(selection.ids_in(store))
    if fmt == "csv":
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(columns)
            for rows in metric_rows(store, selection, ids):
                write_csv(handle, columns, rows, header=False)
                count += len(rows)
        return count
    import pyarrow.parquet as pq

    schema = metrics_schema(ids)
    with pq.ParquetWriter(path, schema) as writer:
        for rows in metric_rows(store, selection, ids):
            writer.write_table(metrics_arrow(rows, schema))
            count += len(rows)
        if not count:
            writer.write_table(schema.empty_table())
    return count


def metrics_schema(ids: list[Any]) -> Any:
    """Return the Arrow schema of the metrics table (``run_id`` numeric when every id is)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("run_id", pa.int64() if all(type(i) is int for i in ids) else pa.string()),
            ("name", pa.string()),
            ("step", pa.int64()),
            ("timestamp", pa.timestamp("us", tz="UTC")),
            ("value", pa.float64()),
        ]
    )


def metrics_arrow(rows: list[dict[str, Any]], schema: Any = None) -> Any:
    """Return point rows as a ``pyarrow.Table`` (run ids as text, values as floats)."""
    import pyarrow as pa

    ids = [r["run_id"] for r in rows]
    numeric = schema is not None and schema.field("run_id").type == pa.int64()
    data = {
        "run_id": ids if numeric else [str(i) for i in ids],
        "name": [str(r["name"]) for r in rows],
        "step": [_int_or_none(r["step"]) for r in rows],
        "timestamp": [r["timestamp"] for r in rows],
        "value": [_float_or_none(r["value"]) for r in rows],
    }
    return pa.table(data, schema=schema) if schema is not None else pa.table(data)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
