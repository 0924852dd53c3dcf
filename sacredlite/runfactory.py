"""Create a Run from an experiment, a command and the options (internal).

This is where config, experiment info, host info, observers and options meet; the Run
itself knows nothing about experiments.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .config.builder import build_config
from .config.checks import check_config_keys, drop_ignored_docs
from .config.paths import nest_dotted_keys
from .errors import CommandNotFoundError, RunError
from .ingredient import Ingredient
from .options import (
    apply_cli_options,
    normalize_options,
    observers_from_options,
    parse_beat_interval,
    parse_capture_mode,
    parse_loglevel,
    parse_run_id,
)
from .run import Run

if TYPE_CHECKING:
    from .experiment import Experiment

LOG_FORMAT = "%(levelname)s - %(name)s - %(message)s"


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Write to whatever ``sys.stderr`` is at the time, so captured output includes logs."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def default_logger(name: str) -> logging.Logger:
    """Return the experiment's logger, giving the root logger Sacred's format if unset."""
    root = logging.getLogger()
    if not root.handlers:
        handler = _CurrentStderrHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    return logging.getLogger(name)


def create_run(
    ex: Experiment,
    command_name: str,
    *,
    config_updates: dict[str, Any] | None = None,
    named_configs: Sequence[str] = (),
    meta_info: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> Run:
    """Build the :class:`Run` of *command_name* with everything it records."""
    options = normalize_options(options)
    for hook in ex.option_hooks:
        hook(options=options)
    commands = dict(ex.gather_commands())
    command = commands.get(command_name)
    if command is None:
        raise CommandNotFoundError(command_name, commands)
    from .settings import SETTINGS

    settings = SETTINGS.snapshot()
    logger = ex.logger or default_logger(ex.path)
    if options["--loglevel"] is not None:
        logger.setLevel(parse_loglevel(options["--loglevel"]))
    config, summary = build_config(
        ex,
        config_updates,
        named_configs,
        force=bool(options["--force"]),
        command_name=command_name,
        logger=logger,
    )
    check_config_keys(config, settings.CONFIG)
    summary.docs = drop_ignored_docs(summary.docs, settings.CONFIG.IGNORED_COMMENTS)
    ex_info = dict(experiment_info(ex, settings))
    if options["--name"]:
        ex_info["name"] = options["--name"]
    if options["--enforce_clean"]:
        _enforce_clean(ex_info)
    unobserved = bool(options["--unobserved"]) or command.unobserved
    observers = [] if unobserved else [*ex.observers, *observers_from_options(options)]
    meta = {
        "command": command_name,
        "options": _storable_options(options, config_updates, named_configs),
        "config_updates": nest_dotted_keys(dict(config_updates or {})),  # no dots: BSON-safe
        "named_configs": list(named_configs),
        **(meta_info or {}),
    }
    if options["--comment"]:
        meta["comment"] = options["--comment"]
    if options["--priority"] is not None:
        meta["priority"] = float(options["--priority"])
    from .info.meta import redact_secrets

    meta = redact_secrets(meta)  # a password in a Mongo URL never reaches a record
    from .randomness import set_global_seed

    seed = config["seed"]
    run = Run(
        config=config,
        config_modifications=summary,
        main_function=command,
        experiment_info=ex_info,
        host_info=_host_info(ex, settings),
        meta_info=meta,
        command_name=command_name,
        observers=observers,
        logger=logger,
        captured_out_filter=ex.captured_out_filter,
        beat_interval=(
            parse_beat_interval(options["--beat-interval"])
            if options["--beat-interval"] is not None
            else 10.0
        ),
        capture_mode=parse_capture_mode(options["--capture"] or settings.CAPTURE_MODE),
        read_only_config=bool(settings.CONFIG.READ_ONLY_CONFIG),
        run_id=parse_run_id(options["--id"]) if options["--id"] is not None else None,
        queue_only=bool(options["--queue"]),
        pre_run_hooks=[
            lambda: set_global_seed(seed),
            *(h for ing in ex.traverse_ingredients() for h in ing.pre_run_hooks),
        ],
        post_run_hooks=[h for ing in ex.traverse_ingredients() for h in ing.post_run_hooks],
        debug=bool(options["--debug"]),
        pdb=bool(options["--pdb"]),
        force=bool(options["--force"]),
    )
    apply_cli_options(ex.additional_cli_options, options, run)
    return run


def _storable_options(
    options: dict[str, Any], config_updates: Any, named_configs: Sequence[str]
) -> dict[str, Any]:
    """The options as stored in ``meta.options``."""
    stored = dict(options)
    stored.setdefault("UPDATE", [])
    stored.setdefault("with", bool(config_updates or named_configs))
    return stored


def experiment_info(ex: Experiment, settings: Any) -> dict[str, Any]:
    """Return the cached ``ex_info`` of *ex* (sources, dependencies, git), computed once."""
    if ex._experiment_info is None:
        ex._experiment_info = Ingredient.get_experiment_info(ex)  # Experiment's own caches
    return ex._experiment_info


def _host_info(ex: Experiment, settings: Any) -> dict[str, Any]:
    from .info.host import get_host_info

    return get_host_info(ex.additional_host_info, settings.HOST_INFO)


def _enforce_clean(experiment_info: dict[str, Any]) -> None:
    repositories = experiment_info.get("repositories", [])
    if not repositories:
        raise RunError(
            "--enforce_clean: no git repository holds the experiment's sources, so "
            "cleanliness cannot be checked; commit the code to git or drop -e."
        )
    unknown = [r for r in repositories if r.get("dirty") is None]
    if unknown:
        raise RunError(
            f"--enforce_clean: cannot tell whether {unknown[0].get('url') or 'the repository'!r}"
            " is clean (is the git binary on PATH?); install git or drop -e."
        )
    dirty = [r for r in repositories if r.get("dirty")]
    if dirty:
        from .info.git import dirty_files

        names = ", ".join(f for repo in dirty for f in dirty_files(repo)) or "uncommitted changes"
        raise RunError(
            f"--enforce_clean: the repository {dirty[0].get('url') or dirty[0].get('path')!r} "
            f"is dirty ({names}); commit or stash the changes first."
        )
