"""Package dependencies: the installed-distribution index read from real metadata dirs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from sacredlite.info import packages
from sacredlite.info.packages import Installed, PackageDependency, dependencies_of


def dist_info(site: Path, entry: str, top_level: str | None = None) -> Path:
    meta = site / entry
    meta.mkdir(parents=True)
    if top_level is not None:
        (meta / "top_level.txt").write_text(top_level)
    return meta


@pytest.fixture
def sites(tmp_path: Path) -> tuple[Path, Path]:
    """Two site directories with distributions in the layouts pip and setuptools leave."""
    first, second = tmp_path / "site1", tmp_path / "site2"
    dist_info(first, "pyyaml-6.0.4.dist-info", "_yaml\nyaml\n")
    dist_info(first, "py_cpuinfo-9.0.0.dist-info", "cpuinfo\n")
    dist_info(first, "nometa-1.0.dist-info")  # no top_level.txt (e.g. built by hatchling)
    dist_info(first, "zero-0.0.0.dist-info", "zero\n")
    develop = dist_info(first, "mylib.egg-info", "mylib\n")
    (develop / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: mylib\nVersion: 0.3\n\n")
    (first / "old-2.0-py3.11.egg-info").write_text("Name: old\nVersion: 2.0\n")
    modern = dist_info(first, "scikit_learn-1.9.1.dist-info")  # RECORD, no top_level.txt
    (modern / "RECORD").write_text(
        "sklearn/__init__.py,sha256=x,10\n"
        "sklearn/tree/_tree.cpython-311-x86_64-linux-gnu.so,,\n"
        '"sklearn/a,b.py",sha256=y,1\n'
        "scikit_learn.libs/libgomp.so,,\n"
        "scikit_learn-1.9.1.dist-info/RECORD,,\n"
        "../../bin/tool,,\n"
    )
    single = dist_info(first, "six-1.16.0.dist-info")
    (single / "RECORD").write_text("six.py,sha256=z,5\n__pycache__/six.cpython-311.pyc,,\n")
    dist_info(second, "pyyaml-5.0.dist-info", "yaml\n")  # shadowed by the first directory
    dist_info(second, "other-1.0.dist-info", "other\n")
    return first, second


def test_index_maps_modules_to_distributions(sites: tuple[Path, Path]):
    """Each top_level.txt name maps to the distribution's name (runs of '_' become '-')
    and the version from its directory name, or from PKG-INFO when the name has none."""
    index = Installed(str(s) for s in sites)
    assert index.by_module["yaml"] == ("pyyaml", "6.0.4")
    assert index.by_module["cpuinfo"] == ("py-cpuinfo", "9.0.0")
    assert index.by_module["mylib"] == ("mylib", "0.3")
    assert index.by_module["other"] == ("other", "1.0")
    assert "nometa" not in index.by_module
    assert index.version_by_key["old"] == "2.0"


def test_distributions_without_top_level_are_found_through_record(sites: tuple[Path, Path]):
    """A module that no top_level.txt names is looked up in the RECORD file lists (Sacred
    would not record it), named like the other distributions."""
    index = Installed(str(s) for s in sites)
    assert "sklearn" not in index.by_module
    assert index.distribution_of("sklearn") == ("scikit-learn", "1.9.1")
    assert index.distribution_of("six") == ("six", "1.16.0")
    assert index.distribution_of("yaml") == ("pyyaml", "6.0.4")
    for not_a_module in ("scikit_learn", "__pycache__", "bin", "nometa", "json"):
        assert index.distribution_of(not_a_module) is None


def test_first_directory_on_the_path_wins(sites: tuple[Path, Path]):
    """A distribution installed in two path entries counts once, from the first."""
    index = Installed(str(s) for s in sites)
    assert [v for n, v in index.distributions if n == "pyyaml"] == ["6.0.4"]


def test_missing_directories_and_files_are_skipped(tmp_path: Path):
    """Path entries that are not directories (zip files, missing dirs) are ignored."""
    (tmp_path / "python3.zip").write_bytes(b"")
    index = Installed([str(tmp_path / "python3.zip"), str(tmp_path / "gone")])
    assert index.distributions == []


def test_dependencies_of_imported_modules(sites: tuple[Path, Path], monkeypatch):
    """Only modules of an installed distribution are recorded, plus numpy (without a
    version when its distribution is not found)."""
    monkeypatch.setattr(packages, "_installed", Installed(str(s) for s in sites))
    deps = dependencies_of(["yaml", "nometa", "json", "cpuinfo", "sklearn"], "imported", True)
    assert {(d.name, d.version) for d in deps} == {
        ("pyyaml", "6.0.4"),
        ("py-cpuinfo", "9.0.0"),
        ("scikit-learn", "1.9.1"),
        ("numpy", None),
    }
    assert dependencies_of(["yaml"], "none", False) == set()


def test_pkg_strategy_skips_version_zero(sites: tuple[Path, Path], monkeypatch):
    """DISCOVER_DEPENDENCIES='pkg' lists every distribution except version 0.0.0."""
    monkeypatch.setattr(packages, "_installed", Installed(str(s) for s in sites))
    names = {d.name for d in dependencies_of([], "pkg", False)}
    assert names == {
        "pyyaml",
        "py-cpuinfo",
        "nometa",
        "mylib",
        "old",
        "other",
        "scikit-learn",
        "six",
    }


def test_numpy_is_recorded_with_its_installed_version():
    """numpy is a dependency whenever it is installed, even when not imported."""
    deps = dependencies_of([], "imported")
    assert PackageDependency("numpy") in deps
    assert next(d for d in deps if d.name == "numpy").version == numpy.__version__


def test_pinned_versions_follow_pep_440():
    """An explicit dependency needs a PEP 440 version; local versions are allowed."""
    for good in ("1.8.2", "1!2.0", "1.0rc1", "2.0.post1.dev3", "2.0.1+cu118"):
        assert PackageDependency.pinned("x", good).version == good
    for bad in ("foobar", "1.", "latest", ""):
        with pytest.raises(ValueError, match="Invalid Version"):
            PackageDependency.pinned("django", bad)


def test_dependency_equality_and_json():
    """Dependencies are equal by name; to_json writes name==version or <unknown>."""
    assert PackageDependency("a", "1") == PackageDependency("a", "2")
    assert PackageDependency("a", "1") in {PackageDependency("a", None)}
    assert PackageDependency("a").to_json() == "a==<unknown>"
    missing = PackageDependency("no-such-distribution-xyz")
    missing.fill_missing_version()
    assert missing.version is None


def test_create_from_a_module():
    """PackageDependency.create(module) names the distribution of the module, as Sacred."""
    assert PackageDependency.create(numpy).name == "numpy"
    assert PackageDependency.create(os).version is None


def test_no_packaging_library_is_imported(tmp_path: Path):
    """Building the index loads neither pkg_resources nor importlib.metadata."""
    code = (
        "import sys\n"
        "from sacredlite.info.packages import installed\n"
        "installed()\n"
        "print([m for m in ('pkg_resources', 'importlib.metadata') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
