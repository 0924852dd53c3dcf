"""The ``local`` engine: every run in this process, one after the other."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from . import Engine, refuse_unknown

__all__ = ["InProcessExecutor", "open_engine"]


class InProcessExecutor(Executor):
    """Run each submitted call at once, in the calling thread; return its done future."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Call ``fn(*args, **kwargs)`` now and return a future holding its outcome."""
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            future.set_exception(exc)
        return future


def open_engine(jobs: int | None, options: dict[str, Any]) -> Engine:
    """Return the in-process engine (``--jobs`` is ignored: one run at a time)."""
    refuse_unknown("local", options, ())
    return Engine(InProcessExecutor(), jobs=1)
