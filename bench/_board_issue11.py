"""The issue-11 figures of ``bench/board.py``: 100,000 runs listed, a 10,000,000-point
metric, a group plot of 100 runs x 10,000 points, parallel coordinates of 10,000 runs, and
a load test (200 concurrent list/meta requests) against a board in its own process.

Stores are written straight in Sacred's layout with the format module's writer
(``formats.file.write_text``), in the bench's temporary directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from sacredlite.formats import file as fmt  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _naive(d):
    return d.replace(tzinfo=None).isoformat()


def write_runs(root, n, run_doc, config, first=1):
    """Write runs first..first+n-1 (run.json, config.json, info.json) as Sacred lays them out."""
    for i in range(first, first + n):
        d = os.path.join(root, str(i))
        os.mkdir(d)
        doc = run_doc(i)
        for k in ("start_time", "heartbeat", "stop_time"):
            doc[k] = _naive(doc[k])
        fmt.write_text(os.path.join(d, fmt.RUN_FILE), json.dumps(doc), atomic=False)
        fmt.write_text(os.path.join(d, fmt.CONFIG_FILE), json.dumps(config(i)), atomic=False)
        fmt.write_text(os.path.join(d, fmt.INFO_FILE), "{}", atomic=False)


def write_parallel(root, n, run_doc, config, workers=2):
    """Write *n* runs with *workers* processes (the work is mostly system calls)."""
    from concurrent.futures import ProcessPoolExecutor

    share = -(-n // workers)
    with ProcessPoolExecutor(workers) as pool:
        jobs = [
            pool.submit(write_runs, root, min(share, n - k * share), run_doc, config, 1 + k * share)
            for k in range(workers)
        ]
        for job in jobs:
            job.result()


def write_big_metric(root, run_id, points, run_doc, config):
    """Write one run whose ``metrics.json`` holds a *points*-point metric (with spikes)."""
    import numpy as np

    write_runs(root, 1, run_doc, config, first=run_id)
    path = os.path.join(root, str(run_id), fmt.METRICS_FILE)
    chunk = 1_000_000
    base = np.datetime64(_naive(T0), "ms")
    with open(path, "w") as fh:
        fh.write('{"loss": {"steps": [')
        for a in range(0, points, chunk):
            b = min(points, a + chunk)
            fh.write(("," if a else "") + ",".join(map(str, range(a, b))))
        fh.write('], "timestamps": [')
        for a in range(0, points, chunk):
            b = min(points, a + chunk)
            times = (base + np.arange(a, b) * 10).astype(str)
            fh.write(("," if a else "") + ",".join(f'"{t}"' for t in times))
        fh.write('], "values": [')
        for a in range(0, points, chunk):
            b = min(points, a + chunk)
            values = np.sin(np.arange(a, b) / 5000.0)
            values[(np.arange(a, b) % 1_000_003) == 0] += 5.0
            fh.write(("," if a else "") + ",".join(map(repr, values.tolist())))
        fh.write("]}}")


def write_group_runs(root, runs, points, run_doc):
    """Write *runs* runs (4 settings of lr x seeds), each with a *points*-point loss."""
    steps = list(range(points))
    stamps = [_naive(T0 + timedelta(seconds=s)) for s in steps]
    for i in range(1, runs + 1):
        lr = 10 ** -(1 + i % 4)
        write_runs(root, 1, run_doc, lambda _i, lr=lr: {"lr": lr, "seed": _i}, first=i)
        rng = random.Random(i)
        values = [1.0 / (1 + s * lr) + rng.random() * 0.05 for s in steps]
        doc = {"loss": {"steps": steps, "timestamps": stamps, "values": values}}
        fmt.write_text(
            os.path.join(root, str(i), fmt.METRICS_FILE), fmt.dump_metrics(doc), atomic=False
        )


# -- a board in its own process, and a load generator ----------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER = """
import sys, uvicorn
sys.path.insert(0, {repo!r})
from sacredlite.board.app import create_app
from sacredlite.store import open_store
store = open_store({target!r}, read_only=True) if {mongo!r} is None else open_store(
    mongo_url={mongo!r}, db_name="bench", read_only=True)
uvicorn.run(create_app(store), host="127.0.0.1", port={port}, log_level="warning",
            backlog=4096)
"""


class BoardProcess:
    """``sacredlite board`` as users run it: uvicorn in its own process."""

    def __init__(self, target=None, mongo=None, env=None):
        self.port = free_port()
        code = SERVER.format(repo=REPO, target=target, mongo=mongo, port=self.port)
        self.proc = subprocess.Popen([sys.executable, "-c", code], env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the board did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


async def _one(reader, writer, path):
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in head.split(b"\r\n"):
        low = line.lower()
        if low.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
        elif low.startswith(b"transfer-encoding:") and b"chunked" in low:
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(length)
    return status


async def _load(port, paths, concurrency, seconds):
    latencies = []
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def worker(k):
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        rng = random.Random(k)
        try:
            while time.perf_counter() < stop_at:
                t = time.perf_counter()
                status = await _one(reader, writer, rng.choice(paths))
                latencies.append(time.perf_counter() - t)
                errors += status != 200
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return latencies, errors, time.perf_counter() - start


def load_test(port, paths, concurrency=200, seconds=10.0):
    """Return ``(requests/s, p50, p99, errors)`` of *concurrency* keep-alive clients."""
    latencies, errors, elapsed = asyncio.run(_load(port, paths, concurrency, seconds))
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return len(latencies) / elapsed, p(0.5), p(0.99), errors


LOAD_MIX = (
    ["/api/runs?limit=50"] * 3
    + [f"/api/runs?limit=50&offset={k * 50}" for k in range(1, 9)]
    + ["/api/runs?limit=50&sort=-config.lr&columns=config.lr,config.net.depth"] * 3
    + ["/api/runs?limit=50&status=COMPLETED"] * 2
    + ["/api/meta"] * 8
)
"""The list/meta mix of the load test (meta about a third of the requests)."""


def get(port, path):
    """Return ``(seconds, parsed JSON)`` of one request."""
    import urllib.request

    t = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=600) as resp:
        data = json.loads(resp.read())
    return time.perf_counter() - t, data


def report(label, figures):
    print(f"\n{label}")
    for name, value in figures.items():
        if isinstance(value, str):
            print(f"  {name:<58} {value}")
        else:
            flag = "" if value <= 1.0 else "   (over 1 s)"
            print(f"  {name:<58} {value * 1000:8.0f} ms{flag}")
