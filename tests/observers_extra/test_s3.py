"""S3Observer (``-S s3://BUCKET/PREFIX``) and the S3 run store, against a local S3 server
(moto's, on 127.0.0.1: no network)."""

from __future__ import annotations

import json

import pytest
from extra_runs import ARTIFACT, RESOURCE, md5, reference_python, run_script
from starlette.testclient import TestClient

from sacredlite.board.app import create_app
from sacredlite.store import ReadOnlyError, StoreError, open_store
from sacredlite.store.command import ls_main

boto3 = pytest.importorskip("boto3")


def _objects(bucket: str, prefix: str) -> dict[str, bytes]:
    client = boto3.client("s3")
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    client.close()
    return found


@pytest.fixture(scope="module")
def s3_runs(s3_env, tmp_path_factory):
    """Two runs (completed, failed) of the script into s3://runs-bucket/<folder>/a."""
    tmp_path = tmp_path_factory.mktemp("s3")
    url = f"s3://runs-bucket/{tmp_path.name}/a"
    run_script(tmp_path, "-S", url, env=s3_env)
    run_script(tmp_path, "with", "fail=True", "--s3", url, env=s3_env, check=False)
    return tmp_path


def test_stores_file_storage_layout_under_the_prefix(s3_runs):
    """run.json, config.json, cout.txt, metrics.json and the artifact are in BASEDIR/<id>/,
    sources and resources once in BASEDIR/_sources and BASEDIR/_resources."""
    prefix = f"{s3_runs.name}/a"
    objects = {
        key.replace(prefix, "exp/a", 1): data
        for key, data in _objects("runs-bucket", prefix + "/").items()
    }
    script_md5 = md5((s3_runs / "exp.py").read_bytes())
    assert f"exp/a/_sources/exp_{script_md5}.py" in objects
    assert objects[f"exp/a/_resources/data_{md5(RESOURCE)}.txt"] == RESOURCE
    run = json.loads(objects["exp/a/1/run.json"])
    assert run["status"] == "COMPLETED" and run["result"] == 0.2
    assert run["experiment"]["sources"] == [["exp.py", f"_sources/exp_{script_md5}.py"]]
    assert run["resources"] == [
        [str(s3_runs / "data.txt"), f"{prefix}/_resources/data_{md5(RESOURCE)}.txt"]
    ]
    assert run["artifacts"] == ["out.txt"]
    assert set(run) >= {"command", "host", "meta", "start_time", "heartbeat", "stop_time"}
    assert json.loads(objects["exp/a/1/config.json"])["layers"] == [1, 2]
    assert objects["exp/a/1/out.txt"] == ARTIFACT
    assert b"hello 0.1" in objects["exp/a/1/cout.txt"]
    assert b"Running command 'main'" in objects["exp/a/1/cout.txt"]  # the whole output
    metrics = json.loads(objects["exp/a/1/metrics.json"])
    assert metrics["loss"]["steps"] == [0, 1, 2]
    assert len(metrics["loss"]["timestamps"]) == 3
    failed = json.loads(objects["exp/a/2/run.json"])
    assert failed["status"] == "FAILED"
    assert failed["fail_trace"][-1].strip() == "ValueError: asked to fail"


@pytest.mark.skipif(reference_python("boto3") is None, reason="no Sacred 0.8.7 with boto3")
def test_run_json_matches_sacreds_own(s3_env, tmp_path):
    """Sacred 0.8.7 writes run.json and config.json with the same keys; the S3 store reads
    its runs (sources from where Sacred put them)."""
    run_script(tmp_path / "ours", "-S", "s3://parity-bucket/ours", env=s3_env)
    python = reference_python("boto3")
    run_script(tmp_path / "ref", "-S", "s3://parity-bucket/ref", env=s3_env, python=python)
    mine = _objects("parity-bucket", "ours/1/")
    theirs = _objects("parity-bucket", "ref/1/")
    assert {k.split("/", 2)[2] for k in mine if "_sources" not in k} >= {
        k.split("/", 2)[2] for k in theirs if "_sources" not in k and "_resources" not in k
    }
    ours_run, ref_run = json.loads(mine["ours/1/run.json"]), json.loads(theirs["ref/1/run.json"])
    assert sorted(ours_run) == sorted(ref_run)
    assert sorted(ours_run["experiment"]) == sorted(ref_run["experiment"])
    assert ours_run["resources"][0][1].replace("ours", "ref") == ref_run["resources"][0][1]
    assert sorted(json.loads(mine["ours/1/metrics.json"])["loss"]) == sorted(
        json.loads(theirs["ref/1/metrics.json"])["loss"]
    )
    store = open_store("s3://parity-bucket/ref")
    (record,) = store.records()
    assert record["_id"] == 1 and record["status"] == "COMPLETED"
    assert store.source(1, "exp.py") == (tmp_path / "ref" / "exp.py").read_bytes()
    store.close()


def test_store_lists_runs_and_the_board_reads_them(s3_runs, s3_endpoint, capsys):
    """``sacredlite ls s3://...`` lists the runs; the board reads metrics, output,
    artifacts and sources through the S3 store; tags are refused."""
    url = f"s3://runs-bucket/{s3_runs.name}/a"
    assert ls_main([url]) == 0
    listed = capsys.readouterr().out
    assert "COMPLETED" in listed and "FAILED" in listed
    store = open_store(url, endpoint_url=s3_endpoint)
    with TestClient(create_app(store)) as client:
        rows = client.get("/api/runs").json()["rows"]
        assert sorted(row["id"] for row in rows) == [1, 2]
        assert client.get("/api/runs/1/metrics/loss").json()["values"] == [1.0, 0.5, 1 / 3]
        assert "hello 0.1" in client.get("/api/runs/1/output").json()["text"]
        assert client.get("/api/runs/1/artifacts/out.txt").content == ARTIFACT
        source = client.get("/api/runs/1/sources/exp.py").content
        assert source == (s3_runs / "exp.py").read_bytes()
    with pytest.raises(ReadOnlyError, match="sacredlite copy"):
        store.set_tags(1, ["x"])
    assert store.resource(1, str(s3_runs / "data.txt")) == RESOURCE
    store.close()


def test_bad_locations_are_one_clear_error(s3_env):
    """A missing bucket, a malformed URL and an invalid bucket name are refused clearly."""
    from sacredlite.observers import S3Observer

    with pytest.raises(StoreError, match="does not exist"):
        open_store("s3://no-such-bucket/x")
    with pytest.raises(StoreError, match="s3://<bucket>/path/to/exp"):
        open_store("s3://")
    with pytest.raises(ValueError, match="naming rules"):
        S3Observer(bucket="Bad_Bucket", basedir="x")


def test_given_id_taken_raises_file_exists(s3_env):
    """Starting a run under an id whose folder holds objects fails as in Sacred."""
    from datetime import datetime

    from sacredlite.observers import S3Observer

    observer = S3Observer(bucket="ids-bucket", basedir="runs")
    ex_info = {"name": "x", "sources": [], "base_dir": "/tmp", "dependencies": []}
    args = dict(
        ex_info=ex_info,
        command="main",
        host_info={},
        start_time=datetime(2026, 1, 1),
        config={},
        meta_info={},
    )
    assert observer.started_event(_id=None, **args) == 1
    assert observer.started_event(_id=None, **args) == 2
    with pytest.raises(FileExistsError):
        observer.started_event(_id=1, **args)


def test_concurrent_runs_get_distinct_ids(s3_env):
    """Observers starting runs at once under one prefix never share a run folder."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import datetime

    from sacredlite.observers import S3Observer

    S3Observer(bucket="race-bucket", basedir="x")._create_bucket()
    ex_info = {"name": "x", "sources": [], "base_dir": "/tmp", "dependencies": []}

    def start(_):
        observer = S3Observer(bucket="race-bucket", basedir="runs")
        return observer.started_event(
            ex_info=ex_info,
            command="main",
            host_info={},
            start_time=datetime(2026, 1, 1),
            config={},
            meta_info={},
            _id=None,
        )

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(start, range(8)))
    assert sorted(ids) == list(range(1, 9))
