"""Benchmark moving runs: ``sacredlite copy`` file -> MongoDB -> file, and ``export``.

Records N runs (default 10,000) with sacredlite's FileStorageObserver, each with a config,
100 metric points and a line of output, then, each step in its own child process:

- copies them into MongoDB and back into a new directory (runs/s, peak RSS: memory must
  stay bounded, runs are streamed one at a time),
- checks that the copy back holds every run and point,
- exports the runs table to Parquet (target: <= 5 s for 10,000 runs) and the metric
  points (long format).

The database is ``--url`` if given, else a SecantusDB test server started here (its
figures are that server's, not MongoDB's: it is slow at updates).

Usage: ``python bench/copy_runs.py [--runs N] [--points P] [--copy-runs M] [--url URL]``
(``--copy-runs``: copy only the first M runs, for a slow server).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)


def child(step: str, args: list[str]) -> None:
    """Run one step and print ``{"seconds", "rss_mib", ...}`` as JSON."""
    sys.path.insert(0, CHECKOUT)
    started = time.perf_counter()
    extra: dict = {}
    if step == "make":
        runs, points, where = int(args[0]), int(args[1]), args[2]
        from sacredlite import Experiment
        from sacredlite.observers import FileStorageObserver

        ex = Experiment("bench_copy")
        ex.observers.append(FileStorageObserver(where))

        @ex.config
        def cfg():
            lr = 0.1
            depth = 3

        @ex.main
        def main(_run, lr):
            for i in range(points):
                _run.log_scalar("loss", lr / (i + 1), i)
            print("trained")

        import logging

        logging.getLogger().setLevel(logging.ERROR)
        for i in range(runs):
            ex.run(config_updates={"lr": 0.001 * (i + 1)}, options={"--loglevel": "ERROR"})
    elif step == "copy":
        from sacredlite.transfer import copy_runs

        report = copy_runs(args[0], args[1], ids=args[2] if len(args) > 2 else None)
        extra = {"runs": len(report.copied), "points": report.points, "ok": report.verified}
    elif step == "export":
        from sacredlite.transfer import export_runs

        extra = {"rows": export_runs(args[0], args[1], metrics=args[2] == "metrics")}
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mib": rss, **extra}))


def run_child(step: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": CHECKOUT}
    out = subprocess.run(
        [sys.executable, __file__, "--child", step, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--copy-runs", type=int, help="copy only the first N runs (default: all)")
    parser.add_argument("--url", help="a MongoDB URL (default: a SecantusDB server started here)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1:])
        return 0
    proc = None
    url = args.url
    if url is None:
        from mongo import start_server

        proc, url = start_server()
    db_url = f"{url.rstrip('/')}/bench_copy_{uuid.uuid4().hex[:8]}"
    try:
        with tempfile.TemporaryDirectory(prefix="sacredlite-bench-copy-") as tmp:
            src, back = os.path.join(tmp, "runs"), os.path.join(tmp, "back")
            made = run_child("make", str(args.runs), str(args.points), src)
            print(f"recorded {args.runs:,} runs x {args.points} points in {made['seconds']:.1f} s")
            ids = [f"1-{args.copy_runs}"] if args.copy_runs else []
            there = run_child("copy", src, db_url, *ids)
            again = run_child("copy", db_url, back)
            for label, step in (("file -> MongoDB", there), ("MongoDB -> file", again)):
                print(
                    f"copy {label}: {step['runs']:,} runs, {step['points']:,} points in "
                    f"{step['seconds']:.1f} s = {step['runs'] / step['seconds']:,.0f} runs/s, "
                    f"peak RSS {step['rss_mib']:.0f} MiB, verified: {step['ok']}"
                )
            table = run_child("export", src, os.path.join(tmp, "runs.parquet"), "runs")
            print(
                f"export {table['rows']:,} runs to Parquet: {table['seconds']:.2f} s "
                f"(target <= 5 s), peak RSS {table['rss_mib']:.0f} MiB"
            )
            points = run_child("export", src, os.path.join(tmp, "points.parquet"), "metrics")
            print(
                f"export {points['rows']:,} metric points to Parquet: {points['seconds']:.2f} s, "
                f"peak RSS {points['rss_mib']:.0f} MiB"
            )
            from_mongo = run_child("export", db_url, os.path.join(tmp, "m.parquet"), "runs")
            print(
                f"export {from_mongo['rows']:,} runs from MongoDB to Parquet: "
                f"{from_mongo['seconds']:.2f} s"
            )
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
