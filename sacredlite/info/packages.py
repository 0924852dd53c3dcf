"""Package dependencies of an experiment, named and versioned as Sacred records them.

Sacred (through ``pkg_resources``) names a dependency after the *distribution* that
installed an imported top-level module, taken from the ``top_level.txt`` files of the
installed distributions: ``import yaml`` is recorded as ``pyyaml==6.0.4``. numpy, when
installed, is always recorded (it may be the source of randomness).

Sacred records nothing for a module whose distribution has no ``top_level.txt``, which is
the case for wheels built by most modern backends (pandas, scikit-learn, scipy, pydantic).
sacredlite records those too, named the same way, found through the distribution's
``RECORD`` file list: every entry Sacred writes is written identically, and the packages
Sacred misses are added.

:func:`installed` reads these facts straight from the ``*.dist-info`` / ``*.egg-info``
entries of the ``sys.path`` directories: one directory listing and one small file per
distribution, once per process and only when a run asks; ``RECORD`` files are read only
for a module that no ``top_level.txt`` names. Neither ``pkg_resources`` (about 0.3 s to
import) nor ``importlib.metadata`` is loaded.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from typing import Any

__all__ = [
    "Installed",
    "PackageDependency",
    "dependencies_of",
    "installed",
]

# PEP 440 as Sacred checks it, plus local versions ("2.0.1+cu118"), which Sacred rejects;
# compiled on first use (0.3 ms of the import otherwise)
_PEP440 = r"^(\d+!)?\d[.\d]*(?<=\d)((a|b|c|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[A-Za-z0-9.]+)?$"
_META_SUFFIXES = (".dist-info", ".egg-info")


class PackageDependency:
    """A package dependency: distribution name and version; equal and ordered by name.

    Args:
        name: the distribution's name (``pyyaml``), or an import name until resolved.
        version: its version; ``None`` while unknown (see :meth:`fill_missing_version`).
    """

    __slots__ = ("name", "version")

    def __init__(self, name: str, version: str | None = None) -> None:
        self.name = name
        self.version = version

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PackageDependency) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __lt__(self, other: PackageDependency) -> bool:
        return self.name < other.name

    def __repr__(self) -> str:
        return f"<PackageDependency: {self.name}={self.version}>"

    @classmethod
    def create(cls, mod: Any) -> PackageDependency:
        """Return the dependency for an imported top-level module (Sacred's signature).

        The version is ``None`` when no installed distribution lists the module.

        Args:
            mod: a module, or its name.
        """
        name = mod if isinstance(mod, str) else mod.__name__
        found = installed().distribution_of(name)
        return cls(*found) if found else cls(name, None)

    @classmethod
    def pinned(cls, name: str, version: str) -> PackageDependency:
        """Validate an explicit ``name==version``; the ``add_package_dependency`` backend.

        Args:
            name: the package name.
            version: a PEP 440 version such as ``"1.2.3"``.

        Raises:
            ValueError: *version* is not a PEP 440 version.
        """
        if not isinstance(version, str) or not re.match(_PEP440, version):
            raise ValueError(
                f'Invalid Version: "{version}" for package {name!r}; give a PEP 440 '
                "version such as '1.2.3'."
            )
        return cls(name, version)

    def fill_missing_version(self) -> None:
        """Look the version up by distribution name if it is still unknown."""
        if self.version is None:
            self.version = installed().version_by_key.get(self.name)

    def to_json(self) -> str:
        """Return ``"name==version"`` (``<unknown>`` for a version not found)."""
        return f"{self.name}=={self.version or '<unknown>'}"


class Installed:
    """The installed distributions as ``pkg_resources``' working set sees them.

    Attributes:
        distributions: ``(name, version)`` of each distribution, the first one found for
            each name (in ``sys.path`` order).
        by_module: top-level module name -> ``(name, version)`` from ``top_level.txt``
            (what Sacred knows).
        version_by_key: lower-cased distribution name -> version.
    """

    __slots__ = ("_by_record", "_without_top_level", "by_module", "distributions", "version_by_key")

    def __init__(self, path: Iterable[str]) -> None:
        self.distributions: list[tuple[str, str | None]] = []
        self.by_module: dict[str, tuple[str, str | None]] = {}
        self.version_by_key: dict[str, str | None] = {}
        self._without_top_level: list[tuple[str, str, str | None]] = []
        self._by_record: dict[str, tuple[str, str | None]] | None = None
        for entry in dict.fromkeys(os.path.abspath(p or os.curdir) for p in path):
            for meta_dir, name, version in _distributions_in(entry):
                key = name.lower()
                if key in self.version_by_key:
                    continue
                if version is None:
                    version = _metadata_version(meta_dir)
                self.version_by_key[key] = version
                self.distributions.append((name, version))
                modules = _top_level_names(meta_dir)
                if modules is None:
                    self._without_top_level.append((meta_dir, name, version))
                for module in modules or ():
                    self.by_module[module] = (name, version)

    def distribution_of(self, module: str) -> tuple[str, str | None] | None:
        """Return ``(name, version)`` of the distribution installing top-level *module*.

        ``top_level.txt`` first (Sacred's answer); then the ``RECORD`` of distributions
        without one, read on the first such question.
        """
        found = self.by_module.get(module)
        if found is None and self._by_record is None:
            # most distributions are named like their module: read that RECORD alone
            for meta_dir, name, version in self._without_top_level:
                if name.lower().replace("-", "_") == module.lower():
                    if module in _recorded_modules(meta_dir):
                        return name, version
        if found is None:
            if self._by_record is None:
                self._by_record = {}
                for meta_dir, name, version in self._without_top_level:
                    for recorded in _recorded_modules(meta_dir):
                        self._by_record.setdefault(recorded, (name, version))
            found = self._by_record.get(module)
        return found


_installed: Installed | None = None


def installed() -> Installed:
    """Return the index of installed distributions, built on first use in this process."""
    global _installed
    if _installed is None:
        _installed = Installed(sys.path)
    return _installed


def _distributions_in(directory: str) -> list[tuple[str, str, str | None]]:
    """``(metadata path, name, version or None)`` of the distributions in *directory*."""
    try:
        with os.scandir(directory) as entries:
            names = sorted(e.name for e in entries if e.name.endswith(_META_SUFFIXES))
    except OSError:  # not a directory (a zip file), or gone
        return []
    found = []
    for entry in names:
        stem = entry.rsplit(".", 1)[0]
        name, _, rest = stem.partition("-")
        version = rest.partition("-")[0] or None
        # pkg_resources' safe_name: runs of other characters become one "-"
        found.append(
            (os.path.join(directory, entry), re.sub(r"[^A-Za-z0-9.]+", "-", name), version)
        )
    return found


def _top_level_names(meta_dir: str) -> list[str] | None:
    """The names in ``top_level.txt``; ``None`` when the distribution has none."""
    try:
        with open(os.path.join(meta_dir, "top_level.txt"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _recorded_modules(meta_dir: str) -> set[str]:
    """The top-level modules and packages a ``RECORD`` file lists."""
    try:
        with open(os.path.join(meta_dir, "RECORD"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return set()
    modules = set()
    for line in lines:
        path = line[1:].partition('"')[0] if line.startswith('"') else line.partition(",")[0]
        top, sep, _ = path.partition("/")
        if not sep:  # a file: a module if it is Python source or an extension
            top, _, ext = top.partition(".")
            if not ext.endswith(("py", "so", "pyd")):
                continue
        if top.isidentifier() and top != "__pycache__":
            modules.add(top)
    return modules


def _metadata_version(meta_dir: str) -> str | None:
    """The ``Version:`` header of a distribution whose entry name carries no version."""
    if os.path.isdir(meta_dir):
        candidates = [os.path.join(meta_dir, name) for name in ("METADATA", "PKG-INFO")]
    else:  # an egg-info file is the PKG-INFO itself
        candidates = [meta_dir]
    for path in candidates:
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if not line.strip():
                        break  # end of the headers
                    if line.startswith("Version:"):
                        return line.partition(":")[2].strip() or None
        except OSError:
            continue
    return None


def dependencies_of(
    modules: Iterable[str], strategy: str, numpy_installed: bool | None = None
) -> set[PackageDependency]:
    """Return the dependencies a run records, as Sacred finds them.

    Args:
        modules: the imported top-level module names that are not local sources
            (strategies ``imported`` and ``sys``).
        strategy: ``SETTINGS.DISCOVER_DEPENDENCIES``: ``none``, ``imported``, ``sys`` or
            ``pkg`` (every installed distribution).
        numpy_installed: whether numpy can be imported; looked up when ``None``.
    """
    index = installed()
    deps: set[PackageDependency] = set()
    if strategy == "pkg":
        deps.update(PackageDependency(n, v) for n, v in index.distributions if v != "0.0.0")
    elif strategy != "none":
        for module in modules:
            found = index.distribution_of(module)
            if found is not None and found[1] is not None:
                deps.add(PackageDependency(*found))
    if numpy_installed is None:
        numpy_installed = "numpy" in index.version_by_key or _can_import("numpy")
    if numpy_installed:
        # Sacred's lookup for numpy: top_level.txt, else the version by distribution name
        found = index.by_module.get("numpy")
        found = found or ("numpy", index.version_by_key.get("numpy"))
        deps.add(PackageDependency(*found))
    return deps


def _can_import(name: str) -> bool:
    if name in sys.modules:
        return True
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
