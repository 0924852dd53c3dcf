"""TensorBoard in and out: event files written by tensorboard's own writer import as runs
(scalars with steps and wall times, one run per event directory); sacredlite ->
TensorBoard -> sacredlite keeps every metric point."""

from __future__ import annotations

import struct
from datetime import datetime, timezone

import pytest

from sacredlite.store import open_store
from sacredlite.transfer import export_tensorboard, import_tensorboard
from sacredlite.transfer.command import export_main, import_main
from sacredlite.transfer.tensorboard_events import scalars

pytest.importorskip("tensorboard")
WALL = 1_700_000_000.25


def write_with_tensorboard(logdir) -> None:
    """Two runs written by ``tensorboard.summary.Writer`` (float32 scalars), one of them
    with a second event file (a restarted writer)."""
    from tensorboard.summary import Writer

    for run, factor in (("a", 1.0), ("b", 2.0)):
        writer = Writer(str(logdir / run))
        for step in range(10):
            writer.add_scalar("loss", factor / (step + 1), step=step, wall_time=WALL + step)
            writer.add_scalar("lr", 0.1 * factor, step=step, wall_time=WALL + step)
        writer.close()
    writer = Writer(str(logdir / "b"))
    writer.add_scalar("loss", 0.01, step=10, wall_time=WALL + 10)
    writer.close()


def float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def test_import_of_event_files_tensorboard_wrote(tmp_path, capsys):
    """Each event directory is a run; scalars keep steps, values and wall times."""
    logdir = tmp_path / "logs"
    write_with_tensorboard(logdir)
    dst = tmp_path / "runs"
    assert import_main(["tensorboard", str(logdir), str(dst)]) == 0
    assert capsys.readouterr().out.startswith("Imported 2 runs from tensorboard at ")
    store = open_store(dst)
    runs = {store.run(r["_id"])["meta"]["comment"]: r["_id"] for r in store.records()}
    assert sorted(runs) == ["a", "b"]
    b = store.run(runs["b"])
    assert b["experiment"]["name"] == "logs" and b["status"] == "COMPLETED"
    assert b["meta"]["imported_from"] == {"kind": "tensorboard", "source": str(logdir), "id": "b"}
    assert b["start_time"] == datetime.fromtimestamp(WALL, timezone.utc)
    assert b["stop_time"] == datetime.fromtimestamp(WALL + 10, timezone.utc)
    loss = store.metric_points(runs["b"], "loss")
    assert loss["steps"] == list(range(11))
    assert loss["values"] == [float32(2.0 / (s + 1)) for s in range(10)] + [float32(0.01)]
    assert [t.timestamp() for t in loss["timestamps"]] == [WALL + s for s in range(11)]
    assert store.metric_names(runs["a"]) == ["loss", "lr"]
    store.close()
    assert import_main(["tensorboard", str(logdir), str(dst)]) == 0
    assert "Imported 0 runs" in capsys.readouterr().out


def test_sacredlite_tensorboard_sacredlite_round_trip(sacredlite_runs, tmp_path, capsys):
    """Every point comes back equal (double precision, millisecond times)."""
    logdir = tmp_path / "tb"
    assert export_main([str(sacredlite_runs), "--to", "tensorboard", str(logdir)]) == 0
    assert capsys.readouterr().out == f"Exported 5 runs to tensorboard at {logdir}.\n"
    assert export_tensorboard(sacredlite_runs, logdir) == 0  # written before
    points = list(scalars(next((logdir / "trainer" / "1").iterdir())))
    assert len(points) == 41
    back = tmp_path / "back"
    report = import_tensorboard(logdir, back)
    assert report.points == 5 * 41
    src, dst = open_store(sacredlite_runs), open_store(back)
    for record in dst.records():
        run = dst.run(record["_id"])
        assert run["experiment"]["name"] == "trainer"
        old = int(run["meta"]["comment"].split("/")[1])
        for name in src.metric_names(old):
            assert dst.metric_points(record["_id"], name) == src.metric_points(old, name)
    src.close()
    dst.close()


def test_a_torn_event_file_keeps_its_complete_records(tmp_path):
    """A record cut short (a writer killed mid-write) ends the file; earlier ones count."""
    logdir = tmp_path / "logs"
    write_with_tensorboard(logdir)
    path = next((logdir / "a").iterdir())
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    got = list(scalars(path))
    assert [p[:2] for p in got] == [(t, s) for s in range(10) for t in ("loss", "lr")][:-1]


def test_a_logdir_without_events_is_named(tmp_path, capsys):
    """An empty logdir is refused in one line."""
    (tmp_path / "empty").mkdir()
    assert import_main(["tensorboard", str(tmp_path / "empty"), str(tmp_path / "runs")]) == 1
    assert "No TensorBoard event files" in capsys.readouterr().err


def test_import_into_mongodb_equals_import_into_files(tmp_path, mongo_url):
    """The same event files imported into MongoDB hold the same points as in files."""
    logdir = tmp_path / "logs"
    write_with_tensorboard(logdir)
    import_tensorboard(logdir, tmp_path / "files")
    report = import_tensorboard(logdir, mongo_url)
    assert len(report.imported) == 2 and report.points == 41
    files, mongo = open_store(tmp_path / "files"), open_store(mongo_url=mongo_url)
    for record in files.records():
        for name in files.metric_names(record["_id"]):
            assert mongo.metric_points(record["_id"], name) == files.metric_points(
                record["_id"], name
            )
    files.close()
    mongo.close()
