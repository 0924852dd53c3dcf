"""``sacredlite copy``: whole runs between file storage and MongoDB, both ways, for runs
made by sacredlite and by Sacred 0.8.7, idempotent, with ids kept or remapped."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from conftest import SACRED087, store_files

import sacredlite.formats.mongo as mongo_format
from sacredlite.store import StoreError, open_store
from sacredlite.transfer import copy_runs
from sacredlite.transfer.command import copy_main


def without_copied_from(files: dict[str, bytes], root: Path) -> dict[str, bytes]:
    """Drop ``meta.copied_from`` from every run.json, and check that each resource's stored
    path names a file of *root*'s ``_resources`` (then keep only its name: the path names
    the store it is in)."""
    out = {}
    for name, data in files.items():
        if name.endswith("/run.json"):
            entry = json.loads(data)
            entry["meta"].pop("copied_from", None)
            for res in entry.get("resources", []):
                stored = Path(res[1])
                assert (root / "_resources" / stored.name).is_file()
                res[1] = stored.name
            data = json.dumps(entry, sort_keys=True, indent=2).encode()
        out[name] = data
    return out


def test_file_mongo_file_round_trip_is_equal(sacredlite_runs, mongo_url, tmp_path, monkeypatch):
    """Every file of every run comes back byte for byte after file -> Mongo -> file, also
    when the metrics and the output overflowed MongoDB's documents on the way."""
    monkeypatch.setattr(mongo_format, "METRIC_PART_POINTS", 15)
    monkeypatch.setattr(mongo_format, "OUTPUT_LIMIT", 100)
    first = copy_runs(sacredlite_runs, mongo_url)
    assert [new for _, new in first.copied] == [1, 2, 3, 4, 5]
    assert first.verified and first.points == 5 * 41 and first.artifacts == 10
    mongo = open_store(mongo_url=mongo_url)
    db = mongo.db
    assert db["metrics_overflow"].count_documents({}) > 0
    assert db["runs_output"].count_documents({}) > 0
    assert mongo.run(2)["omniboard"] == {"tags": ["best", "paper"], "notes": "the one in the paper"}
    assert mongo.run(2)["meta"]["copied_from"] == {"store": str(sacredlite_runs.resolve()), "id": 2}
    mongo.close()
    back = tmp_path / "back"
    second = copy_runs(mongo_url, back)
    assert second.verified and second.points == first.points
    original = store_files(sacredlite_runs)
    copied = store_files(back)
    assert sorted(copied) == sorted(original)
    assert without_copied_from(copied, back) == without_copied_from(original, sacredlite_runs)


def test_sacred_file_storage_round_trip_is_equal(sacred_runs, mongo_url, tmp_path):
    """Sacred's own file storage comes back byte for byte through MongoDB: microsecond
    times, its info.metrics references and their ids included."""
    copy_runs(sacred_runs, mongo_url)
    back = tmp_path / "back"
    copy_runs(mongo_url, back)
    assert without_copied_from(store_files(back), back) == without_copied_from(
        store_files(sacred_runs), sacred_runs
    )


def test_sacred_mongo_database_copies_to_files(mongo_server, mongo_db_name, mongo_url, tmp_path):
    """Runs Sacred's MongoObserver stored become the files Sacred's FileStorageObserver
    wrote for the same runs (times at MongoDB's millisecond precision)."""
    from bson import json_util

    client = mongo_server.client()
    for collection, docs in json_util.loads((SACRED087 / "mongo.json").read_text()).items():
        client[mongo_db_name][collection].insert_many(docs)
    client.close()
    out = tmp_path / "files"
    report = copy_runs(mongo_url, out)
    assert report.verified and len(report.copied) == 2
    sacred = SACRED087 / "file_storage"
    for run in ("1", "2"):
        for name in ("config.json", "cout.txt", "info.json", "result.txt"):
            assert (out / run / name).read_bytes() == (sacred / run / name).read_bytes()
        ours = json.loads((out / run / "metrics.json").read_text())
        theirs = json.loads((sacred / run / "metrics.json").read_text())
        for metric in theirs:
            assert ours[metric]["steps"] == theirs[metric]["steps"]
            assert ours[metric]["values"] == theirs[metric]["values"]
            assert [t[:23] for t in ours[metric]["timestamps"]] == [
                t[:23] for t in theirs[metric]["timestamps"]
            ]
        entry = json.loads((out / run / "run.json").read_text())
        expected = json.loads((sacred / run / "run.json").read_text())
        entry["meta"].pop("copied_from")
        for key in ("start_time", "heartbeat", "stop_time"):
            assert entry.pop(key)[:23] == expected.pop(key)[:23]
        assert entry == expected
    # Sacred's GridFS files have no md5 (pymongo 4): it is computed from the content
    source = store_files(out)["_sources/sacred_demo_176d54a4505fee25513f241eadb21e77.py"]
    assert hashlib.md5(source).hexdigest() == "176d54a4505fee25513f241eadb21e77"


def test_a_second_copy_adds_nothing(sacredlite_runs, mongo_url, tmp_path):
    """Copying again (and copying the copies back where they came from) adds no run."""
    copy_runs(sacredlite_runs, mongo_url)
    again = copy_runs(sacredlite_runs, mongo_url)
    assert again.copied == [] and again.skipped == [1, 2, 3, 4, 5]
    home = copy_runs(mongo_url, sacredlite_runs)
    assert home.copied == [] and len(home.skipped) == 5
    assert sorted(p.name for p in sacredlite_runs.iterdir()) == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "_resources",
        "_sources",
    ]


def test_taken_ids_are_remapped_and_printed(sacredlite_runs, sacred_runs, tmp_path, capsys):
    """Runs whose ids are taken at the destination get the next free ids; the map is
    printed and each copy records its original id."""
    dst = tmp_path / "dst"
    copy_runs(sacred_runs, dst)  # takes ids 1 and 2
    assert copy_main([str(sacredlite_runs), str(dst), "-q"]) == 0
    out = capsys.readouterr().out
    assert "Run ids changed (source -> destination):\n  1 -> 3\n  2 -> 4\n" in out
    assert (
        "Verified at the destination: 5 runs, 205 metric points, 10 artifacts (all there)." in out
    )
    store = open_store(dst)
    moved = store.run(4)
    assert moved["meta"]["copied_from"]["id"] == 2
    assert moved["config"]["lr"] == 0.2
    assert store.run(3)["experiment"]["name"] == "trainer"
    assert [r["_id"] for r in store.records()] and len(store.records()) == 7
    store.close()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--status", "failed"], [5]),
        (["--ids", "2-3,5"], [2, 3, 5]),
        (["--experiment", "trainer", "--ids", "4"], [4]),
        (["--experiment", "nobody"], []),
        (["--since", "2000-01-01"], [1, 2, 3, 4, 5]),
        (["--since", "2999-01-01"], []),
    ],
)
def test_filters_choose_the_runs(sacredlite_runs, tmp_path, args, expected, capsys):
    """--status, --ids, --experiment and --since select the runs copied."""
    dst = tmp_path / "dst"
    assert copy_main([str(sacredlite_runs), str(dst), "-q", *args]) == 0
    store = open_store(dst)
    assert sorted(r["_id"] for r in store.records()) == expected
    store.close()


def test_a_copy_killed_halfway_is_redone(sacredlite_runs, mongo_url):
    """A run a killed copy left incomplete in MongoDB is deleted and copied again."""
    copy_runs(sacredlite_runs, mongo_url, ids="1-2")
    store = open_store(mongo_url=mongo_url)
    store.runs.update_one({"_id": 2}, {"$set": {mongo_format.WRITING: True}})
    store.metrics.delete_many({"run_id": 2})
    store.close()
    report = copy_runs(sacredlite_runs, mongo_url, ids="1-2")
    assert report.copied == [(2, 2)] and report.skipped == [1] and report.verified
    store = open_store(mongo_url=mongo_url)
    assert store.rollups(2)["loss"]["count"] == 40
    store.close()


def test_bad_arguments_are_named(sacredlite_runs, tmp_path, capsys):
    """A bad id range, a bad date, the same store twice, a missing source: one line each."""
    assert copy_main([str(sacredlite_runs), str(tmp_path / "x"), "--ids", "9-3"]) == 1
    assert "the range '9-3' is empty" in capsys.readouterr().err
    assert copy_main([str(sacredlite_runs), str(tmp_path / "x"), "--since", "soon"]) == 1
    assert "--since 'soon' is not a date" in capsys.readouterr().err
    assert copy_main([str(sacredlite_runs), str(sacredlite_runs)]) == 1
    assert "Source and destination are the same store" in capsys.readouterr().err
    assert copy_main([str(tmp_path / "none"), str(tmp_path / "y")]) == 1
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(StoreError):
        copy_runs(sacredlite_runs, sacredlite_runs)


def test_mongo_given_with_dash_m(sacredlite_runs, mongo_server, mongo_db_name, mongo_url, tmp_path):
    """``-m HOST:PORT:DB`` names a MongoDB store on either side."""
    dash_m = f"{mongo_server.address}:{mongo_db_name}"
    assert copy_main([str(sacredlite_runs), "-m", dash_m, "--ids", "1", "-q"]) == 0
    assert copy_main(["-m", dash_m, str(tmp_path / "out"), "-q"]) == 0
    # the same database named as a URL is the same store: run 1 is there already
    out = io.StringIO()
    report = copy_runs(sacredlite_runs, mongo_url, ids="1-2", out=out)
    assert report.copied == [(2, 2)] and report.skipped == [1] and out.getvalue() == ""
    again = copy_runs(mongo_url, tmp_path / "out")
    assert again.copied == [(2, 2)] and again.skipped == [1]
    assert (tmp_path / "out" / "1" / "config.json").read_bytes() == (
        sacredlite_runs / "1" / "config.json"
    ).read_bytes()
