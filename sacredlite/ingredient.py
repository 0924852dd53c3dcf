"""Ingredient: a reusable part of an experiment with its own config, captured functions
and commands. The decorators here record things and return them; they run nothing."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, overload

from .captured import CapturedFunction
from .config.scope import ConfigDict, ConfigScope
from .errors import CircularDependencyError
from .info.packages import PackageDependency
from .info.sources import Source

F = TypeVar("F", bound=Callable[..., Any])
ConfigLayer = ConfigScope | ConfigDict
"""One layer of an ingredient's config: a scope function or a dict."""
ConfigSource = Mapping[str, Any] | str | os.PathLike[str] | None
"""What ``add_config`` accepts: a dict, a config file path, or nothing (keywords)."""


def _caller_globals(depth: int) -> dict[str, Any]:
    """Return the globals of the function *depth* frames above the caller of this one
    (``depth=1`` from ``__init__``: whoever created the object). Cheap: no stack walk."""
    try:
        return sys._getframe(depth + 1).f_globals
    except ValueError:  # pragma: no cover - no such frame
        return {}


class Ingredient:
    """A part of an experiment with its own config, named configs and captured functions.

    Args:
        path: where this ingredient's config lives in the experiment's config (``"dataset"``).
        ingredients: ingredients this one uses; their config nests under their own path.
        interactive: allow a main file that is not a file (a notebook or the REPL).
        base_dir: the directory sources are collected from; defaults to the main file's.
        save_git_info: record git commit, dirtiness and diff of the sources' repositories.
    """

    def __init__(
        self,
        path: str,
        ingredients: Iterable[Ingredient] = (),
        interactive: bool = False,
        _caller_globals: dict[str, Any] | None = None,
        base_dir: str | None = None,
        save_git_info: bool = True,
    ) -> None:
        self.path = path
        self.config_path = path  # where its config lives; the Experiment's is the root ("")
        self.ingredients = list(ingredients)
        self.interactive = interactive
        self.save_git_info = save_git_info
        self.caller_globals = (
            _caller_globals if _caller_globals is not None else _globals_of_creator()
        )
        mainfile = self.caller_globals.get("__file__")
        self.mainfile = os.path.abspath(mainfile) if mainfile else None
        if base_dir is None:
            base_dir = os.path.dirname(self.mainfile) if self.mainfile else os.getcwd()
        self.base_dir = os.path.abspath(base_dir)
        self.config_layers: list[ConfigLayer] = []
        self.named_configs: dict[str, ConfigLayer | str] = {}
        self.captured_functions: list[CapturedFunction] = []
        self.commands: dict[str, CapturedFunction] = {}
        self.pre_run_hooks: list[CapturedFunction] = []
        self.post_run_hooks: list[CapturedFunction] = []
        self.config_hooks: list[Callable[..., Any]] = []
        self._init_recorded_info()

    # -- config ---------------------------------------------------------------------------
    def config(self, function: F) -> F:
        """Register a config scope: the function's local variables become config entries."""
        self.config_layers.append(ConfigScope(function))
        return function

    def named_config(self, function: F) -> F:
        """Register a named config scope, applied with ``with NAME`` before the main config."""
        self._add_named(function.__name__, ConfigScope(function))
        return function

    def add_config(self, cfg_or_file: ConfigSource = None, **kw_conf: Any) -> None:
        """Add a config layer from a dict, a config file path (json/yaml/pickle) or keywords."""
        self.config_layers.append(self._layer(cfg_or_file, kw_conf))

    def add_named_config(self, name: str, cfg_or_file: ConfigSource = None, **kw_conf: Any) -> None:
        """Add a named config from a dict, a config file path or keywords."""
        self._add_named(name, self._layer(cfg_or_file, kw_conf))

    def _layer(self, cfg_or_file: ConfigSource, kw: dict[str, Any]) -> ConfigLayer:
        if isinstance(cfg_or_file, str | os.PathLike):
            from .config.files import load_config_file

            return ConfigDict(load_config_file(os.fspath(cfg_or_file)))
        if not isinstance(cfg_or_file, Mapping | None):
            raise TypeError(
                f"add_config expects a dict or a config file path, got {cfg_or_file!r}."
            )
        if cfg_or_file is not None and kw:
            raise TypeError("add_config takes a dict or a file, or keywords, not both.")
        return ConfigDict(dict(cfg_or_file) if cfg_or_file is not None else kw)

    def _add_named(self, name: str, layer: ConfigLayer) -> None:
        if name in self.named_configs:
            raise KeyError(f"Named config {name!r} is already defined in {self.path!r}.")
        self.named_configs[name] = layer

    def config_hook(self, func: F) -> F:
        """Register ``func(config, command_name, logger) -> dict`` of updates to the config."""
        self.config_hooks.append(func)
        return func

    # -- captured functions and commands --------------------------------------------------
    @overload
    def capture(self, function: F, prefix: str | None = None) -> F: ...

    @overload
    def capture(self, function: None = None, prefix: str | None = None) -> Callable[[F], F]: ...

    def capture(self, function: Any = None, prefix: str | None = None) -> Any:
        """Make *function* take its missing arguments from the config (``prefix`` selects a
        sub-dict). Usable as ``@ex.capture`` and ``@ex.capture(prefix="x")``."""
        if function is None:
            return lambda f: self.capture(f, prefix=prefix)
        if isinstance(function, CapturedFunction):
            if function.ingredient is self and function.prefix == prefix:
                return function
        captured = CapturedFunction(function, ingredient=self, prefix=prefix)
        self.captured_functions.append(captured)
        return captured

    @overload
    def command(self, function: F, prefix: str | None = None, unobserved: bool = False) -> F: ...

    @overload
    def command(
        self, function: None = None, prefix: str | None = None, unobserved: bool = False
    ) -> Callable[[F], F]: ...

    def command(
        self, function: Any = None, prefix: str | None = None, unobserved: bool = False
    ) -> Any:
        """Register a command that can be run from the command line (config args filled)."""
        if function is None:
            return lambda f: self.command(f, prefix=prefix, unobserved=unobserved)
        captured = self.capture(function, prefix=prefix)
        name = captured.__name__
        if name in self.commands:
            raise TypeError(f"A command named {name!r} is already registered in {self.path!r}.")
        captured.unobserved = unobserved
        self.commands[name] = captured
        return captured

    def pre_run_hook(self, func: Any = None, prefix: str | None = None) -> Any:
        """Register a captured function that runs before main."""
        if func is None:
            return lambda f: self.pre_run_hook(f, prefix=prefix)
        captured = self.capture(func, prefix=prefix)
        self.pre_run_hooks.append(captured)
        return captured

    def post_run_hook(self, func: Any = None, prefix: str | None = None) -> Any:
        """Register a captured function that runs after main returned."""
        if func is None:
            return lambda f: self.post_run_hook(f, prefix=prefix)
        captured = self.capture(func, prefix=prefix)
        self.post_run_hooks.append(captured)
        return captured

    # -- what gets recorded: doc, sources, dependencies, experiment info -------------------
    # One block (with _init_recorded_info called from __init__): what Sacred's Ingredient
    # records about its module. Discovery notes the module's imports when the ingredient is
    # created, as Sacred does; files are hashed and packages looked up on first use.
    def _init_recorded_info(self) -> None:
        from .info.sources import scan
        from .settings import SETTINGS

        self.doc: str | None = self.caller_globals.get("__doc__", "")
        self._discovery = scan(
            self.caller_globals,
            self.base_dir,
            SETTINGS.DISCOVER_SOURCES,
            SETTINGS.DISCOVER_DEPENDENCIES,
        )
        self._sources: set[Source] | None = None
        self._dependencies: set[PackageDependency] | None = None

    @property
    def sources(self) -> set[Source]:
        """The source files recorded with every run: the main file, the local modules it
        had imported when this ingredient was created, and those from ``add_source_file``."""
        if self._sources is None:
            self._sources = self._discovery.find_sources()
        return self._sources

    @sources.setter
    def sources(self, value: Iterable[Source]) -> None:
        self._sources = set(value)

    @property
    def dependencies(self) -> set[PackageDependency]:
        """The packages recorded with every run: the installed distributions of the modules
        imported when this ingredient was created, numpy, and ``add_package_dependency``'s."""
        if self._dependencies is None:
            self._dependencies = self._discovery.find_dependencies()
        return self._dependencies

    @dependencies.setter
    def dependencies(self, value: Iterable[PackageDependency]) -> None:
        self._dependencies = set(value)

    def add_source_file(self, filename: str) -> None:
        """Record *filename* as a source file of every run.

        Raises:
            ValueError: the file does not exist.
        """
        self.sources.add(Source.create(filename))

    def add_package_dependency(self, package_name: str, version: str) -> None:
        """Record ``package_name==version`` as a dependency of every run (a package found
        by discovery keeps its installed version, as in Sacred).

        Raises:
            ValueError: *version* is not a PEP 440 version.
        """
        self.dependencies.add(PackageDependency.pinned(package_name, version))

    def get_experiment_info(self) -> dict[str, Any]:
        """Return the ``experiment`` entry of a run: name, base_dir, sources,
        dependencies, repositories and mainfile, over this ingredient and all it uses.

        Raises:
            CircularDependencyError: the ingredients use each other in a circle.
        """
        from .info.sources import collect_experiment_info

        sources: set[Source] = set()
        dependencies: set[PackageDependency] = set()
        for ingredient in self.traverse_ingredients():
            sources |= ingredient.sources
            dependencies |= ingredient.dependencies
        return collect_experiment_info(
            name=self.path,
            base_dir=self.base_dir,
            mainfile=self.mainfile,
            sources=sources,
            dependencies=dependencies,
            save_git_info=self.save_git_info,
        )

    def traverse_ingredients(self) -> list[Ingredient]:
        """Return this ingredient and all it uses, each once, dependencies first."""
        seen: dict[int, Ingredient] = {}

        def visit(ing: Ingredient, stack: tuple[Ingredient, ...]) -> None:
            if any(ing is s for s in stack):
                circle = stack[[s is ing for s in stack].index(True) :]
                raise CircularDependencyError(ingredients=[s.path for s in (*circle, ing)])
            for sub in ing.ingredients:
                visit(sub, (*stack, ing))
            seen.setdefault(id(ing), ing)

        visit(self, ())
        return list(seen.values())

    def gather_commands(self) -> Iterable[tuple[str, CapturedFunction]]:
        """Yield ``(full_name, command)`` for every command, ingredients' prefixed by path."""
        for ing in self.traverse_ingredients():
            for name, cmd in ing.commands.items():
                yield (f"{ing.path}.{name}" if ing is not self else name), cmd

    def gather_named_configs(self) -> Iterable[tuple[str, ConfigLayer | str]]:
        """Yield ``(full_name, named config)``, ingredients' prefixed by path."""
        for ing in self.traverse_ingredients():
            for name, layer in ing.named_configs.items():
                yield (f"{ing.path}.{name}" if ing is not self else name), layer


def _globals_of_creator() -> dict[str, Any]:
    """Globals of the code that called ``Ingredient(...)`` (``__init__``'s caller)."""
    return _caller_globals(2)
