"""SlackObserver and TelegramObserver: Sacred's messages, sent to a local HTTP server."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timedelta
from urllib.parse import parse_qs

import pytest
from checkout import THIS_CHECKOUT

from sacredlite.observers import SlackObserver, TelegramObserver
from sacredlite.observers.base import td_format

SCRIPT = """\
import sys
from sacredlite import Experiment
from sacredlite.observers import {observer}

ex = Experiment("notify_demo", save_git_info=False)
ex.observers.append({observer}.from_config(sys.argv[1]))


@ex.config
def cfg():
    fail = False


@ex.main
def main(fail):
    if fail:
        raise ValueError("asked to fail")
    return 0.25


ex.run()
try:
    ex.run(config_updates={{"fail": True}})
except ValueError:
    pass
"""


def _run(tmp_path, observer: str, config: dict) -> None:
    """Run a script that completes one run and fails another, notifying through the
    observer made from *config*."""
    import subprocess

    (tmp_path / "notify.py").write_text(SCRIPT.format(observer=observer))
    (tmp_path / "notify.json").write_text(json.dumps(config))
    done = subprocess.run(
        [sys.executable, "notify.py", "notify.json"],
        cwd=tmp_path,
        env=THIS_CHECKOUT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_td_format_says_durations_in_words():
    """Durations read as Sacred's notifications say them."""
    assert td_format(timedelta(seconds=0.4)) == "less than a second"
    assert td_format(timedelta(hours=1, minutes=2, seconds=5)) == "1 hour, 2 minutes, 5 seconds"
    assert td_format(timedelta(days=31)) == "1 month, 1 day"


def test_slack_posts_sacreds_messages(http_recorder, tmp_path):
    """A script using SlackObserver.from_config posts Sacred's completed and failed
    messages to the webhook, as JSON with the bot's name and icon."""
    config = {"webhook_url": http_recorder.url + "/hook", "bot_name": "runs", "icon": ":x-ray:"}
    _run(tmp_path, "SlackObserver", config)
    assert [(path, kind) for path, kind, _ in http_recorder.requests] == [
        ("/hook", "application/json"),
        ("/hook", "application/json"),
    ]
    completed, failed = (json.loads(body) for _, _, body in http_recorder.requests)
    assert completed == {
        "username": "runs",
        "icon_emoji": ":x-ray:",
        "text": ":white_check_mark: *notify_demo* completed after _less than a second_ "
        "with result=`0.25`",
    }
    assert failed["text"] == (
        ":x: *notify_demo* failed after _less than a second_ with `ValueError: asked to fail`"
    )


def test_slack_custom_and_disabled_texts(http_recorder):
    """Texts may be replaced; an interruption sends its own text with the status."""
    observer = SlackObserver(
        http_recorder.url + "/hook", interrupted_text="{_id} stopped: {status} ({elapsed_time})"
    )
    start = datetime(2026, 1, 1)
    observer.started_event({"name": "e"}, "main", {"hostname": "h"}, start, {}, {}, 7)
    observer.interrupted_event(start + timedelta(minutes=2), "INTERRUPTED")
    observer.completed_text = None
    observer.completed_event(start, 1)  # disabled: nothing sent
    (request,) = http_recorder.requests
    assert json.loads(request[2])["text"] == "7 stopped: INTERRUPTED (2 minutes)"


def test_slack_failure_to_post_is_the_observers_error(http_recorder):
    """A webhook answering 500 raises (the run's dispatcher logs and retries it)."""
    import urllib.error

    http_recorder.status = 500
    observer = SlackObserver(http_recorder.url + "/hook")
    observer.started_event({"name": "e"}, "main", {}, datetime(2026, 1, 1), {}, {}, 1)
    with pytest.raises(urllib.error.HTTPError):
        observer.completed_event(datetime(2026, 1, 1), 1)


def _telegram_messages(recorder) -> list[dict[str, str]]:
    out = []
    for path, _, body in recorder.requests:
        assert path == "/bot123:secret/sendMessage"
        out.append({k: v[0] for k, v in parse_qs(body.decode()).items()})
    return out


def test_telegram_sends_sacreds_messages_through_python_telegram_bot(http_recorder, tmp_path):
    """A script using TelegramObserver.from_config (python-telegram-bot's Bot, its
    base_url on the local server) sends the started message silently, then the completed
    or failed one, in Markdown."""
    pytest.importorskip("telegram")
    config = {
        "token": "123:secret",
        "chat_id": 42,
        "base_url": http_recorder.url + "/bot",
        "silent_completion": True,
    }
    _run(tmp_path, "TelegramObserver", config)
    started, completed, started_again, failed = _telegram_messages(http_recorder)
    assert started["chat_id"] == "42" and started["parse_mode"] == "Markdown"
    assert started["disable_notification"] == "true"
    assert started["text"].startswith("♻ *notify_demo* started at _")
    assert completed["text"] == (
        "✅ *notify_demo* completed after _less than a second_ with result=`0.25`"
    )
    assert completed["disable_notification"] == "true"
    assert failed["disable_notification"] == "false"
    assert failed["text"].startswith(
        "❌ *notify_demo* failed after _less than a second_ with `ValueError: asked to fail`"
        "\n\nBacktrace:\n```Traceback"
    )


def test_telegram_failure_is_a_warning_and_the_run_goes_on(http_recorder, caplog):
    """A Bot API answering 500 is logged as a warning; the event returns."""
    telegram = pytest.importorskip("telegram")
    http_recorder.status = 500
    bot = telegram.Bot("123:secret", base_url=http_recorder.url + "/bot")
    observer = TelegramObserver(bot, chat_id=42)
    with caplog.at_level(logging.WARNING, logger="telegram-observer"):
        observer.started_event(
            {"name": "e"}, "main", {"hostname": "h"}, datetime(2026, 1, 1), {}, {}, 1
        )
    assert "failed to send start_event message via telegram." in caplog.text


def test_telegram_config_needs_token_and_chat_id(tmp_path):
    """A config file without token or chat_id is refused with Sacred's message."""
    (tmp_path / "t.json").write_text(json.dumps({"token": "1:a"}))
    with pytest.raises(ValueError, match="'token' and 'chat_id'"):
        TelegramObserver.from_config(str(tmp_path / "t.json"))


def test_telegram_takes_any_bot_with_send_message():
    """A bot of one's own (synchronous) receives Sacred's calls."""
    sent = []

    class Bot:
        def send_message(self, **kwargs):
            sent.append(kwargs)

    observer = TelegramObserver(Bot(), chat_id="c")
    start = datetime(2026, 1, 1)
    observer.started_event({"name": "e"}, "main", {"hostname": "h"}, start, {}, {}, 1)
    observer.failed_event(start + timedelta(seconds=3), ["Traceback\n", "KeyError: 'x'\n"])
    assert [m["disable_notification"] for m in sent] == [True, False]
    assert sent[1]["text"] == (
        "❌ *e* failed after _3 seconds_ with `KeyError: 'x'`\n\n"
        "Backtrace:\n```Traceback\nKeyError: 'x'\n```"
    )


def test_telegram_sends_from_inside_a_running_event_loop(http_recorder):
    """An observer called where an event loop runs already (a notebook, an async app)
    still sends its message."""
    import asyncio
    import threading

    telegram = pytest.importorskip("telegram")
    bot = telegram.Bot("123:secret", base_url=http_recorder.url + "/bot")
    observer = TelegramObserver(bot, chat_id=42)

    async def inside_a_loop():
        observer.started_event(
            {"name": "e"}, "main", {"hostname": "h"}, datetime(2026, 1, 1), {}, {}, 1
        )

    # in a thread of its own: the test session's thread may hold a loop of its own already
    worker = threading.Thread(target=asyncio.run, args=(inside_a_loop(),))
    worker.start()
    worker.join()
    (message,) = _telegram_messages(http_recorder)
    assert message["text"].startswith("♻ *e* started at _2026-01-01 00:00:00_ on host `h`")
