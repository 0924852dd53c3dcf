"""Each source file is stored in GridFS once per content, however many runs start at once.

Issue 9, item 13: 8 shells starting the same script at the same moment stored 3 copies of
one source (same filename, same md5): each start looked for the file, found none, and
uploaded its own.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import gridfs

from sacredlite.formats.mongo import Executor, StoreFile, Target

REPO = Path(__file__).resolve().parents[2]
THIS_CHECKOUT = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
}
"""The environment of child processes: they import sacredlite from this checkout."""

EXPERIMENT = """
import os, time
import helper
from sacredlite import Experiment

time.sleep(max(0.0, float(os.environ["START_AT"]) - time.time()))  # all start together
ex = Experiment("together")

@ex.automain
def main():
    return helper.VALUE
"""


def test_parallel_starts_store_each_source_once(
    mongo_server: Any, mongo_db_name: str, tmp_path: Path
) -> None:
    """8 processes started at the same instant: 8 runs, one GridFS file per source, which
    every run refers to and which reads back whole."""
    (tmp_path / "exp.py").write_text(textwrap.dedent(EXPERIMENT))
    (tmp_path / "helper.py").write_text("VALUE = 3\n" + "# padding\n" * 40_000)
    env = {**THIS_CHECKOUT, "START_AT": str(time.time() + 3.0)}
    option = f"{mongo_server.address}:{mongo_db_name}"
    procs = [
        subprocess.Popen(
            [sys.executable, "exp.py", "-m", option, "--loglevel", "WARNING"],
            cwd=tmp_path,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    errors = [proc.communicate(timeout=120)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 8, errors
    client = mongo_server.client()
    try:
        db = client[mongo_db_name]
        runs = list(db.runs.find())
        assert len(runs) == 8 and {r["status"] for r in runs} == {"COMPLETED"}
        files = list(db["fs.files"].find())
        by_name = {Path(f["filename"]).name: f for f in files}
        assert sorted(by_name) == ["exp.py", "helper.py"] and len(files) == 2, [
            (f["filename"], f.get("md5")) for f in files
        ]
        fs = gridfs.GridFS(db)
        for name, stored in by_name.items():
            data = (tmp_path / name).read_bytes()
            assert stored["md5"] == hashlib.md5(data).hexdigest()
            assert fs.get(stored["_id"]).read() == data
        referenced = {fid for r in runs for _, fid in r["experiment"]["sources"]}
        assert referenced == {f["_id"] for f in files}
        chunks = sum(-(-f["length"] // f["chunkSize"]) for f in files)
        assert db["fs.chunks"].count_documents({}) == chunks  # losers' copies are gone
    finally:
        client.close()


def test_existing_copies_are_reused_and_not_multiplied(
    mongo_server: Any, mongo_db_name: str, tmp_path: Path
) -> None:
    """A database already holding two copies of a source (written by earlier versions)
    gets no third: every new run refers to one and the same existing copy."""
    client = mongo_server.client()
    try:
        db = client[mongo_db_name]
        fs = gridfs.GridFS(db)
        source = tmp_path / "exp.py"
        source.write_bytes(b"x = 1\n")
        md5 = hashlib.md5(b"x = 1\n").hexdigest()
        old = [fs.put(b"x = 1\n", filename=str(source), md5=md5) for _ in range(2)]
        target = Target.in_database(db)
        chosen = set()
        for _ in range(3):
            from bson import ObjectId

            executor = Executor(target, run_id=1)
            file_id = ObjectId()
            op = StoreFile(file_id, filename=str(source), md5=md5, dedupe=True, src=str(source))
            executor.apply(op)
            chosen.add(executor.aliases.get(file_id, file_id))
        assert len(chosen) == 1 and chosen <= set(old)
        assert db["fs.files"].count_documents({}) == 2
    finally:
        client.close()
