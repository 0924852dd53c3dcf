"""``sacredlite copy``, ``import``, ``export`` and ``sql``: the command lines of
:mod:`sacredlite.transfer`.

A store is a directory or a ``mongodb://`` URL; ``-m VALUE`` names a MongoDB store in any
of Sacred's ``-m`` forms (``HOST:PORT:DB``, ``DB``) in the place of a positional store.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ..store import StoreError
from .location import Location

_MONGO_MARK = "\0mongo:"


def _mark_mongo(argv: list[str]) -> list[str]:
    """Turn ``-m VALUE``/``--mongo VALUE`` into one positional store argument."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in ("-m", "--mongo"):
            out.append(_MONGO_MARK + next(args, ""))
        elif arg.startswith("--mongo="):
            out.append(_MONGO_MARK + arg.split("=", 1)[1])
        else:
            out.append(arg)
    return out


def _location(value: str) -> Location:
    if value.startswith(_MONGO_MARK):
        return Location.parse(value[len(_MONGO_MARK) :], mongo=True)
    return Location.parse(value)


def _shown(value: str) -> str:
    return ("-m " + value[len(_MONGO_MARK) :]) if value.startswith(_MONGO_MARK) else value


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--status", action="append", help="only this status (repeatable)")
    parser.add_argument("--experiment", metavar="NAME", help="only runs of this experiment")
    parser.add_argument("--ids", metavar="IDS", help="only these run ids, e.g. 3-17,20")
    parser.add_argument("--since", metavar="DATE", help="only runs started since, e.g. 2026-11-28")


def _filter_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "status": args.status,
        "experiment": args.experiment,
        "ids": args.ids,
        "since": args.since,
    }


def _run(prog: str, body: Callable[[], int]) -> int:
    try:
        return body()
    except (StoreError, ValueError, FileNotFoundError, ImportError) as exc:
        print(f"sacredlite {prog}: {exc}", file=sys.stderr)
        return 1


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | int:
    try:
        return parser.parse_args(_mark_mongo(argv))
    except SystemExit as exc:
        return int(exc.code or 0)


def copy_main(argv: list[str] | None = None) -> int:
    """Run ``sacredlite copy SRC DST`` and return its exit code."""
    parser = argparse.ArgumentParser(
        prog="sacredlite copy",
        usage="sacredlite copy SRC DST [--status S] [--experiment NAME] [--ids 3-17,20] "
        "[--since DATE]\n  SRC, DST: a directory, mongodb://HOST:PORT/DB, or -m HOST:PORT:DB",
        description="Copy runs between stores (ids kept where free; a second copy adds nothing).",
    )
    parser.add_argument("src", help="where runs come from")
    parser.add_argument("dst", help="where they go (a missing directory is created)")
    _filters(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    args = _parse(parser, sys.argv[1:] if argv is None else argv)
    if isinstance(args, int):
        return args

    def body() -> int:
        from .copy import copy_runs, summary

        report = copy_runs(
            _location(args.src),
            _location(args.dst),
            progress=not args.quiet,
            out=sys.stdout,
            **_filter_kwargs(args),
        )
        print(summary(report, _shown(args.src), _shown(args.dst)))
        return 0 if report.verified else 1

    return _run("copy", body)


def export_main(argv: list[str] | None = None) -> int:
    """Run ``sacredlite export`` and return its exit code."""
    parser = argparse.ArgumentParser(
        prog="sacredlite export",
        usage="sacredlite export [SRC] --out FILE [--format csv|parquet] [--metrics] [filters]\n"
        "       sacredlite export [SRC] --to mlflow URI | --to tensorboard DIR [filters]",
        description="Export the runs table or metric points (CSV, Parquet), "
        "or the runs to MLflow or TensorBoard.",
    )
    parser.add_argument("src", nargs="?", default="runs", help="the store (default ./runs)")
    parser.add_argument("--out", metavar="FILE", help="the CSV or Parquet file to write")
    parser.add_argument("--format", choices=("csv", "parquet"), help="default: from --out")
    parser.add_argument("--metrics", action="store_true", help="metric points, one per row")
    parser.add_argument(
        "--to",
        nargs=2,
        metavar=("KIND", "WHERE"),
        help="mlflow TRACKING_URI_OR_DIR, or tensorboard LOGDIR",
    )
    _filters(parser)
    args = _parse(parser, sys.argv[1:] if argv is None else argv)
    if isinstance(args, int):
        return args

    def body() -> int:
        src = _location(args.src)
        if args.to:
            kind, where = args.to
            if kind == "mlflow":
                from .mlflow_export import export_mlflow

                count = export_mlflow(src, where, **_filter_kwargs(args))
            elif kind == "tensorboard":
                from .tensorboard_export import export_tensorboard

                count = export_tensorboard(src, where, **_filter_kwargs(args))
            else:
                raise ValueError(f"--to {kind!r}: use --to mlflow URI or --to tensorboard DIR.")
            print(f"Exported {count:,} runs to {kind} at {where}.")
            return 0
        if not args.out:
            raise ValueError(
                "Give --out FILE (a .csv or .parquet file), or --to mlflow|tensorboard."
            )
        from .export import export_runs

        rows = export_runs(
            src, args.out, format=args.format, metrics=args.metrics, **_filter_kwargs(args)
        )
        what = "metric points" if args.metrics else "runs"
        print(f"Wrote {rows:,} {what} to {args.out}.")
        return 0

    return _run("export", body)


def import_main(argv: list[str] | None = None) -> int:
    """Run ``sacredlite import mlflow|tensorboard SOURCE DST`` and return its exit code."""
    parser = argparse.ArgumentParser(
        prog="sacredlite import",
        usage="sacredlite import mlflow MLRUNS_DIR_OR_URI DST [--experiment NAME]\n"
        "       sacredlite import tensorboard LOGDIR DST",
        description="Import runs from MLflow or TensorBoard event files into a store.",
    )
    parser.add_argument("kind", choices=("mlflow", "tensorboard"))
    parser.add_argument("source", help="an mlruns/ directory or tracking URI; a TensorBoard logdir")
    parser.add_argument("dst", help="the store to import into (a directory or MongoDB)")
    parser.add_argument("--experiment", metavar="NAME", help="MLflow: only this experiment")
    args = _parse(parser, sys.argv[1:] if argv is None else argv)
    if isinstance(args, int):
        return args

    def body() -> int:
        dst = _location(args.dst)
        if args.kind == "mlflow":
            from .mlflow_import import import_mlflow

            report = import_mlflow(args.source, dst, experiment=args.experiment)
        else:
            from .tensorboard_import import import_tensorboard

            report = import_tensorboard(args.source, dst)
        print(report.text())
        return 0

    return _run("import", body)


def sql_main(argv: list[str] | None = None) -> int:
    """Run ``sacredlite sql QUERY [SRC]`` and return its exit code."""
    parser = argparse.ArgumentParser(
        prog="sacredlite sql",
        usage='sacredlite sql "SELECT ... FROM runs" [SRC] [--format table|csv|json] [filters]',
        description="Query runs with SQL (DuckDB) over the tables runs and metrics.",
    )
    parser.add_argument("query", help='e.g. SELECT id, "config.lr" FROM runs')
    parser.add_argument("src", nargs="?", default="runs", help="the store (default ./runs)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    _filters(parser)
    args = _parse(parser, sys.argv[1:] if argv is None else argv)
    if isinstance(args, int):
        return args

    def body() -> int:
        from .sql_query import sql

        names, rows = sql(args.query, _location(args.src), **_filter_kwargs(args))
        print(render(names, rows, args.format))
        return 0

    return _run("sql", body)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def render(names: list[str], rows: list[tuple[Any, ...]], fmt: str = "table") -> str:
    """Return a query result as an aligned table, CSV or JSON (one object per row)."""
    if fmt == "json":
        return json.dumps([dict(zip(names, r, strict=True)) for r in rows], default=_cell, indent=1)
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([[_cell(v) for v in r] for r in rows])
        return buffer.getvalue().rstrip("\n")
    from ..store.command import _table

    text = _table([[_cell(v) for v in r] for r in rows], names)
    return f"{text}\n({len(rows)} row{'s' if len(rows) != 1 else ''})"
