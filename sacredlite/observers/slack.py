"""SlackObserver: a message to a Slack incoming webhook when a run ends (Sacred's).

The message templates are Sacred's; each is formatted with the run's fields:
``_id``, ``config``, ``start_time``, ``experiment``, ``command``, ``host_info``, and at the
end ``result``/``stop_time`` (completed), ``status``/``interrupt_time`` (interrupted),
``fail_trace``/``error``/``fail_time`` (failed), ``elapsed_time`` (in words). A template
set to ``None`` sends nothing for that end. The webhook is called with a
:data:`~sacredlite.observers._notify.TIMEOUT`; a failure is the run's observer failure
(logged, and the message kept and retried).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._notify import post_json, run_fields, td_format
from .base import RunObserver

__all__ = ["DEFAULT_SLACK_PRIORITY", "SlackObserver"]

DEFAULT_SLACK_PRIORITY = 10

COMPLETED_TEXT = (
    ":white_check_mark: *{experiment[name]}* completed after _{elapsed_time}_ "
    "with result=`{result}`"
)
INTERRUPTED_TEXT = ":warning: *{experiment[name]}* interrupted after _{elapsed_time}_"
FAILED_TEXT = ":x: *{experiment[name]}* failed after _{elapsed_time}_ with `{error}`"


class SlackObserver(RunObserver):
    """Send a message to Slack when a run completes, is interrupted or fails.

    Args:
        webhook_url: the Slack incoming webhook.
        bot_name: the sender's name.
        icon: the sender's emoji.
        priority: the observer's priority.
        completed_text: the template for a completed run (default Sacred's).
        interrupted_text: the template for an interrupted run.
        failed_text: the template for a failed run.
    """

    @classmethod
    def from_config(cls, filename: str) -> SlackObserver:
        """Make the observer from a config file (JSON, YAML or pickle) holding
        ``webhook_url`` and, optionally, ``bot_name``, ``icon`` and the three texts."""
        from ..config.files import load_config_file

        return cls(**load_config_file(filename))

    def __init__(
        self,
        webhook_url: str,
        bot_name: str = "sacred-bot",
        icon: str = ":angel:",
        priority: int = DEFAULT_SLACK_PRIORITY,
        completed_text: str | None = None,
        interrupted_text: str | None = None,
        failed_text: str | None = None,
    ) -> None:
        self.webhook_url = webhook_url
        self.bot_name = bot_name
        self.icon = icon
        self.completed_text: str | None = completed_text or COMPLETED_TEXT
        self.interrupted_text: str | None = interrupted_text or INTERRUPTED_TEXT
        self.failed_text: str | None = failed_text or FAILED_TEXT
        self.run: dict[str, Any] | None = None
        self.priority = priority

    def started_event(
        self,
        ex_info: dict[str, Any],
        command: str,
        host_info: dict[str, Any],
        start_time: datetime,
        config: dict[str, Any],
        meta_info: dict[str, Any],
        _id: Any,
    ) -> None:
        """Remember the run's fields for the message at its end."""
        self.run = run_fields(_id, config, start_time, ex_info, command, host_info)

    def _fields(self, **fields: Any) -> dict[str, Any]:
        assert self.run is not None, "the run has not started"
        self.run.update(fields)
        return self.run

    def get_completed_text(self) -> str:
        """The completed message."""
        return str(self.completed_text).format(**self._fields())

    def get_interrupted_text(self) -> str:
        """The interrupted message."""
        return str(self.interrupted_text).format(**self._fields())

    def get_failed_text(self) -> str:
        """The failed message."""
        return str(self.failed_text).format(**self._fields())

    def _send(self, text: str) -> None:
        post_json(
            self.webhook_url, {"username": self.bot_name, "icon_emoji": self.icon, "text": text}
        )

    def _elapsed(self, end: datetime) -> str:
        return td_format(end - self._fields()["start_time"])

    def completed_event(self, stop_time: datetime, result: Any) -> None:
        """Send the completed message."""
        if self.completed_text is None:
            return
        self._fields(result=result, stop_time=stop_time, elapsed_time=self._elapsed(stop_time))
        self._send(self.get_completed_text())

    def interrupted_event(self, interrupt_time: datetime, status: str) -> None:
        """Send the interrupted message."""
        if self.interrupted_text is None:
            return
        elapsed = self._elapsed(interrupt_time)
        self._fields(status=status, interrupt_time=interrupt_time, elapsed_time=elapsed)
        self._send(self.get_interrupted_text())

    def failed_event(self, fail_time: datetime, fail_trace: list[str]) -> None:
        """Send the failed message (``error`` is the traceback's last line)."""
        if self.failed_text is None:
            return
        self._fields(
            fail_trace=fail_trace,
            error=fail_trace[-1].strip(),
            fail_time=fail_time,
            elapsed_time=self._elapsed(fail_time),
        )
        self._send(self.get_failed_text())
