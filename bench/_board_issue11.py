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
target, mongo, db = {target!r}, {mongo!r}, {db!r}
if mongo is None:
    store = open_store(target, read_only=True)
else:
    store = open_store(mongo_url=mongo, db_name=db, read_only=True)
uvicorn.run(create_app(store), host="127.0.0.1", port={port}, log_level="warning",
            backlog=4096)
"""


class BoardProcess:
    """``sacredlite board`` as users run it: uvicorn in its own process."""

    def __init__(self, target=None, mongo=None, env=None, db="bench"):
        self.port = free_port()
        code = SERVER.format(repo=REPO, target=target, mongo=mongo, db=db, port=self.port)
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


def _wait_built(port, path, timeout=600):
    """Return the seconds until the index answers *path* (it waits for the build)."""
    t = time.perf_counter()
    get(port, path)
    return time.perf_counter() - t


def _best(port, path, times=3):
    return min(get(port, path)[0] for _ in range(times))


def file_figures(tmp, run_doc, config, many, points, load_seconds, cache_delay):
    """Print the issue-11 figures on file storage; return the 10,000-run store's path."""
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, "cache-never-seen"))
    figures = {}
    root = os.path.join(tmp, "runs-many")
    os.makedirs(root)
    t = time.perf_counter()
    write_parallel(root, many, run_doc, config)
    figures[f"(writing {many:,} runs, 2 processes)"] = f"{time.perf_counter() - t:.1f} s"
    board = BoardProcess(root, env=env)
    try:
        figures["runs list, first page, never-seen store"], data = get(
            board.port, "/api/runs?limit=50"
        )
        assert data["total"] == many, data["total"]
        figures["(whole index built in the background)"] = (
            f"{_wait_built(board.port, '/api/runs?limit=50&offset=50'):.1f} s"
        )
        figures["runs list, first page, warm"] = _best(board.port, "/api/runs?limit=50")
        figures["runs list, page 100, warm"] = _best(board.port, "/api/runs?limit=50&offset=5000")
        sort = "/api/runs?limit=50&sort=-config.lr&columns=config.lr"
        figures["runs list sorted by a config key, first (reads configs)"] = get(board.port, sort)[
            0
        ]
        figures["runs list sorted by a config key, warm"] = _best(board.port, sort)
    finally:
        board.stop()
    time.sleep(cache_delay)
    board = BoardProcess(root, env=env)
    try:
        figures["runs list, first page, restarted board"] = get(board.port, "/api/runs?limit=50")[0]
    finally:
        board.stop()

    big = os.path.join(tmp, "big")
    os.makedirs(big)
    t = time.perf_counter()
    write_big_metric(big, 1, points, run_doc, config)
    figures[f"(writing a {points:,}-point metric)"] = f"{time.perf_counter() - t:.1f} s"
    board = BoardProcess(big, env=env)
    try:
        url = "/api/runs/1/metrics/loss?points=2000"
        figures[f"{points:,}-point metric, first (parses metrics.json)"], m = get(board.port, url)
        assert m["total"] == points
        figures[f"{points:,}-point metric -> 2000 points, warm"] = _best(board.port, url)
        zoom = url + f"&start={points // 3}&stop={points // 2}"
        figures[f"{points:,}-point metric, zoomed window, warm"] = _best(board.port, zoom)
    finally:
        board.stop()
    time.sleep(cache_delay)  # the parsed arrays are cached on disk in the background
    board = BoardProcess(big, env=env)
    try:
        figures[f"{points:,}-point metric, first, restarted board"] = get(board.port, url)[0]
    finally:
        board.stop()

    groups = os.path.join(tmp, "groups")
    os.makedirs(groups)
    write_group_runs(groups, 100, 10_000, run_doc)
    board = BoardProcess(groups, env=env)
    try:
        url = "/api/groups/metric?by=config.lr&name=loss&points=1000&band=std"
        figures["group plot 100 runs x 10,000 points, first"], g = get(board.port, url)
        assert sum(len(x["members"]) for x in g["groups"]) == 100
        figures["group plot 100 runs x 10,000 points, warm"] = _best(board.port, url)
    finally:
        board.stop()

    ten = os.path.join(tmp, "runs-10k")
    os.makedirs(ten)
    write_parallel(ten, 10_000, run_doc, config)
    board = BoardProcess(ten, env=env)
    try:
        url = (
            "/api/analysis/parallel?keys=config.lr,config.batch,config.net.depth,"
            "config.net.width&metric=result&limit=10000"
        )
        figures["parallel coordinates of 10,000 runs, first"], p = get(board.port, url)
        assert len(p["rows"]) == 10_000
        figures["parallel coordinates of 10,000 runs, warm"] = _best(board.port, url)
        _load_figures(figures, board.port, load_seconds)
    finally:
        board.stop()
    report("Issue 11, file storage", figures)
    return ten


def _load_figures(figures, port, seconds):
    get(port, "/api/runs?limit=50&sort=-config.lr&columns=config.lr,config.net.depth")
    load_test(port, LOAD_MIX, 200, 2.0)  # warm up every query of the mix
    rate, p50, p99, errors = load_test(port, LOAD_MIX, 200, seconds)
    figures["load: 200 concurrent list/meta requests, requests/s"] = f"{rate:.0f} (target >= 300)"
    figures["load: p50"] = p50
    figures["load: p99 (target <= 1 s)"] = p99
    figures["load: errors"] = str(errors)


def mongo_figures(url, client, run_doc, config, runs, load_seconds):
    """Print the issue-11 figures on MongoDB (the SecantusDB test server), with what the
    server itself takes to send every run (the floor of a cold listing)."""
    figures = {}
    db = client.bench11
    t = time.perf_counter()
    docs = []
    for i in range(1, runs + 1):
        doc = run_doc(i)
        doc.update(_id=i, config=config(i), info={}, captured_out="", format="MongoObserver-0.7.0")
        docs.append(doc)
        if len(docs) == 1000:
            db.runs.insert_many(docs)
            docs = []
    if docs:
        db.runs.insert_many(docs)
    figures[f"(inserting {runs:,} runs)"] = f"{time.perf_counter() - t:.1f} s"
    t = time.perf_counter()
    listed = sum(1 for _ in db.runs.find({}, {"captured_out": 0, "fail_trace": 0}))
    figures[f"test server alone: find() of all {listed:,} runs"] = time.perf_counter() - t
    t = time.perf_counter()
    list(db.runs.find({}, {"captured_out": 0}).sort("_id", -1).limit(50))
    figures["test server alone: 50 runs sorted by _id"] = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(100):
        db.runs.find_one({"_id": 1}, {"_id": 1})
    figures["test server alone: one find_one by _id"] = (time.perf_counter() - t) / 100
    board = BoardProcess(mongo=url, db="bench11")
    try:
        figures[f"runs list of {runs:,} runs, first page, never-seen"], data = get(
            board.port, "/api/runs?limit=50"
        )
        assert data["total"] == runs
        figures[f"runs list of {runs:,} runs, first page, warm"] = _best(
            board.port, "/api/runs?limit=50"
        )
        url_p = (
            "/api/analysis/parallel?keys=config.lr,config.batch,config.net.depth,"
            "config.net.width&metric=result&limit=10000"
        )
        figures[f"parallel coordinates of {runs:,} runs, first"], p = get(board.port, url_p)
        assert len(p["rows"]) == runs
        figures[f"parallel coordinates of {runs:,} runs, warm"] = _best(board.port, url_p)
        _load_figures(figures, board.port, load_seconds)
    finally:
        board.stop()
    report("Issue 11, MongoDB (SecantusDB test server)", figures)
