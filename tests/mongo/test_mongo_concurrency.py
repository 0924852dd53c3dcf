"""Run ids are unique however many processes start runs at once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

THIS_CHECKOUT = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]
    ),
}
"""The environment of child processes: they import sacredlite from this checkout."""

SCRIPT = textwrap.dedent(
    """
    import hashlib, os, sys, tempfile
    from datetime import datetime, timezone
    from sacredlite.events import RunCompleted, RunStarted
    from sacredlite.observers.dispatch import Dispatcher
    from sacredlite.observers.mongo import MongoObserver

    url, db_name, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    root = tempfile.mkdtemp()
    with open(os.path.join(root, "exp.py"), "w") as f:
        f.write("x = 1\\n")
    ex_info = {"name": "race", "base_dir": root, "mainfile": "exp.py", "doc": None,
               "sources": [["exp.py", hashlib.md5(b"x = 1\\n").hexdigest()]],
               "dependencies": [], "repositories": []}
    observer = MongoObserver(url, db_name=db_name)
    sys.stdin.readline()  # start together
    ids = []
    for _ in range(runs):
        now = datetime.now(timezone.utc)
        d = Dispatcher([observer])
        run_id = d.start(RunStarted(run_id=None, time=now, experiment=ex_info, command="main",
                                    host={"hostname": str(os.getpid())}, config={},
                                    meta={"command": "main"}))
        d.emit(RunCompleted(run_id=run_id, time=now, result=os.getpid()))
        d.finish()
        ids.append(run_id)
    print(" ".join(map(str, ids)))
    """
)


def test_parallel_processes_never_share_an_id(mongo_server, mongo_db_name):
    """8 processes x 20 runs get 160 distinct integer ids, each run stored once."""
    procs, runs = 8, 20
    client = mongo_server.client()
    client[mongo_db_name].runs.insert_one({"_id": 1, "status": "COMPLETED"})  # e.g. from Sacred
    children = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, mongo_server.url, mongo_db_name, str(runs)],
            env=THIS_CHECKOUT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(procs)
    ]
    outputs = [child.communicate("go\n", timeout=300)[0] for child in children]
    assert all(child.returncode == 0 for child in children)
    ids = [int(x) for out in outputs for x in out.split()]
    try:
        assert len(ids) == procs * runs
        assert len(set(ids)) == len(ids)
        assert 1 not in ids
        runs_coll = client[mongo_db_name].runs
        assert runs_coll.count_documents({"status": "COMPLETED"}) == procs * runs + 1
        by_id = {d["_id"]: d for d in runs_coll.find({"_id": {"$in": ids}})}
        assert all(str(by_id[i]["result"]) == by_id[i]["host"]["hostname"] for i in ids)
    finally:
        client.close()
