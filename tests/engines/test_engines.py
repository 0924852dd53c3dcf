"""A 2x2x3 grid on each engine, for real: 12 runs, unique ids, right configs, one sweep.

Engines: in-process, ProcessPoolExecutor, loky, submitit (its LocalExecutor, the Slurm
path on this machine), Dask (a LocalCluster of 2 processes, by address and started by the
engine). Ray has its own module (one Ray session for its tests). An engine that cannot
start fails its test with the reason; none is skipped.
"""

from __future__ import annotations

import pytest
from conftest import GRID, SEEDS, assert_grid_landed, file_runs

import sacredlite
from sacredlite.engines import open_engine


@pytest.mark.parametrize(
    ("engine", "options"),
    [
        ("local", {}),
        ("process", {}),
        ("loky", {}),
        ("slurm", {"cluster": "local"}),
    ],
)
def test_a_grid_lands_once_per_point_and_seed(engine, options, grid_script, tmp_path):
    """Each engine records the 12 runs once each, with their configs and the sweep's tag."""
    if engine == "slurm":
        options = {**options, "folder": str(tmp_path / "submitit")}
    runs_dir = tmp_path / "runs"
    result = sacredlite.sweep(
        str(grid_script),
        grid=GRID,
        seeds=SEEDS,
        executor=engine,
        jobs=2,
        executor_options=options,
        file_storage=runs_dir,
    )
    assert result.ok, result.outcomes
    assert_grid_landed(file_runs(runs_dir), result.sweep_id, result.run_ids)


def test_dask_by_scheduler_address(grid_script, tmp_path):
    """A running Dask scheduler (a LocalCluster of 2 worker processes) runs the grid."""
    import distributed  # the test extra installs it; a missing engine fails here, loudly

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        result = sacredlite.sweep(
            str(grid_script),
            grid=GRID,
            seeds=SEEDS,
            config_updates={"fail_width": 128},
            executor="dask",
            executor_options={"address": cluster.scheduler_address},
            file_storage=tmp_path / "runs",
        )
    assert result.counts() == {"COMPLETED": 6, "FAILED": 6}
    assert_grid_landed(file_runs(tmp_path / "runs"), result.sweep_id, result.run_ids, 128)


def test_dask_local_cluster_started_by_the_engine(grid_script, tmp_path):
    """Without an address the engine starts (and closes) a LocalCluster of --jobs workers."""
    engine = open_engine("dask", 2, {})
    try:
        workers = engine.executor._client.scheduler_info()["workers"]
        assert len(workers) == 2
        result = sacredlite.sweep(
            str(grid_script), grid=GRID, seeds=SEEDS, executor=engine.executor,
            file_storage=tmp_path / "runs",
        )  # fmt: skip
    finally:
        engine.shutdown()
    assert result.ok
    assert_grid_landed(file_runs(tmp_path / "runs"), result.sweep_id, result.run_ids)


def test_any_executor_object_works(grid_script, tmp_path):
    """A plain concurrent.futures executor is enough (the protocol is Executor)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        result = sacredlite.sweep(
            str(grid_script), grid=GRID, seeds=SEEDS, executor=pool, file_storage=tmp_path / "r"
        )
    assert_grid_landed(file_runs(tmp_path / "r"), result.sweep_id, result.run_ids)


def test_an_experiment_object_and_an_observer_object(grid_script, tmp_path):
    """sweep(ex, observers=[FileStorageObserver]) finds ex's script and variable for workers."""
    import importlib.util

    from sacredlite.observers import FileStorageObserver

    spec = importlib.util.spec_from_file_location("grid_exp_for_object_test", grid_script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    runs_dir = tmp_path / "runs"
    result = sacredlite.sweep(
        module.ex, grid=GRID, seeds=SEEDS, executor="process", jobs=2,
        observers=[FileStorageObserver(runs_dir)],
    )  # fmt: skip
    assert result.ok
    assert_grid_landed(file_runs(runs_dir), result.sweep_id, result.run_ids)


def test_a_worker_that_cannot_import_the_script_reports_every_run(tmp_path):
    """A script that fails to import: no run is recorded, each says why, nothing hangs."""
    script = tmp_path / "broken.py"
    script.write_text("import no_such_module_here\n")
    result = sacredlite.sweep(str(script), grid={"a": [1, 2]}, executor="loky", jobs=2)
    assert result.counts() == {"NOT_RECORDED": 2}
    assert all("No module named 'no_such_module_here'" in o.error for o in result.outcomes)
