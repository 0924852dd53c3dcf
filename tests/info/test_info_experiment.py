"""ex_info of a real Experiment defined in a script inside a temporary git repository."""

from __future__ import annotations

import hashlib
import runpy
import sys
from pathlib import Path

import numpy
import pytest
from git_repo import git

import sacredlite
from sacredlite.info.git import dirty_files

SCRIPT = '''"""Records itself."""
import numpy as np
from sacredlite import Experiment
import data_{tag}

ex = Experiment("recorder", ingredients=[data_{tag}.data])
ex.add_source_file("extra.txt")
ex.add_package_dependency("mypkg", "1.0")

@ex.main
def main():
    return 1
'''

INGREDIENT = """from sacredlite import Ingredient
import helper_{tag}

# _caller_globals given explicitly: Ingredient's own frame lookup is one frame off
# (it picks importlib's globals when created at import time), reported to the core.
data = Ingredient("data", _caller_globals=globals())
"""


@pytest.fixture
def experiment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    tag = tmp_path.name.replace("-", "_")
    root = tmp_path / "proj"
    root.mkdir()
    (root / "exp.py").write_text(SCRIPT.format(tag=tag))
    (root / f"data_{tag}.py").write_text(INGREDIENT.format(tag=tag))
    (root / f"helper_{tag}.py").write_text("H = 1\n")
    (root / "extra.txt").write_text("extra\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "init")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.chdir(root)
    before = set(sys.modules)
    globs = runpy.run_path(str(root / "exp.py"), run_name="exp_under_test")
    yield root, tag, globs["ex"]
    for name in set(sys.modules) - before:
        if tag in name:
            del sys.modules[name]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_experiment_info_of_a_clean_repository(experiment):
    """Sources of experiment and ingredients, explicit additions, deps and the commit."""
    root, tag, ex = experiment
    info = ex.get_experiment_info()
    assert info["name"] == "recorder"
    assert info["base_dir"] == str(root)
    assert info["mainfile"] == "exp.py"
    assert "doc" not in info
    assert info["sources"] == sorted(
        [name, md5(root / name)]
        for name in ("exp.py", f"data_{tag}.py", f"helper_{tag}.py", "extra.txt")
    )
    assert info["dependencies"] == [
        "mypkg==1.0",
        f"numpy=={numpy.__version__}",
        f"sacredlite=={sacredlite.__version__}",
    ]
    assert info["repositories"] == [
        {"url": f"git:/{root}", "commit": git(root, "rev-parse", "HEAD"), "dirty": False}
    ]


def test_experiment_info_of_a_dirty_repository(experiment):
    """A changed ingredient helper makes the repository dirty with its diff recorded."""
    root, tag, ex = experiment
    (root / f"helper_{tag}.py").write_text("H = 2\n")
    [repo] = ex.get_experiment_info()["repositories"]
    assert repo["dirty"] is True
    assert "-H = 1\n+H = 2\n" in repo["diff"]
    assert dirty_files(repo) == [f"helper_{tag}.py"]


def test_save_git_info_false(experiment):
    """save_git_info=False records no repositories."""
    _, _, ex = experiment
    ex.save_git_info = False
    assert ex.get_experiment_info()["repositories"] == []
