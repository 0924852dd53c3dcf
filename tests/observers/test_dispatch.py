"""The dispatcher's failure policy for an observer that keeps the events it cannot store."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from sacredlite.events import Heartbeat
from sacredlite.observers.base import RunObserver, event_was_kept, mark_event_kept
from sacredlite.observers.dispatch import Dispatcher

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Keeping(RunObserver):
    """Cannot store heartbeats, but keeps them (as the MongoObserver's spool does)."""

    def __init__(self) -> None:
        self.beats: list[str] = []

    def heartbeat_event(self, info: Any, captured_out: str, beat_time: Any, result: Any) -> None:
        self.beats.append(captured_out)
        raise mark_event_kept(ConnectionError("database away"))


class Failing(Keeping):
    """Cannot store heartbeats and keeps nothing: the dispatcher must retry."""

    def heartbeat_event(self, info: Any, captured_out: str, beat_time: Any, result: Any) -> None:
        self.beats.append(captured_out)
        raise ConnectionError("database away")


def beat(text: str) -> Heartbeat:
    return Heartbeat(run_id=1, time=NOW, info={}, captured_out=text, new_output=text)


def test_kept_events_are_not_sent_again() -> None:
    """An error marked kept gives one warning; the event is not resent or undelivered."""
    keeping = Keeping()
    dispatcher = Dispatcher([keeping])
    with pytest.warns(RuntimeWarning, match="it keeps its events and stores them later"):
        dispatcher.emit(beat("a"))
    dispatcher.emit(beat("ab"))
    dispatcher.finish()
    assert keeping.beats == ["a", "ab"]
    assert dispatcher.undelivered() == {}


def test_other_errors_are_retried_before_the_next_event() -> None:
    """An unmarked error keeps the event in the dispatcher, which resends it first."""
    failing = Failing()
    dispatcher = Dispatcher([failing])
    with pytest.warns(RuntimeWarning, match="its events are kept and retried"):
        dispatcher.emit(beat("a"))
    dispatcher.emit(beat("ab"))
    assert failing.beats == ["a", "a"]
    assert [e.captured_out for e in dispatcher.undelivered()[failing]] == ["a", "ab"]


def test_mark_event_kept_returns_the_error_marked() -> None:
    """mark_event_kept marks the very exception it is given."""
    error = OSError("x")
    assert mark_event_kept(error) is error and event_was_kept(error)
    assert not event_was_kept(OSError("y"))
