"""What the notification observers share (internal): durations in words, the run's fields
their message templates read, and a JSON POST with a timeout."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

__all__ = ["TIMEOUT", "post_json", "run_fields", "td_format"]

TIMEOUT = 10.0
"""Seconds a notification may take before it is given up (Sacred waits for ever)."""

_PERIODS = (
    ("year", 60 * 60 * 24 * 365),
    ("month", 60 * 60 * 24 * 30),
    ("day", 60 * 60 * 24),
    ("hour", 60 * 60),
    ("minute", 60),
    ("second", 1),
)


def td_format(td_object: timedelta) -> str:
    """Return a duration in words, as Sacred's notifications say it: ``"1 hour, 2 minutes,
    5 seconds"``, or ``"less than a second"``."""
    seconds = int(td_object.total_seconds())
    if seconds == 0:
        return "less than a second"
    words = []
    for name, length in _PERIODS:
        if seconds >= length:
            count, seconds = divmod(seconds, length)
            words.append(f"{count} {name}" if count == 1 else f"{count} {name}s")
    return ", ".join(words)


def run_fields(
    _id: Any,
    config: dict[str, Any],
    start_time: Any,
    ex_info: dict[str, Any],
    command: str,
    host_info: dict[str, Any],
) -> dict[str, Any]:
    """Return the run's fields the message templates read, as the started event gives them
    (Sacred's ``run`` dict of its notification observers)."""
    return {
        "_id": _id,
        "config": config,
        "start_time": start_time,
        "experiment": ex_info,
        "command": command,
        "host_info": host_info,
    }


def post_json(url: str, data: dict[str, Any], timeout: float = TIMEOUT) -> bytes:
    """POST *data* as JSON to *url*; return the response body.

    Raises:
        urllib.error.URLError: the server cannot be reached or answers with an error.
    """
    import urllib.request

    request = urllib.request.Request(
        url,
        data=json.dumps(data).encode("utf-8"),
        headers={"Content-type": "application/json", "Accept": "text/plain"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the user's URL
        return bytes(response.read())
