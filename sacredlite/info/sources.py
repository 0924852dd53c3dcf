"""Source files and package dependencies of an experiment (``experiment`` in run.json).

Sacred's semantics: the sources are the main file plus every imported module whose file
lies under ``base_dir`` and whose dotted name matches its path (so a virtualenv inside the
project is not a source); the dependencies are the imported third-party top-level packages
as ``name==version``. Discovery is configurable (``SETTINGS.DISCOVER_SOURCES``:
none/imported/sys/dir, ``SETTINGS.DISCOVER_DEPENDENCIES``: none/imported/sys/pkg).

Versions come from the module's ``__version__`` first (free), then ``importlib.metadata``
for the same name; ``importlib.metadata.packages_distributions()`` is never called (it
scans every installed distribution: ~0.5 s here). Unlike Sacred, numpy is listed only when
imported, since checking whether it is installed would cost an import.

The core calls :func:`collect_experiment_info` with the Experiment: it runs :func:`discover`
over the live ``globals()`` of the experiment's and each ingredient's module (so imports made
after ``Experiment(...)`` count) and builds the ``ex_info`` dict with :func:`experiment_info`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from types import ModuleType
from typing import Any

__all__ = [
    "DEPENDENCY_STRATEGIES",
    "Discovery",
    "PackageDependency",
    "SOURCE_STRATEGIES",
    "Source",
    "collect_experiment_info",
    "discover",
    "experiment_info",
    "format_dependencies",
    "gather_sources_and_dependencies",
    "get_digest",
    "is_local_source",
]

SOURCE_STRATEGIES = ("none", "imported", "sys", "dir")
DEPENDENCY_STRATEGIES = ("none", "imported", "sys", "pkg")

_PEP440 = re.compile(r"^(\d+!)?\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?([+][\w.]+)?$")
_SKIP = {"__main__", "__future__", "builtins"} | set(sys.builtin_module_names)
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))


def _new_md5() -> Any:
    # The builtin _md5 imports in 0.4 ms; hashlib (OpenSSL bindings) takes 3 ms of the
    # start-up budget.
    try:
        from _md5 import md5  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - Python builds without the builtin module
        from hashlib import md5
    return md5()


def get_digest(filename: str) -> str:
    """Return the md5 hex digest of a file's content (Sacred's source digest)."""
    digest = _new_md5()
    with open(filename, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    hexdigest: str = digest.hexdigest()
    return hexdigest


class _ByKey:
    """Equality, hashing and order by one attribute (plain classes: each dataclass
    costs about 1 ms of start-up to generate)."""

    __slots__ = ()

    def _key(self) -> str:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: _ByKey) -> bool:
        return self._key() < other._key()


class Source(_ByKey):
    """A source file: absolute path and md5 digest; equal and ordered by path."""

    __slots__ = ("filename", "digest")

    def __init__(self, filename: str, digest: str) -> None:
        self.filename = filename
        self.digest = digest

    def _key(self) -> str:
        return self.filename

    def __repr__(self) -> str:
        return f"Source({self.filename!r}, {self.digest!r})"

    @classmethod
    def create(cls, filename: str) -> Source:
        """Hash *filename* (``.pyc`` maps to its ``.py``); the ``add_source_file`` backend.

        Args:
            filename: path of an existing file.
        """
        path = os.path.abspath(filename)
        if path.endswith(".pyc") and os.path.exists(path[:-1]):
            path = path[:-1]
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Source file {filename!r} does not exist; pass the path of an existing file."
            )
        return cls(path, get_digest(path))

    def to_json(self, base_dir: str | None = None) -> list[str]:
        """Return ``[path relative to base_dir, md5]``."""
        name = os.path.relpath(self.filename, base_dir) if base_dir else self.filename
        return [name, self.digest]


class PackageDependency(_ByKey):
    """A package dependency: import name and version (``None`` until known); equal and
    ordered by name."""

    __slots__ = ("name", "version")

    def __init__(self, name: str, version: str | None = None) -> None:
        self.name = name
        self.version = version

    def _key(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"PackageDependency({self.name!r}, {self.version!r})"

    @classmethod
    def create(cls, name: str, version: str) -> PackageDependency:
        """Validate an explicit dependency; the ``add_package_dependency`` backend.

        Args:
            name: the package name.
            version: a PEP 440 version such as ``"1.2.3"``.
        """
        if not isinstance(version, str) or not _PEP440.match(version):
            raise ValueError(
                f"Invalid version {version!r} for package {name!r}; give a PEP 440 "
                "version such as '1.2.3'."
            )
        return cls(name, version)

    def with_version(self) -> PackageDependency:
        """Return this dependency with its version looked up if missing."""
        if self.version is not None:
            return self
        return PackageDependency(self.name, _metadata_version(self.name) or "<unknown>")

    def to_json(self) -> str:
        """Return ``"name==version"``."""
        return f"{self.name}=={self.version if self.version is not None else '<unknown>'}"


def _version_attribute(module: ModuleType) -> str | None:
    for attr in ("__version__", "VERSION", "version"):
        value = getattr(module, attr, None)
        if isinstance(value, tuple):
            value = ".".join(str(part) for part in value)
        if isinstance(value, str) and _PEP440.match(value):
            return value
    return None


def _metadata_version(name: str) -> str | None:
    from importlib import metadata

    for candidate in dict.fromkeys((name, name.replace("_", "-"))):
        try:
            return metadata.version(candidate)
        except (metadata.PackageNotFoundError, ValueError):
            continue
    return None


def _py_path_parts(path: str) -> list[str]:
    parts = os.path.normpath(path).split(os.sep)
    stem, ext = os.path.splitext(parts[-1])
    if stem == "__init__" and ext in (".py", ".pyc"):
        return parts[:-1]
    return [*parts[:-1], stem]


def is_local_source(filename: str, modname: str, base_dir: str) -> bool:
    """Whether module *modname* at *filename* is a source of an experiment in *base_dir*.

    The file must lie under *base_dir*, and the module's dotted name must match the end
    of its path (``pkg.mod`` ↔ ``.../pkg/mod.py``), which keeps out virtualenvs inside
    the project.
    """
    base = os.path.abspath(base_dir)
    if os.path.commonpath([base, filename]) != base:
        return False
    mod_parts = modname.split(".")
    rel_parts = _py_path_parts(os.path.relpath(filename, base))
    if rel_parts == mod_parts:
        return True
    if len(rel_parts) > len(mod_parts):
        return False
    abs_parts = _py_path_parts(filename)
    return abs_parts[-len(mod_parts) :] == mod_parts


def _imported_module_names(globs: Mapping[str, Any]) -> Iterator[str]:
    """Yield the module names referenced by a module's globals, with their parents."""
    for value in list(globs.values()):
        try:
            dotted: Any = (
                value.__name__
                if isinstance(value, ModuleType)
                else getattr(value, "__module__", None)
            )
        except Exception:  # noqa: BLE001 - lazy proxies may raise anything on attribute access
            continue
        if not isinstance(dotted, str):
            continue
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            yield ".".join(parts[:i])


def _module_file(module: ModuleType | None) -> str | None:
    filename = getattr(module, "__file__", None)
    return os.path.abspath(filename) if isinstance(filename, str) else None


class Discovery:
    """What discovery found for one experiment or ingredient module."""

    __slots__ = ("base_dir", "mainfile", "doc", "sources", "dependencies")

    def __init__(
        self,
        *,
        base_dir: str,
        mainfile: Source | None,
        doc: str | None,
        sources: set[Source],
        dependencies: set[PackageDependency],
    ) -> None:
        self.base_dir = base_dir
        self.mainfile = mainfile
        self.doc = doc
        self.sources = sources
        self.dependencies = dependencies


def _module_items(globs: Mapping[str, Any], strategy: str) -> Iterator[tuple[str, Any]]:
    if strategy == "imported":
        for name in dict.fromkeys(_imported_module_names(globs)):
            yield name, sys.modules.get(name)
    elif strategy == "sys":
        yield from list(sys.modules.items())


def discover(
    globs: Mapping[str, Any],
    base_dir: str | None = None,
    discover_sources: str = "imported",
    discover_dependencies: str = "imported",
) -> Discovery:
    """Find the main file, sources and dependencies of the module with globals *globs*.

    Args:
        globs: the experiment module's ``globals()`` (live; later imports count).
        base_dir: the experiment's directory; defaults to the main file's directory, or
            the current directory when there is no ``__file__`` (interactive use).
        discover_sources: ``SETTINGS.DISCOVER_SOURCES``.
        discover_dependencies: ``SETTINGS.DISCOVER_DEPENDENCIES``.
    """
    _check_choice("DISCOVER_SOURCES", discover_sources, SOURCE_STRATEGIES)
    _check_choice("DISCOVER_DEPENDENCIES", discover_dependencies, DEPENDENCY_STRATEGIES)
    main_file = globs.get("__file__")
    mainfile = Source.create(main_file) if isinstance(main_file, str) else None
    if base_dir is None:
        base_dir = os.path.dirname(mainfile.filename) if mainfile else os.getcwd()
    base_dir = os.path.abspath(base_dir)
    sources: set[Source] = {mainfile} if mainfile else set()
    seen_files = {mainfile.filename} if mainfile else set()
    deps: dict[str, PackageDependency] = {}

    if discover_sources == "dir":
        import glob

        for path in glob.glob(os.path.join(base_dir, "**", "*.py"), recursive=True):
            if path not in seen_files:
                seen_files.add(path)
                _add_source(sources, path)
    strategy_items = {discover_sources, discover_dependencies} & {"imported", "sys"}
    for strategy in sorted(strategy_items):
        for name, module in _module_items(globs, strategy):
            if name in _SKIP or module is None:
                continue
            filename = _module_file(module)
            local = filename is not None and is_local_source(filename, name, base_dir)
            if local and filename is not None:
                if discover_sources == strategy and filename not in seen_files:
                    seen_files.add(filename)
                    _add_source(sources, filename)
            elif not local and discover_dependencies == strategy:
                top = name.partition(".")[0]
                if top in deps or top in _SKIP or top in _STDLIB or top.startswith("_"):
                    continue
                top_module = sys.modules.get(top)
                if top_module is None or _module_file(top_module) is None:
                    continue
                deps[top] = PackageDependency(top, _version_attribute(top_module))
    if discover_dependencies == "pkg":
        from importlib import metadata

        for dist in metadata.distributions():
            name = dist.metadata["Name"]
            if name:
                deps.setdefault(name, PackageDependency(name, dist.version))
    if discover_dependencies != "none" and "numpy" in sys.modules and "numpy" not in deps:
        # Sacred always lists numpy: it may be the source of randomness.
        deps["numpy"] = PackageDependency("numpy", _version_attribute(sys.modules["numpy"]))
    doc = globs.get("__doc__")
    return Discovery(
        base_dir=base_dir,
        mainfile=mainfile,
        doc=doc if isinstance(doc, str) else None,
        sources=sources,
        dependencies=set(deps.values()),
    )


def _add_source(sources: set[Source], filename: str) -> None:
    """Add a discovered file; one that vanished or cannot be read is skipped, not fatal."""
    try:
        sources.add(Source.create(filename))
    except OSError:
        pass


def _check_choice(setting: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(
            f"Invalid {setting} {value!r}; use one of {', '.join(repr(c) for c in choices)}."
        )


def gather_sources_and_dependencies(
    globs: Mapping[str, Any],
    base_dir: str | None,
    discover_sources: str = "imported",
    discover_dependencies: str = "imported",
    save_git_info: bool = True,
) -> tuple[str, set[Source], set[PackageDependency]]:
    """Return ``(base_dir, sources, dependencies)``: :func:`discover` in Sacred's shape.

    *save_git_info* is accepted for Sacred's signature; git information is gathered
    per repository by :func:`experiment_info` instead of per source file.
    """
    found = discover(globs, base_dir, discover_sources, discover_dependencies)
    return found.base_dir, found.sources, found.dependencies


def experiment_info(
    name: str,
    base_dir: str,
    mainfile: Source | None,
    sources: Iterable[Source],
    dependencies: Iterable[PackageDependency],
    doc: str | None = None,
    save_git_info: bool = True,
) -> dict[str, Any]:
    """Build the ``ex_info`` dict observers receive.

    Keys: ``name, base_dir, mainfile, doc, sources [[rel, md5]], dependencies
    ["name==version"] (sorted case-insensitively, versions looked up if missing),
    repositories [{url, commit, dirty, diff?}]``.

    Args:
        name: the experiment's name.
        base_dir: absolute base directory; source paths are stored relative to it.
        mainfile: the main file's source, if any.
        sources: all sources of the experiment and its ingredients (incl. the main file).
        dependencies: all dependencies of the experiment and its ingredients.
        doc: the main module's docstring.
        save_git_info: add ``repositories`` (else an empty list).
    """
    all_sources = sorted(set(sources) | ({mainfile} if mainfile else set()))
    deps = sorted(
        (d.with_version() for d in set(dependencies)), key=lambda d: (d.name.lower(), d.name)
    )
    repositories: list[dict[str, Any]] = []
    if save_git_info:
        from .git import get_repository_info

        repositories = get_repository_info(s.filename for s in all_sources)
    info: dict[str, Any] = {
        "name": name,
        "base_dir": base_dir,
        "mainfile": mainfile.to_json(base_dir)[0] if mainfile else None,
        "sources": [s.to_json(base_dir) for s in all_sources],
        "dependencies": [d.to_json() for d in deps],
        "repositories": repositories,
    }
    if doc is not None:  # Sacred leaves the key out for a module without a docstring
        info["doc"] = doc
    return info


def collect_experiment_info(ex: Any, settings: Any) -> dict[str, Any]:
    """Build ``ex_info`` for an Experiment: discovery over it and all its ingredients.

    Reads, from each of ``ex.traverse_ingredients()``: ``caller_globals``, ``base_dir``,
    ``sources`` (paths from ``add_source_file``) and ``dependencies`` (``{name: version}``
    from ``add_package_dependency``, which win over discovered versions); from *ex*:
    ``path`` (the name), ``base_dir``, ``mainfile``, ``doc``, ``save_git_info``.

    Args:
        ex: the Experiment.
        settings: a settings snapshot (``DISCOVER_SOURCES``, ``DISCOVER_DEPENDENCIES``).
    """
    sources: set[Source] = set()
    deps: dict[str, PackageDependency] = {}
    explicit: dict[str, PackageDependency] = {}
    for ing, _ in ex.traverse_ingredients():
        found = discover(
            ing.caller_globals,
            ing.base_dir,
            settings.DISCOVER_SOURCES,
            settings.DISCOVER_DEPENDENCIES,
        )
        sources |= found.sources
        sources |= {Source.create(path) for path in ing.sources}
        for dep in found.dependencies:
            deps.setdefault(dep.name, dep)
        for name, version in ing.dependencies.items():
            explicit[name] = PackageDependency(name, version)
    deps.update(explicit)
    mainfile = Source.create(ex.mainfile) if ex.mainfile else None
    return experiment_info(
        ex.path,
        ex.base_dir,
        mainfile,
        sources,
        deps.values(),
        doc=ex.doc,
        save_git_info=ex.save_git_info,
    )


def format_dependencies(ex_info: Mapping[str, Any], color: bool = False) -> str:
    """Render ``ex_info`` in Sacred's ``print_dependencies`` format.

    Args:
        ex_info: the dict from :func:`experiment_info`.
        color: mark dirty repositories in red (for terminals).
    """
    lines = ["Dependencies:"]
    for dep in ex_info.get("dependencies", []):
        package, _, version = dep.partition("==")
        lines.append(f"  {package:<20} == {version}")
    lines += ["", "Sources:"]
    for source, digest in ex_info.get("sources", []):
        lines.append(f"  {source:<43}  {digest}")
    repos = ex_info.get("repositories") or []
    if repos:
        lines += ["", "Version Control:"]
        for repo in repos:
            mark = "M" if repo.get("dirty") else " "
            if color and repo.get("dirty"):
                mark = "\033[31mM"
            end = "\033[0m" if color else ""  # Sacred resets after every repository line
            url = repo.get("url") or "<no remote>"
            commit = repo.get("commit") or "<no commit>"
            lines.append(f"{mark} {url:<43}  {commit}{end}")
    lines.append("")
    return "\n".join(lines) + "\n"
