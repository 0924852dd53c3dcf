"""Captured functions: missing arguments come from the run's config (internal).

Sacred's shape (``sacred.config.captured_function.create_captured_function``): the
captured function carries ``signature``, ``prefix``, ``uses_randomness`` and the state a
run gives it, ``config``, ``logger``, ``rnd`` and ``run``. Explicit call arguments always
win; free parameters are filled from ``config`` and the special names ``_config``,
``_log``, ``_run``, ``_seed`` and ``_rnd`` (a fresh seed and generator per call, drawn
from ``rnd``).

The state a run creates is also kept per run: while a run executes (the context variable
of :func:`run_scope`), its functions use that run's state, so two runs of one experiment
in two threads do not share config or random generators. Outside of any run the last
run's state stays on the function, as in Sacred.
"""

from __future__ import annotations

import contextlib
import functools
import time
import types
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .config.signature import Signature
from .errors import ConfigError

if TYPE_CHECKING:
    import logging

    from .run import Run

__all__ = ["CapturedFunction", "CapturedState", "create_captured_function", "get_current_run"]

_current_run: ContextVar[Run | None] = ContextVar("sacredlite_current_run", default=None)


def get_current_run() -> Run | None:
    """Return the run that is executing in this context, if any."""
    return _current_run.get()


@contextlib.contextmanager
def run_scope(run: Run) -> Iterator[None]:
    """Make *run* the active run inside the ``with`` block."""
    token = _current_run.set(run)
    try:
        yield
    finally:
        _current_run.reset(token)


class CapturedState:
    """What one run gives one captured function.

    Args:
        config: the config the function reads (its ingredient's, under its prefix).
        logger: its logger (``_log``).
        run: the run (``_run``).
        rnd: its random generator, or a zero-argument callable that creates it on first
            use (so numpy is imported only by runs that use ``_seed`` or ``_rnd``).
    """

    __slots__ = ("config", "logger", "run", "_rnd")

    def __init__(
        self,
        config: Any = None,
        logger: logging.Logger | None = None,
        run: Any = None,
        rnd: Any = None,
    ) -> None:
        self.config = {} if config is None else config
        self.logger = logger
        self.run = run
        self._rnd = rnd

    @property
    def rnd(self) -> Any:
        """The generator ``_seed`` values are drawn from."""
        if isinstance(self._rnd, _LazyRandom):
            self._rnd = self._rnd()
        return self._rnd

    @rnd.setter
    def rnd(self, value: Any) -> None:
        self._rnd = value


class _LazyRandom:
    """A generator made on first use by *factory*."""

    __slots__ = ("factory",)

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory = factory

    def __call__(self) -> Any:
        return self.factory()


def lazy_random(factory: Callable[[], Any]) -> Any:
    """Return a placeholder for ``CapturedState.rnd`` that calls *factory* on first use."""
    return _LazyRandom(factory)


class CapturedFunction:
    """A function whose missing arguments are taken from the config.

    Args:
        function: the user's function.
        prefix: the dotted path of the config subtree it reads (``None``: its ingredient's
            whole config).
    """

    __name__: str
    __qualname__: str

    def __init__(self, function: Callable[..., Any], prefix: str | None = None) -> None:
        functools.update_wrapper(self, function)
        self.__wrapped__ = function
        self.signature = Signature(function)
        self.uses_randomness = (
            "_seed" in self.signature.arguments or "_rnd" in self.signature.arguments
        )
        self.prefix = prefix
        self.unobserved = False
        self._state = CapturedState()

    # -- Sacred's attributes: the state the last run (or the caller) gave it -----------------
    @property
    def config(self) -> Any:
        return self._state.config

    @config.setter
    def config(self, value: Any) -> None:
        self._state.config = value

    @property
    def logger(self) -> logging.Logger | None:
        return self._state.logger

    @logger.setter
    def logger(self, value: logging.Logger | None) -> None:
        self._state.logger = value

    @property
    def rnd(self) -> Any:
        return self._state.rnd

    @rnd.setter
    def rnd(self, value: Any) -> None:
        self._state.rnd = value

    @property
    def run(self) -> Any:
        return self._state.run

    @run.setter
    def run(self, value: Any) -> None:
        self._state.run = value

    def bind(self, state: CapturedState) -> None:
        """Give the function the state of a new run (it stays after the run, as Sacred)."""
        self._state = state

    def _active_state(self) -> CapturedState:
        run = _current_run.get()
        if run is not None:
            state = run.captured_states.get(id(self))
            if state is not None:
                return state
        return self._state

    # -- calling --------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        state = self._active_state()
        config = state.config
        options = dict(config)
        options["_config"] = config
        options["_log"] = state.logger
        options["_run"] = state.run
        if self.uses_randomness:
            from .randomness import create_rnd, get_seed

            seed = get_seed(state.rnd)
            options["_seed"] = seed
            options["_rnd"] = create_rnd(seed)
        call_args, kwargs = self.signature.construct_arguments(args, kwargs, options)
        logger = state.logger
        if logger is None:
            with ConfigError.track(config, self.prefix):
                return self.__wrapped__(*call_args, **kwargs)
        logger.debug("Started")
        start = time.time()
        with ConfigError.track(config, self.prefix):
            result = self.__wrapped__(*call_args, **kwargs)
        logger.debug("Finished after %s.", timedelta(seconds=round(time.time() - start)))
        return result

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        """Bind to *instance* when used as a method: ``self`` is then the first argument."""
        if instance is None:
            return self
        return types.MethodType(self, instance)

    def __reduce__(self) -> str:
        """Pickle by reference, as Python pickles functions: the name it is found under in its
        module (the run's state never travels)."""
        return self.__qualname__

    def __repr__(self) -> str:
        return f"<captured function {self.__qualname__}>"


def create_captured_function(
    function: Callable[..., Any], prefix: str | None = None
) -> CapturedFunction:
    """Return *function* as a captured function (Sacred's factory)."""
    return CapturedFunction(function, prefix=prefix)
