"""Sweeps into MongoDB (SecantusDB): ids allocated once across processes, and --via-queue
with two workers draining the queue through the atomic claim."""

from __future__ import annotations

import itertools

import pymongo
from conftest import GRID, SEEDS

import sacredlite
from sacredlite.__main__ import main


def _grid_docs(server, db_name: str) -> list[dict]:
    client = pymongo.MongoClient(server.url)
    try:
        return list(client[db_name]["runs"].find({}))
    finally:
        client.close()


def _check_grid(docs: list[dict], sweep_id: str, fail_width: int | None = None) -> None:
    assert len(docs) == 12
    assert len({doc["_id"] for doc in docs}) == 12
    seen = set()
    for doc in docs:
        point = doc["meta"]["sweep"]["point"]
        assert doc["meta"]["sweep"]["id"] == sweep_id
        assert doc["omniboard"]["tags"] == [f"sweep:{sweep_id}"]
        assert (doc["config"]["lr"], doc["config"]["model"]["width"], doc["config"]["seed"]) == (
            point["lr"], point["model"]["width"], point["seed"],
        )  # fmt: skip
        expected = "FAILED" if point["model"]["width"] == fail_width else "COMPLETED"
        assert doc["status"] == expected
        seen.add((point["lr"], point["model"]["width"], point["seed"]))
    assert seen == set(itertools.product(GRID["lr"], GRID["model.width"], range(SEEDS)))


def test_parallel_processes_get_unique_ids_in_mongo(grid_script, mongo_server, mongo_db_name):
    """Two loky workers record 12 runs with 12 distinct ids, each tagged with the sweep."""
    url = f"{mongo_server.url}/{mongo_db_name}"
    result = sacredlite.sweep(
        str(grid_script), grid=GRID, seeds=SEEDS, executor="loky", jobs=2, mongo_url=url
    )
    assert result.ok
    docs = _grid_docs(mongo_server, mongo_db_name)
    assert sorted(result.run_ids) == sorted(doc["_id"] for doc in docs)
    _check_grid(docs, result.sweep_id)


def test_via_queue_two_workers_drain_the_queue(grid_script, mongo_server, mongo_db_name, capsys):
    """The runs are queued, two `sacredlite worker` processes drain them, each run once."""
    url = f"{mongo_server.url}/{mongo_db_name}"
    code = main(["sweep", str(grid_script), "with", "fail_width=128",
                 "--grid", "lr=0.1,0.01", "--grid", "model.width=[64,128]", "--seeds", "3",
                 "-m", url, "--via-queue", "--executor", "process", "--jobs", "2"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1  # the width-128 runs fail, alone
    sweep_id = out.split()[1].rstrip(":")
    assert f"sweep {sweep_id}: 12 runs: 6 COMPLETED, 6 FAILED" in out
    docs = _grid_docs(mongo_server, mongo_db_name)
    _check_grid(docs, sweep_id, fail_width=128)
    workers = {doc["worker"]["pid"] for doc in docs}
    assert len(workers) == 2  # both workers took runs; none ran in the sweeping process
    assert all(doc["meta"]["queued_by"]["host"] for doc in docs)
