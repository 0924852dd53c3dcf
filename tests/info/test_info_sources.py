"""Source files discovered from real modules on disk, and the ``experiment`` entry built."""

from __future__ import annotations

import hashlib
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy
import pytest

from sacredlite.info import packages
from sacredlite.info.packages import PackageDependency
from sacredlite.info.sources import (
    Source,
    collect_experiment_info,
    format_dependencies,
    gather_sources_and_dependencies,
    is_local_source,
    scan,
)

MAIN = '''"""A tiny experiment."""
import json
import numpy as np
import helpers_{tag}
from pkg_{tag} import sub
import fakepkg_{tag}
import nodist_{tag}
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A project dir: main file, local module, local package, a venv inside with two
    packages (one installed with metadata, one bare) and a file nobody imports."""
    tag = tmp_path.name.replace("-", "_")
    root = tmp_path / "proj"
    (root / f"pkg_{tag}").mkdir(parents=True)
    (root / "main.py").write_text(MAIN.format(tag=tag))
    (root / f"helpers_{tag}.py").write_text("H = 1\n")
    (root / f"pkg_{tag}" / "__init__.py").write_text("")
    (root / f"pkg_{tag}" / "sub.py").write_text("VALUE = 2\n")
    (root / "unused.py").write_text("")
    site = root / ".venv" / "lib" / "site-packages"
    for name in (f"fakepkg_{tag}", f"nodist_{tag}"):
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text("__version__ = '9.9'\n")
    meta = site / "Fake_Dist-1.2.3.dist-info"
    meta.mkdir()
    (meta / "top_level.txt").write_text(f"fakepkg_{tag}\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(packages, "_installed", None)  # index the new site dir
    before = set(sys.modules)
    globs = runpy.run_path(str(root / "main.py"), run_name="not_main")
    yield root, tag, globs
    for name in set(sys.modules) - before:
        if tag in name:
            del sys.modules[name]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_imported_local_modules_are_sources(project: Any):
    """The main file and the imported local modules (with their package) are sources."""
    root, tag, globs = project
    found = scan(globs)
    assert found.base_dir == str(root)
    assert found.mainfile == str(root / "main.py")
    assert sorted(s.filename for s in found.find_sources()) == sorted(
        str(p)
        for p in (
            root / "main.py",
            root / f"helpers_{tag}.py",
            root / f"pkg_{tag}" / "__init__.py",
            root / f"pkg_{tag}" / "sub.py",
        )
    )
    assert Source(str(root / "main.py"), "") in found.find_sources()


def test_dependencies_are_named_after_their_distribution(project: Any):
    """A package is recorded under its distribution's name and version; a module that no
    installed distribution lists is not recorded; numpy always is."""
    _, tag, globs = project
    deps = {d.name: d.version for d in scan(globs).find_dependencies()}
    assert deps == {"Fake-Dist": "1.2.3", "numpy": numpy.__version__}


def test_imports_after_the_scan_do_not_count(project: Any):
    """What the module imports after the scan (after Experiment(...)) is not recorded, nor
    the package of a function defined later in a module inside a package."""
    root, tag, _ = project
    module_globals: dict[str, Any] = {"__file__": str(root / "main.py")}
    found = scan(module_globals)
    module_globals["sub"] = sys.modules[f"pkg_{tag}.sub"]
    module_globals["helpers"] = sys.modules[f"helpers_{tag}"]
    assert {Path(s.filename).name for s in found.find_sources()} == {"main.py"}


def test_dir_strategy_takes_every_python_file(project: Any):
    """DISCOVER_SOURCES='dir' stores every .py file under base_dir, imported or not,
    hidden directories included."""
    _, tag, globs = project
    found = scan(globs, discover_sources="dir", discover_dependencies="none")
    names = {Path(s.filename).name for s in found.find_sources()}
    assert {"unused.py", "main.py", "__init__.py", "sub.py"} <= names
    assert any(".venv" in s.filename for s in found.find_sources())
    assert {d.name for d in found.find_dependencies()} == {"numpy"}


def test_none_strategy_keeps_only_the_main_file(project: Any):
    """DISCOVER_SOURCES='none' keeps just the main file."""
    root, _, globs = project
    found = scan(globs, discover_sources="none")
    assert [s.filename for s in found.find_sources()] == [str(root / "main.py")]


def test_sys_strategy_finds_modules_not_in_globals(project: Any):
    """DISCOVER_SOURCES='sys' finds local modules imported anywhere, e.g. by other modules."""
    root, tag, _ = project
    found = scan({"__file__": str(root / "main.py")}, discover_sources="sys")
    assert str(root / f"helpers_{tag}.py") in {s.filename for s in found.find_sources()}


def test_pkg_strategy_lists_every_installed_distribution(project: Any):
    """DISCOVER_DEPENDENCIES='pkg' lists every installed distribution, imported or not."""
    root, _, _ = project
    deps = scan({"__file__": str(root / "main.py")}, discover_dependencies="pkg")
    names = {d.name for d in deps.find_dependencies()}
    assert {"Fake-Dist", "numpy"} <= names


def test_standard_library_and_generic_names_are_never_recorded(tmp_path: Path):
    """Standard-library modules, and local modules named like Sacred's excluded names
    (data.py), are neither sources nor dependencies, as in Sacred."""
    (tmp_path / "main.py").write_text("")
    (tmp_path / "data.py").write_text("")
    data = type(sys)("data")
    data.__file__ = str(tmp_path / "data.py")
    found = scan({"__file__": str(tmp_path / "main.py"), "os": os, "data": data})
    assert {Path(s.filename).name for s in found.find_sources()} == {"main.py"}
    assert {d.name for d in found.find_dependencies()} == {"numpy"}


def test_invalid_strategy_names_the_choices(project: Any):
    """An unknown strategy is rejected with the valid ones listed."""
    _, _, globs = project
    with pytest.raises(ValueError, match="'none', 'imported', 'sys', 'dir'"):
        scan(globs, discover_sources="all")


def test_is_local_source_excludes_virtualenv_inside_project(tmp_path: Path):
    """A package in a virtualenv under base_dir is not a local source."""
    venv_file = str(tmp_path / ".venv" / "lib" / "site-packages" / "numpy" / "__init__.py")
    assert not is_local_source(venv_file, "numpy", str(tmp_path))
    assert is_local_source(str(tmp_path / "a" / "b.py"), "a.b", str(tmp_path))
    assert is_local_source(str(tmp_path / "src" / "m.py"), "src.m", str(tmp_path / "src"))
    assert not is_local_source("/elsewhere/m.py", "m", str(tmp_path))
    assert not is_local_source(str(tmp_path), "x", str(tmp_path))


def test_is_local_source_resolves_symlinks(tmp_path: Path):
    """A module reached through a symlink from outside base_dir is not local (Sacred
    compares real paths)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "lib.py").write_text("")
    project = tmp_path / "project"
    project.mkdir()
    (project / "lib.py").symlink_to(outside / "lib.py")
    assert not is_local_source(str(project / "lib.py"), "lib", str(project))


def test_source_create(tmp_path: Path):
    """Source.create hashes the file, maps .pyc to .py, equals its path string and raises
    ValueError for a missing file."""
    module = tmp_path / "mod.py"
    module.write_text("X = 1\n")
    (tmp_path / "mod.pyc").write_bytes(b"")
    source = Source.create(str(tmp_path / "mod.pyc"))
    assert (source.filename, source.digest) == (str(module), md5(module))
    assert source == str(module) and str(module) in {source}
    assert source.to_json(str(tmp_path)) == ["mod.py", md5(module)]
    with pytest.raises(ValueError, match="does not exist"):
        Source.create(str(tmp_path / "nope.py"))


def test_experiment_info_shape(project: Any):
    """ex_info has Sacred's keys in Sacred's order (no doc), relative source paths with
    md5s, and dependencies sorted case-insensitively with missing versions looked up."""
    root, tag, globs = project
    found = scan(globs)
    extra = Source.create(str(root / "unused.py"))
    info = collect_experiment_info(
        "tiny",
        found.base_dir,
        found.mainfile,
        found.find_sources() | {extra},
        found.find_dependencies()
        | {PackageDependency("aardvark", "0.1"), PackageDependency("Fake-Dist", "0")},
        save_git_info=False,
    )
    assert list(info) == ["name", "base_dir", "sources", "dependencies", "repositories", "mainfile"]
    assert info["name"] == "tiny"
    assert info["mainfile"] == "main.py"
    assert ["unused.py", md5(root / "unused.py")] in info["sources"]
    assert [s[0] for s in info["sources"]] == sorted(s[0] for s in info["sources"])
    assert info["dependencies"] == [
        "aardvark==0.1",
        "Fake-Dist==1.2.3",
        f"numpy=={numpy.__version__}",
    ]
    assert info["repositories"] == []


def test_experiment_info_records_the_repository(project: Any):
    """With save_git_info, ex_info lists the repository holding the sources."""
    root, _, globs = project
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    found = scan(globs)
    info = collect_experiment_info("x", found.base_dir, found.mainfile, found.find_sources(), ())
    [repo] = info["repositories"]
    assert repo["commit"] is None and repo["dirty"] is True


def test_gather_sources_and_dependencies_has_sacreds_shape(project: Any):
    """gather_sources_and_dependencies returns (main Source, sources, dependencies)."""
    root, _, globs = project
    main, sources, deps = gather_sources_and_dependencies(globs, save_git_info=False)
    assert main == Source.create(str(root / "main.py")) and main in sources
    assert PackageDependency("numpy") in deps


def test_format_dependencies_matches_sacred():
    """print_dependencies output has Sacred's layout, with M marking a dirty repository."""
    text = format_dependencies(
        {
            "dependencies": ["numpy==2.0.0"],
            "sources": [["exp.py", "0" * 32]],
            "repositories": [{"url": "u", "commit": "c", "dirty": True}],
        }
    )
    assert text == (
        "Dependencies:\n"
        f"  {'numpy':<20} == 2.0.0\n"
        "\nSources:\n"
        f"  {'exp.py':<43}  {'0' * 32}\n"
        "\nVersion Control:\n"
        f"M {'u':<43}  c\n\n"
    )


def test_objects_raising_on_attribute_access_are_skipped(tmp_path: Path):
    """A global whose __module__ raises (a lazy proxy) does not break discovery."""

    class Proxy:
        def __getattribute__(self, name):
            raise RuntimeError("working outside of application context")

    main = tmp_path / "m.py"
    main.write_text("")
    found = scan({"__file__": str(main), "proxy": Proxy(), "np": numpy})
    assert {d.name for d in found.find_dependencies()} == {"numpy"}
