"""Create a Run: config from all layers, seeds, loggers and the captured functions' state.

The steps are Sacred 0.8.7's, so configs, warnings, errors and random numbers come out the
same (``sacred.initialize``):

1. ``with`` updates are split among the ingredients by the longest matching path.
2. Named configs are evaluated in the order given, each seeing the earlier ones as presets;
   their results become updates.
3. Each ingredient, deepest first and the experiment last, evaluates its config scopes
   with its updates fixed and its sub-ingredients' configs visible as fallbacks; then its
   config hooks run.
4. Seeds: the experiment's ``seed`` (random unless given) seeds a generator that gives each
   direct ingredient its seed; each ingredient's generator gives each of its captured
   functions theirs, in registration order.
5. The captured functions get their config, logger, run and generator; updates that add
   a key no captured function takes raise ``ConfigAddedError`` (unless forced).

Random generators are made lazily (:class:`_SeedStream`): numpy is imported only when a
run's code draws ``_seed`` or ``_rnd``, and the numbers are the ones Sacred draws.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .captured import CapturedFunction, CapturedState, lazy_random
from .config.custom_containers import dogmatize, make_read_only, undogmatize
from .config.paths import (
    convert_to_nested_dict,
    get_by_dotted_path,
    is_prefix,
    iter_prefixes,
    iterate_flattened_sorted,
    join_paths,
    recursive_update,
    rel_path,
    set_by_dotted_path,
)
from .config.scope import ConfigDict
from .config.summary import ConfigSummary
from .config.utils import chain_evaluate_config_scopes
from .errors import ConfigAddedError, NamedConfigNotFoundError
from .run import Run

if TYPE_CHECKING:
    from .experiment import Experiment
    from .ingredient import ConfigLayer, Ingredient

__all__ = ["Scaffold", "build_config", "create_run", "create_run_for", "experiment_info"]

LOG_FORMAT = "%(levelname)s - %(name)s - %(message)s"


def create_basic_stream_logger() -> logging.Logger:
    """Return the root logger, given Sacred's format on stderr unless already configured."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    return logging.getLogger("")


class _SeedStream:
    """The seeds ``get_seed(create_rnd(seed))`` draws one after another, made on demand."""

    def __init__(self, seed: Any) -> None:
        self._seed = seed
        self._rnd: Any = None
        self._draws: list[int] = []

    def seed(self) -> int:
        if isinstance(self._seed, _Draw):
            self._seed = self._seed()
        return int(self._seed)

    def __getitem__(self, index: int) -> int:
        from .randomness import create_rnd, get_seed

        while len(self._draws) <= index:
            if self._rnd is None:
                self._rnd = create_rnd(self.seed())
            self._draws.append(get_seed(self._rnd))
        return self._draws[index]


class _Draw:
    """The *index*-th seed of a stream, resolved when first needed."""

    def __init__(self, stream: _SeedStream, index: int) -> None:
        self.stream = stream
        self.index = index

    def __call__(self) -> int:
        return self.stream[self.index]


class Scaffold:
    """One ingredient's part of creating a run: its updates, presets, config and seed.

    Args:
        config_scopes: the ingredient's config layers, in order.
        subrunners: the scaffolds of its direct sub-ingredients, by path.
        path: its path (``""`` for the experiment).
        captured_functions: its captured functions, in registration order.
        commands: its commands by name.
        named_configs: its named configs by name.
        config_hooks: its config hooks.
        generate_seed: put the seed into the config (the experiment does).
    """

    def __init__(
        self,
        config_scopes: Sequence[ConfigLayer],
        subrunners: dict[str, Scaffold],
        path: str,
        captured_functions: Sequence[CapturedFunction],
        commands: Mapping[str, CapturedFunction],
        named_configs: Mapping[str, ConfigLayer],
        config_hooks: Sequence[Any],
        generate_seed: bool,
    ) -> None:
        self.config_scopes = config_scopes
        self.named_configs = named_configs
        self.subrunners = subrunners
        self.path = path
        self.generate_seed = generate_seed
        self.config_hooks = config_hooks
        self.config_updates: dict[str, Any] = {}
        self.config: dict[str, Any] = {}
        self.fallback: Any = None
        self.presets: dict[str, Any] = {}
        self.fixture: dict[str, Any] | None = None
        self.logger: logging.Logger = logging.getLogger()
        self.seed: Any = None
        self.rnd: _SeedStream | None = None
        self._captured_functions = captured_functions
        self.commands = commands
        self.config_mods = ConfigSummary()
        self.summaries: list[ConfigSummary] = []
        self.captured_args = {
            join_paths(cf.prefix or "", name)
            for cf in captured_functions
            for name in cf.signature.arguments
        }
        self.captured_args.add("__doc__")  # a config scope's docstring may be set

    # -- seeds ----------------------------------------------------------------------------
    def set_up_seed(self, rnd: _SeedStream | None = None, index: int = 0) -> bool:
        """Fix this ingredient's seed: its config's ``seed``, else the *index*-th draw of
        *rnd* (random without one). Return whether a draw of *rnd* was used."""
        if self.seed is not None:
            return False
        self.seed = self.config.get("seed")
        if self.seed is not None and not isinstance(self.seed, int):
            from .errors import input_error

            raise input_error(
                AssertionError(f"Seed has to be integer but was {self.seed!r} {type(self.seed)}"),
                f"A seed is a whole number, e.g. 'with seed=42' (got {self.seed!r}).",
            )
        drew = False
        if self.seed is None:
            if rnd is None:
                from .randomness import get_seed

                self.seed = get_seed()
                if "seed" in self.config:  # an explicit None, e.g. 'with seed=None'
                    self.logger.warning(f"seed is None: drew the random seed {self.seed}")
            else:
                self.seed = _Draw(rnd, index)
                drew = True
        self.rnd = _SeedStream(self.seed)
        if self.generate_seed:
            self.config["seed"] = self.seed
        if "seed" in self.config and "seed" in self.config_mods.added:
            self.config_mods.modified.add("seed")
            self.config_mods.added -= {"seed"}
        draws = 0
        for sub_path, subrunner in reversed(list(self.subrunners.items())):
            if is_prefix(self.path, sub_path) and subrunner.set_up_seed(self.rnd, draws):
                draws += 1
        return drew

    # -- config ---------------------------------------------------------------------------
    def gather_fallbacks(self) -> None:
        """Make ``_log`` and the sub-ingredients' configs visible (read-only) to the scopes."""
        fallback: dict[str, Any] = {"_log": self.logger}
        for sub_path, subrunner in self.subrunners.items():
            if self.path and is_prefix(self.path, sub_path):
                sub_path = sub_path[len(self.path) :].strip(".")
            set_by_dotted_path(fallback, sub_path, subrunner.config)
        self.fallback = dogmatize(fallback)
        self.fallback.revelation()

    def run_named_config(self, config_name: str) -> dict[str, Any]:
        """Evaluate a named config (or a config file) and return its entries."""
        if os.path.isfile(config_name):
            from .config.files import load_config_file

            layer: ConfigLayer = ConfigDict(load_config_file(config_name))
        else:
            if config_name not in self.named_configs:
                raise NamedConfigNotFoundError(
                    named_config=config_name,
                    available_named_configs=tuple(self.named_configs.keys()),
                )
            layer = self.named_configs[config_name]
        result = layer(
            fixed=self.get_config_updates_recursive(), preset=self.presets, fallback=self.fallback
        )
        return undogmatize(result)  # type: ignore[no-any-return]

    def set_up_config(self) -> None:
        """Evaluate the config layers under the updates."""
        self.config, self.summaries = chain_evaluate_config_scopes(
            self.config_scopes,
            fixed=self.config_updates,
            preset=self.config,
            fallback=self.fallback,
        )
        self.config_mods = ConfigSummary(
            added={key for key, _ in iterate_flattened_sorted(self.config_updates)}
        )
        for summary in self.summaries:
            self.config_mods.update_from(summary)

    def run_config_hooks(
        self, config: dict[str, Any], command_name: str, logger: logging.Logger
    ) -> dict[str, Any]:
        """Return the updates the config hooks ask for, the explicit updates winning."""
        updates: dict[str, Any] = {}
        for hook in self.config_hooks:
            hook_updates = hook(copy.deepcopy(config), command_name, logger)
            if hook_updates:
                recursive_update(updates, hook_updates)
        recursive_update(updates, self.config_updates)
        return updates

    def get_config_updates_recursive(self) -> dict[str, Any]:
        """Return this ingredient's updates with its sub-ingredients' under their paths."""
        updates = dict(self.config_updates)
        for sub_path, subrunner in self.subrunners.items():
            if not is_prefix(self.path, sub_path):
                continue
            sub_updates = subrunner.get_config_updates_recursive()
            if sub_updates:
                updates[rel_path(self.path, sub_path)] = sub_updates
        return updates

    def get_fixture(self) -> dict[str, Any]:
        """Return this ingredient's config with every sub-ingredient's config under its path."""
        if self.fixture is not None:
            return self.fixture
        self.fixture = copy.copy(self.config)

        def add_subconfigs(runner: Scaffold) -> None:
            assert self.fixture is not None  # noqa: S101
            for sub_path, subrunner in runner.subrunners.items():
                subrunner.get_fixture()
                add_subconfigs(subrunner)
                if is_prefix(self.path, sub_path):
                    sub_path = sub_path[len(self.path) :].strip(".")
                set_by_dotted_path(self.fixture, sub_path, copy.copy(subrunner.config))

        add_subconfigs(self)
        return self.fixture

    # -- the run --------------------------------------------------------------------------
    def finalize_initialization(self, run: Run) -> None:
        """Give each captured function its state in *run*; check for suspicious updates."""
        from .settings import SETTINGS

        if "seed" in self.config and self.config["seed"] is not self.seed:
            self.seed = self.config["seed"]
            self.rnd = None
        # the same numbers as the stream the seeds of sub-ingredients were drawn from
        stream = self.rnd if self.rnd is not None else _SeedStream(self.seed)
        read_only = SETTINGS.CONFIG.READ_ONLY_CONFIG
        fixture = self.get_fixture()
        for index, function in enumerate(self._captured_functions):
            config = get_by_dotted_path(fixture, function.prefix or "", default={})
            if read_only:
                config = make_read_only(config)
            state = CapturedState(
                config=config,
                logger=self.logger.getChild(function.__name__),
                run=run,
                rnd=lazy_random(_function_rnd(stream, index)),
            )
            run.captured_states[id(function)] = state
            function.bind(state)
        if not run.force:
            self._warn_about_suspicious_changes()

    def _warn_about_suspicious_changes(self) -> None:
        for added in sorted(self.config_mods.added):
            if not set(iter_prefixes(added)) & self.captured_args:
                if self.path:
                    added = join_paths(self.path, added)
                raise _config_added(added, self.config, self.captured_args)
            self.logger.warning(f'Added new config entry: "{added}"')
        for key, (old, new) in self.config_mods.typechanged.items():
            if old in (int, float) and new in (int, float):
                continue
            self.logger.warning(
                f'Changed type of config entry "{key}" from {old.__name__} to {new.__name__}'
            )
        for summary in self.summaries:
            for key in summary.ignored_fallbacks:
                self.logger.warning(
                    f'Ignored attempt to set value of "{key}", because it is an ingredient.'
                )

    def __repr__(self) -> str:
        return f"<Scaffold: '{self.path}'>"


def _function_rnd(stream: _SeedStream, index: int) -> Any:
    def make() -> Any:
        from .randomness import create_rnd

        return create_rnd(stream[index])

    return make


def _config_added(key: str, config: dict[str, Any], captured_args: Iterable[str]) -> Exception:
    """Sacred's ConfigAddedError (Sacred's message), with close keys as a hint."""
    names = {arg.rsplit(".", 1)[-1] for arg in captured_args}
    return ConfigAddedError(key, config=config, captured_args=names, print_suggestions=False)


# -- the steps ----------------------------------------------------------------------------


def _sorted_ingredients(experiment: Ingredient) -> list[Ingredient]:
    """Every ingredient once, deepest first (the experiment last)."""
    depth: dict[Ingredient, int] = {}
    order: list[Ingredient] = []
    for ingredient, level in experiment.traverse_ingredients():
        if ingredient not in depth:
            order.append(ingredient)
        depth[ingredient] = max(depth.get(ingredient, 0), level)
    return sorted(order, key=lambda ing: -depth[ing])


def _create_scaffolding(
    experiment: Ingredient, ingredients: Sequence[Ingredient]
) -> dict[str, Scaffold]:
    by_ingredient: dict[Ingredient, Scaffold] = {}
    for ingredient in ingredients:
        by_ingredient[ingredient] = Scaffold(
            config_scopes=ingredient.configurations,
            subrunners={
                by_ingredient[sub].path: by_ingredient[sub] for sub in ingredient.ingredients
            },
            path="" if ingredient is experiment else ingredient.path,
            captured_functions=ingredient.captured_functions,
            commands=ingredient.commands,
            named_configs=ingredient.named_configs,
            config_hooks=ingredient.config_hooks,
            generate_seed=ingredient is experiment,
        )
    scaffolding = {scaffold.path: scaffold for scaffold in by_ingredient.values()}
    if len(scaffolding) != len(by_ingredient):
        raise ValueError(
            "The pathes of the ingredients are not unique. "
            f"{[s.path for s in by_ingredient.values()]}"
        )
    return scaffolding


def _best_match(path: str, prefixes: list[list[str]]) -> tuple[str, str]:
    """Split *path* into the longest ingredient path that prefixes it and the rest."""
    parts = path.split(".")
    for prefix in prefixes:
        if len(prefix) <= len(parts) and prefix == parts[: len(prefix)]:
            return ".".join(prefix), ".".join(parts[len(prefix) :])
    return "", path


def _distribute_config_updates(
    prefixes: list[list[str]], scaffolding: dict[str, Scaffold], updates: Mapping[str, Any]
) -> None:
    for path, value in iterate_flattened_sorted(updates):
        name, suffix = _best_match(path, prefixes)
        set_by_dotted_path(scaffolding[name].config_updates, suffix, value)


def _distribute_presets(
    owner: str,
    prefixes: list[list[str]],
    scaffolding: dict[str, Scaffold],
    updates: Mapping[str, Any],
) -> None:
    for path, value in iterate_flattened_sorted(updates):
        name, suffix = _best_match(join_paths(owner, path), prefixes)
        set_by_dotted_path(scaffolding[name].presets, suffix, value)


def _named_config_owner(name: str, scaffolding: dict[str, Scaffold]) -> tuple[Scaffold, str]:
    if os.path.exists(name):
        return scaffolding[""], name
    path, _, config_name = name.rpartition(".")
    if path not in scaffolding:
        from .config.updates import CONFIG_FILE_EXTENSIONS
        from .errors import input_error, suggest

        if name.endswith(CONFIG_FILE_EXTENSIONS):
            hint = f"Config file {name!r} does not exist; check the path."
        else:
            hint = f"No ingredient {path!r} has named configs.{suggest(path, scaffolding)}"
        raise input_error(KeyError(f'Ingredient for named config "{name}" not found'), hint)
    return scaffolding[path], config_name


def _initialize_logging(
    experiment: Experiment, scaffolding: dict[str, Scaffold], log_level: Any = None
) -> tuple[logging.Logger, logging.Logger]:
    root_logger = (
        experiment.logger if experiment.logger is not None else create_basic_stream_logger()
    )
    for path, scaffold in scaffolding.items():
        scaffold.logger = root_logger.getChild(path) if path else root_logger
    if log_level is not None:
        from .commandline_options import parse_loglevel

        root_logger.setLevel(parse_loglevel(log_level))
    return root_logger, root_logger.getChild(experiment.path)


def _get_configuration(scaffolding: dict[str, Scaffold]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for path, scaffold in reversed(list(scaffolding.items())):
        if not scaffold.config:
            continue
        if path:
            set_by_dotted_path(config, path, scaffold.config)
        else:
            config.update(scaffold.config)
    return config


def _get_command(scaffolding: dict[str, Scaffold], command_path: str) -> CapturedFunction:
    path, _, name = command_path.rpartition(".")
    if path not in scaffolding:
        raise KeyError(f'Ingredient for command "{command_path}" not found.')
    commands = scaffolding[path].commands
    if name in commands:
        return commands[name]
    if path:
        raise KeyError(f'Command "{name}" not found in ingredient "{path}"')
    raise KeyError(f'Command "{name}" not found')


def _configure(
    experiment: Experiment,
    command_name: str,
    config_updates: Mapping[str, Any] | None,
    named_configs: Sequence[str],
    log_level: Any,
) -> tuple[dict[str, Scaffold], list[Ingredient], logging.Logger, logging.Logger]:
    ingredients = _sorted_ingredients(experiment)
    scaffolding = _create_scaffolding(experiment, ingredients)
    prefixes = sorted((path.split(".") for path in scaffolding if path), key=len, reverse=True)
    updates = convert_to_nested_dict(config_updates or {})
    root_logger, run_logger = _initialize_logging(experiment, scaffolding, log_level)
    _distribute_config_updates(prefixes, scaffolding, updates)

    for name in named_configs:
        scaffold, config_name = _named_config_owner(name, scaffolding)
        scaffold.gather_fallbacks()
        named_updates = scaffold.run_named_config(config_name)
        _distribute_presets(scaffold.path, prefixes, scaffolding, named_updates)
        for key, value in iterate_flattened_sorted(named_updates):
            set_by_dotted_path(updates, join_paths(scaffold.path, key), value)
    _distribute_config_updates(prefixes, scaffolding, updates)

    for scaffold in scaffolding.values():
        scaffold.gather_fallbacks()
        scaffold.set_up_config()
        config = _get_configuration(scaffolding)
        recursive_update(
            scaffold.config, scaffold.run_config_hooks(config, command_name, run_logger)
        )

    for scaffold in reversed(list(scaffolding.values())):
        scaffold.set_up_seed()
    return scaffolding, ingredients, root_logger, run_logger


def _config_modifications(scaffolding: dict[str, Scaffold]) -> ConfigSummary:
    summary = ConfigSummary()
    for path, scaffold in scaffolding.items():
        summary.update_add(scaffold.config_mods, path=path)
    return summary


def build_config(
    experiment: Experiment,
    command_name: str,
    config_updates: Mapping[str, Any] | None = None,
    named_configs: Sequence[str] = (),
    force: bool = False,
) -> tuple[dict[str, Any], ConfigSummary]:
    """Return the config and its summary that a run of *command_name* would get."""
    scaffolding, _, _, _ = _configure(experiment, command_name, config_updates, named_configs, None)
    return _get_configuration(scaffolding), _config_modifications(scaffolding)


def create_run(
    experiment: Experiment,
    command_name: str,
    config_updates: Mapping[str, Any] | None = None,
    named_configs: Sequence[str] = (),
    force: bool = False,
    log_level: Any = None,
) -> Run:
    """Create the :class:`Run` of *command_name* (Sacred's ``initialize.create_run``)."""
    scaffolding, ingredients, root_logger, run_logger = _configure(
        experiment, command_name, config_updates, named_configs, log_level
    )
    config = _get_configuration(scaffolding)
    main_function = _get_command(scaffolding, command_name)
    run = Run(
        config,
        _config_modifications(scaffolding),
        main_function,
        list(experiment.observers),
        root_logger,
        run_logger,
        experiment_info(experiment),
        _host_info(experiment),
        [hook for ing in ingredients for hook in ing.pre_run_hooks],
        [hook for ing in ingredients for hook in ing.post_run_hooks],
        experiment.captured_out_filter,
    )
    run.unobserved = bool(getattr(main_function, "unobserved", False))
    run.force = force
    for scaffold in scaffolding.values():
        scaffold.finalize_initialization(run=run)
    return run


def create_run_for(
    experiment: Experiment,
    command_name: str | None,
    config_updates: dict[str, Any] | None = None,
    named_configs: Sequence[str] = (),
    info: dict[str, Any] | None = None,
    meta_info: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    resume: Any = None,
) -> Run:
    """What ``Experiment._create_run`` does: options, hooks, the run, its meta info.

    With *resume* (a run id), the run continues that stored run (:mod:`sacredlite.resume`).
    """
    if command_name is None:
        raise RuntimeError(
            "No command found to be run. Specify a command or define a main function."
        )
    all_options = experiment.get_default_options()
    if options:
        all_options.update(options)
    for flag, form in (("--file_storage", "-F DIR"), ("--mongo_db", "-m URL")):
        if all_options.get(flag) == "":
            from .errors import input_error

            raise input_error(
                ValueError(f"{flag} was given an empty value; the run would not be recorded."),
                f"Give {form} a value, or leave the flag out to run without that observer.",
            )
    for hook in experiment.option_hooks:
        hook(options=all_options)
    stored = resume_observers = None
    config_updates_for_run: dict[str, Any] | None
    if resume is not None:
        from .resume import check_named_configs, find_stored_run, resume_updates

        resume_observers = _observers_of(experiment, all_options)
        force = bool(all_options.get("--force", False))
        stored = find_stored_run(resume_observers, resume, force=force)
        check_named_configs(experiment, command_name, stored, named_configs, resume_observers)
        config_updates_for_run = resume_updates(stored, config_updates)
    else:
        config_updates_for_run = config_updates
    run = create_run(
        experiment,
        command_name,
        config_updates_for_run,
        named_configs=named_configs,
        force=bool(all_options.get("--force", False)),
        log_level=all_options.get("--loglevel"),
    )
    if info is not None:
        run.info.update(info)
    run.meta_info["command"] = command_name
    run.meta_info["options"] = all_options
    run.meta_info["named_configs"] = list(named_configs)
    if config_updates is not None:
        run.meta_info["config_updates"] = config_updates
    if meta_info:
        run.meta_info.update(meta_info)
    from .commandline_options import gather_command_line_options

    for option in [*gather_command_line_options(), *experiment.additional_cli_options]:
        value = all_options.get(option.get_flag(), False)
        if value and not (resume_observers is not None and option.get_flag() in _OBSERVER_FLAGS):
            option.apply(value, run)
    from .info.meta import redact_secrets

    run.meta_info = redact_secrets(run.meta_info)  # no password from a Mongo URL is stored
    if stored is not None and resume_observers is not None:
        from .resume import prepare_resume

        run.observers = resume_observers  # the ones that found the stored run
        prepare_resume(run, stored)
    return run


_OBSERVER_FLAGS = ("--file_storage", "--mongo_db")
"""The options that add an observer: made once, before the run, when it resumes."""


class _ObserverTarget:
    """What an observer option is applied to before the run exists (a resume)."""

    def __init__(self, observers: list[Any]) -> None:
        self.observers = observers


def _observers_of(experiment: Experiment, options: Mapping[str, Any]) -> list[Any]:
    """The observers a run with *options* gets: the experiment's, then those of -F / -m."""
    from .commandline_options import gather_command_line_options

    target = _ObserverTarget(list(experiment.observers))
    for option in gather_command_line_options():
        value = options.get(option.get_flag())
        if value and option.get_flag() in _OBSERVER_FLAGS:
            option.apply(value, target)  # type: ignore[arg-type]
    return target.observers


def experiment_info(experiment: Experiment) -> dict[str, Any]:
    """Return ``ex_info`` for a run: sources, dependencies and git state, gathered once per
    experiment (each run gets its own copy, so ``--name`` changes only its run)."""
    if experiment._experiment_info is None:
        from .ingredient import Ingredient

        # the gathering itself, without Experiment.get_experiment_info's cache
        experiment._experiment_info = Ingredient.get_experiment_info(experiment)
    return copy.deepcopy(experiment._experiment_info)


def _host_info(experiment: Experiment) -> dict[str, Any]:
    from .info.host import get_host_info
    from .settings import SETTINGS

    return get_host_info(experiment.additional_host_info, SETTINGS.HOST_INFO)
