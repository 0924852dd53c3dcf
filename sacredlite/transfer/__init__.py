"""Move runs in and out: copy between stores, import from MLflow and TensorBoard, export
tables and metrics (CSV, Parquet), export to MLflow and TensorBoard, SQL over runs.

From the command line: ``sacredlite copy``, ``sacredlite import``, ``sacredlite export``,
``sacredlite sql``. From Python::

    from sacredlite.transfer import copy_runs, export_runs, import_mlflow, sql
    copy_runs("runs/", "mongodb://localhost:27017/sacred", status="COMPLETED")

Every function takes stores as a directory, a ``mongodb://`` URL or an open store, and
imports its heavy dependencies (pyarrow, duckdb, mlflow, tensorboard) only when called.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "copy_runs",
    "export_mlflow",
    "export_runs",
    "export_tensorboard",
    "import_mlflow",
    "import_tensorboard",
    "sql",
]

_HOMES = {
    "copy_runs": "copy",
    "export_runs": "export",
    "export_mlflow": "mlflow_export",
    "export_tensorboard": "tensorboard_export",
    "import_mlflow": "mlflow_import",
    "import_tensorboard": "tensorboard_import",
    "sql": "sql_query",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sacredlite.transfer' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
