"""QueueObserver forwards Sacred's calls, whatever their arguments, from a background thread."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from sacredlite import Experiment
from sacredlite.observers import QueueObserver, RunObserver

Call = tuple[str, tuple[Any, ...], dict[str, Any]]


class Recorder:
    """An observer that records every call it gets, with its arguments."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def _record(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.calls.append((name, args, kwargs))

    def started_event(self, *args: Any, **kwargs: Any) -> str:
        self._record("started_event", args, kwargs)
        return "run-1"

    def heartbeat_event(self, *args: Any, **kwargs: Any) -> None:
        self._record("heartbeat_event", args, kwargs)

    def resource_event(self, *args: Any, **kwargs: Any) -> None:
        self._record("resource_event", args, kwargs)

    def artifact_event(self, *args: Any, **kwargs: Any) -> None:
        self._record("artifact_event", args, kwargs)

    def log_metrics(self, *args: Any, **kwargs: Any) -> None:
        self._record("log_metrics", args, kwargs)

    def completed_event(self, *args: Any, **kwargs: Any) -> None:
        self._record("completed_event", args, kwargs)

    def interrupted_event(self, *args: Any, **kwargs: Any) -> None:
        self._record("interrupted_event", args, kwargs)

    def failed_event(self, *args: Any, **kwargs: Any) -> None:
        self._record("failed_event", args, kwargs)

    def join(self) -> None:
        self._record("join", (), {})


class BatchObserver(RunObserver):
    """An observer written against Sacred's RunObserver: log_metrics takes the batch."""

    def __init__(self) -> None:
        self.batches: list[tuple[dict[str, Any], Any]] = []

    def log_metrics(self, metrics_by_name: dict[str, Any], info: dict[str, Any]) -> None:
        self.batches.append((metrics_by_name, info))


class PerMetricObserver(RunObserver):
    """An observer with Sacred's queue-compatible log_metrics(name, series, info)."""

    def __init__(self) -> None:
        self.metrics: list[tuple[str, Any, Any]] = []

    def log_metrics(self, metric_name: str, metric_values: Any, info: Any) -> None:  # type: ignore[override]
        self.metrics.append((metric_name, metric_values, info))


def fast(observer: Any) -> QueueObserver:
    return QueueObserver(observer, interval=0.01, retry_interval=0.01)


def start(queue: QueueObserver) -> None:
    """Call started_event with Sacred's seven arguments."""
    queue.started_event({"name": "e"}, "main", {}, None, {}, {}, None)


class TestForwarding:
    def test_started_event_is_forwarded_at_once_and_starts_the_worker(self) -> None:
        """started_event reaches the covered observer with its arguments and returns its id."""
        recorder = Recorder()
        queue = fast(recorder)
        assert queue.started_event("ex", _id=None) == "run-1"
        assert recorder.calls == [("started_event", ("ex",), {"_id": None})]
        assert queue._worker is not None and queue._worker.is_alive()
        queue.join()
        assert not queue._worker.is_alive()

    @pytest.mark.parametrize("event", ["heartbeat_event", "resource_event", "artifact_event"])
    def test_events_keep_their_positional_and_keyword_arguments(self, event: str) -> None:
        """Queued events arrive as they were called; join does not join the covered observer."""
        recorder = Recorder()
        queue = fast(recorder)
        queue.started_event()
        getattr(queue, event)("first", 2, key="value")
        queue.join()
        assert recorder.calls[1:] == [(event, ("first", 2), {"key": "value"})]

    @pytest.mark.parametrize("event", ["completed_event", "interrupted_event", "failed_event"])
    def test_terminal_event_waits_for_delivery_and_stops_the_worker(self, event: str) -> None:
        """A terminal event returns once it is delivered, with the worker stopped."""
        recorder = Recorder()
        queue = QueueObserver(recorder, interval=60, retry_interval=0.01)
        queue.started_event()
        queue.heartbeat_event("beat")
        getattr(queue, event)("end", status="X")
        assert [name for name, _, _ in recorder.calls] == [
            "started_event",
            "heartbeat_event",
            event,
        ]
        assert recorder.calls[-1] == (event, ("end",), {"status": "X"})
        assert queue._worker is not None and not queue._worker.is_alive()


class TestMetrics:
    BATCH = {"loss": {"steps": [0], "values": [1.0]}, "acc": {"steps": [0], "values": [0.5]}}

    def test_any_argument_observer_gets_one_call_per_metric(self) -> None:
        """An observer taking any arguments gets log_metrics(name, series, info), as Sacred."""
        recorder = Recorder()
        queue = fast(recorder)
        queue.started_event()
        queue.log_metrics(self.BATCH, "info")
        queue.join()
        assert recorder.calls[1:] == [
            ("log_metrics", ("loss", self.BATCH["loss"], "info"), {}),
            ("log_metrics", ("acc", self.BATCH["acc"], "info"), {}),
        ]

    def test_three_argument_observer_gets_one_call_per_metric(self) -> None:
        """Sacred's queue-compatible signature gets one call per metric, in order."""
        covered = PerMetricObserver()
        queue = fast(covered)
        start(queue)
        info: dict[str, Any] = {}
        queue.log_metrics(self.BATCH, info)
        queue.join()
        assert covered.metrics == [
            ("loss", self.BATCH["loss"], info),
            ("acc", self.BATCH["acc"], info),
        ]

    def test_batch_observer_gets_the_batch(self) -> None:
        """An observer with RunObserver's log_metrics(metrics_by_name, info) gets the batch."""
        covered = BatchObserver()
        queue = fast(covered)
        start(queue)
        info: dict[str, Any] = {}
        queue.log_metrics(self.BATCH, info)
        queue.join()
        assert covered.batches == [(self.BATCH, info)]


class TestThroughExperiment:
    def run(self, fail: bool) -> Recorder:
        recorder = Recorder()
        ex = Experiment("queued_exp")
        ex.observers.append(QueueObserver(recorder, interval=1, retry_interval=0.01))

        @ex.main
        def main() -> None:
            print("working")
            if fail:
                raise RuntimeError("fatal error")

        if fail:
            with pytest.raises(RuntimeError):
                ex.run()
        else:
            ex.run()
        return recorder

    def test_completed_run_ends_with_completed_event(self) -> None:
        """The run waits for the queue: the covered observer's last call is completed_event."""
        assert self.run(fail=False).calls[-1][0] == "completed_event"

    def test_failed_run_ends_with_failed_event(self) -> None:
        """After a failure too, the covered observer's last call is failed_event."""
        assert self.run(fail=True).calls[-1][0] == "failed_event"


def test_incremental_output_follows_the_covered_observers_class() -> None:
    """Only an observer class that asks for new output only gets it through the queue."""

    class WantsNewOutput(BatchObserver):
        incremental_output = True

    assert fast(WantsNewOutput()).incremental_output is True
    assert fast(BatchObserver()).incremental_output is False
    assert fast(Recorder()).incremental_output is False


class TestBoundedEnd:
    """Issue 9: the end of a run waits a bounded time for an observer that keeps failing."""

    class Failing(Recorder):
        """An observer whose storage is gone: every heartbeat fails after *delay* seconds."""

        def __init__(self, delay: float = 0.0) -> None:
            super().__init__()
            self.delay = delay

        def heartbeat_event(self, *args: Any, **kwargs: Any) -> None:
            time.sleep(self.delay)
            raise ConnectionError("storage is gone")

    def timed_end(self, queue: QueueObserver, started: bool = False) -> float:
        """Return the seconds the run's end (completed_event after a heartbeat) takes."""
        if not started:
            start(queue)
        queue.heartbeat_event("beat")
        began = time.monotonic()
        finished = threading.Thread(target=queue.completed_event, args=("end",), daemon=True)
        finished.start()
        finished.join(20)
        assert not finished.is_alive(), "the end of the run did not return within 20 s"
        return time.monotonic() - began

    def test_the_wait_follows_the_setting(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Without join_timeout, SETTINGS.DEFAULT_JOIN_TIMEOUT bounds the wait (Sacred waits
        forever; sacredlite waited 60 s); what is left is reported."""
        from sacredlite import SETTINGS

        monkeypatch.setitem(SETTINGS._values, "DEFAULT_JOIN_TIMEOUT", 0.5)
        queue = QueueObserver(self.Failing(), interval=0.01, retry_interval=10)
        with caplog.at_level(logging.WARNING):
            ended_after = self.timed_end(queue)
        assert ended_after < 0.5 + 5.0  # far below the 60 s it was; slack for busy CI
        assert "could not deliver 2 event(s) while none got through for 0.5 s" in caplog.text

    def test_a_delivery_that_hangs_does_not_hold_the_end(self) -> None:
        """A call that blocks (a network timeout) is left behind once join_timeout passes."""
        queue = QueueObserver(self.Failing(delay=3), interval=0.01, retry_interval=0.01,
                              join_timeout=0.3)  # fmt: skip
        assert self.timed_end(queue) < 0.3 + 2.5  # the blocked call takes 3 s

    def test_progress_keeps_the_end_waiting(self) -> None:
        """Deliveries that get through keep the end waiting, longer than join_timeout in all."""

        class Slow(Recorder):
            def heartbeat_event(self, *args: Any, **kwargs: Any) -> None:
                time.sleep(0.1)
                super().heartbeat_event(*args, **kwargs)

        recorder = Slow()
        queue = QueueObserver(recorder, interval=60, retry_interval=0.01, join_timeout=0.3)
        start(queue)
        for n in range(8):
            queue.heartbeat_event(n)
        assert self.timed_end(queue, started=True) >= 0.8
        assert [args for name, args, _ in recorder.calls if name == "heartbeat_event"] == [
            (n,) for n in range(8)
        ] + [("beat",)]
