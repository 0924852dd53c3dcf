import pytest
from runbuilder import populate, write_mongo_run

from sacredlite.store import Filter, NotFound, RunNotFound, RunQuery, StoreError, open_store


@pytest.fixture
def mongo(mongo_server, mongo_db_name):
    client = mongo_server.client()
    db = client[mongo_db_name]
    populate(write_mongo_run, db)
    store = open_store(mongo_url=mongo_server.url, db_name=mongo_db_name)
    yield db, store
    store.close()
    client.drop_database(mongo_db_name)
    client.close()


def test_lists_and_filters_sacred_documents(mongo):
    """Runs in Sacred's MongoDB schema list, filter and sort like file storage."""
    _, store = mongo
    total, rows = store.list_runs(RunQuery(filters=[Filter("config.optimizer.name", "eq", "sgd")]))
    assert total == 3 and [r["_id"] for r in rows] == [6, 4, 2]
    assert rows[0]["start_time"].tzinfo is not None
    _, rows = store.list_runs(RunQuery(sort="-metric:loss:last"))
    assert [r["_id"] for r in rows] == [1, 2, 3, 4, 5, 6]


def test_tags_and_notes_use_omniboard_fields(mongo):
    """Tags and notes are stored in omniboard.tags / omniboard.notes, as Omniboard does."""
    db, store = mongo
    store.set_tags(2, ["keep"])
    store.set_notes(2, "hi")
    assert db.runs.find_one({"_id": 2})["omniboard"] == {"tags": ["keep"], "notes": "hi"}
    assert store.list_runs(RunQuery(filters=[Filter("tags", "contains", "keep")]))[0] == 1


def test_sees_new_and_deleted_runs(mongo):
    """A cached listing picks up runs added and removed by others."""
    db, store = mongo
    store.recheck = 0  # no grace period between listings
    assert store.list_runs()[0] == 6
    write_mongo_run(db, 7, status="RUNNING")
    assert [r["_id"] for r in store.list_runs()[1]] == [7, 6, 5, 4, 3, 2, 1]
    db.runs.delete_one({"_id": 1})
    assert [r["_id"] for r in store.list_runs()[1]] == [7, 6, 5, 4, 3, 2]
    db.runs.update_one({"_id": 7}, {"$set": {"status": "COMPLETED"}})
    db.runs.insert_one({"_id": "named", "status": "QUEUED", "experiment": {"name": "q"}})
    records = {r["_id"]: r for r in store.records()}
    assert records[7]["status"] == "COMPLETED" and records["named"]["status"] == "QUEUED"


def test_metric_output_artifacts_sources(mongo):
    """Metrics, output, artifacts and sources are read from their collections and GridFS."""
    _, store = mongo
    assert store.metric_names(1) == ["acc", "loss"]
    assert store.metric(1, "loss", points=10)["total"] == 100
    assert store.output(1)["text"] == "epoch 1\nrun 1 says hello\n"
    assert [a["name"] for a in store.artifacts(1)] == ["model.txt", "plot.png"]
    data, ctype = store.artifact(1, "plot.png")
    assert ctype == "image/png" and data.startswith(b"\x89PNG")
    assert store.source(1, "train.py").startswith(b"import sacred")
    with pytest.raises(NotFound):
        store.artifact(1, "../../etc/passwd")


def test_reads_overflowed_output_and_metrics(mongo):
    """Output and metric points in sacredlite's overflow collections are reassembled."""
    db, store = mongo
    write_mongo_run(db, 9, output="", metrics={"m": ([0, 1], [0.0, 1.0])})
    db.runs.update_one(
        {"_id": 9},
        {
            "$set": {
                "captured_out": "tail\n",
                "sacredlite": {"captured_out_start": 5, "output_collection": "runs_output"},
            }
        },
    )
    db.runs_output.insert_one(
        {"_id": {"run_id": 9, "seq": 0}, "run_id": 9, "seq": 0, "start": 0, "text": "head\n"}
    )
    mid = db.metrics.find_one({"run_id": 9, "name": "m"})["_id"]
    db.metrics.update_one({"_id": mid}, {"$set": {"sacredlite_parts": 1}})
    db.metrics_overflow.insert_one(
        {
            "_id": {"metric_id": mid, "part": 1},
            "run_id": 9,
            "name": "m",
            "part": 1,
            "steps": [2],
            "values": [2.0],
            "timestamps": [None],
        }
    )
    assert store.output(9)["text"] == "head\ntail\n"
    assert store.metric(9, "m")["values"] == [0, 1, 2]
    store.delete_run(9)
    assert db.runs_output.count_documents({"run_id": 9}) == 0
    assert db.metrics_overflow.count_documents({"run_id": 9}) == 0


def test_delete_removes_metrics_and_artifacts(mongo):
    """Deleting a run removes its document, metric documents and artifact files."""
    db, store = mongo
    files_before = db["fs.files"].count_documents({})
    store.delete_run(3)
    assert db.runs.find_one({"_id": 3}) is None
    assert db.metrics.count_documents({"run_id": 3}) == 0
    assert db["fs.files"].count_documents({}) == files_before - 2
    with pytest.raises(RunNotFound):
        store.run(3)


def test_unreachable_server_is_one_clear_error():
    """A store over a server that does not answer fails with the location in the message."""
    with pytest.raises(StoreError, match="Cannot reach MongoDB"):
        from sacredlite.store.mongo import MongoStore

        MongoStore("mongodb://127.0.0.1:1", "x", timeout=0.3)


def test_first_page_is_asked_of_the_server_before_the_list_is_cached(mongo):
    """A never-listed store answers a page by id straight from the server (issue 11), then
    the cached listing agrees with it; tag writes reach cached listings at once."""
    _, store = mongo
    total, page = store.list_runs(RunQuery(limit=2))
    assert total == 6 and [r["_id"] for r in page] == [6, 5]
    assert page[0]["omniboard"] == {"tags": [], "notes": ""}
    total, page = store.list_runs(RunQuery(limit=2, offset=1, sort="id"))
    assert [r["_id"] for r in page] == [2, 3]
    assert [r["_id"] for r in store.list_runs(RunQuery(sort="-id"))[1]] == [6, 5, 4, 3, 2, 1]
    store.set_tags(3, ["zzkeep"])
    assert [r["_id"] for r in store.list_runs(RunQuery(search="zzkeep"))[1]] == [3]
