"""The Run: lifecycle, metrics, artifacts, resources, heartbeat and observer failures."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from sacredlite import Experiment
from sacredlite.errors import ObserverError, SacredInterrupt, TimeoutInterrupt
from sacredlite.observers import MemoryObserver, RunObserver

QUIET = {"--capture": "sys"}


def test_completed_run_reaches_observers_in_order(ex, memory):
    """A completed run sends started, heartbeat and completed, and returns its result."""

    @ex.main
    def main():
        return 42

    run = ex.run(options=QUIET)
    assert run.status == "COMPLETED" and run.result == 42
    assert run._id == 1
    methods = [call.method for call in memory.events]
    assert methods[0] == "started_event" and methods[-2:] == ["completed_event", "join"]
    assert memory.last_run.status == "COMPLETED" and memory.last_run.result == 42
    assert run.start_time <= run.stop_time


def test_failed_run_records_trace_and_reraises(ex, memory):
    """An exception fails the run, stores the trace without sacredlite frames, re-raises."""

    @ex.main
    def main():
        raise ValueError("broken input")

    with pytest.raises(ValueError, match="broken input"):
        ex.run(options=QUIET)
    record = memory.last_run
    assert record.status == "FAILED"
    trace = "".join(record.fail_trace)
    assert "ValueError: broken input" in trace
    assert "sacredlite" + os.sep + "run.py" not in trace


def test_keyboard_interrupt_and_status_exceptions_interrupt(ex, memory):
    """Ctrl-C ends as INTERRUPTED; an exception's STATUS overrides the status."""

    @ex.main
    def main(kind):
        raise KeyboardInterrupt if kind == "ctrl-c" else TimeoutInterrupt()

    ex.add_config(kind="ctrl-c")
    with pytest.raises(KeyboardInterrupt):
        ex.run(options=QUIET)
    assert memory.last_run.status == "INTERRUPTED"
    with pytest.raises(TimeoutInterrupt):
        ex.run(config_updates={"kind": "timeout"}, options=QUIET)
    assert memory.last_run.status == "TIMEOUT"


def test_custom_status_is_reported(ex, memory):
    """A SacredInterrupt carrying its own STATUS reaches observers with that status."""

    class Preempted(SacredInterrupt):
        STATUS = "PREEMPTED"

    @ex.main
    def main():
        raise Preempted

    with pytest.raises(Preempted):
        ex.run(options=QUIET)
    assert memory.last_run.status == "PREEMPTED"
    assert memory.events[-2] == (
        "interrupted_event",
        {"interrupt_time": memory.last_run.stop_time, "status": "PREEMPTED"},
    )


def test_log_scalar_auto_increments_steps_per_name(ex, memory):
    """Steps count up per metric name; explicit steps are kept and continue the count."""

    @ex.main
    def main(_run):
        _run.log_scalar("loss", 1.0)
        _run.log_scalar("loss", 0.5)
        _run.log_scalar("acc", 0.1, step=10)
        _run.log_scalar("acc", 0.2)
        ex.log_scalar("loss", 0.25)

    ex.run(options=QUIET)
    metrics = memory.last_run.metrics
    assert metrics["loss"]["steps"] == [0, 1, 2]
    assert metrics["loss"]["values"] == [1.0, 0.5, 0.25]
    assert metrics["acc"]["steps"] == [10, 11]
    assert all(t.tzinfo is None for t in metrics["loss"]["timestamps"])  # naive UTC, as Sacred


def test_artifacts_and_resources_reach_observers(ex, memory, tmp_path):
    """add_artifact stores the file under its name; open_resource records the input."""
    data = tmp_path / "input.txt"
    data.write_text("hello")

    @ex.main
    def main(_run):
        with _run.open_resource(data) as f:
            text = f.read()
        out = tmp_path / "out.txt"
        out.write_text(text.upper())
        _run.add_artifact(out, name="result.txt", metadata={"kind": "text"})

    ex.run(options=QUIET)
    record = memory.last_run
    assert record.artifacts == {"result.txt": b"HELLO"}
    assert [path for path, _ in record.resources] == [str(data)]


def test_heartbeat_ships_info_and_output_while_running(ex, memory):
    """With a short beat interval, heartbeats carry info and output during the run."""
    import time

    @ex.main
    def main(_run):
        _run.info["progress"] = 0.5
        print("halfway")
        time.sleep(0.35)

    ex.run(options={**QUIET, "--beat-interval": 0.1})
    beats = [c for c in memory.events if c.method == "heartbeat_event"]
    assert len(beats) >= 3
    assert beats[0].kwargs["info"] == {"progress": 0.5}
    assert "halfway" in memory.last_run.captured_out


def test_failing_started_event_aborts_the_run(ex):
    """An observer error at start propagates and main never runs."""
    calls = []

    class Broken(RunObserver):
        def started_event(self, **kwargs):
            raise ConnectionError("db down")

    ex.observers.append(Broken())

    @ex.main
    def main():
        calls.append(1)

    with pytest.raises(ConnectionError):
        ex.run(options=QUIET)
    assert calls == []


def test_later_observer_error_keeps_the_run_and_the_events(ex, memory, caplog):
    """A failing heartbeat logs Sacred's warning once, the run completes and the events are
    retried (Sacred would drop them)."""

    class Flaky(RunObserver):
        def __init__(self):
            self.failures = 2
            self.received = []

        def heartbeat_event(self, info, captured_out, beat_time, result):
            if self.failures:
                self.failures -= 1
                raise ConnectionError("temporarily down")
            self.received.append(("heartbeat", result))

        def completed_event(self, stop_time, result):
            self.received.append(("completed", result))

    flaky = Flaky()
    ex.observers.append(flaky)

    @ex.main
    def main():
        return 7

    with caplog.at_level(logging.WARNING):
        run = ex.run(options=QUIET)
    assert caplog.text.count("An error ocurred in the '") == 1
    assert "observer: temporarily down" in caplog.text
    assert run.status == "COMPLETED"
    assert memory.last_run.status == "COMPLETED"
    assert ("completed", 7) in flaky.received


def test_misspelled_observer_method_is_rejected_when_added():
    """Appending an observer with a misspelled event names the observer and the method."""
    ex = Experiment("checks")

    class Typo(RunObserver):
        def complted_event(self, stop_time, result):
            pass

    with pytest.raises(ObserverError, match="Typo defines 'complted_event'.*completed_event"):
        ex.observers.append(Typo())

    class WrongArgs:
        def started_event(self, config):
            pass

    with pytest.raises(ObserverError, match="WrongArgs.started_event cannot take"):
        ex.observers.append(WrongArgs())


def test_user_written_sacred_observer_receives_keyword_calls(ex):
    """A plain class with Sacred's method names gets Sacred's keyword arguments."""

    class SacredStyle:
        priority = 50

        def __init__(self):
            self.seen = {}

        def started_event(self, ex_info, command, host_info, start_time, config, meta_info, _id):
            self.seen["started"] = (ex_info["name"], command, config["a"], _id)
            return "custom-id"

        def completed_event(self, stop_time, result):
            self.seen["completed"] = result

    observer = SacredStyle()
    ex.observers.append(observer)
    ex.add_config(a=5)

    @ex.main
    def main(a):
        return a * 2

    run = ex.run(options=QUIET)
    assert observer.seen == {"started": ("test_exp", "main", 5, None), "completed": 10}
    assert run._id == "custom-id"


def test_queue_only_emits_a_queued_event(ex, memory):
    """options --queue queues the run without executing main."""
    calls = []

    @ex.main
    def main():
        calls.append(1)

    run = ex.run(options={**QUIET, "--queue": True})
    assert calls == [] and run.status == "QUEUED"
    assert memory.last_run.status == "QUEUED"


def test_unobserved_option_ignores_observers(ex, memory):
    """--unobserved runs without telling any observer."""

    @ex.main
    def main():
        return 1

    assert ex.run(options={"--unobserved": True}).result == 1
    assert memory.events == []


def test_sigterm_interrupts_the_run(tmp_path):
    """SIGTERM ends a run as INTERRUPTED and every observer is told."""
    script = tmp_path / "sleepy.py"
    script.write_text(
        textwrap.dedent("""
        import os, signal, sys, time, threading
        from sacredlite import Experiment
        from sacredlite.observers import MemoryObserver
        ex = Experiment("sleepy")
        obs = MemoryObserver()
        ex.observers.append(obs)

        @ex.main
        def main():
            threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()
            time.sleep(5)

        try:
            ex.run(options={"--capture": "no"})
        except BaseException as exc:
            print("raised", type(exc).__name__)
        print("status", obs.last_run.status)
    """)
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=30)
    assert "status INTERRUPTED" in out.stdout, out.stderr


def test_sigterm_on_the_command_line_is_one_line_and_exit_143(tmp_path):
    """From the command line, SIGTERM stores the run as INTERRUPTED, prints one line saying
    so (no traceback) and exits 143, as a process killed by SIGTERM does."""
    script = tmp_path / "sleepy.py"
    script.write_text(
        textwrap.dedent("""
        import time
        from sacredlite import Experiment
        ex = Experiment("sleepy")

        @ex.automain
        def main():
            print("started", flush=True)
            time.sleep(30)
    """)
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), "-F", "runs", "--capture=sys"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "started\n"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert "Traceback" not in err
    assert err.splitlines()[-1] == "Stopped by SIGTERM (run 1 stored as INTERRUPTED)."
    stored = json.loads((tmp_path / "runs" / "1" / "run.json").read_text())
    assert stored["status"] == "INTERRUPTED"


def test_run_cannot_be_executed_twice(ex):
    """Calling a finished Run again raises RuntimeError, as in Sacred."""

    @ex.main
    def main():
        return 1

    run = ex.run(options=QUIET)
    with pytest.raises(RuntimeError, match="A run can only be started once"):
        run()


def test_hooks_run_around_main(ex):
    """pre_run_hook and post_run_hook are captured functions called around main."""
    order = []
    ex.add_config(tag="x")

    @ex.pre_run_hook
    def before(tag):
        order.append(("pre", tag))

    @ex.post_run_hook
    def after(tag):
        order.append(("post", tag))

    @ex.main
    def main():
        order.append(("main", None))

    ex.run(options=QUIET)
    assert order == [("pre", "x"), ("main", None), ("post", "x")]


def test_log_scalar_outside_a_run_raises():
    """ex.log_scalar without an active run says it needs one."""
    ex = Experiment("idle")
    with pytest.raises(AssertionError, match="Can only be called during a run."):
        ex.log_scalar("loss", 1)


def test_memory_observer_keeps_every_run(ex, memory):
    """Several ex.run calls give several records with increasing ids."""

    @ex.main
    def main():
        return 1

    ids = [ex.run(options=QUIET)._id for _ in range(3)]
    assert ids == [1, 2, 3] and set(memory.runs) == {1, 2, 3}
    assert isinstance(memory, MemoryObserver)


def test_sigkill_loses_at_most_the_last_second_with_the_default_heartbeat(tmp_path):
    """With the default 10 s heartbeat, file storage has every point and every printed line
    that is more than about a second old when the process is killed (issue 9: 0 of up to
    8,000 points survived a SIGKILL before)."""
    from sacredlite.formats.file import read_metrics

    script = tmp_path / "busy.py"
    script.write_text(
        textwrap.dedent("""
        import time
        from sacredlite import Experiment
        ex = Experiment("busy")

        @ex.automain
        def main(_run):
            print("started", flush=True)
            count = 0
            while True:
                now = time.time()
                _run.log_scalar("clock", now)
                if count % 10 == 0:
                    print(f"line {count} at {now}", flush=True)
                count += 1
                time.sleep(0.01)
    """)
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), "-F", "runs"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "started\n"
    import time

    time.sleep(3.5)
    killed_at = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    run_dir = tmp_path / "runs" / "1"
    clock = read_metrics(run_dir)["clock"]["values"]
    assert len(clock) > 100
    assert clock == sorted(clock)
    assert killed_at - clock[-1] < 1.8  # flush every 1 s, plus scheduling slack
    last_line = (run_dir / "cout.txt").read_text().strip().splitlines()[-1]
    assert killed_at - float(last_line.rsplit(" ", 1)[1]) < 1.8
    assert json.loads((run_dir / "run.json").read_text())["status"] == "RUNNING"
