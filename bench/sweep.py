"""Benchmark sweeps: 1,000 trivial runs of a grid through each local engine, into file
storage and into MongoDB (an in-memory SecantusDB started here).

For each engine and store it prints runs/s, the wall time per run, the engine's own cost
for the same tasks (the same number of tasks carrying the same run lists to a no-op,
``copy.copy``, which sends them back) and sacredlite's overhead per run beyond that, in
wall ms and in worker ms (wall x jobs). It checks that every run was recorded exactly
once (ids unique, count right, all COMPLETED). The engine's start (a Dask cluster, Ray,
pool processes) is timed apart and not counted in runs/s.
Target: >= 150 runs/s through loky with 2 workers.

Usage: ``env -u PYTHONDONTWRITEBYTECODE python bench/sweep.py [--runs 1000] [--jobs 2]
[--engines local,process,loky,dask,ray,slurm] [--stores file,mongo]``
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import textwrap
import time
from concurrent.futures import as_completed

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TRIVIAL = textwrap.dedent(
    """
    import logging

    from sacredlite import Experiment

    ex = Experiment("bench_sweep")
    ex.logger = logging.getLogger("bench_sweep")  # runs log warnings only: no terminal cost
    ex.logger.setLevel(logging.WARNING)

    @ex.config
    def cfg():
        a = 0
        b = 0

    @ex.main
    def main(a, b, seed):
        return a + b
    """
)


def engine_options(name: str, tmp: str) -> dict:
    return {"cluster": "local", "folder": os.path.join(tmp, "submitit")} if name == "slurm" else {}


def count_file_runs(runs_dir: str) -> list:
    return [e for e in os.listdir(runs_dir) if e.isdigit()]


def count_mongo_runs(url: str, db_name: str) -> list:
    import pymongo

    client = pymongo.MongoClient(url)
    try:
        return [doc["_id"] for doc in client[db_name]["runs"].find({}, {"_id": 1})]
    finally:
        client.close()


def one(name: str, store: str, runs: int, jobs: int, tmp: str, mongo_url: str | None) -> dict:
    """Time the engine's start, the no-op tasks and the sweep of one engine and store."""
    from sacredlite.engines import open_engine
    from sacredlite.sweeps.api import plan_sweep
    from sacredlite.sweeps.driver import chunked, execute, runs_per_task

    script = os.path.join(tmp, "bench_sweep.py")
    with open(script, "w") as file:
        file.write(TRIVIAL)
    runs_dir = os.path.join(tmp, f"runs-{name}")
    db_name = f"bench_{name}_{os.getpid()}"
    where = (
        {"file_storage": runs_dir} if store == "file" else {"mongo_url": f"{mongo_url}/{db_name}"}
    )
    grid = {"a": list(range(runs // 10)), "b": list(range(10))}
    common, specs, _ = plan_sweep(script, grid=grid, **where)
    started = time.perf_counter()
    engine = open_engine(name, jobs, engine_options(name, tmp))
    try:
        size = runs_per_task(len(specs), engine.spread, engine.jobs, None)
        batches = chunked(specs, size)
        warm = [engine.executor.submit(copy.copy, []) for _ in range(jobs)]
        for future in warm:
            future.result()
        start_s = time.perf_counter() - started
        began = time.perf_counter()
        for future in as_completed([engine.executor.submit(copy.copy, b) for b in batches]):
            future.result()
        noop_s = time.perf_counter() - began
        began = time.perf_counter()
        outcomes = execute(common, specs, engine.executor, size)
        sweep_s = time.perf_counter() - began
    finally:
        engine.shutdown()
    stored = count_file_runs(runs_dir) if store == "file" else count_mongo_runs(mongo_url, db_name)
    statuses = {o.status for o in outcomes}
    ids = [str(o.run_id) for o in outcomes]
    once = len(stored) == runs and len(set(ids)) == runs and sorted(map(str, stored)) == sorted(ids)
    return {
        "engine": name,
        "store": store,
        "start_s": start_s,
        "runs_per_s": runs / sweep_s,
        "ms_per_run": 1000 * sweep_s / runs,
        "engine_ms_per_run": 1000 * noop_s / runs,
        "overhead_ms": 1000 * (sweep_s - noop_s) / runs,
        "worker_ms": 1000 * (sweep_s - noop_s) * (engine.jobs or 1) / runs,
        "ok": once and statuses == {"COMPLETED"},
        "why": f"{len(stored)} stored, {len(set(ids))} ids, {sorted(statuses)}",
        "tasks": len(batches),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--engines", default="local,process,loky,dask,ray,slurm")
    parser.add_argument("--stores", default="file,mongo")
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from mongo import start_server

    print(f"{args.runs} trivial runs, --jobs {args.jobs}, {os.cpu_count()} CPUs")
    header = (f"{'engine':<8} {'store':<6} {'start s':>8} {'runs/s':>8} {'ms/run':>7} "
              f"{'engine':>7} {'ours':>7} {'ours x jobs':>11} {'tasks':>6}  once")  # fmt: skip
    print(header)
    for store in args.stores.split(","):
        for name in args.engines.split(","):
            # a fresh server per row: the test server slows down as it fills up
            server, mongo_url = start_server() if store == "mongo" else (None, None)
            try:
                with tempfile.TemporaryDirectory(prefix=f"bench-sweep-{name}-") as tmp:
                    r = one(name, store, args.runs, args.jobs, tmp, mongo_url)
            except Exception as exc:  # noqa: BLE001 - report and go on
                print(f"{name:<8} {store:<6} failed: {type(exc).__name__}: {exc}")
                continue
            finally:
                if server is not None:
                    server.kill()
            once = "yes" if r["ok"] else "NO: " + r["why"]
            print(
                f"{r['engine']:<8} {r['store']:<6} {r['start_s']:8.2f} {r['runs_per_s']:8.1f} "
                f"{r['ms_per_run']:7.2f} {r['engine_ms_per_run']:7.2f} {r['overhead_ms']:7.2f} "
                f"{r['worker_ms']:11.2f} {r['tasks']:6d}  {once}",
                flush=True,
            )
    print("ms/run: wall per run; engine: the same tasks to a no-op; ours: the difference "
          "(sacredlite per run, wall); ours x jobs: in worker time")  # fmt: skip


if __name__ == "__main__":
    main()
