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


def test_the_index_is_cached_on_disk_in_chunks(file_root, monkeypatch):
    """A new session loads the saved index (written in chunks, so writing it never holds
    the interpreter long); a cache holding anything but plain data is ignored."""
    import pickle

    from sacredlite.store import filecache

    monkeypatch.setattr(filecache, "CHUNK", 2)
    store = open_store(file_root)
    store.records()
    filecache._write_index(store.root, dict(store._index._entries))
    loaded = filecache.load_index(store.root)
    assert sorted(loaded) == ["1", "2", "3", "4", "5", "6"]
    assert loaded["4"][2]["status"] == "COMPLETED"
    with open(filecache.cache_file(store.root), "ab") as fh:  # a chunk after the end is ignored
        fh.write(b"junk")
    assert sorted(filecache.load_index(store.root)) == sorted(loaded)
    path = filecache.cache_file(store.root)
    with open(path, "wb") as fh:
        pickle.dump({"version": filecache._VERSION, "root": str(store.root)}, fh)
        pickle.dump({"1": shutil.rmtree}, fh)  # a function: refused by the unpickler
    assert filecache.load_index(store.root) == {}


def test_a_listing_of_every_run_reads_each_run_once(file_root, monkeypatch):
    """On a never-seen store, a listing of every run (what an analysis asks for) builds
    the index at once: each run.json is opened once, not once for the answer and again in
    the background; a file the index saw missing is not opened, and shows once it appears."""
    from sacredlite.formats import file as fmt
    from sacredlite.store.file import FileStore

    (file_root / "2" / "config.json").unlink(missing_ok=True)
    opened = []
    real_open = fmt.open_inside

    def counting_open(root, *parts):
        opened.append(parts)
        return real_open(root, *parts)

    monkeypatch.setattr(fmt, "open_inside", counting_open)
    store = FileStore(file_root, cache_index=False)
    total, rows = store.list_runs(RunQuery(), ["config"])
    assert total == 6 and sorted(r["_id"] for r in rows) == [1, 2, 3, 4, 5, 6]
    time.sleep(0.3)  # a background build, if one had started, would have read them again
    assert sorted(p[0] for p in opened if p[1:] == ("run.json",)) == list("123456")
    assert ("2", "config.json") not in opened
    assert {r["_id"]: r["config"] for r in rows}[2] == {}
    monkeypatch.setattr(fileindex, "FULL_RECHECK", 0.0)
    (file_root / "2" / "config.json").write_text(json.dumps({"lr": 0.5}))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        configs = {r["_id"]: r["config"] for r in store.list_runs(RunQuery(), ["config"])[1]}
        if configs[2]:
            break
        time.sleep(0.05)
    assert configs[2] == {"lr": 0.5}
