"""``sacredlite sync [--spool DIR] -m URL``: store spooled writes in MongoDB.

A MongoObserver that could not reach its database keeps the run's writes in a spool
(:mod:`sacredlite.observers.spool`). This command replays every spool in DIR (default
``./.sacredlite-spool``) into the database named by ``-m`` (any ``-m/--mongo_db`` form; the
database and collections default to the ones the run used), prints what it stored, and
removes each spool once all of it is stored. Replaying is idempotent: running it twice, or
after an interrupted run of it, stores nothing twice. Spools of runs still going are skipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..formats.mongo import describe_access_error, describe_hosts, parse_mongo_option
from .spool import DEFAULT_SPOOL_DIR, Spool, Spooled, SpoolLockedError, find_spools

__all__ = ["main", "sync_spools"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sacredlite sync", description="Store spooled MongoObserver writes in MongoDB."
    )
    parser.add_argument(
        "--spool", default=DEFAULT_SPOOL_DIR, help="spool directory (or one spool file)"
    )
    parser.add_argument("-m", "--mongo_db", required=True, help="MongoDB URL or -m value")
    return parser


def _pending(spool: Spool) -> list[Spooled]:
    """Return the ops to apply: the unacknowledged ones, plus the source look-ups a
    pending start needs (they are idempotent, and fill in deduplicated file ids)."""
    from ..formats.mongo import StartRun, StoreFile

    pending = spool.pending()
    if not any(isinstance(item.op, StartRun) for item in pending):
        return pending
    keep = {item.seq for item in pending}
    return [
        item
        for item in spool.pending_and_acked()
        if item.seq in keep or (isinstance(item.op, StoreFile) and item.op.dedupe)
    ]


def sync_spools(directory: str | Path, mongo_option: str, out: Any = None) -> tuple[int, int]:
    """Replay every spool in *directory*; return ``(spools stored, spools left)``.

    Args:
        directory: the spool directory.
        mongo_option: where to store, as for ``-m`` (URL, ``host:port[:db]``, ...).
        out: where to print the report (default ``sys.stdout``).
    """
    import pymongo

    from ..formats._json import brief
    from ..formats.mongo import (
        Collections,
        Executor,
        Op,
        Target,
        describe,
        is_transient,
        retrying,
        storable,
        summary,
    )

    out = out or sys.stdout
    kwargs = parse_mongo_option(mongo_option)
    hosts = describe_hosts(kwargs.get("url"))
    client: Any = pymongo.MongoClient(kwargs.get("url"), serverSelectionTimeoutMS=5000)
    stored = left = 0
    try:
        for path in find_spools(directory):
            try:
                spool = Spool.load(path)
            except SpoolLockedError:
                print(f"{path.name}: skipped, its run is still going.", file=out)
                left += 1
                continue
            header = spool.header
            db_name = kwargs.get("db_name") or header["db"]
            names = Collections(header["runs"], header["metrics"])
            target = Target.in_database(client[db_name], names)
            executor = Executor(target, spool.run_id, on_assign=spool.assign)
            applied: list[Op] = []
            failed = 0
            unreachable = False
            name = path.name

            def warn(where: str, value: Any, reason: object, stored: str, name: str = name) -> None:
                print(
                    f"{name}: MongoDB cannot hold {where} = {brief(value)} ({reason}); "
                    f"its string form {brief(stored)} is stored instead.",
                    file=out,
                )

            for seq, op in _pending(spool):
                # a spool written before values were made storable may hold what BSON refuses
                op = storable(retrying(op), warn)
                try:
                    executor.apply(op)
                except Exception as exc:  # noqa: BLE001 - reported, kept in the spool
                    access = describe_access_error(exc, kwargs.get("url"), db_name)
                    if is_transient(exc) or access is not None:
                        unreachable = True  # every other write would fail the same way
                        print(
                            access or f"Cannot reach MongoDB at {hosts} ({type(exc).__name__}).",
                            file=out,
                        )
                        break
                    failed += 1
                    print(
                        f"{name}: {describe(op, seq)} of run {executor.run_id} was rejected by "
                        f"MongoDB ({type(exc).__name__}: {str(exc)[:300]}); it stays in the "
                        "spool, the other writes are stored.",
                        file=out,
                    )
                    continue
                if not spool.is_acked(seq):
                    spool.ack(seq)
                    applied.append(op)
            remaining = len(spool.pending())
            spool.close()
            where = f"run {executor.run_id} in {db_name}.{header['runs']}"
            print(f"{path.name}: {where}: stored {summary(applied)}.", file=out)
            if remaining:
                left += 1
                print(f"{path.name}: {remaining} write(s) still pending.", file=out)
            else:
                stored += 1
            if unreachable:
                break
    finally:
        client.close()
    if stored == 0 and left == 0:
        print(f"Nothing to sync in {directory}.", file=out)
    return stored, left


def main(argv: list[str] | None = None) -> int:
    """Run ``sacredlite sync``; return 0 when every spool is stored, 1 otherwise."""
    import pymongo
    import pymongo.errors

    from ..errors import CommandLineError
    from ..formats.mongo import redact_url

    args = _parser().parse_args(argv)
    try:
        url = parse_mongo_option(args.mongo_db).get("url")
        pymongo.MongoClient(url, connect=False).close()  # refuses a bad URL, connects nowhere
    except CommandLineError as exc:
        print(f"sacredlite sync: {exc}", file=sys.stderr)
        return 2
    except (pymongo.errors.ConfigurationError, ValueError, TypeError) as exc:
        print(f"sacredlite sync: invalid -m {redact_url(args.mongo_db)!r}: {exc}", file=sys.stderr)
        return 2
    _, left = sync_spools(args.spool, args.mongo_db)
    return 1 if left else 0
