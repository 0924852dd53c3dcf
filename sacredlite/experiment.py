"""Experiment: the root ingredient, with main, commands, observers and ``run``.

The decorators record things and return them. The one side effect users rely on is
``@ex.automain``, which runs the command line when its function's module is ``__main__``
(see :func:`_is_main_module`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any, TypeVar

from .captured import get_current_run
from .ingredient import Ingredient, _caller_globals
from .observers.base import ObserverList

if TYPE_CHECKING:
    from .run import Run

__all__ = ["Experiment", "gather_command_line_options"]

F = TypeVar("F", bound=Callable[..., Any])


def _is_main_module(function: Callable[..., Any]) -> bool:
    """Return whether *function* was defined in the script being executed."""
    return getattr(function, "__module__", None) == "__main__"


def gather_command_line_options(filter_disabled: bool | None = None) -> list[Any]:
    """Return the built-in command-line options, sorted by name (Sacred's function)."""
    from .commandline_options import gather_command_line_options as gather

    return gather(filter_disabled)


class Experiment(Ingredient):
    """The main object of an experiment script: config, commands, observers, runs.

    Args:
        name: the experiment's name; defaults to the main file's name without extension.
        ingredients: ingredients the experiment uses.
        interactive: allow running from a notebook or the REPL (no main file).
        base_dir: the directory sources are collected from; defaults to the main file's.
        additional_host_info: extra host info gatherers (made with ``host_info_gatherer``).
        additional_cli_options: extra command-line options made with ``cli_option``.
        save_git_info: record git commit, dirtiness and diff.
    """

    def __init__(
        self,
        name: str | None = None,
        ingredients: Sequence[Ingredient] = (),
        interactive: bool = False,
        base_dir: str | os.PathLike[str] | None = None,
        additional_host_info: Iterable[Any] | None = None,
        additional_cli_options: Iterable[Any] | None = None,
        save_git_info: bool = True,
    ) -> None:
        self.additional_host_info = list(additional_host_info or [])
        self.additional_cli_options = list(additional_cli_options or [])
        caller = _caller_globals(1)
        if name is None:
            if interactive:
                raise RuntimeError("name is required in interactive mode.")
            mainfile = caller.get("__file__")
            if mainfile is None:
                raise RuntimeError(
                    "No main-file found. Are you running in interactive mode? If so please "
                    "provide a name and set interactive=True."
                )
            name = os.path.basename(mainfile)
            for extension in (".py", ".pyc"):
                if name.endswith(extension):
                    name = name[: -len(extension)]
                    break
        super().__init__(
            path=name,
            ingredients=ingredients,
            interactive=interactive,
            base_dir=base_dir,
            _caller_globals=caller,
            save_git_info=save_git_info,
        )
        if self.mainfile is None and not interactive:
            raise RuntimeError(
                "Defining an experiment in interactive mode! The sourcecode cannot be stored "
                "and the experiment won't be reproducible. If you still want to run it pass "
                "interactive=True"
            )
        self.default_command: str | None = None
        from .commands import print_config, print_dependencies, print_named_configs, save_config

        self.command(print_config, unobserved=True)
        self.command(print_dependencies, unobserved=True)
        self.command(save_config, unobserved=True)
        self.command(print_named_configs(self), unobserved=True)
        self.observers: ObserverList = ObserverList()
        self.current_run: Run | None = None
        self.captured_out_filter: Callable[[str], str] | None = None
        """Filter applied to the captured output (e.g. ``apply_backspaces_and_linefeeds``)."""
        self.option_hooks: list[Callable[..., Any]] = []
        self._experiment_info: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.path

    # -- registration ----------------------------------------------------------------------
    def main(self, function: F) -> F:
        """Register *function* as the default command."""
        captured = self.command(function)
        self.default_command = captured.__name__
        return captured

    def automain(self, function: F) -> F:
        """Register the main function and, when run as a script, run the command line."""
        captured = self.main(function)
        if _is_main_module(function):
            import inspect

            filename = inspect.getfile(function)
            if filename == "<stdin>" or (
                filename.startswith("<ipython-input-") and filename.endswith(">")
            ):
                raise RuntimeError(
                    "Cannot use @ex.automain decorator in interactive mode. Use @ex.main instead."
                )
            self.run_commandline()
        return captured

    def option_hook(self, function: F) -> F:
        """Register ``function(options)``, called with the parsed command-line options.

        Raises:
            KeyError: the function has no argument called ``options``.
        """
        from .config.signature import Signature

        arguments = Signature(function).arguments
        if "options" not in arguments:
            raise KeyError(
                f"option_hook functions must have an argument called 'options', but got {arguments}"
            )
        self.option_hooks.append(function)
        return function

    # -- running ---------------------------------------------------------------------------
    def get_usage(self, program_name: str | None = None) -> tuple[str, str, str]:
        """Return ``(short usage, long usage, usage docopt parses)`` of the command line."""
        from .cli import usage_texts

        return usage_texts(self, program_name)

    def get_default_options(self) -> dict[str, Any]:
        """Return every option flag (``--name``) with its default: False or None."""
        return {
            option.get_flag(): (False if option.is_flag else None)
            for option in [*gather_command_line_options(), *self.additional_cli_options]
        }

    def run(
        self,
        command_name: str | None = None,
        config_updates: dict[str, Any] | None = None,
        named_configs: Sequence[str] = (),
        info: dict[str, Any] | None = None,
        meta_info: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        *,
        resume: Any = None,
    ) -> Run:
        """Run *command_name* (default: main) and return the finished :class:`Run`.

        Returns only when every observer has stored the final data.

        Args:
            resume: the id of a stored run to continue instead of starting a new one (the
                observers, e.g. ``options={"--file_storage": "runs"}``, must hold it; see
                :mod:`sacredlite.resume`). The config must be the stored one.

        .. versionadded:: 0.2 *resume*.
        """
        run = self._create_run(
            command_name, config_updates, named_configs, info, meta_info, options, resume=resume
        )
        try:
            run()
        finally:
            from .randomness import clear_pending_seeds

            clear_pending_seeds()  # seeding hooks for modules the run never imported
        return run

    def run_commandline(self, argv: Sequence[str] | str | None = None) -> Run | None:
        """Parse *argv* (default ``sys.argv``) and run what it asks for."""
        from .cli import run_commandline

        return run_commandline(self, argv)

    def _create_run(
        self,
        command_name: str | None = None,
        config_updates: dict[str, Any] | None = None,
        named_configs: Sequence[str] = (),
        info: dict[str, Any] | None = None,
        meta_info: dict[str, Any] | None = None,
        options: dict[str, Any] | None = None,
        resume: Any = None,
    ) -> Run:
        from .initialize import create_run_for

        run = create_run_for(
            self,
            command_name or self.default_command,
            config_updates=config_updates,
            named_configs=named_configs,
            info=info,
            meta_info=meta_info,
            options=options,
            resume=resume,
        )
        self.current_run = run
        return run

    def post_process_name(self, name: str, ingredient: Ingredient) -> str:
        """Strip the experiment's own name from its commands (``print_config``, not
        ``my_experiment.print_config``)."""
        if ingredient is self:
            return name[len(self.path) + 1 :]
        return name

    def get_experiment_info(self) -> dict[str, Any]:
        """Return the ``ex_info`` observers receive: name, sources, dependencies, git."""
        from .initialize import experiment_info

        return dict(experiment_info(self))

    def get_config(
        self, config_updates: dict[str, Any] | None = None, named_configs: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Return the config a run with these updates would get (``force``: no checks)."""
        from .initialize import build_config

        return build_config(self, "main", config_updates, named_configs, force=True)[0]

    # -- calls forwarded to the current run ------------------------------------------------
    def _run_or_fail(self) -> Run:
        run = get_current_run() or self.current_run
        if run is None:
            raise AssertionError("Can only be called during a run.")
        return run

    @property
    def info(self) -> dict[str, Any]:
        """The current run's ``info`` dict (sent to observers with each heartbeat)."""
        return self._run_or_fail().info

    def log_scalar(self, name: str, value: Any, step: int | None = None) -> None:
        """Log a metric point to the current run (see :meth:`Run.log_scalar`)."""
        self._run_or_fail().log_scalar(name, value, step)

    def add_artifact(
        self,
        filename: str | os.PathLike[str],
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Add an artifact to the current run (see :meth:`Run.add_artifact`)."""
        self._run_or_fail().add_artifact(filename, name, metadata, content_type)

    def add_resource(self, filename: str | os.PathLike[str]) -> None:
        """Record a resource of the current run (see :meth:`Run.add_resource`)."""
        self._run_or_fail().add_resource(filename)

    def open_resource(self, filename: str | os.PathLike[str], mode: str = "r") -> IO[Any]:
        """Open a resource for the current run (see :meth:`Run.open_resource`)."""
        return self._run_or_fail().open_resource(filename, mode)
