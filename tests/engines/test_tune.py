"""``sacredlite tune``: Optuna finds a known minimum, prunes, and continues a study."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import optuna
from conftest import file_runs

import sacredlite
from sacredlite.__main__ import main

QUADRATIC = textwrap.dedent(
    """
    from sacredlite import Experiment
    from sacredlite.sweeps import TrialPruned, should_prune

    ex = Experiment("quadratic")

    @ex.config
    def cfg():
        x = 0.0
        steps = 6

    @ex.automain
    def main(x, steps, _run):
        for step in range(steps):  # converges to (x - 2)^2 from above
            loss = (x - 2) ** 2 + (steps - 1 - step) * 0.5
            _run.log_scalar("loss", loss, step)
            if should_prune(_run, loss, step):
                raise TrialPruned()
        return (x - 2) ** 2
    """
)


def write_quadratic(folder: Path) -> Path:
    script = folder / "quadratic.py"
    script.write_text(QUADRATIC)
    return script


def test_twenty_trials_find_the_minimum_and_prune_bad_ones(tmp_path, capsys):
    """20 trials of (x-2)^2 land near x=2; hopeless trials are pruned and stored so."""
    script = write_quadratic(tmp_path)
    runs_dir = tmp_path / "runs"
    code = main(["tune", str(script), "--optuna", "x=uniform(-10, 10)", "--trials", "20",
                 "--sampler-seed", "0", "-F", str(runs_dir)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    journal = runs_dir / "_optuna.journal"
    study = optuna.load_study(
        study_name="quadratic",
        storage=optuna.storages.journal.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(journal))
        ),
    )
    assert len(study.trials) == 20
    assert abs(study.best_params["x"] - 2) < 1.0 and study.best_value < 1.0
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned, "the median pruner stopped no trial"
    runs = file_runs(runs_dir)
    assert len(runs) == 20
    by_trial = {r["meta"]["sweep"]["trial"]: (run_id, r) for run_id, r in runs.items()}
    for trial in pruned:
        run_id, record = by_trial[trial.number]
        assert record["status"] == "INTERRUPTED"
        assert record["meta"]["sweep"]["point"] == {"x": trial.params["x"]}
        info = json.loads((runs_dir / str(run_id) / "info.json").read_text())
        assert info["pruned_at_step"] == max(trial.intermediate_values)
    for number, (_, record) in by_trial.items():
        trial = study.trials[number]
        assert record["config"]["x"] == trial.params["x"]
        if trial.state == optuna.trial.TrialState.COMPLETE:
            assert record["result"] == trial.value == (trial.params["x"] - 2) ** 2
    assert f"best {study.best_value:.6g}" in out


def test_a_second_search_continues_the_study(tmp_path):
    """The same study name continues: 5 + 3 trials in one study, runs from both searches."""
    script = write_quadratic(tmp_path)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first = sacredlite.tune(str(script), space={"x": "uniform(-4, 8)"}, trials=5,
                            study="s", storage=storage, file_storage=tmp_path / "runs")  # fmt: skip
    second = sacredlite.tune(str(script), space={"x": "uniform(-4, 8)"}, trials=3,
                             study="s", storage=storage, file_storage=tmp_path / "runs",
                             metric="loss", reduce="best")  # fmt: skip
    assert first.sweep_id != second.sweep_id
    assert [t.number for t in second.study.trials] == list(range(8))
    runs = file_runs(tmp_path / "runs")
    assert sorted(r["meta"]["sweep"]["trial"] for r in runs.values()) == list(range(8))
    for outcome in second.outcomes:
        if not outcome.pruned:  # the best logged loss is the last: (x-2)^2
            record = runs[int(outcome.run_id)]
            assert outcome.value == (record["config"]["x"] - 2) ** 2


def test_should_prune_outside_a_search_does_nothing(tmp_path):
    """The script runs alone unchanged: should_prune is False, nothing is reported."""
    from sacredlite.sweeps.task import ExperimentRef, load_experiment

    ex = load_experiment(ExperimentRef(str(write_quadratic(tmp_path))))
    run = ex.run(config_updates={"x": 30.0})
    assert run.status == "COMPLETED" and run.result == 28.0**2
    assert "pruned_at_step" not in run.info


def test_a_search_without_a_place_for_the_study_says_where(tmp_path, capsys):
    """No -F and no --storage: exit 2 naming both ways."""
    script = write_quadratic(tmp_path)
    assert main(["tune", str(script), "--optuna", "x=uniform(0, 1)", "--trials", "1"]) == 2
    assert "give -F DIR" in capsys.readouterr().err
