"""Running scripts from the command line records runs on disk (real files, real git)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from git_repo import git

SCRIPT = textwrap.dedent('''
    """A tiny experiment."""
    from sacredlite import Experiment

    ex = Experiment("tiny")

    @ex.config
    def cfg():
        a = 1  # first value
        b = "two"
        c = [3]

    @ex.automain
    def main(a, b, c, _run):
        _run.log_scalar("loss", 0.5)
        print("running with", a, b, c)
        return a * 10
''')


@pytest.fixture
def project(tmp_path):
    """A git repository with one commit holding the experiment script."""
    (tmp_path / "tiny.py").write_text(SCRIPT)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "tiny.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def run_script(cwd, *args):
    return subprocess.run(
        [sys.executable, "tiny.py", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_file_storage_run_records_everything(project):
    """-F writes run.json, config.json, metrics.json, cout.txt and the sources."""
    out = run_script(project, "-F", "runs", "with", "a=3", "-c", "hello")
    assert out.returncode == 0, out.stderr
    run_dir = project / "runs" / "1"
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "COMPLETED" and run["result"] == 30
    assert run["experiment"]["name"] == "tiny"
    assert run["experiment"]["mainfile"] == "tiny.py"
    assert run["experiment"]["sources"][0][0] == "tiny.py"
    assert run["experiment"]["repositories"][0]["dirty"] is False
    assert run["meta"]["comment"] == "hello"
    assert run["meta"]["options"]["UPDATE"] == ["a=3"]
    assert run["host"]["python_version"]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["a"] == 3 and config["b"] == "two" and config["c"] == [3]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["loss"]["values"] == [0.5] and metrics["loss"]["steps"] == [0]
    assert "running with 3 two [3]" in (run_dir / "cout.txt").read_text()
    assert 'Started run with ID "1"' in out.stderr


def test_enforce_clean_refuses_a_dirty_repository(project):
    """-e refuses to start when the repository has uncommitted changes: a hint names the
    file, the last line is Sacred's error."""
    (project / "tiny.py").write_text(SCRIPT + "\n# changed\n")
    out = run_script(project, "-e", "-F", "runs")
    assert out.returncode == 1
    lines = out.stderr.splitlines()
    assert lines[0] == "--enforce_clean: the repository is dirty (tiny.py); commit or stash first."
    assert lines[-1].startswith('RuntimeError: EnforceClean: Uncommited changes in the "{')
    assert "'dirty': True}\" repository." in lines[-1]
    assert not (project / "runs" / "1").exists()


def test_file_storage_path_that_is_a_file_is_one_line(project):
    """-F naming a file fails before the run, the last line naming the path."""
    (project / "blocker").write_text("not a directory")
    out = run_script(project, "-F", "blocker")
    assert out.returncode == 1
    last = out.stderr.splitlines()[-1]
    assert last.startswith("sacredlite.utils.ObserverError: FileStorageObserver basedir 'blocker'")
    assert not (project / "runs").exists()


def test_print_dependencies_lists_sources_and_repository(project):
    """print_dependencies shows the source with its md5 and the git commit."""
    out = run_script(project, "print_dependencies")
    assert out.returncode == 0, out.stderr
    assert "Sources:" in out.stdout and "tiny.py" in out.stdout
    assert "Version Control:" in out.stdout


def test_print_config_from_a_script_shows_docs(project):
    """print_config shows entries with their comment docs and marks updates."""
    out = run_script(project, "print_config", "with", "a=5")
    assert out.returncode == 0, out.stderr
    assert "\033[34m  a = 5 " in out.stdout and "# first value" in out.stdout  # blue: modified


def test_ingredient_module_is_recorded_as_a_source(tmp_path):
    """An ingredient created in an imported module records that module, not importlib."""
    (tmp_path / "dataset.py").write_text(
        textwrap.dedent("""
        from sacredlite import Ingredient
        data = Ingredient("dataset")

        @data.config
        def cfg():
            n = 3
    """)
    )
    (tmp_path / "main.py").write_text(
        textwrap.dedent("""
        from sacredlite import Experiment
        from dataset import data
        ex = Experiment("m", ingredients=[data])

        @ex.automain
        def main(dataset):
            return dataset["n"]
    """)
    )
    out = subprocess.run(
        [sys.executable, "main.py", "-F", "runs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    run = json.loads((tmp_path / "runs" / "1" / "run.json").read_text())
    assert sorted(src for src, _ in run["experiment"]["sources"]) == ["dataset.py", "main.py"]
    assert run["result"] == 3


def test_enforce_clean_outside_a_repository_refuses(tmp_path):
    """-e refuses to start when no repository holds the sources (hint, then Sacred's error)."""
    (tmp_path / "tiny.py").write_text(SCRIPT)
    out = run_script(tmp_path, "-e")
    assert out.returncode == 1
    assert out.stderr.startswith("--enforce_clean: no git repository holds")
    assert out.stderr.rstrip().endswith("corresponding python package is installed.")
