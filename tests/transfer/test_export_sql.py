"""``sacredlite export`` (CSV, Parquet, long metrics) and ``sacredlite sql`` (DuckDB):
the board's columns, the points as stored, the answers the store gives."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
import pytest

from sacredlite.store import open_store
from sacredlite.store.records import flatten
from sacredlite.store.table import row
from sacredlite.transfer import copy_runs, export_runs, sql
from sacredlite.transfer.command import export_main, sql_main


def board_columns(root) -> list[str]:
    """The columns the board's row has, flattened config and metric summaries added."""
    store = open_store(root)
    record = store.run(1)
    names = store.metric_names(1)
    base = [c for c in row(record, [], store) if c != "cols"]
    config = [c for c in flatten(record["config"], "config")]
    metrics = [f"metric:{n}:{k}" for n in names for k in ("last", "min", "max")]
    store.close()
    return base + config + metrics


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_runs_table_has_the_boards_columns(sacredlite_runs, tmp_path, fmt):
    """One row per run, with the board's columns and the values the store gives."""
    out = tmp_path / f"runs.{fmt}"
    assert export_runs(sacredlite_runs, out) == 5
    if fmt == "parquet":
        table = pq.read_table(out)
        columns, rows = table.column_names, table.to_pylist()
    else:
        with open(out, newline="") as handle:
            reader = csv.DictReader(handle)
            columns, rows = list(reader.fieldnames or []), list(reader)
    assert sorted(columns) == sorted(board_columns(sacredlite_runs))
    assert columns[:6] == ["id", "status", "start_time", "stop_time", "heartbeat", "duration"]
    store = open_store(sacredlite_runs)
    for line in rows:
        run_id = int(line["id"])
        rollups = store.rollups(run_id)
        config = store.run(run_id)["config"]
        assert float(line["config.lr"]) == config["lr"]
        assert line["config.layers.act"] == "relu"
        assert float(line["metric:loss:min"]) == rollups["loss"]["min"]
        assert float(line["metric:loss:last"]) == rollups["loss"]["last"]
        assert float(line["metric:acc:max"]) == rollups["acc"]["max"]
    statuses = {int(r["id"]): r["status"] for r in rows}
    assert statuses == {1: "COMPLETED", 2: "COMPLETED", 3: "COMPLETED", 4: "COMPLETED", 5: "FAILED"}
    tags = {int(r["id"]): r["tags"] for r in rows}
    assert json.loads(tags[2]) == ["best", "paper"]
    store.close()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_metrics_export_is_every_point(sacredlite_runs, tmp_path, fmt):
    """--metrics writes one row per point, as the store holds them, for the selected runs."""
    out = tmp_path / f"points.{fmt}"
    code = export_main([str(sacredlite_runs), "--out", str(out), "--metrics", "--ids", "2-3"])
    assert code == 0
    if fmt == "parquet":
        rows = pq.read_table(out).to_pylist()
        assert pq.read_schema(out).names == ["run_id", "name", "step", "timestamp", "value"]
    else:
        with open(out, newline="") as handle:
            rows = list(csv.DictReader(handle))
    store = open_store(sacredlite_runs)
    expected = []
    for run_id in (2, 3):
        for name in store.metric_names(run_id):
            points = store.metric_points(run_id, name)
            for s, t, v in zip(
                points["steps"], points["timestamps"], points["values"], strict=True
            ):
                expected.append((run_id, name, s, t.isoformat(), v))
    got = [
        (
            int(r["run_id"]),
            r["name"],
            int(r["step"]),
            r["timestamp"] if isinstance(r["timestamp"], str) else r["timestamp"].isoformat(),
            float(r["value"]),
        )
        for r in rows
    ]
    assert got == expected
    store.close()


def test_export_from_mongo_matches_the_file_store(sacredlite_runs, mongo_url, tmp_path):
    """The same runs in MongoDB export the same table as from their files."""
    copy_runs(sacredlite_runs, mongo_url)
    export_runs(sacredlite_runs, tmp_path / "a.parquet")
    export_runs(mongo_url, tmp_path / "b.parquet")
    a, b = pq.read_table(tmp_path / "a.parquet"), pq.read_table(tmp_path / "b.parquet")
    assert a.column_names == b.column_names
    keep = [
        c for c in a.column_names if c not in ("start_time", "stop_time", "heartbeat", "duration")
    ]
    assert a.select(keep).to_pylist() == b.select(keep).to_pylist()


def test_sql_answers_as_the_store_does(sacredlite_runs):
    """SQL over runs and metrics gives what the store's own readers give."""
    names, rows = sql(
        'SELECT id, "config.lr", "metric:loss:min" FROM runs WHERE status = \'COMPLETED\' '
        'ORDER BY "config.lr" DESC',
        sacredlite_runs,
    )
    store = open_store(sacredlite_runs)
    completed = [r for r in store.records() if r["status"] == "COMPLETED"]
    expected = sorted(
        ((r["_id"], r["config"]["lr"], store.rollups(r["_id"])["loss"]["min"]) for r in completed),
        key=lambda t: -t[1],
    )
    assert names == ["id", "config.lr", "metric:loss:min"]
    assert rows == expected
    names, rows = sql(
        "SELECT r.id, count(*), max(m.step) FROM runs r JOIN metrics m ON m.run_id = r.id "
        "WHERE m.name = 'loss' GROUP BY r.id ORDER BY r.id",
        sacredlite_runs,
        ids="1-2",
    )
    assert rows == [(i, len(store.metric_points(i, "loss")["steps"]), 39) for i in (1, 2)]
    store.close()


def test_sql_command_prints_table_csv_and_json(sacredlite_runs, capsys):
    """``sacredlite sql`` prints an aligned table, CSV or JSON; a bad query is one line."""
    query = 'SELECT id, "config.name" AS name FROM runs WHERE id >= 4 ORDER BY id'
    assert sql_main([query, str(sacredlite_runs)]) == 0
    assert capsys.readouterr().out == "id  name\n4   other\n5   base\n(2 rows)\n"
    assert sql_main([query, str(sacredlite_runs), "--format", "csv"]) == 0
    assert capsys.readouterr().out == "id,name\n4,other\n5,base\n"
    assert sql_main([query, str(sacredlite_runs), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"id": 4, "name": "other"},
        {"id": 5, "name": "base"},
    ]
    assert sql_main(["SELECT nothing FROM runs", str(sacredlite_runs)]) == 1
    assert 'SQL query failed: Binder Error: Referenced column "nothing" not found' in (
        capsys.readouterr().err
    )


def test_sql_over_sacreds_own_runs(sacred_runs):
    """Runs Sacred 0.8.7 wrote answer SQL too."""
    names, rows = sql('SELECT id, status, "config.lr", result FROM runs ORDER BY id', sacred_runs)
    assert rows == [(1, "COMPLETED", 0.2, 0.4), (2, "FAILED", 0.1, None)]
