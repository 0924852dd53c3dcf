import json
import os
from datetime import datetime, timedelta, timezone

import pytest
import runbuilder

from sacredlite.store import Filter, RunNotFound, RunQuery, StoreError, open_store


def test_lists_all_runs_newest_first(file_root):
    """Listing returns every run directory, sorted by id descending by default."""
    store = open_store(file_root)
    total, rows = store.list_runs()
    assert total == 6
    assert [r["_id"] for r in rows] == [6, 5, 4, 3, 2, 1]
    assert rows[-1]["experiment"]["name"] == "mnist"
    assert rows[-1]["start_time"].tzinfo is not None


def test_filters_sort_and_page(file_root):
    """Filters combine, sort takes any path, and offset/limit page the result."""
    store = open_store(file_root)
    q = RunQuery(filters=[Filter("experiment", "eq", "mnist")], sort="config.lr")
    total, rows = store.list_runs(q)
    assert total == 3 and [r["_id"] for r in rows] == [5, 3, 1]
    total, rows = store.list_runs(RunQuery(filters=[Filter("config.batch", "ge", 96)], limit=2))
    assert total == 4 and [r["_id"] for r in rows] == [6, 5]
    total, _ = store.list_runs(RunQuery(filters=[Filter("status", "in", ["FAILED", "RUNNING"])]))
    assert total == 2
    total, _ = store.list_runs(RunQuery(search="NUMBER 4"))
    assert total == 1


def test_sorts_by_metric_rollup(file_root):
    """A metric roll-up column sorts runs by the last value of that metric."""
    store = open_store(file_root)
    _, rows = store.list_runs(RunQuery(sort="-metric:loss:last"))
    assert [r["_id"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert store.rollups(1)["loss"]["min"] == pytest.approx(1 / 100)


def test_derives_probably_dead_from_stale_heartbeat(tmp_path):
    """A RUNNING run with an old heartbeat reads as PROBABLY_DEAD; a fresh one stays RUNNING."""
    now = datetime.now(timezone.utc)
    runbuilder.write_file_run(tmp_path, 1, status="RUNNING", heartbeat=now - timedelta(hours=1))
    runbuilder.write_file_run(tmp_path, 2, status="RUNNING", heartbeat=now)
    store = open_store(tmp_path)
    total, rows = store.list_runs(RunQuery(filters=[Filter("status", "eq", "PROBABLY_DEAD")]))
    assert [r["_id"] for r in rows] == [1]
    assert json.loads((tmp_path / "1" / "run.json").read_text())["status"] == "RUNNING"


def test_rereads_only_changed_runs(file_root):
    """The index re-parses a run only when one of its files changes."""
    store = open_store(file_root)
    first = {r["_id"]: r for r in store.records()}
    cfg = file_root / "3" / "config.json"
    cfg.write_text(json.dumps({"lr": 5}))
    os.utime(cfg, ns=(1, 1))
    second = {r["_id"]: r for r in store.records()}
    assert second[1] is first[1]
    assert second[3]["config"] == {"lr": 5}


def test_ignores_broken_and_foreign_directories(file_root):
    """Folders without run.json, _sources and half-written run.json files do not break listing."""
    (file_root / "notarun").mkdir()
    (file_root / "99").mkdir()
    (file_root / "99" / "run.json").write_text('{"status": "RUN')
    store = open_store(file_root)
    assert store.list_runs()[0] == 6


def test_metric_downsampling_keeps_spikes(tmp_path):
    """A long metric comes back as at most N points and a single spike survives."""
    values = [0.0] * 20_000
    values[14_321] = 1000.0
    runbuilder.write_file_run(tmp_path, 1, metrics={"loss": (range(20_000), values)})
    store = open_store(tmp_path)
    out = store.metric(1, "loss", points=500)
    assert len(out["steps"]) <= 500 and out["total"] == 20_000 and out["downsampled"]
    assert max(out["values"]) == 1000.0
    assert 14_321 in out["steps"]
    window = store.metric(1, "loss", start=14_000, stop=14_400, points=1000)
    assert window["steps"] == list(range(14_000, 14_401)) and not window["downsampled"]


def test_reads_live_jsonl_metrics_incrementally(tmp_path):
    """A live run's metrics.jsonl is read from where the last read stopped; a torn line waits."""
    run_dir = runbuilder.write_file_run(
        tmp_path,
        1,
        status="RUNNING",
        jsonl_metrics=[
            {"loss": {"steps": [0, 1, 2], "values": [1.0, 0.9, 0.8], "timestamps": ["x"] * 3}}
        ],
    )
    store = open_store(tmp_path)
    assert store.metric(1, "loss")["values"] == [1.0, 0.9, 0.8]
    with open(run_dir / "metrics.jsonl", "a") as fh:
        fh.write(
            json.dumps(
                {
                    "loss": {"steps": [3], "values": [0.7], "timestamps": ["y"]},
                    "acc": {"steps": [0], "values": [0.5], "timestamps": ["y"]},
                }
            )
            + "\n"
        )
        fh.write('{"loss": {"steps": [4], "val')
    assert store.metric(1, "loss")["values"] == [1.0, 0.9, 0.8, 0.7]
    assert store.metric_names(1) == ["acc", "loss"]
    with open(run_dir / "metrics.jsonl", "a") as fh:
        fh.write('ues": [0.6], "timestamps": ["z"]}}\n')
    assert store.metric(1, "loss")["values"][-1] == 0.6
    assert store.metric_points(1, "loss")["values"] == [1.0, 0.9, 0.8, 0.7, 0.6]


def test_final_metrics_json_wins_over_leftover_side_file(tmp_path):
    """Once metrics.json exists it is complete; a leftover metrics.jsonl is ignored."""
    runbuilder.write_file_run(
        tmp_path,
        1,
        metrics={"loss": ([0, 1], [1.0, 0.9])},
        jsonl_metrics=[{"loss": {"steps": [0, 1], "values": [1.0, 0.9], "timestamps": ["x"] * 2}}],
    )
    store = open_store(tmp_path)
    assert store.metric(1, "loss")["values"] == [1.0, 0.9]
    assert store.metric_points(1, "loss")["steps"] == [0, 1]


def test_side_file_continuing_metrics_json_is_merged(tmp_path):
    """metrics.json plus a side file that continues it read as one series, live and after."""
    from sacredlite.formats.file import MetricsWriter

    run_dir = runbuilder.write_file_run(tmp_path, 1, status="RUNNING")
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    writer = MetricsWriter(run_dir, live_limit=60)

    def add(steps):
        writer.add({"loss": {"steps": steps, "values": [0.5] * len(steps), "timestamps": [now]}})

    add([0])  # small: metrics.json only
    store = open_store(tmp_path)
    assert store.metric(1, "loss")["steps"] == [0]
    add([1, 2])  # past live_limit: the side file begins
    assert store.metric(1, "loss")["steps"] == [0, 1, 2]
    add([3])
    assert store.metric(1, "loss")["steps"] == [0, 1, 2, 3]
    side = (run_dir / "metrics.jsonl").read_bytes()
    writer.finish()
    (run_dir / "metrics.jsonl").write_bytes(side)  # a crash between the last two steps
    assert store.metric(1, "loss")["steps"] == [0, 1, 2, 3]
    assert store.metric_points(1, "loss")["steps"] == [0, 1, 2, 3]


def test_nan_values_become_null(tmp_path):
    """NaN and infinity in a metric are sent as None, keeping JSON valid."""
    runbuilder.write_file_run(
        tmp_path, 1, metrics={"x": ([0, 1, 2], [1.0, float("nan"), float("inf")])}
    )
    assert open_store(tmp_path).metric(1, "x")["values"] == [1, None, None]


def test_tags_and_notes_go_to_side_file(file_root):
    """Tags and notes are written to omniboard.json and run.json is left untouched."""
    before = (file_root / "2" / "run.json").read_bytes()
    store = open_store(file_root)
    store.set_tags(2, ["good", " good ", "best"])
    store.set_notes(2, "remember <this>")
    record = store.run(2)
    assert record["omniboard"] == {"tags": ["good", "best"], "notes": "remember <this>"}
    assert (file_root / "2" / "run.json").read_bytes() == before
    assert store.list_runs(RunQuery(filters=[Filter("tags", "contains", "best")]))[0] == 1


def test_read_only_refuses_writes(file_root):
    """A read-only store refuses tags, notes and deletes with a clear error."""
    store = open_store(file_root, read_only=True)
    with pytest.raises(StoreError, match="read-only"):
        store.set_tags(1, ["x"])
    with pytest.raises(StoreError, match="read-only"):
        store.delete_run(1)


def test_delete_removes_run_folder(file_root):
    """Deleting a run removes its folder and it disappears from the listing."""
    store = open_store(file_root)
    store.delete_run(4)
    assert not (file_root / "4").exists()
    assert 4 not in [r["_id"] for r in store.records()]
    with pytest.raises(RunNotFound):
        store.run(4)


def test_output_tail_and_offset(file_root):
    """Captured output can be read whole, from an offset, or as a tail."""
    store = open_store(file_root)
    whole = store.output(1)
    assert whole["text"] == "epoch 1\nrun 1 says hello\n"
    assert store.output(1, offset=8)["text"] == "run 1 says hello\n"
    assert store.output(1, tail=6)["text"] == "hello\n"


def test_artifacts_and_sources(file_root):
    """Artifacts and source files are listed and read from inside the storage root."""
    store = open_store(file_root)
    names = [a["name"] for a in store.artifacts(1)]
    assert names == ["model.txt", "plot.png"]
    path, ctype = store.artifact(1, "plot.png")
    assert ctype == "image/png" and path.read_bytes().startswith(b"\x89PNG")
    assert store.sources(1)[0]["path"] == "train.py"
    assert store.source(1, "train.py").startswith(b"import sacred")


@pytest.mark.parametrize(
    "name",
    ["../1/run.json", "/etc/passwd", "..%2f..%2fetc", "a/../../x", "sub\x00x", "..\\..\\x"],
)
def test_refuses_paths_outside_root(file_root, name):
    """Artifact names that are not the run's own, or escape the root, are refused."""
    store = open_store(file_root)
    with pytest.raises(StoreError):
        store.artifact(1, name)


def test_refuses_symlinked_artifact_outside_root(file_root, tmp_path):
    """An artifact that is a symlink to a file outside the root is refused."""
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    run_json = file_root / "1" / "run.json"
    doc = json.loads(run_json.read_text())
    doc["artifacts"].append("link.txt")
    run_json.write_text(json.dumps(doc))
    os.symlink(secret, file_root / "1" / "link.txt")
    store = open_store(file_root)
    with pytest.raises(StoreError, match="outside"):
        store.artifact(1, "link.txt")


def test_unknown_run_is_a_clear_error(file_root):
    """Asking for a run that does not exist names the id and the store."""
    store = open_store(file_root)
    with pytest.raises(RunNotFound, match="Run 42 does not exist"):
        store.run(42)
    with pytest.raises(RunNotFound):
        store.run("../runs")


def test_refuses_source_stored_outside_root(file_root, tmp_path):
    """A run.json whose source entry points outside the root is not followed."""
    (tmp_path / "secret.py").write_text("secret")
    run_json = file_root / "1" / "run.json"
    doc = json.loads(run_json.read_text())
    doc["experiment"]["sources"] = [["evil.py", "../secret.py"], ["abs.py", "/etc/passwd"]]
    run_json.write_text(json.dumps(doc))
    store = open_store(file_root)
    with pytest.raises(StoreError, match="'..' is not allowed"):
        store.source(1, "evil.py")
    with pytest.raises(StoreError):
        store.source(1, "abs.py")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mongodb://h:1/mydb", ("mongodb://h:1/mydb", "mydb")),
        ("mongodb://h:1", ("mongodb://h:1", "sacred")),
        ("h:27018", ("mongodb://h:27018", "sacred")),
        ("h:27018:exp", ("mongodb://h:27018", "exp")),
        ("exp", ("mongodb://localhost:27017", "exp")),
    ],
)
def test_parses_sacred_mongo_option(value, expected):
    """-m accepts Sacred's forms: URL, HOST:PORT, HOST:PORT:DB and DB."""
    from sacredlite.store import parse_mongo_option

    assert parse_mongo_option(value) == expected


def test_bad_mongo_option_is_explained():
    """An -m value in no known form names itself and the accepted forms."""
    from sacredlite.store import parse_mongo_option

    with pytest.raises(StoreError, match="'a:b:c:d'.*HOST:PORT:DB"):
        parse_mongo_option("a:b:c:d")


def test_big_metrics_are_cached_as_arrays_between_sessions(tmp_path, monkeypatch):
    """A parsed metrics.json is reused by the next store, and a rewritten one is re-read."""
    import time

    from sacredlite.store import filecache

    monkeypatch.setattr(filecache, "SERIES_MIN_POINTS", 1)
    run_dir = runbuilder.write_file_run(tmp_path / "r", 1, metrics={"loss": ([0, 1], [5.0, 4.0])})
    assert open_store(tmp_path / "r").metric(1, "loss")["values"] == [5, 4]
    cache_dir = filecache.cache_file(tmp_path).parent / "series"
    deadline = time.monotonic() + 10
    while not list(cache_dir.glob("*.npz")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(list(cache_dir.glob("*.npz"))) == 1
    assert open_store(tmp_path / "r").metric(1, "loss")["values"] == [5, 4]
    (run_dir / "metrics.json").write_text(
        json.dumps({"loss": {"steps": [0], "values": [9.0], "timestamps": ["t"]}})
    )
    assert open_store(tmp_path / "r").metric(1, "loss")["values"] == [9]


def test_named_run_folders_keep_their_names(tmp_path):
    """Run folders named like '007' or 'baseline' are listed and opened by that name."""
    runbuilder.write_file_run(tmp_path, "007")
    runbuilder.write_file_run(tmp_path, "baseline")
    runbuilder.write_file_run(tmp_path, 7)
    store = open_store(tmp_path)
    assert sorted(str(r["_id"]) for r in store.records()) == ["007", "7", "baseline"]
    assert store.run(store.parse_id("007"))["_id"] == "007"
    assert store.run(store.parse_id("7"))["_id"] == 7
    assert store.run(store.parse_id("baseline"))["_id"] == "baseline"


SECRET = "TOP-SECRET-OUTSIDE-THE-ROOT"


def _plant_links(root, outside):
    """Replace run 1's own files by symlinks to files outside the root (the attack of
    issue 9); return run 1's folder."""
    outside.mkdir()
    (outside / "doc.json").write_text(json.dumps({"secret": SECRET}))
    (outside / "cout.txt").write_text(SECRET + "\n")
    points = {"steps": [1], "values": [7], "timestamps": ["2026-01-01T00:00:00"]}
    (outside / "metrics.json").write_text(json.dumps({SECRET: points}))
    (outside / "metrics.jsonl").write_text(json.dumps({SECRET: points}) + "\n")
    (outside / "omniboard.json").write_text(json.dumps({"tags": [SECRET], "notes": SECRET}))
    run = root / "1"
    links = {
        "config.json": "doc.json",
        "info.json": "doc.json",
        "cout.txt": "cout.txt",
        "metrics.json": "metrics.json",
        "metrics.jsonl": "metrics.jsonl",
        "omniboard.json": "omniboard.json",
    }
    for name, target in links.items():
        if (run / name).exists():
            (run / name).unlink()
        os.symlink(outside / target, run / name)
    return run


def test_run_files_linked_outside_the_root_are_ignored(file_root, tmp_path):
    """Symlinks planted in a run folder that lead outside the root are never read."""
    _plant_links(file_root, tmp_path / "outside")
    store = open_store(file_root)
    _, rows = store.list_runs(RunQuery(sort="config.secret"))
    record = store.run(1)
    assert record["config"] == {} and record["info"] == {}
    assert record["omniboard"] == {"tags": [], "notes": ""}
    assert store.output(1) == {"text": "", "start": 0, "end": 0}
    assert store.metric_names(1) == [] and store.rollups(1) == {}
    with pytest.raises(StoreError, match="outside"):
        store.metric_points(1, SECRET)
    assert SECRET not in repr(rows) + repr(record)


def test_run_json_linked_outside_the_root_is_refused(file_root, tmp_path):
    """A run whose run.json leads outside the root is not listed, and asking for it says why."""
    outside = tmp_path / "outside.json"
    doc = json.loads((file_root / "2" / "run.json").read_text())
    outside.write_text(json.dumps({**doc, "comment": SECRET}))
    (file_root / "2" / "run.json").unlink()
    os.symlink(outside, file_root / "2" / "run.json")
    store = open_store(file_root)
    total, rows = store.list_runs()
    assert total == 5 and 2 not in [r["_id"] for r in rows]
    with pytest.raises(StoreError, match="resolves outside"):
        store.run(2)


def test_links_that_stay_inside_the_root_are_followed(file_root):
    """A symlink from one run's file to another run's file inside the root still works."""
    (file_root / "2" / "cout.txt").unlink()
    os.symlink("../1/cout.txt", file_root / "2" / "cout.txt")
    assert open_store(file_root).output(2)["text"] == "epoch 1\nrun 1 says hello\n"


def test_a_fifo_planted_as_output_does_not_block(file_root):
    """A named pipe in place of cout.txt is refused at once instead of blocking the reader."""
    (file_root / "1" / "cout.txt").unlink()
    os.mkfifo(file_root / "1" / "cout.txt")
    assert open_store(file_root).output(1)["text"] == ""


def test_tags_are_written_beside_a_planted_link_not_through_it(file_root, tmp_path):
    """Writing tags replaces a planted omniboard.json link; the file outside is unchanged."""
    run = _plant_links(file_root, tmp_path / "outside")
    store = open_store(file_root)
    store.set_tags(1, ["mine"])
    assert json.loads((tmp_path / "outside" / "omniboard.json").read_text())["tags"] == [SECRET]
    assert not (run / "omniboard.json").is_symlink()
    assert store.run(1)["omniboard"]["tags"] == ["mine"]
