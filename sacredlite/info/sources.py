"""Source files of an experiment and the ``experiment`` entry of a run, as Sacred records them.

What counts, as in Sacred: when an experiment or ingredient is created, :func:`scan` notes
what its module has imported so far (``SETTINGS.DISCOVER_SOURCES`` /
``DISCOVER_DEPENDENCIES``: ``imported`` looks at the module's globals, ``sys`` at
``sys.modules``, ``dir`` at every ``.py`` file under ``base_dir``). Imports made after that
point do not count, and neither does the package ``__init__.py`` of functions defined later.
The sources are the main file plus each noted module whose file lies under ``base_dir`` and
whose dotted name matches its path (so a virtualenv inside the project is not a source);
:mod:`.packages` names the dependencies.

The scan is cheap (names and paths only); hashing files and looking up distributions wait
until a run asks (:meth:`Discovery.find_sources`, :meth:`Discovery.find_dependencies`).
:func:`collect_experiment_info` builds the ``ex_info`` dict from plain data that the core
gathers over the experiment and its ingredients.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from types import ModuleType
from typing import Any

from .packages import PackageDependency, dependencies_of

__all__ = [
    "DEPENDENCY_STRATEGIES",
    "Discovery",
    "PackageDependency",
    "SOURCE_STRATEGIES",
    "Source",
    "collect_experiment_info",
    "format_dependencies",
    "gather_sources_and_dependencies",
    "get_digest",
    "is_local_source",
    "scan",
]

SOURCE_STRATEGIES = ("none", "imported", "sys", "dir")
DEPENDENCY_STRATEGIES = ("none", "imported", "sys", "pkg")

# Module names Sacred never records, as a source or as a dependency: the standard library,
# packaging tools, and the Python 2 names on Sacred's list that are also common names of
# local modules (a project's own data.py or test.py is not recorded by Sacred either).
_NOT_RECORDED = frozenset(
    {"__main__", "__future__"}
    | set(sys.builtin_module_names)
    | set(getattr(sys, "stdlib_module_names", ()))
    | {"pip", "setuptools", "pkg_resources", "wheel", "easy_install", "sitecustomize"}
    | {"data", "test", "user", "new", "sets", "commands", "compiler", "parser", "symbol"}
)


def get_digest(filename: str) -> str:
    """Return the md5 hex digest of a file's content (Sacred's source digest)."""
    from ..formats._io import md5_file

    return md5_file(filename)


class Source:
    """A source file: real path (symlinks resolved) and md5 digest.

    Equal to another Source, or to a path string, with the same file name; ordered by it.

    Args:
        filename: the file's path.
        digest: md5 hex digest of its content.
    """

    __slots__ = ("digest", "filename")

    def __init__(self, filename: str, digest: str) -> None:
        self.filename = os.path.realpath(filename)
        self.digest = digest

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Source):
            return other.filename == self.filename
        return isinstance(other, str) and other == self.filename

    def __hash__(self) -> int:
        return hash(self.filename)

    def __lt__(self, other: Source) -> bool:
        return self.filename < other.filename

    def __repr__(self) -> str:
        return f"<Source: {self.filename}>"

    @classmethod
    def create(cls, filename: str, save_git_info: bool = True) -> Source:
        """Hash *filename* (``.pyc`` maps to its ``.py``); the ``add_source_file`` backend.

        Args:
            filename: path of an existing file.
            save_git_info: accepted for Sacred's signature; git state is read per
                repository by :func:`collect_experiment_info`.

        Raises:
            ValueError: the file does not exist (Sacred's error).
        """
        path = os.path.abspath(filename) if filename else ""
        if path.endswith(".pyc") and os.path.exists(path[:-1]):
            path = path[:-1]
        if not path or not os.path.isfile(path):
            raise ValueError(
                f"Source file {filename!r} does not exist; pass the path of an existing file."
            )
        return cls(path, get_digest(path))

    def to_json(self, base_dir: str | None = None) -> list[str]:
        """Return ``[path relative to base_dir, md5]``."""
        if not base_dir:
            return [self.filename, self.digest]
        return [os.path.relpath(self.filename, os.path.realpath(base_dir)), self.digest]


def _py_path_parts(path: str) -> list[str]:
    parts = os.path.normpath(path).split(os.sep)
    stem, ext = os.path.splitext(parts[-1])
    if stem == "__init__" and ext in (".py", ".pyc"):
        return parts[:-1]
    return [*parts[:-1], stem]


def is_local_source(filename: str, modname: str, base_dir: str) -> bool:
    """Whether module *modname* at *filename* is a source of an experiment in *base_dir*.

    The file must lie under *base_dir* (symlinks resolved), and the module's dotted name
    must match the end of its path (``pkg.mod`` ↔ ``.../pkg/mod.py``), which keeps out
    virtualenvs inside the project.
    """
    path = os.path.realpath(filename)
    base = os.path.realpath(base_dir)
    if path == base or os.path.commonpath([base, path]) != base:
        return False
    mod_parts = modname.split(".")
    rel_parts = _py_path_parts(os.path.relpath(path, base))
    if rel_parts == mod_parts:
        return True
    if len(rel_parts) > len(mod_parts):
        return False
    return _py_path_parts(path)[-len(mod_parts) :] == mod_parts


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
        if not isinstance(dotted, str) or not dotted:
            continue
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            yield ".".join(parts[:i])


def _module_file(module: object) -> str | None:
    filename = getattr(module, "__file__", None)
    return os.path.abspath(filename) if isinstance(filename, str) and filename else None


ModuleList = tuple[tuple[str, str | None], ...]
"""``(dotted name, absolute file or None)`` of modules."""


class Discovery:
    """What an experiment's or ingredient's module had imported when it was created.

    Plain data from :func:`scan`; :meth:`find_sources` and :meth:`find_dependencies` turn
    it into what a run records.

    Attributes:
        base_dir: absolute directory that sources must lie under.
        mainfile: absolute path of the module's file, ``None`` when interactive.
        discover_sources: the source strategy (``SETTINGS.DISCOVER_SOURCES``).
        discover_dependencies: the dependency strategy (``SETTINGS.DISCOVER_DEPENDENCIES``).
        modules: the noted modules by strategy (``imported``, ``sys``).
    """

    __slots__ = ("base_dir", "discover_dependencies", "discover_sources", "mainfile", "modules")

    def __init__(
        self,
        base_dir: str,
        mainfile: str | None,
        discover_sources: str,
        discover_dependencies: str,
        modules: Mapping[str, ModuleList],
    ) -> None:
        self.base_dir = base_dir
        self.mainfile = mainfile
        self.discover_sources = discover_sources
        self.discover_dependencies = discover_dependencies
        self.modules = dict(modules)

    def find_sources(self) -> set[Source]:
        """Hash the main file and the local modules (or every ``.py`` file for ``dir``).

        Raises:
            ValueError: the main file no longer exists.
        """
        sources: set[Source] = set()
        if self.discover_sources == "dir":
            for path in _python_files(self.base_dir):
                _add_source(sources, path)
        for name, filename in self.modules.get(self.discover_sources, ()):
            if filename is not None and is_local_source(filename, name, self.base_dir):
                _add_source(sources, filename)
        if self.mainfile is not None:
            sources.add(Source.create(self.mainfile))
        return sources

    def find_dependencies(self) -> set[PackageDependency]:
        """Name the installed distributions of the non-local top-level modules (and numpy)."""
        top_level = [
            name
            for name, filename in self.modules.get(self.discover_dependencies, ())
            if "." not in name
            and not name.startswith("_")
            and not (filename is not None and is_local_source(filename, name, self.base_dir))
        ]
        return dependencies_of(top_level, self.discover_dependencies)


def scan(
    globs: Mapping[str, Any],
    base_dir: str | None = None,
    discover_sources: str = "imported",
    discover_dependencies: str = "imported",
) -> Discovery:
    """Note what the module with globals *globs* has imported so far (cheap: no file reads).

    Args:
        globs: the module's ``globals()``.
        base_dir: the experiment's directory; defaults to the main file's directory, or
            the current directory when there is no ``__file__`` (interactive use).
        discover_sources: ``SETTINGS.DISCOVER_SOURCES``.
        discover_dependencies: ``SETTINGS.DISCOVER_DEPENDENCIES``.

    Raises:
        ValueError: a strategy is not one of the valid names.
    """
    _check_choice("DISCOVER_SOURCES", discover_sources, SOURCE_STRATEGIES)
    _check_choice("DISCOVER_DEPENDENCIES", discover_dependencies, DEPENDENCY_STRATEGIES)
    main = globs.get("__file__")
    mainfile = os.path.abspath(main) if isinstance(main, str) and main else None
    if base_dir is None:
        base_dir = os.path.dirname(os.path.realpath(mainfile)) if mainfile else os.getcwd()
    modules: dict[str, ModuleList] = {}
    for strategy in {discover_sources, discover_dependencies} & {"imported", "sys"}:
        if strategy == "imported":
            names = dict.fromkeys(_imported_module_names(globs))
            items: Iterable[tuple[str, Any]] = ((n, sys.modules.get(n)) for n in names)
        else:
            items = list(sys.modules.items())
        modules[strategy] = tuple(
            (name, _module_file(module))
            for name, module in items
            if module is not None and name not in _NOT_RECORDED
        )
    return Discovery(
        os.path.abspath(base_dir), mainfile, discover_sources, discover_dependencies, modules
    )


def _python_files(base_dir: str) -> Iterator[str]:
    """Every ``.py`` file under *base_dir*, hidden directories included (as Sacred)."""
    for dirname, _, filenames in os.walk(base_dir):
        if "__pycache__" in dirname:
            continue
        for filename in filenames:
            if filename.endswith(".py"):
                yield os.path.join(dirname, filename)


def _add_source(sources: set[Source], filename: str) -> None:
    """Add a discovered file; one that vanished or cannot be read is skipped, not fatal."""
    try:
        sources.add(Source.create(filename))
    except (OSError, ValueError):
        pass


def _check_choice(setting: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(
            f"Invalid {setting} {value!r}; use one of {', '.join(repr(c) for c in choices)}."
        )


def gather_sources_and_dependencies(
    globs: Mapping[str, Any], save_git_info: bool = True, base_dir: str | None = None
) -> tuple[Source | None, set[Source], set[PackageDependency]]:
    """Return ``(main file, sources, dependencies)`` of a module now (Sacred's function).

    Reads ``SETTINGS.DISCOVER_SOURCES`` and ``DISCOVER_DEPENDENCIES``.

    Args:
        globs: the module's ``globals()``.
        save_git_info: accepted for Sacred's signature (git state is read per repository).
        base_dir: the experiment's directory; defaults to the main file's.
    """
    from ..settings import SETTINGS

    found = scan(globs, base_dir, SETTINGS.DISCOVER_SOURCES, SETTINGS.DISCOVER_DEPENDENCIES)
    main = Source.create(found.mainfile) if found.mainfile else None
    return main, found.find_sources(), found.find_dependencies()


def collect_experiment_info(
    name: str,
    base_dir: str,
    mainfile: str | None,
    sources: Iterable[Source],
    dependencies: Iterable[PackageDependency],
    save_git_info: bool = True,
) -> dict[str, Any]:
    """Build the ``ex_info`` dict observers receive, in Sacred's shape and key order.

    Keys: ``name, base_dir, sources [[path relative to base_dir, md5]], dependencies
    ["name==version"] (sorted case-insensitively), repositories [{url, commit, dirty,
    diff?}], mainfile`` (relative to base_dir).

    Args:
        name: the experiment's (or ingredient's) path.
        base_dir: its absolute base directory.
        mainfile: absolute path of its main file, ``None`` when interactive.
        sources: the sources of it and all its ingredients.
        dependencies: the dependencies of it and all its ingredients; a missing version
            is looked up by distribution name.
        save_git_info: add the repositories holding the sources (else an empty list).
    """
    all_sources = sorted(set(sources))
    deps = sorted(set(dependencies), key=lambda d: d.name.lower())
    for dep in deps:
        dep.fill_missing_version()
    repositories: list[dict[str, Any]] = []
    if save_git_info:
        from .git import get_repository_info

        repositories = get_repository_info(s.filename for s in all_sources)
    real_base = os.path.realpath(base_dir)
    return {
        "name": name,
        "base_dir": base_dir,
        "sources": [s.to_json(base_dir) for s in all_sources],
        "dependencies": [d.to_json() for d in deps],
        "repositories": repositories,
        "mainfile": os.path.relpath(os.path.realpath(mainfile), real_base) if mainfile else None,
    }


def format_dependencies(ex_info: Mapping[str, Any], color: bool = False) -> str:
    """Render ``ex_info`` in Sacred's ``print_dependencies`` format.

    Args:
        ex_info: the dict from :func:`collect_experiment_info`.
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
