"""``sacredlite copy`` and ``export`` read runs from the TinyDB, SQL and S3 stores."""

from __future__ import annotations

import csv

import pytest
from extra_runs import ARTIFACT, RESOURCE, run_script

from sacredlite.store import StoreError, open_store


@pytest.fixture(scope="module")
def sources(tmp_path_factory, s3_env) -> dict[str, str]:
    """One completed run of the script in each of the three stores; their locations."""
    pytest.importorskip("tinydb")
    pytest.importorskip("sqlalchemy")
    project = tmp_path_factory.mktemp("transfer")
    url = f"s3://transfer-bucket/{project.name}"
    db = f"sqlite:///{project / 'runs.db'}"
    run_script(project, "-t", "db", "-s", db, "-S", url, env=s3_env)
    return {"tinydb": f"tinydb:{project / 'db'}", "sql": db, "s3": url, "project": str(project)}


@pytest.mark.parametrize("kind", ["tinydb", "sql", "s3"])
def test_copy_into_a_directory_keeps_the_run(sources, kind, tmp_path):
    """A copy to file storage has the run's config, metrics, output, artifact and
    resource, verified; a second copy adds nothing."""
    from sacredlite.transfer import copy_runs

    report = copy_runs(sources[kind], tmp_path / "copied")
    assert len(report.copied) == 1
    assert (report.verified_runs, report.verified_points, report.verified_artifacts) == (1, 3, 1)
    assert copy_runs(sources[kind], tmp_path / "copied").copied == []
    store = open_store(tmp_path / "copied")
    (record,) = store.records()
    run_id = record["_id"]
    assert record["config"]["lr"] == 0.1 and record["status"] == "COMPLETED"
    assert store.metric_points(run_id, "loss")["values"] == [1.0, 0.5, 1 / 3]
    assert "hello 0.1" in store.output(run_id)["text"]
    artifact = store.artifact(run_id, "out.txt")[0]
    assert (artifact.read_bytes() if hasattr(artifact, "read_bytes") else artifact) == ARTIFACT
    assert store.resource(run_id, record["resources"][0][0]) == RESOURCE


def test_export_reads_each_store(sources, tmp_path):
    """The runs table exported from each store has the run's config and metric summary."""
    from sacredlite.transfer import export_runs

    for kind in ("tinydb", "sql", "s3"):
        out = tmp_path / f"{kind}.csv"
        assert export_runs(sources[kind], out) == 1
        with out.open() as table:
            (row,) = csv.DictReader(table)
        assert row["config.lr"] == "0.1" and float(row["metric:loss:last"]) == pytest.approx(1 / 3)


def test_copy_into_these_stores_is_refused_without_a_stray_folder(sources, tmp_path, monkeypatch):
    """They are sources only: copying into a SQL URL says so and leaves no folder named
    after the URL."""
    from sacredlite.transfer import copy_runs

    monkeypatch.chdir(tmp_path)
    (tmp_path / "new.db").touch()
    with pytest.raises(StoreError):
        copy_runs(sources["tinydb"], "sqlite:///new.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.db"]
