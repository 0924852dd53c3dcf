"""The log_scalar buffer: batching, step resolution and draining while logging."""

from __future__ import annotations

import threading

from sacredlite.metrics import BATCH_POINTS, MetricsBuffer


def test_large_series_is_cut_into_bounded_batches():
    """A long series arrives in batches of at most BATCH_POINTS with continuous steps."""
    buffer = MetricsBuffer()
    log = buffer.make_logger()
    total = BATCH_POINTS * 2 + 5
    for i in range(total):
        log("loss", float(i))
    batches = buffer.drain()
    assert [len(b["loss"]) for b in batches] == [BATCH_POINTS, BATCH_POINTS, 5]
    steps = [s for b in batches for s in b["loss"].steps]
    assert steps == list(range(total))
    assert buffer.drain() == []


def test_steps_continue_across_drains_and_explicit_steps():
    """Auto steps continue after a drain and after an explicit step."""
    buffer = MetricsBuffer()
    log = buffer.make_logger()
    log("acc", 0.1)
    log("acc", 0.2, 10)
    [first] = buffer.drain()
    log("acc", 0.3)
    [second] = buffer.drain()
    assert list(first["acc"].steps) == [0, 10] and list(second["acc"].steps) == [11]


def test_draining_while_another_thread_logs_loses_nothing():
    """Every point logged by a busy thread is drained exactly once, in order."""
    buffer = MetricsBuffer()
    log = buffer.make_logger()
    count = 200_000
    done = threading.Event()

    def writer():
        for i in range(count):
            log("x", i)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    values = []
    while not done.is_set():
        for batch in buffer.drain():
            if "x" in batch:
                values.extend(batch["x"].values)
    thread.join()
    for batch in buffer.drain():
        values.extend(batch["x"].values)
    assert values == list(range(count))


def test_points_are_compact_and_convert_to_sacreds_shape():
    """Counting steps are a range and float values a typed array; an int stays an int;
    Sacred's shape (lists, naive UTC datetimes at millisecond precision) comes on demand."""
    from array import array

    buffer = MetricsBuffer()
    log = buffer.make_logger()
    for i in range(3):
        log("f", i / 2)
    log("mixed", 1)
    log("mixed", 2.5)
    log("late", 0.5)
    log("late", 3)  # an int after floats stays an int
    log("late", "text")
    [batch] = buffer.drain()
    floats, mixed, late = batch["f"], batch["mixed"], batch["late"]
    assert floats.steps == range(3) and isinstance(floats.values, array)
    assert list(mixed.values) == [1, 2.5] and type(mixed.values[0]) is int
    assert list(late.values) == [0.5, 3, "text"] and type(late.values[1]) is int
    sacred = floats.as_sacred()
    assert sacred["steps"] == [0, 1, 2] and sacred["values"] == [0.0, 0.5, 1.0]
    stamp = sacred["timestamps"][0]
    assert stamp.tzinfo is None and stamp.microsecond % 1000 == 0
