"""Ingredient: a reusable part of an experiment with its own config, captured functions
and commands. The decorators here record things and return them; they run nothing.

Sacred's shape: ``configurations`` (config scopes and dicts, in order), ``named_configs``,
``captured_functions``, ``commands``, ``config_hooks``, ``pre_run_hooks``,
``post_run_hooks``; ``@ing.config`` and ``@ing.named_config`` return the
:class:`~sacredlite.config.scope.ConfigScope` they made.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload

from .captured import CapturedFunction, create_captured_function
from .config.scope import ConfigDict, ConfigScope
from .errors import CircularDependencyError
from .info.packages import PackageDependency
from .info.sources import Source

F = TypeVar("F", bound=Callable[..., Any])
ConfigLayer = ConfigScope | ConfigDict
"""One layer of an ingredient's config: a scope function or a dict."""
ConfigSource = Mapping[str, Any] | str | os.PathLike[str] | None
"""What ``add_config`` accepts: a dict, a config file path, or nothing (keywords)."""
_CONFIG_HOOK_ARGS = ["config", "command_name", "logger"]


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
        base_dir: str | os.PathLike[str] | None = None,
        save_git_info: bool = True,
    ) -> None:
        self.path = path
        self.config_hooks: list[Callable[..., Any]] = []
        self.configurations: list[ConfigLayer] = []
        self.named_configs: dict[str, ConfigLayer] = {}
        self.ingredients = list(ingredients)
        self.logger: Any = None
        self.captured_functions: list[CapturedFunction] = []
        self.post_run_hooks: list[CapturedFunction] = []
        self.pre_run_hooks: list[CapturedFunction] = []
        self.commands: dict[str, CapturedFunction] = {}
        self._is_traversing = False
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
        self._init_recorded_info()

    # -- decorators -----------------------------------------------------------------------
    @overload
    def capture(self, function: F, prefix: str | None = None) -> F: ...

    @overload
    def capture(self, function: None = None, prefix: str | None = None) -> Callable[[F], F]: ...

    def capture(self, function: Any = None, prefix: str | None = None) -> Any:
        """Make *function* take its missing arguments from the config (``prefix`` selects a
        sub-dict). Usable as ``@ex.capture`` and ``@ex.capture(prefix="x")``."""
        if function is None:
            return lambda f: self.capture(f, prefix=prefix)
        if function in self.captured_functions:
            return function
        captured = create_captured_function(function, prefix=prefix)
        self.captured_functions.append(captured)
        return captured

    def pre_run_hook(self, func: Any = None, prefix: str | None = None) -> Any:
        """Register a captured function that runs just before the main function."""
        if func is None:
            return lambda f: self.pre_run_hook(f, prefix=prefix)
        captured = self.capture(func, prefix=prefix)
        self.pre_run_hooks.append(captured)
        return captured

    def post_run_hook(self, func: Any = None, prefix: str | None = None) -> Any:
        """Register a captured function that runs just after the main function."""
        if func is None:
            return lambda f: self.post_run_hook(f, prefix=prefix)
        captured = self.capture(func, prefix=prefix)
        self.post_run_hooks.append(captured)
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
        """Register a command runnable from the command line (a captured function).

        Args:
            function: the command; its name is the command's name.
            prefix: the config subtree it reads.
            unobserved: run it without observers (like the built-in print commands).
        """
        if function is None:
            return lambda f: self.command(f, prefix=prefix, unobserved=unobserved)
        captured = self.capture(function, prefix=prefix)
        captured.unobserved = unobserved
        self.commands[function.__name__] = captured
        return captured

    def config(self, function: Callable[..., Any]) -> ConfigScope:
        """Turn *function* into a config scope: its local variables become config entries."""
        scope = ConfigScope(function)
        self.configurations.append(scope)
        return scope

    def named_config(self, function: Callable[..., Any]) -> ConfigScope:
        """Turn *function* into a named config, applied with ``with NAME``."""
        scope = ConfigScope(function)
        self._add_named_config(function.__name__, scope)
        return scope

    def config_hook(self, func: F) -> F:
        """Register ``func(config, command_name, logger) -> dict`` of config updates.

        Raises:
            ValueError: the function does not take exactly those three arguments.
        """
        import inspect

        spec = inspect.getfullargspec(func)
        if (
            spec.args != _CONFIG_HOOK_ARGS
            or spec.varargs is not None
            or spec.kwonlyargs
            or spec.defaults is not None
        ):
            raise ValueError(
                "Wrong signature for config_hook. Expected: (config, command_name, logger)"
            )
        self.config_hooks.append(func)
        return func

    # -- config ---------------------------------------------------------------------------
    def add_config(self, cfg_or_file: ConfigSource = None, **kw_conf: Any) -> None:
        """Add a config layer from a dict, a config file (json/yaml/pickle) or keywords."""
        self.configurations.append(self._create_config_dict(cfg_or_file, kw_conf))

    def add_named_config(self, name: str, cfg_or_file: ConfigSource = None, **kw_conf: Any) -> None:
        """Add a named config from a dict, a config file or keywords."""
        self._add_named_config(name, self._create_config_dict(cfg_or_file, kw_conf))

    def _add_named_config(self, name: str, layer: ConfigLayer) -> None:
        if name in self.named_configs:
            raise KeyError(f'Configuration name "{name}" already in use!')
        self.named_configs[name] = layer

    @staticmethod
    def _create_config_dict(cfg_or_file: ConfigSource, kw_conf: dict[str, Any]) -> ConfigDict:
        if cfg_or_file is not None and kw_conf:
            raise ValueError("cannot combine keyword config with positional argument")
        if cfg_or_file is None:
            if not kw_conf:
                raise ValueError("attempted to add empty config")
            return ConfigDict(kw_conf)
        if isinstance(cfg_or_file, dict):
            return ConfigDict(cfg_or_file)
        if isinstance(cfg_or_file, str | os.PathLike):
            path = os.fspath(cfg_or_file)
            if not os.path.exists(path):
                raise OSError(f"File not found {path}")
            from .config.files import load_config_file

            return ConfigDict(load_config_file(os.path.abspath(path)))
        raise TypeError(f"Invalid argument type {type(cfg_or_file)}")

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
        for ingredient, _ in self.traverse_ingredients():
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

    # -- gathering over sub-ingredients ---------------------------------------------------
    def post_process_name(self, name: str, ingredient: Ingredient) -> str:
        """Return the name a gathered command or named config is listed under."""
        return name

    def traverse_ingredients(self) -> Iterator[tuple[Ingredient, int]]:
        """Yield ``(ingredient, depth)`` for this ingredient and all it uses, in preorder.

        Raises:
            CircularDependencyError: the ingredients form a cycle (named in the message).
        """
        if self._is_traversing:
            raise CircularDependencyError(ingredients=[self])
        self._is_traversing = True
        try:
            yield self, 0
            with CircularDependencyError.track(self):
                for ingredient in self.ingredients:
                    for sub, depth in ingredient.traverse_ingredients():
                        yield sub, depth + 1
        finally:
            self._is_traversing = False

    def gather_commands(self) -> Iterator[tuple[str, CapturedFunction]]:
        """Yield ``(dotted name, command)`` for this ingredient's and its ingredients'
        commands."""
        for ingredient, _ in self.traverse_ingredients():
            for name, command in ingredient.commands.items():
                yield self.post_process_name(_join(ingredient.path, name), ingredient), command

    def gather_named_configs(self) -> Iterator[tuple[str, ConfigLayer]]:
        """Yield ``(dotted name, named config)`` for this ingredient and its ingredients."""
        for ingredient, _ in self.traverse_ingredients():
            for name, layer in ingredient.named_configs.items():
                yield self.post_process_name(_join(ingredient.path, name), ingredient), layer


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)


def _globals_of_creator() -> dict[str, Any]:
    """Globals of the code that called ``Ingredient(...)`` (``__init__``'s caller)."""
    return _caller_globals(2)
