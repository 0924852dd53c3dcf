"""What an Ingredient records about its module: doc, sources, dependencies, experiment info."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

import sacredlite
from sacredlite import Ingredient
from sacredlite.errors import CircularDependencyError
from sacredlite.info.packages import PackageDependency
from sacredlite.info.sources import Source
from sacredlite.utils import CircularDependencyError as UtilsCircularDependencyError

THIS_DOC = __doc__


def test_ingredient_records_its_module():
    """An ingredient's doc is its module's docstring, and the module's file is a source."""
    ing = Ingredient("part")
    assert ing.doc == THIS_DOC
    assert Source.create(__file__) in ing.sources
    assert PackageDependency("numpy", numpy.__version__) in ing.dependencies


def test_add_source_file(tmp_path: Path):
    """add_source_file records an existing file and raises ValueError for a missing one."""
    extra = tmp_path / "notes.txt"
    extra.write_text("notes\n")
    ing = Ingredient("part")
    ing.add_source_file(str(extra))
    assert Source.create(str(extra)) in ing.sources
    with pytest.raises(ValueError, match="does not exist"):
        ing.add_source_file(str(tmp_path / "missing.py"))


def test_add_package_dependency():
    """add_package_dependency records name==version and rejects a non-PEP 440 version;
    a package discovery found keeps its installed version, as in Sacred."""
    ing = Ingredient("part")
    ing.add_package_dependency("django", "1.8.2")
    ing.add_package_dependency("numpy", "0.1")
    versions = {d.name: d.version for d in ing.dependencies}
    assert versions["django"] == "1.8.2"
    assert versions["numpy"] == numpy.__version__
    with pytest.raises(ValueError, match="Invalid Version"):
        ing.add_package_dependency("django", "foobar")


def test_get_experiment_info_gathers_all_ingredients(tmp_path: Path):
    """get_experiment_info names the ingredient and unites its ingredients' records."""
    extra = tmp_path / "extra.py"
    extra.write_text("")
    inner = Ingredient("inner")
    inner.add_source_file(str(extra))
    inner.add_package_dependency("innerpkg", "2.0")
    outer = Ingredient("outer", ingredients=[inner])
    info = outer.get_experiment_info()
    assert info["name"] == "outer"
    assert info["mainfile"] == os.path.basename(__file__)
    assert os.path.relpath(extra, outer.base_dir) in [s[0] for s in info["sources"]]
    assert "innerpkg==2.0" in info["dependencies"]
    assert "doc" not in info


def test_circular_ingredients_raise_with_the_circle():
    """Ingredients that use each other raise CircularDependencyError naming the circle."""
    first = Ingredient("first")
    second = Ingredient("second", ingredients=[first])
    first.ingredients = [second]
    top = Ingredient("top", ingredients=[first])
    with pytest.raises(CircularDependencyError) as info:
        top.get_experiment_info()
    assert str(info.value) == "Circular dependency detected:first->second->first"
    assert UtilsCircularDependencyError is CircularDependencyError


PACKAGE_EXPERIMENT = """
from sacredlite import Experiment

ex = Experiment("in_package")


@ex.main
def main():
    return 1
"""


def test_experiment_inside_a_package_records_only_its_file(tmp_path: Path):
    """An experiment defined in a package module and started by another script stores
    exactly Sacred's sources: its own file, not the package's empty __init__.py, and
    run.json's experiment has Sacred's keys."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "exp.py").write_text(PACKAGE_EXPERIMENT)
    (tmp_path / "start.py").write_text("from pkg.exp import ex\nex.run_commandline()\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(sacredlite.__file__)))
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run(
        [sys.executable, "start.py", "-F", "runs", "--capture=sys"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    experiment = json.loads((tmp_path / "runs" / "1" / "run.json").read_text())["experiment"]
    assert sorted(experiment) == [
        "base_dir",
        "dependencies",
        "mainfile",
        "name",
        "repositories",
        "sources",
    ]
    assert experiment["base_dir"] == str(tmp_path / "pkg")
    assert experiment["mainfile"] == "exp.py"
    assert [s[0] for s in experiment["sources"]] == ["exp.py"]
    stored = os.listdir(tmp_path / "runs" / "_sources")
    assert len(stored) == 1 and stored[0].startswith("exp_")


def test_sources_are_hashed_on_first_use_only(tmp_path: Path):
    """Creating an ingredient reads no file: a main file changed before the first run
    is recorded with its content at that time."""
    script = tmp_path / "late.py"
    script.write_text("from sacredlite import Ingredient\ning = Ingredient('late')\n")
    namespace: dict[str, object] = {"__file__": str(script), "__name__": "late"}
    exec(compile(script.read_text(), str(script), "exec"), namespace)
    script.write_text(script.read_text() + "# edited\n")
    ing = namespace["ing"]
    assert isinstance(ing, Ingredient)
    [source] = ing.sources
    assert source == Source.create(str(script))
    assert source.digest == Source.create(str(script)).digest
