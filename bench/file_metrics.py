"""Benchmark the FileStorageObserver alone: metric flushes and the final metrics.json write.

Feeds ``--points`` points over ``--names`` metric names to ``observer.log_metrics`` in
``--flushes`` equal batches (one per heartbeat, as a Run does), then ends the run. Prints,
for sacredlite and (when available) Sacred, each in its own child process:

- the time of the first and of the last flush (Sacred's grows with the run: it rewrites
  all of metrics.json each time; ours appends only the new points),
- the total time of all flushes,
- the time of the terminal event (ours writes metrics.json there),
- peak resident memory.

Usage: ``python bench/file_metrics.py [--points N] [--names K] [--flushes F]``
(Sacred comes from ``bash bench/setup_sacred_venv.sh``; ``--no-sacred`` skips it, and it is
skipped above 200,000 points: compare with ``--points 200000``.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

import _sacred_env as env

SACRED_MAX_POINTS = 200_000
"""Above this, Sacred's run takes too long to wait for (about 2 minutes at 200,000)."""


def child(impl: str, points: int, names: int, flushes: int, folder: str | None) -> None:
    """Run the workload with *impl*'s observer and print the figures as JSON."""
    _, observer_class = env.import_implementation(impl)
    tz = None if impl == "sacred" else timezone.utc  # Sacred's own times are naive UTC
    start = datetime(2026, 1, 1, tzinfo=tz)
    basedir = tempfile.mkdtemp(dir=folder)
    try:
        obs = observer_class(os.path.join(basedir, "runs"))
        ex_info = {"name": "bench", "base_dir": basedir, "mainfile": "x.py", "doc": None,
                   "sources": [], "dependencies": [], "repositories": []}  # fmt: skip
        obs.started_event(ex_info, "main", {"hostname": "h"}, start, {}, {}, None)
        per_flush = points // names // flushes
        flush_times = []
        for flush in range(flushes):
            first = flush * per_flush
            steps = list(range(first, first + per_flush))
            batch = {
                f"metric{n}": {
                    "steps": steps,
                    "values": [s * 0.001 for s in steps],
                    "timestamps": [start + timedelta(microseconds=s) for s in steps],
                }
                for n in range(names)
            }
            begin = time.perf_counter()
            obs.log_metrics(batch, {})
            flush_times.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        obs.completed_event(start + timedelta(hours=1), None)
        end_time = time.perf_counter() - begin
        size = os.path.getsize(os.path.join(obs.dir, "metrics.json"))
    finally:
        shutil.rmtree(basedir)
    env.emit(
        {
            "first_flush_ms": flush_times[0] * 1000,
            "last_flush_ms": flush_times[-1] * 1000,
            "all_flushes_s": sum(flush_times),
            "end_s": end_time,
            "metrics_json_mb": size / 1e6,
            "peak_rss_mib": env.peak_rss_mib(),
        }
    )


def main() -> None:
    """Run both implementations in child processes and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000, help="total points")
    parser.add_argument("--names", type=int, default=10, help="metric names")
    parser.add_argument("--flushes", type=int, default=100, help="log_metrics calls")
    env.add_common_arguments(parser)
    env.add_workload_arguments(parser)
    args = parser.parse_args()
    extra = ["--points", str(args.points), "--names", str(args.names)]
    extra += ["--flushes", str(args.flushes)] + (["--dir", args.dir] if args.dir else [])
    if args.child:
        child(args.child, args.points, args.names, args.flushes, args.dir)
        return
    script = os.path.abspath(__file__)
    ours = theirs = None
    if not args.only_sacred:
        ours = env.run_child(sys.executable, script, "sacredlite", extra, timeout=600)
    sacred_python = None if args.no_sacred else env.find_sacred_python(args.sacred_python)
    skip_sacred = sacred_python is not None and args.points > SACRED_MAX_POINTS
    if skip_sacred:
        sacred_python = None
    if sacred_python:
        theirs = env.run_child(sacred_python, script, "sacred", extra, timeout=1800)
    print(
        f"FileStorageObserver metrics: {args.points:,} points, {args.names} names, "
        f"{args.flushes} flushes"
    )
    for key, label, unit, target in (
        ("first_flush_ms", "first flush", "ms", "O(new points)"),
        ("last_flush_ms", "last flush", "ms", "same as the first"),
        ("all_flushes_s", "all flushes", "s", "linear in points"),
        ("end_s", "terminal event (metrics.json)", "s", "< 2 s"),
        ("metrics_json_mb", "metrics.json size", "MB", "equal"),
        ("peak_rss_mib", "peak memory", "MiB", "lower"),
    ):
        print(
            env.row(
                label,
                ours[key] if ours else None,
                theirs[key] if theirs else None,
                unit,
                target,
                higher_is_better=False,
            )
        )
    if skip_sacred:
        print(
            f"  (Sacred skipped above {SACRED_MAX_POINTS:,} points: its flushes are quadratic, "
            f"hours at this size; pass --points {SACRED_MAX_POINTS} to compare)"
        )
    elif sacred_python is None and not args.no_sacred:
        print("  (Sacred not found: run bash bench/setup_sacred_venv.sh for the comparison)")


if __name__ == "__main__":
    main()
