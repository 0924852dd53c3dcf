"""Benchmark the dashboard: 10,000 runs and one run with a 1,000,000-point metric, then
the issue-11 figures (``bench/_board_issue11.py``).

For file storage (and, unless ``--no-mongo``, the SecantusDB MongoDB-wire test server) it
prints: the runs API time for the first request (cold index) and warm, the metric API time
for the full range at 2,000 points (first and warm), and the time from navigation to the
plot drawn in headless Chromium (fresh server, then again). Targets: <= 1 s each.

The 10,000 runs are written directly in Sacred's layout/schema (fast); the big run is
recorded by a real Experiment with the real observer, so its storage is what users get.

The issue-11 figures: runs list of 100,000 runs (never-seen store, warm, restarted), a
10,000,000-point metric (first, warm, zoomed), a group plot of 100 runs x 10,000 points,
parallel coordinates of 10,000 runs, and 200 concurrent list/meta requests against a board
in its own process (requests/s, p50, p99), on file storage and on MongoDB (the SecantusDB
test server, with what the server alone takes).

    python bench/board.py [--runs 10000] [--points 1000000] [--no-mongo] [--no-browser]
                          [--only-issue11 | --no-issue11] [--many 100000] [--big 10000000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

SAVE_DELAY = 5.0  # sacredlite.store.filecache.SAVE_DELAY
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def run_doc(i):
    start = T0 + timedelta(minutes=i)
    return {
        "experiment": {
            "name": f"exp{i % 7}",
            "base_dir": "/p",
            "sources": [],
            "mainfile": "m.py",
            "dependencies": ["numpy==2.0"],
            "repositories": [],
        },
        "command": "main",
        "host": {
            "hostname": f"node{i % 13}",
            "os": ["Linux", "x"],
            "python_version": "3.11",
            "cpu": "cpu",
            "ENV": {},
        },
        "start_time": start,
        "heartbeat": start + timedelta(seconds=90),
        "stop_time": start + timedelta(seconds=90),
        "meta": {"command": "main", "options": {"--comment": None}, "comment": f"run {i}"},
        "status": ["COMPLETED", "FAILED", "COMPLETED", "INTERRUPTED"][i % 4],
        "resources": [],
        "artifacts": [],
        "result": i * 0.5,
    }


def config(i):
    return {
        "lr": 10 ** -(1 + i % 4),
        "batch": 32 * (1 + i % 8),
        "seed": i,
        "net": {"depth": i % 10, "width": 64 * (1 + i % 3)},
    }


def write_file_runs(root, n):
    naive = lambda d: d.replace(tzinfo=None).isoformat()  # noqa: E731 - Sacred's stored form
    for i in range(1, n + 1):
        d = os.path.join(root, str(i))
        os.makedirs(d)
        doc = run_doc(i)
        for k in ("start_time", "heartbeat", "stop_time"):
            doc[k] = naive(doc[k])
        for name, data in (("run.json", doc), ("config.json", config(i)), ("info.json", {})):
            with open(os.path.join(d, name), "w") as fh:
                json.dump(data, fh)
        open(os.path.join(d, "cout.txt"), "w").close()


def write_mongo_runs(db, n):
    docs = []
    for i in range(1, n + 1):
        doc = run_doc(i)
        doc.update(_id=i, config=config(i), info={}, captured_out="", format="MongoObserver-0.7.0")
        docs.append(doc)
        if len(docs) == 1000:
            db.runs.insert_many(docs)
            docs = []
    if docs:
        db.runs.insert_many(docs)


def record_big_run(observer, points):
    from sacredlite import Experiment

    ex = Experiment("big")
    ex.observers.append(observer)

    @ex.main
    def main(_run):
        for i in range(points):
            _run.log_scalar("loss", math.sin(i / 5000) + (5.0 if i % 100_003 == 0 else 0.0), i)

    return ex.run()._id


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, store):
        import uvicorn

        from sacredlite.board.app import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        cfg = uvicorn.Config(
            create_app(store), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def stop(self):
        self.server.should_exit = True
        self.thread.join()


def timed_get(client, url):
    t = time.perf_counter()
    resp = client.get(url)
    resp.raise_for_status()
    return time.perf_counter() - t, resp.json()


def measure(label, open_store_fn, big_id, browser, points):
    import httpx

    figures = {}
    server = Server(open_store_fn())
    with httpx.Client(base_url=server.url, timeout=120) as client:
        figures["runs API, first"], data = timed_get(client, "api/runs?limit=50")
        total = data["total"]
        figures["runs API, warm"], _ = timed_get(client, "api/runs?limit=50")
        by_config = "api/runs?limit=50&sort=-config.lr&columns=config.lr,config.net.depth"
        figures["runs API, first sort by a config key"], _ = timed_get(client, by_config)
        figures["runs API, warm sort by a config key"], _ = timed_get(client, by_config)
        url = f"api/runs/{big_id}/metrics/loss?points=2000"
        figures["metric API full range -> 2000 pts, first"], m = timed_get(client, url)
        figures["metric API full range -> 2000 pts, warm"], _ = timed_get(client, url)
        figures["metric API zoomed window, warm"], _ = timed_get(
            client, url + "&start=250000&stop=260000"
        )
    assert m["total"] == points and len(m["steps"]) <= 2000, (m["total"], len(m["steps"]))
    server.stop()
    # A new board session on the same store: file storage reuses its on-disk index and
    # the parsed arrays of big metrics (written a few seconds after a change).
    time.sleep(SAVE_DELAY + 1)
    server = Server(open_store_fn())
    with httpx.Client(base_url=server.url, timeout=120) as client:
        figures["runs API, first after a restart"], _ = timed_get(client, "api/runs?limit=50")
        figures["metric API full range, first after a restart"], _ = timed_get(client, url)
    server.stop()
    if browser is not None:
        for attempt in ("first (new session)", "warm"):
            server = Server(open_store_fn()) if attempt != "warm" else server
            context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
            page = context.new_page()
            t = time.perf_counter()
            page.goto(f"{server.url}#/run/{big_id}/metrics")
            page.wait_for_selector(".plot-holder canvas")
            page.wait_for_function(
                "document.querySelector('.plot-info')?.textContent.includes('points')"
            )
            figures[f"navigation to plot drawn, {attempt}"] = time.perf_counter() - t
            context.close()
        server.stop()
    print(f"\n{label}: {total} runs listed; big run {big_id} has {m['total']} points")
    for name, seconds in figures.items():
        flag = "" if seconds <= 1.0 else "   (over the 1 s target)"
        print(f"  {name:<46} {seconds * 1000:8.0f} ms{flag}")


def start_secantus():
    port = free_port()
    exe = shutil.which("secantusd-py") or os.path.join(
        os.path.dirname(sys.executable), "secantusd-py"
    )
    proc = subprocess.Popen(
        [
            exe,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            ":memory:",
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import pymongo

    deadline = time.monotonic() + 30
    while True:
        client = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=200)
        try:
            client.admin.command("ping")
            return proc, f"mongodb://127.0.0.1:{port}", client
        except Exception:
            client.close()
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit(
                    "SecantusDB did not start: pip install secantusdb==0.7.0b3"
                ) from None
            time.sleep(0.1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--no-mongo", action="store_true", help="skip the MongoDB figures")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium figures")
    parser.add_argument("--only-issue11", action="store_true", help="only the issue-11 figures")
    parser.add_argument("--no-issue11", action="store_true", help="skip the issue-11 figures")
    parser.add_argument("--many", type=int, default=100_000, help="runs listed (issue 11)")
    parser.add_argument("--big", type=int, default=10_000_000, help="points of the big metric")
    parser.add_argument("--load-seconds", type=float, default=10.0)
    args = parser.parse_args()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)

    from sacredlite.observers import FileStorageObserver, MongoObserver
    from sacredlite.store import open_store

    browser = pw = None
    if not args.no_browser and not args.only_issue11:
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    tmp = tempfile.mkdtemp(prefix="board-bench-")
    os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")  # keep ~/.cache clean
    try:
        if not args.no_issue11:
            import _board_issue11 as issue11

            issue11.file_figures(
                tmp, run_doc, config, args.many, args.big, args.load_seconds, SAVE_DELAY + 1
            )
            if not args.no_mongo:
                proc, url, client = start_secantus()
                try:
                    issue11.mongo_figures(url, client, run_doc, config, 10_000, args.load_seconds)
                finally:
                    client.close()
                    proc.terminate()
                    proc.wait(10)
        if args.only_issue11:
            return
        root = os.path.join(tmp, "runs")
        os.makedirs(root)
        t = time.perf_counter()
        write_file_runs(root, args.runs)
        big = record_big_run(FileStorageObserver(root), args.points)
        print(f"file storage written in {time.perf_counter() - t:.1f} s ({root})")
        measure("file storage", lambda: open_store(root, read_only=True), big, browser, args.points)
        if not args.no_mongo:
            proc, url, client = start_secantus()
            try:
                t = time.perf_counter()
                write_mongo_runs(client.bench, args.runs)
                observer = MongoObserver(url, db_name="bench")
                big = record_big_run(observer, args.points)
                print(f"\nMongoDB (SecantusDB) written in {time.perf_counter() - t:.1f} s")
                measure(
                    "MongoDB (SecantusDB test server)",
                    lambda: open_store(mongo_url=url, db_name="bench", read_only=True),
                    big,
                    browser,
                    args.points,
                )
            finally:
                client.close()
                proc.terminate()
                proc.wait(10)
    finally:
        if browser is not None:
            browser.close()
            pw.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
