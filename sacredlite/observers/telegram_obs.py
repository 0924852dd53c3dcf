"""TelegramObserver: a Telegram message when a run starts and ends (Sacred's).

The message templates are Sacred's (Markdown), formatted with the run's fields as in
:mod:`sacredlite.observers.slack`, plus ``backtrace`` (the whole traceback) for a failure.
A message that cannot be sent is logged as a warning (``telegram-observer``) and the run
goes on, as in Sacred.

``bot`` is any object with ``send_message(chat_id=, text=, disable_notification=,
parse_mode=)``: a python-telegram-bot ``Bot`` (version 20 and later: its coroutines are run
to completion here, in a thread of their own, so a notebook's running event loop does not
matter; Sacred 0.8.7 only knows version 13's synchronous API) or your own.
:meth:`TelegramObserver.from_config` makes a python-telegram-bot ``Bot`` from Sacred's config
file (``token``, ``chat_id``, the texts, ``proxy_url`` with ``username``/``password``), and
takes ``base_url`` too (sacredlite's addition: the Bot API's URL up to the token, default
``https://api.telegram.org/bot``), so a local or self-hosted Bot API server can be used.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from datetime import datetime
from typing import Any

from ._notify import run_fields, td_format
from .base import RunObserver

__all__ = ["DEFAULT_TELEGRAM_PRIORITY", "TelegramObserver"]

DEFAULT_TELEGRAM_PRIORITY = 10
PARSE_MODE = "Markdown"
"""Telegram's name of the parse mode of the messages (python-telegram-bot's
``ParseMode.MARKDOWN``)."""

STARTED_TEXT = "♻ *{experiment[name]}* started at _{start_time}_ on host `{host_info[hostname]}`"
COMPLETED_TEXT = "✅ *{experiment[name]}* completed after _{elapsed_time}_ with result=`{result}`"
INTERRUPTED_TEXT = "⚠ *{experiment[name]}* interrupted after _{elapsed_time}_"
FAILED_TEXT = (
    "❌ *{experiment[name]}* failed after _{elapsed_time}_ with `{error}`\n\n"
    "Backtrace:\n```{backtrace}```"
)

log = logging.getLogger("telegram-observer")


def _run_to_completion(coroutine: Any) -> None:
    """Run *coroutine* in a thread of its own, with its own event loop: the calling thread
    may run a loop already (a notebook, an async application), where ``asyncio.run``
    cannot be called."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            failure.append(exc)

    thread = threading.Thread(target=target, name="sacredlite-telegram", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _require_telegram() -> Any:
    try:
        import telegram
    except ImportError:
        raise ImportError(
            "TelegramObserver.from_config needs python-telegram-bot: "
            "pip install 'sacredlite[notify]'"
        ) from None
    return telegram


class TelegramObserver(RunObserver):
    """Send Telegram messages when a run starts, completes, is interrupted or fails.

    Args:
        bot: sends the messages (see the module docstring).
        chat_id: the chat to send them to.
        silent_completion: send the completed message without a notification sound.
        priority: the observer's priority.
        **kwargs: the rest of a config file's entries (ignored here, as in Sacred).
    """

    @staticmethod
    def get_proxy_request(telegram_config: dict[str, Any]) -> Any:
        """Return python-telegram-bot's request object going through ``proxy_url``
        (``http://`` or ``socks5://``, with ``username``/``password`` when given).

        Raises:
            ValueError: a proxy URL of another scheme (Sacred raises a plain ``Exception``).
        """
        _require_telegram()
        from telegram.request import HTTPXRequest

        proxy_url = str(telegram_config["proxy_url"])
        scheme, sep, rest = proxy_url.partition("://")
        if not sep or scheme not in ("http", "https", "socks5"):
            raise ValueError(
                "Proxy URL should be in format PROTOCOL://PROXY_HOST[:PROXY_PORT].\n"
                f"HTTP and Socks5 are supported (got {proxy_url!r})."
            )
        credentials = str(telegram_config.get("username", ""))
        if "password" in telegram_config:
            credentials += ":" + str(telegram_config["password"])
        if credentials:
            proxy_url = f"{scheme}://{credentials}@{rest.split('@')[-1]}"
        return HTTPXRequest(proxy=proxy_url)

    @classmethod
    def from_config(cls, filename: str) -> TelegramObserver:
        """Make the observer from a config file (JSON, YAML or pickle) with ``token`` and
        ``chat_id`` and, optionally, ``silent_completion``, the four texts, ``proxy_url``
        and ``base_url``.

        Raises:
            ValueError: ``token`` or ``chat_id`` is missing.
        """
        from ..config.files import load_config_file

        config = dict(load_config_file(filename))
        if "token" not in config or "chat_id" not in config:
            raise ValueError(
                "Telegram configuration file must contain entries for 'token' and 'chat_id'!"
            )
        telegram = _require_telegram()
        options: dict[str, Any] = {}
        if "proxy_url" in config:
            options["request"] = cls.get_proxy_request(config)
        if "base_url" in config:
            options["base_url"] = str(config["base_url"])
        observer = cls(telegram.Bot(config["token"], **options), **config)
        for key in ("started_text", "completed_text", "interrupted_text", "failed_text"):
            if key in config:
                setattr(observer, key, config[key])
        return observer

    def __init__(
        self,
        bot: Any,
        chat_id: Any,
        silent_completion: bool = False,
        priority: int = DEFAULT_TELEGRAM_PRIORITY,
        **kwargs: Any,
    ) -> None:
        self.silent_completion = silent_completion
        self.chat_id = chat_id
        self.bot = bot
        self.started_text: str | None = STARTED_TEXT
        self.completed_text: str | None = COMPLETED_TEXT
        self.interrupted_text: str | None = INTERRUPTED_TEXT
        self.failed_text: str | None = FAILED_TEXT
        self.run: dict[str, Any] | None = None
        self.priority = priority

    # -- texts ---------------------------------------------------------------------------
    def _fields(self) -> dict[str, Any]:
        assert self.run is not None, "the run has not started"
        return self.run

    def get_started_text(self) -> str:
        """The started message."""
        return str(self.started_text).format(**self._fields())

    def get_completed_text(self) -> str:
        """The completed message."""
        return str(self.completed_text).format(**self._fields())

    def get_interrupted_text(self) -> str:
        """The interrupted message."""
        return str(self.interrupted_text).format(**self._fields())

    def get_failed_text(self) -> str:
        """The failed message, with the whole traceback as ``backtrace``."""
        fields = self._fields()
        return str(self.failed_text).format(backtrace="".join(fields["fail_trace"]), **fields)

    # -- sending -------------------------------------------------------------------------
    def _send(self, event: str, text: str, silent: bool) -> None:
        try:
            sent = self.bot.send_message(
                chat_id=self.chat_id,
                text=text,
                disable_notification=silent,
                parse_mode=PARSE_MODE,
            )
            if inspect.isawaitable(sent):
                _run_to_completion(self._finish(sent))
        except Exception as exc:  # noqa: BLE001 - a message never fails the run (Sacred's rule)
            log.warning("failed to send %s message via telegram.", event, exc_info=exc)

    async def _finish(self, sending: Any) -> None:
        """Await a python-telegram-bot coroutine, then close the bot's connections (they
        belong to this event loop, which ends here)."""
        try:
            await sending
        finally:
            shutdown = getattr(self.bot, "shutdown", None)
            if shutdown is not None:
                await shutdown()

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
        """Remember the run's fields; send the started message (silently)."""
        self.run = run_fields(_id, config, start_time, ex_info, command, host_info)
        if self.started_text is not None:
            self._send("start_event", self.get_started_text(), True)

    def completed_event(self, stop_time: datetime, result: Any) -> None:
        """Send the completed message."""
        if self.completed_text is None:
            return
        run = self._fields()
        run.update(result=result, stop_time=stop_time)
        run["elapsed_time"] = td_format(stop_time - run["start_time"])
        self._send("completed_event", self.get_completed_text(), self.silent_completion)

    def interrupted_event(self, interrupt_time: datetime, status: str) -> None:
        """Send the interrupted message."""
        if self.interrupted_text is None:
            return
        run = self._fields()
        run.update(status=status, interrupt_time=interrupt_time)
        run["elapsed_time"] = td_format(interrupt_time - run["start_time"])
        self._send("interrupted_event", self.get_interrupted_text(), False)

    def failed_event(self, fail_time: datetime, fail_trace: list[str]) -> None:
        """Send the failed message (``error`` is the traceback's last line)."""
        if self.failed_text is None:
            return
        run = self._fields()
        run.update(fail_trace=fail_trace, error=fail_trace[-1].strip(), fail_time=fail_time)
        run["elapsed_time"] = td_format(fail_time - run["start_time"])
        self._send("failed_event", self.get_failed_text(), False)
