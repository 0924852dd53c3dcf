"""The grid and a search on Ray, for real: one local Ray session (2 CPUs) for this module.

Starting Ray takes several seconds here, so the module starts it once and shuts it down at
the end; the engine uses the running session and leaves it running.
"""

from __future__ import annotations

import pytest
from conftest import GRID, SEEDS, assert_grid_landed, file_runs

import sacredlite


@pytest.fixture(scope="module", autouse=True)
def ray_session():
    """A local Ray with 2 CPUs and no dashboard, for every test of this module."""
    import ray  # the test extra installs it; a missing engine fails here, loudly

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_a_grid_lands_on_ray_and_a_failing_run_fails_alone(grid_script, tmp_path):
    """12 runs as Ray tasks: unique ids, their configs, the tag; width 128 fails alone."""
    result = sacredlite.sweep(
        str(grid_script),
        grid=GRID,
        seeds=SEEDS,
        config_updates={"fail_width": 128},
        executor="ray",
        file_storage=tmp_path / "runs",
    )
    assert result.counts() == {"COMPLETED": 6, "FAILED": 6}
    assert not result.ok
    assert_grid_landed(file_runs(tmp_path / "runs"), result.sweep_id, result.run_ids, 128)


def test_a_search_on_ray_tells_every_trial(tmp_path):
    """Four trials as Ray tasks, two at a time: each a recorded run, each told to the study."""
    from test_tune import write_quadratic

    script = write_quadratic(tmp_path)
    result = sacredlite.tune(
        str(script), space={"x": "uniform(-4, 8)"}, trials=4, executor="ray", jobs=2,
        file_storage=tmp_path / "runs", sampler_seed=3,
    )  # fmt: skip
    assert len(result.study.trials) == 4
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in result.study.trials)
    assert len(file_runs(tmp_path / "runs")) == 4
