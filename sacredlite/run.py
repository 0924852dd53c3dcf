"""The Run: one execution of a command, its lifecycle, metrics, artifacts and output.

Sacred's shape (``sacred.run.Run``): the positional constructor, the attributes options
set after creation (``debug``, ``pdb``, ``beat_interval``, ``unobserved``, ``force``,
``queue_only``, ``capture_mode``, ``meta_info``, ``_id``), Sacred's log lines and its
naive UTC times. Inside, every status change goes through :meth:`Run._transition`, every
observer call through :class:`sacredlite.observers.dispatch.Dispatcher` (which keeps and
retries what an observer failed to take), and ``log_scalar`` only appends to in-process
buffers that the heartbeat turns into batched metric events.
"""

from __future__ import annotations

import os
import signal
import threading
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import IO, TYPE_CHECKING, Any

from .captured import CapturedState, run_scope
from .errors import SacredInterrupt
from .events import (
    ArtifactAdded,
    Event,
    Heartbeat,
    MetricsLogged,
    ResourceOpened,
    ResumePointSet,
    RunCompleted,
    RunFailed,
    RunInterrupted,
    RunQueued,
    RunStarted,
    RunStatus,
)
from .metrics import LogScalar, MetricsBuffer

if TYPE_CHECKING:
    import logging

    from .config.summary import ConfigSummary
    from .observers.dispatch import Dispatcher

__all__ = ["Run"]

_ALLOWED: dict[RunStatus | None, set[RunStatus]] = {
    None: {RunStatus.RUNNING, RunStatus.QUEUED},
    RunStatus.QUEUED: {RunStatus.RUNNING},
    RunStatus.RUNNING: {
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.INTERRUPTED,
        RunStatus.TIMEOUT,
    },
}
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (what Sacred's runs and observers use)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class SignalInterrupt(SacredInterrupt):
    """A termination signal (SIGTERM) arrived while the run was executing.

    Args:
        signal_number: the signal, e.g. ``signal.SIGTERM``.
    """

    def __init__(self, signal_number: int) -> None:
        self.signal_number = int(signal_number)
        self.signal_name = signal.Signals(signal_number).name
        super().__init__(self.signal_name)


class Run:
    """One execution of an experiment's command.

    Args:
        config: the final config.
        config_modifications: what the updates changed (for ``print_config``).
        main_function: the captured command to execute.
        observers: the observers of this run (a list options may append to).
        root_logger: the logger every other logger of the run derives from.
        run_logger: the logger of the run's own messages.
        experiment_info: the ``ex_info`` observers receive.
        host_info: the ``host_info`` observers receive.
        pre_run_hooks: captured functions called before the main function.
        post_run_hooks: captured functions called after it returned.
        captured_out_filter: applied to the whole captured output.
    """

    def __init__(
        self,
        config: dict[str, Any],
        config_modifications: ConfigSummary,
        main_function: Callable[..., Any],
        observers: list[Any],
        root_logger: logging.Logger,
        run_logger: logging.Logger,
        experiment_info: dict[str, Any],
        host_info: dict[str, Any],
        pre_run_hooks: Sequence[Callable[[], Any]],
        post_run_hooks: Sequence[Callable[[], Any]],
        captured_out_filter: Callable[[str], str] | None = None,
    ) -> None:
        from .settings import SETTINGS

        self._id: Any = None
        self.captured_out = ""
        self.config = config
        self.config_modifications = config_modifications
        self.experiment_info = experiment_info
        self.host_info = host_info
        self.info: dict[str, Any] = {}
        self.root_logger = root_logger
        self.run_logger = run_logger
        self.main_function = main_function
        self.observers = observers
        self.pre_run_hooks = list(pre_run_hooks)
        self.post_run_hooks = list(post_run_hooks)
        self.result: Any = None
        self.status: RunStatus | str | None = None
        self.start_time: datetime | None = None
        self.stop_time: datetime | None = None
        self.debug = False
        self.pdb = False
        self.meta_info: dict[str, Any] = {}
        self.beat_interval: float = float(SETTINGS.get("DEFAULT_BEAT_INTERVAL", 10.0))
        self.unobserved = False
        self.force = False
        self.queue_only = False
        self.captured_out_filter = captured_out_filter
        self.fail_trace: list[str] | None = None
        self.capture_mode: str | None = None
        self.captured_states: dict[int, CapturedState] = {}
        """The state each captured function has in this run (by ``id``), see captured.py."""
        self._failed_observers: list[Any] = []
        self._dispatcher: Dispatcher | None = None
        self._metrics = MetricsBuffer()
        self._emit_lock = threading.Lock()
        self._beat_lock = threading.Lock()
        self._beat_key: int | None = None
        self._flush_key: int | None = None
        self._sampler: Any = None  # system/ metrics at each scheduled heartbeat
        self._fast: list[Any] = []  # observers with a flush_interval below the beat interval
        self._slow: list[Any] = []  # the others: they get everything at the heartbeat
        self._slow_pending: list[dict[str, Any]] = []  # metrics the slow ones have not got yet
        self._flushed_out = ""  # the output the fast observers have
        self._capturer: Any = None
        self._whole_text_filter: Callable[[str], str] | None = None
        self.resumed = False
        """Whether this run continues a stored run (``--resume ID``): load your checkpoint."""
        self.resume_count = 0
        """How many times the run has been resumed, this time included."""
        self.last_steps: dict[str, int] = {}
        """When resumed: the last stored step of each metric (continue at the next one)."""
        self._resume_entry: dict[str, Any] | None = None  # this resume's meta.resumes entry
        self._preempted: str | None = None  # why the run is being preempted (see preempt)

    # -- public API used inside the run ---------------------------------------------------
    @property
    def log_scalar(self) -> LogScalar:
        """``log_scalar(metric_name, value, step=None)``: record *value* for *metric_name* at
        *step* (default: the previous step + 1).

        Cheap: it appends to per-metric buffers; observers receive the points at the next
        flush or heartbeat. The attribute is the buffer's own function (no method layer in
        between: a tight loop doing ``log = _run.log_scalar`` calls it directly).
        """
        return self._metrics.log_scalar

    def add_artifact(
        self,
        filename: str | os.PathLike[str],
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Store the file *filename* with the run under *name* (default: its basename).

        Args:
            filename: the file to store.
            name: the name it is stored under.
            metadata: free-form data stored with it.
            content_type: its MIME type, guessed by the observers when omitted.
        """
        filename = os.path.abspath(os.fspath(filename))
        name = os.path.basename(filename) if name is None else name
        self._emit(
            ArtifactAdded(
                run_id=self._id,
                name=name,
                filename=filename,
                metadata=metadata,
                content_type=content_type,
            )
        )

    def add_resource(self, filename: str | os.PathLike[str]) -> None:
        """Record *filename* as a resource (an input file) of the run."""
        filename = os.path.abspath(os.fspath(filename))
        self._emit(ResourceOpened(run_id=self._id, filename=filename))

    def open_resource(self, filename: str | os.PathLike[str], mode: str = "r") -> IO[Any]:
        """Open *filename* and record it as a resource of the run."""
        filename = os.path.abspath(os.fspath(filename))
        self._emit(ResourceOpened(run_id=self._id, filename=filename))
        return open(filename, mode)  # noqa: SIM115 - returned to the caller

    def open_artifact(self, name: str) -> IO[bytes]:
        """Open the stored artifact *name* of this run for reading (binary).

        In a resumed run this is how a script loads the checkpoint it saved with
        ``add_artifact`` before it was interrupted. The first observer holding the
        artifact (file storage: the run directory; MongoDB: GridFS, the newest upload of
        that name) answers.

        Raises:
            FileNotFoundError: no observer of the run holds an artifact of that name.
        """
        for observer in self.observers:
            opener = getattr(observer, "open_artifact", None)
            if callable(opener) and self._id is not None:
                handle = opener(self._id, name)
                if handle is not None:
                    return handle  # type: ignore[no-any-return]
        raise FileNotFoundError(f"Run {self._id!r} has no stored artifact named {name!r}.")

    def preempt(self, reason: str = "preempted") -> None:
        """Mark the run as preempted: the exit that follows (a ``SystemExit`` raised by the
        job system, e.g. submitit's requeue) stores it as INTERRUPTED with a
        ``meta.resume_point``, instead of FAILED."""
        self._preempted = reason

    def warn_if_unobserved(self) -> None:
        """Log Sacred's warning when nothing records the run."""
        if not self.observers and not self.debug and not self.unobserved:
            self.run_logger.warning("No observers have been added to this run")

    # -- lifecycle -------------------------------------------------------------------------
    def _transition(self, new: RunStatus) -> None:
        if new not in _ALLOWED.get(self.status, set()):  # type: ignore[arg-type]
            raise RuntimeError(f"A run cannot go from {self.status} to {new}.")
        self.status = new

    def __call__(self, *args: Any) -> Any:
        """Execute the run: start observers, call the main function, report the outcome."""
        if self.start_time is not None:
            raise RuntimeError(
                f"A run can only be started once. (Last start was {self.start_time})"
            )
        if self.unobserved:
            self.observers = []
        else:
            self.observers = sorted(self.observers, key=lambda o: -_priority(o))
        self.warn_if_unobserved()
        from .randomness import set_global_seed

        set_global_seed(self.config["seed"])
        mode = self._capture_mode()
        self.run_logger.debug('Using capture mode "%s"', mode)
        from .observers.dispatch import Dispatcher

        self._dispatcher = Dispatcher(self.observers, on_failure=self._observer_failed)
        if self.queue_only:
            self._queue()
            return None
        self._start_capture(mode)
        try:
            with run_scope(self):
                self._emit_started()
                restore_sigterm = self._install_sigterm()
                try:
                    self._start_heartbeat()
                    for hook in self.pre_run_hooks:
                        hook()
                    self.result = self.main_function(*args)
                    for hook in self.post_run_hooks:
                        hook()
                finally:
                    restore_sigterm()
            if self.result is not None:
                self.run_logger.info(f"Result: {self.result}")
            self.run_logger.info("Completed after %s", self._stop_clock())
            self._stop_capture()
            self._finish(RunStatus.COMPLETED)
            self._dispatcher.emit(
                RunCompleted(run_id=self._id, time=self._stop_time(), result=self.result),
                final=True,
            )
        except BaseException as exc:
            self._stop_capture()
            self._end_with(exc)
            raise
        finally:
            self._after_run()
        return self.result

    def _capture_mode(self) -> str:
        if self.capture_mode is None and not self.observers:
            return "no"
        mode = self.capture_mode
        if mode is None:
            from .settings import SETTINGS

            mode = str(SETTINGS.CAPTURE_MODE)
        if mode not in ("fd", "no", "sys"):
            from .errors import input_error, suggest

            raise input_error(
                KeyError(
                    f"Unknown capture mode '{mode}'. Available options are ['fd', 'no', 'sys']"
                ),
                f"-C/--capture takes fd, sys or no.{suggest(str(mode), ('fd', 'no', 'sys'))}",
            )
        return mode

    def _stop_clock(self) -> timedelta:
        self.stop_time = utcnow()
        assert self.start_time is not None  # noqa: S101 - set by _emit_started
        return timedelta(seconds=round((self.stop_time - self.start_time).total_seconds()))

    def _stop_time(self) -> datetime:
        assert self.stop_time is not None  # noqa: S101 - set by _stop_clock
        return self.stop_time

    def _command_path(self) -> str:
        prefix = getattr(self.main_function, "prefix", None) or ""
        name = getattr(getattr(self.main_function, "signature", None), "name", None)
        name = name or getattr(self.main_function, "__name__", "main")
        return f"{prefix}.{name}" if prefix else str(name)

    def _start_event(self, kind: type[RunStarted] | type[RunQueued]) -> RunStarted | RunQueued:
        return kind(
            run_id=self._id,
            time=self.start_time or utcnow(),
            experiment=self.experiment_info,
            command=self._command_path(),
            host=self.host_info,
            config=self.config,
            meta=self.meta_info,
        )

    def _queue(self) -> None:
        assert self._dispatcher is not None  # noqa: S101
        self._transition(RunStatus.QUEUED)
        queue_time = utcnow()
        self.meta_info["queue_time"] = queue_time
        self.run_logger.info("Queuing-up command '%s'", self._command_path())
        event = self._start_event(RunQueued)
        self._id = self._dispatcher.start(RunQueued(**{**_fields(event), "time": queue_time}))
        if self._id is None:
            self.run_logger.info("Queued")
        else:
            self.run_logger.info(f'Queued-up run with ID "{self._id}"')
        self._dispatcher.finish()

    def _emit_started(self) -> None:
        assert self._dispatcher is not None  # noqa: S101
        self._transition(RunStatus.RUNNING)
        self.start_time = utcnow()
        self.run_logger.info("Running command '%s'", self._command_path())
        event = self._start_event(RunStarted)
        if self._resume_entry is not None:
            event = RunStarted(**{**_fields(event), "resume": self._resume_entry})
        self._id = self._dispatcher.start(event)
        if self._resume_entry is not None:
            self.run_logger.info(f'Resumed run with ID "{self._id}" ({self.resume_count}. resume)')
        elif self._id is None:
            self.run_logger.info("Started")
        else:
            self.run_logger.info(f'Started run with ID "{self._id}"')

    def _end_with(self, exc: BaseException) -> None:
        assert self._dispatcher is not None  # noqa: S101
        if self.start_time is None:  # an observer refused the start: nothing to end
            return
        preempted = self._preempted is not None and isinstance(exc, SystemExit)
        if isinstance(exc, SacredInterrupt | KeyboardInterrupt) or preempted:
            status = str(getattr(exc, "STATUS", RunStatus.INTERRUPTED))
            elapsed = self._stop_clock()
            self.run_logger.warning("Aborted after %s!", elapsed)
            known = RunStatus(status) if status in RunStatus.__members__ else None
            self._finish(known, custom_status=status)
            reason = self._preempted or getattr(exc, "signal_name", None)
            if reason is not None:  # a signal or a preemption: the run can be resumed
                from .resume import resume_point

                point = resume_point(self, str(reason))
                self._dispatcher.emit(ResumePointSet(run_id=self._id, point=point), final=True)
            self._dispatcher.emit(
                RunInterrupted(run_id=self._id, time=self._stop_time(), status=status), final=True
            )
            return
        elapsed = self._stop_clock()
        self.run_logger.error("Failed after %s!", elapsed)
        self.fail_trace = self._format_trace(exc)
        self._finish(RunStatus.FAILED)
        self._dispatcher.emit(
            RunFailed(run_id=self._id, time=self._stop_time(), fail_trace=self.fail_trace),
            final=True,
        )

    def _finish(self, status: RunStatus | None, custom_status: str | None = None) -> None:
        """Stop the heartbeat with a last beat, and set the final status."""
        self._stop_heartbeat()
        self._beat()
        if status is not None:
            self._transition(status)
        else:
            self.status = custom_status

    def _after_run(self) -> None:
        for observer in self._failed_observers:
            self.run_logger.warning(
                f"The observer '{observer}' failed at some point during the run."
            )
        if self._dispatcher is not None:
            self._dispatcher.finish()
            for observer, events in self._dispatcher.undelivered().items():
                self.run_logger.error(
                    "Observer %s did not store %d event(s) of run %s.",
                    type(observer).__name__,
                    len(events),
                    self._id,
                )

    def _observer_failed(
        self, observer: Any, event: Event, exc: BaseException, final: bool
    ) -> None:
        """Report an observer's failure as Sacred does (the dispatcher keeps the event)."""
        if final:
            self.run_logger.error("".join(traceback.format_exception(exc)))
            return
        if observer not in self._failed_observers:
            self._failed_observers.append(observer)
            self.run_logger.warning(f"An error ocurred in the '{observer}' observer: {exc}")

    def _format_trace(self, exc: BaseException) -> list[str]:
        tb = exc.__traceback__
        while tb is not None and os.path.dirname(
            os.path.abspath(tb.tb_frame.f_code.co_filename)
        ).startswith(_PACKAGE_DIR):
            tb = tb.tb_next
        if tb is None:
            tb = exc.__traceback__
        return traceback.format_exception(type(exc), exc, tb)

    def _install_sigterm(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def on_sigterm(signum: int, frame: Any) -> None:
            raise SignalInterrupt(signum)

        signals = [signal.SIGTERM]
        # Slurm's usual warning before preemption or the time limit (--signal=USR1@60);
        # only when nobody else (submitit, the user) handles it
        if os.environ.get("SLURM_JOB_ID") and signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL:
            signals.append(signal.SIGUSR1)
        previous = {}
        try:
            for number in signals:
                previous[number] = signal.signal(number, on_sigterm)
        except ValueError:  # pragma: no cover - not in the main interpreter
            return lambda: None

        def restore() -> None:
            for number, handler in previous.items():
                signal.signal(number, handler)

        return restore

    # -- heartbeat, metrics and output -----------------------------------------------------
    def _emit(self, event: Event) -> None:
        if self._dispatcher is None:  # not started: Sacred calls the observers directly
            from .observers.dispatch import Dispatcher

            dispatcher = Dispatcher(self.observers, on_failure=self._observer_failed)
            dispatcher.emit(event)
            return
        with self._emit_lock:
            self._dispatcher.emit(event)

    def _start_heartbeat(self) -> None:
        """Schedule the heartbeat (every ``beat_interval``) and, for observers that keep the
        data durable sooner (``flush_interval``, e.g. file storage: 1 s), a faster flush."""
        self.run_logger.debug("Starting Heartbeat")
        if not self.observers:
            return
        from .heartbeat import SCHEDULER

        flushes = {id(o): _flush_interval(o) for o in self.observers}
        self._fast = [
            o
            for o in self.observers
            if flushes[id(o)] is not None
            and (self.beat_interval <= 0 or flushes[id(o)] < self.beat_interval)  # type: ignore[operator]
        ]
        self._slow = [o for o in self.observers if all(o is not f for f in self._fast)]
        if self.beat_interval > 0:
            from .settings import SETTINGS

            if SETTINGS.SYSTEM_METRICS:
                from .system_metrics import SystemSampler

                self._sampler = SystemSampler()
            self._beat_key = SCHEDULER.add(self._scheduled_beat, self.beat_interval)
        if self._fast:
            fastest = min(flushes[id(o)] for o in self._fast)  # type: ignore[type-var]
            self._flush_key = SCHEDULER.add(self._scheduled_flush, float(fastest))  # type: ignore[arg-type]

    def _scheduled_beat(self) -> None:
        try:
            if self._sampler is not None:
                for name, value in self._sampler.sample().items():
                    self._metrics.log_scalar(name, value, None)
            self._beat()
        except Exception:  # noqa: BLE001 - the heartbeat must never kill the run
            self.run_logger.exception("Heartbeat of run %s failed", self._id)

    def _scheduled_flush(self) -> None:
        try:
            with self._beat_lock:
                self._beat_locked(full=False)
        except Exception:  # noqa: BLE001 - the flush must never kill the run
            self.run_logger.exception("Flush of run %s failed", self._id)

    def _stop_heartbeat(self) -> None:
        self.run_logger.debug("Stopping Heartbeat")
        from .heartbeat import SCHEDULER

        for key in (self._beat_key, self._flush_key):
            if key is not None:
                SCHEDULER.remove(key)
        self._beat_key = self._flush_key = None

    def _beat(self) -> None:
        with self._beat_lock:  # scheduled beats, flushes and the final beat never interleave
            self._beat_locked(full=True)

    def _beat_locked(self, full: bool) -> None:
        """Send new metrics and output: to every observer on a heartbeat (*full*), only to
        the observers that flush sooner on a flush (the others get them at the next beat)."""
        if not self.observers or self._dispatcher is None:
            return
        self._collect_output()
        batches = self._metrics.drain()
        fast, slow = self._fast, self._slow
        if not full and not batches and self.captured_out == self._flushed_out:
            return  # nothing new for the fast observers
        with self._emit_lock:
            # Sacred calls log_metrics before every heartbeat, with {} when nothing was logged
            for batch in batches or ([{}] if full else []):
                self._dispatcher.emit(
                    MetricsLogged(run_id=self._id, metrics=batch, info=self.info), to=fast
                )
            if slow:
                self._slow_pending.extend(batches)
            if full and slow:
                for batch in self._slow_pending or [{}]:
                    self._dispatcher.emit(
                        MetricsLogged(run_id=self._id, metrics=batch, info=self.info), to=slow
                    )
                self._slow_pending.clear()
            self._flushed_out = self.captured_out
            self._dispatcher.emit(
                Heartbeat(
                    run_id=self._id,
                    time=utcnow(),
                    info=self.info,
                    captured_out=self.captured_out,
                    new_output=None,
                    result=self.result,
                ),
                to=None if full else fast,
            )

    def _start_capture(self, mode: str) -> None:
        from .capture import apply_backspaces_and_linefeeds, get_capturer

        user_filter = self.captured_out_filter
        if user_filter is None or user_filter is apply_backspaces_and_linefeeds:
            # sacredlite renders \r and \b as a terminal would, incrementally, by default
            self._capturer = get_capturer(mode, apply_backspaces_and_linefeeds)
        else:
            # any other filter sees the whole output, as in Sacred
            self._capturer = get_capturer(mode, None)
            self._whole_text_filter = user_filter
        self._capturer.start()

    def _stop_capture(self) -> None:
        if self._capturer is not None:
            self._capturer.stop()
            self._collect_output()
            self._capturer = None

    def _collect_output(self) -> None:
        """Move newly captured (and filtered) text into ``captured_out``."""
        if self._capturer is None:
            return
        if self._whole_text_filter is not None:
            self._capturer.get_new()
            self.captured_out = self._whole_text_filter(self._capturer.text)
            return
        self._capturer.get_new()  # drains the capture's queue of new text
        self.captured_out = self._capturer.text


def _flush_interval(observer: Any) -> float | None:
    """The seconds within which *observer* wants new data (``flush_interval`` on its class),
    or ``None``; read from the class, so a mock observer never claims one."""
    value = getattr(type(observer), "flush_interval", None)
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _priority(observer: Any) -> float:
    priority = getattr(observer, "priority", 0)
    return priority if isinstance(priority, int | float) else 0


def _fields(event: Any) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__dataclass_fields__}
