"""The file store's run index is kept up to date incrementally (issue 11): listings never
re-read every run, yet new, deleted, live and externally changed runs show up."""

import json
import shutil
import time

import runbuilder

from sacredlite.store import RunQuery, fileindex, open_store


def _ids(store, **query):
    return [r["_id"] for r in store.list_runs(RunQuery(**query))[1]]


def test_new_and_deleted_runs_show_up_without_a_full_rescan(file_root):
    """A run folder added or removed changes the storage directory: the next listing sees it."""
    store = open_store(file_root)
    assert _ids(store) == [6, 5, 4, 3, 2, 1]
    runbuilder.write_file_run(file_root, 7, status="COMPLETED")
    assert _ids(store)[0] == 7
    shutil.rmtree(file_root / "2")
    assert _ids(store) == [7, 6, 5, 4, 3, 1]


def test_a_live_run_is_rechecked_on_every_listing(file_root):
    """Run 3 is RUNNING: its status change shows at once."""
    store = open_store(file_root)
    assert {r["_id"]: r["status"] for r in store.list_runs()[1]}[3] == "RUNNING"
    run_json = file_root / "3" / "run.json"
    entry = json.loads(run_json.read_text())
    entry["status"] = "COMPLETED"
    run_json.write_text(json.dumps(entry))
    statuses = {r["_id"]: r["status"] for r in store.list_runs()[1]}
    assert statuses[3] == "COMPLETED"


def test_finished_runs_are_rechecked_in_the_background(file_root, monkeypatch):
    """A finished run changed by another program shows after the background recheck."""
    store = open_store(file_root)
    assert _ids(store)
    monkeypatch.setattr(fileindex, "FULL_RECHECK", 0.0)
    (file_root / "1" / "omniboard.json").write_text(json.dumps({"tags": ["elsewhere"]}))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        tags = {r["_id"]: r["omniboard"]["tags"] for r in store.list_runs()[1]}
        if tags[1] == ["elsewhere"]:
            break
        time.sleep(0.05)
    assert tags[1] == ["elsewhere"]


def test_cached_listings_follow_writes(file_root):
    """Tags written through the store are listed at once (the cached answer is dropped)."""
    store = open_store(file_root)
    query = RunQuery(filters=[], sort="tags")
    assert store.list_runs(query)[0] == 6
    store.set_tags(4, ["best"])
    rows = store.list_runs(RunQuery(search="best"))[1]
    assert [r["_id"] for r in rows] == [4]
    assert store.records() is store.records()  # the same list while nothing changes


def test_first_page_of_a_new_store_is_read_from_folder_names(file_root):
    """The first listing by id reads only the page's runs; the index then builds, and the
    answers agree with a full listing."""
    store = open_store(file_root)
    total, page = store.list_runs(RunQuery(limit=2))
    assert total == 6 and [r["_id"] for r in page] == [6, 5]
    total, page = store.list_runs(RunQuery(limit=2, offset=1, sort="id"))
    assert [r["_id"] for r in page] == [2, 3]
    full = open_store(file_root)
    full.records()
    assert full.list_runs(RunQuery(limit=2))[1][0]["_id"] == 6
