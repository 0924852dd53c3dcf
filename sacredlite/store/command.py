"""``sacredlite ls`` and ``sacredlite show``: stored runs on the terminal."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from typing import Any

from . import Filter, RunQuery, StoreError, open_store
from .base import RunStore
from .records import derived_status, duration, get_path

LS_USAGE = "sacredlite ls [DIR | -m URL] [--status S] [--experiment NAME] [--last N]"
SHOW_USAGE = "sacredlite show [DIR | -m URL] ID"


def _source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-m", "--mongo", metavar="URL", help="MongoDB: mongodb://HOST:PORT/DB or HOST:PORT:DB"
    )
    parser.add_argument(
        "--db", metavar="NAME", help="MongoDB database (default from URL, else sacred)"
    )


def _open(directory: str | None, mongo: str | None, db: str | None) -> RunStore:
    if directory is not None and mongo is not None:
        raise StoreError("Give a storage DIR or -m URL, not both.")
    if mongo is not None:
        return open_store(mongo_url=mongo, db_name=db, read_only=True)
    if directory is None:
        if not os.path.isdir("runs"):
            raise StoreError(
                "Give a storage DIR (the DIR given to -F) or -m URL; ./runs does not exist."
            )
        directory = "runs"
    return open_store(directory, read_only=True)


def _when(value: Any) -> str:
    if not isinstance(value, datetime):
        return ""
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _span(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(round(seconds))
    if s < 3600:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    widths = [min(w, 40) for w in widths]
    lines = []
    for row in [header, *rows]:
        cells = [
            (c if len(c) <= w else c[: w - 1] + "…").ljust(w)
            for c, w in zip(row, widths, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def ls_main(argv: list[str] | None = None) -> int:
    """Run ``sacredlite ls`` (print a table of runs) and return its exit code."""
    parser = argparse.ArgumentParser(
        prog="sacredlite ls", usage=LS_USAGE, description="List stored runs."
    )
    parser.add_argument(
        "dir",
        nargs="?",
        help="file storage directory (default ./runs); or a TinyDB directory (-t), a SQL URL "
        "(-s) or s3://BUCKET/PREFIX (-S)",
    )
    _source_args(parser)
    parser.add_argument("--status", action="append", help="only this status (repeatable)")
    parser.add_argument("--experiment", help="only runs of this experiment")
    parser.add_argument(
        "--last", type=int, default=20, metavar="N", help="newest N runs (default 20, 0 for all)"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        store = _open(args.dir, args.mongo, args.db)
    except StoreError as exc:
        print(f"sacredlite ls: {exc}", file=sys.stderr)
        return 2
    try:
        filters = []
        if args.status:
            filters.append(Filter("status", "in", [s.upper() for s in args.status]))
        if args.experiment:
            filters.append(Filter("experiment", "eq", args.experiment))
        total, records = store.list_runs(
            RunQuery(filters=filters, sort="-id", limit=args.last or None)
        )
        rows = [
            [
                str(r["_id"]),
                str(get_path(r, "experiment") or ""),
                derived_status(r),
                _when(r.get("start_time")),
                _span(duration(r)),
                str(get_path(r, "host") or ""),
                str(r.get("command") or ""),
                str(get_path(r, "comment") or ""),
            ]
            for r in records
        ]
        header = ["ID", "EXPERIMENT", "STATUS", "START", "DURATION", "HOST", "COMMAND", "COMMENT"]
        print(_table(rows, header))
        if total > len(rows):
            print(f"({len(rows)} of {total} runs; --last 0 shows all)")
        return 0
    finally:
        store.close()


def show_main(argv: list[str] | None = None) -> int:
    """Run ``sacredlite show`` (print one run) and return its exit code."""
    parser = argparse.ArgumentParser(
        prog="sacredlite show", usage=SHOW_USAGE, description="Show one run."
    )
    parser.add_argument(
        "where", nargs="+", metavar="[DIR] ID", help="storage directory (default ./runs) and run id"
    )
    _source_args(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if len(args.where) > 2:
        print(
            f"sacredlite show: too many arguments {args.where!r}.\nusage: {SHOW_USAGE}",
            file=sys.stderr,
        )
        return 2
    directory = args.where[0] if len(args.where) == 2 else None
    try:
        store = _open(directory, args.mongo, args.db)
    except StoreError as exc:
        print(f"sacredlite show: {exc}", file=sys.stderr)
        return 2
    try:
        print(_describe(store, store.parse_id(args.where[-1])))
        return 0
    except StoreError as exc:
        print(f"sacredlite show: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _describe(store: RunStore, run_id: Any) -> str:
    record = store.run(run_id)
    lines = [
        f"Run {record['_id']}  {get_path(record, 'experiment') or ''}  {derived_status(record)}",
        f"  command   {record.get('command') or ''}",
        f"  started   {_when(record.get('start_time'))}",
        f"  stopped   {_when(record.get('stop_time'))}",
        f"  duration  {_span(duration(record))}",
        f"  host      {get_path(record, 'host') or ''}",
    ]
    if get_path(record, "comment"):
        lines.append(f"  comment   {get_path(record, 'comment')}")
    if record["omniboard"]["tags"]:
        lines.append(f"  tags      {', '.join(record['omniboard']['tags'])}")
    lines.append("Config:")
    config = json.dumps(record.get("config") or {}, indent=2, sort_keys=True, default=str)
    lines.extend("  " + line for line in config.splitlines())
    lines.append(f"Result: {json.dumps(record.get('result'), default=str)}")
    rollups = store.rollups(run_id)
    if rollups:
        lines.append("Metrics:")
        for name, r in rollups.items():
            lines.append(
                f"  {name}: {r['count']} points, last {r['last']}, min {r['min']}, max {r['max']}"
            )
    artifacts = store.artifacts(run_id)
    if artifacts:
        lines.append("Artifacts:")
        lines.extend(f"  {a['name']} ({a['size']} bytes)" for a in artifacts)
    if record.get("fail_trace"):
        lines.append("Fail trace:")
        lines.extend("  " + line for line in "".join(record["fail_trace"]).rstrip().splitlines())
    return "\n".join(lines)
