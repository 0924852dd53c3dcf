"""``sacredlite sweep`` on the command line: dry run, counts, exit codes, recorded options."""

from __future__ import annotations

import json
import subprocess
import sys

from checkout import THIS_CHECKOUT
from conftest import GRID_ARGS, assert_grid_landed, file_runs

from sacredlite.__main__ import main


def test_dry_run_lists_each_run_with_its_updates_and_runs_nothing(grid_script, tmp_path, capsys):
    """--dry-run prints one line per run (its point and full updates) and exits 0."""
    runs_dir = tmp_path / "runs"
    code = main(["sweep", str(grid_script), "with", "fail_width=7", *GRID_ARGS, "--dry-run",
                 "-F", str(runs_dir)])  # fmt: skip
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].startswith("sweep ") and out[0].endswith(f"12 runs of {grid_script}")
    assert out[1] == (
        "  [0] lr=0.1 model.width=64 seed=0    with fail_width=7 lr=0.1 model.width=64 seed=0"
    )
    assert out[12] == (
        "  [11] lr=0.01 model.width=128 seed=2    with fail_width=7 lr=0.01 model.width=128 seed=2"
    )
    assert len(out) == 13
    assert not runs_dir.exists()


def test_a_failing_run_fails_alone_and_the_sweep_exits_1(grid_script, tmp_path, capsys):
    """Runs of width 128 fail; the others complete; counts are printed; the exit code is 1."""
    runs_dir = tmp_path / "runs"
    code = main(["sweep", str(grid_script), "with", "fail_width=128", *GRID_ARGS,
                 "--executor", "loky", "--jobs", "2", "-F", str(runs_dir)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1
    sweep_id = out.split()[1].rstrip(":")
    assert f"sweep {sweep_id}: 12 runs: 6 COMPLETED, 6 FAILED" in out
    assert out.count("(ValueError: width 128 fails)") == 6
    runs = file_runs(runs_dir)
    assert_grid_landed(runs, sweep_id, list(runs), fail_width=128)


def test_a_complete_sweep_exits_0(grid_script, tmp_path, capsys):
    """Every run completing gives exit code 0 and one progress line per run."""
    code = main(["sweep", str(grid_script), "--grid", "lr=[1,2]", "-F", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count(" COMPLETED  run ") == 2
    assert out.rstrip().endswith("2 runs: 2 COMPLETED")


def test_a_sweep_run_records_the_options_a_command_line_run_records(grid_script, tmp_path):
    """meta.options has the same keys as a plain `python script.py -F DIR` run; only
    meta.sweep is added."""
    plain = tmp_path / "plain"
    subprocess.run([sys.executable, str(grid_script), "-F", str(plain)], check=True,
                   env=THIS_CHECKOUT, capture_output=True)  # fmt: skip
    assert main(["sweep", str(grid_script), "--grid", "lr=[1]", "-F", str(tmp_path / "s")]) == 0
    by_cli = json.loads((plain / "1" / "run.json").read_text())["meta"]
    by_sweep = json.loads((tmp_path / "s" / "1" / "run.json").read_text())["meta"]
    assert set(by_sweep["options"]) == set(by_cli["options"])
    assert by_sweep["options"]["--file_storage"] == str(tmp_path / "s")
    assert set(by_sweep) - set(by_cli) == {"sweep"}
    assert by_sweep["options"]["UPDATE"] == ["lr=1"] and by_sweep["options"]["with"] is True
    assert "sweep" not in by_cli


def test_bad_input_is_one_line_naming_it(grid_script, capsys):
    """A grid axis without values, an unknown engine option: exit 2 and the fix."""
    assert main(["sweep", str(grid_script), "--grid", "lr"]) == 2
    assert "--grid 'lr' is not KEY=VALUES" in capsys.readouterr().err
    assert main(["sweep", str(grid_script), "--grid", "lr=1", "--executor", "dask",
                 "--executor-opt", "adress=tcp://x:1"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "takes no option 'adress'" in err and "Did you mean 'address'?" in err
    assert main(["sweep", str(grid_script), "--space", "lr=lognormal(1,2)", "--sample", "2"]) == 2
    assert "Unknown distribution 'lognormal'" in capsys.readouterr().err
