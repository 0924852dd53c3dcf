"""Fixtures of the tests of Sacred's other observers (TinyDB, SQL, S3, Slack, Telegram)."""

import socket
from collections.abc import Iterator

import pytest


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3 server (moto's, in a thread on 127.0.0.1); its URL. Stopped at the end."""
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=free_port())
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3_env(s3_endpoint) -> Iterator[dict[str, str]]:
    """boto3's settings for the local server: endpoint, region and dummy credentials (for
    this process and the scripts it runs), set for one test module."""
    values = {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        yield values


class Recorder:
    """What a local HTTP server was sent: ``[(path, content type, body bytes)]``; answers
    Slack's webhook with ``ok`` and the Telegram Bot API with its JSON, or with
    :attr:`status` (e.g. 500) when set."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        self.status = 200
        self.url = ""

    def answer(self, path: str) -> bytes:
        import json

        if "/bot" not in path:
            return b"ok"
        if path.endswith("/getMe"):
            result = {"id": 1, "is_bot": True, "first_name": "bot", "username": "bot"}
        else:
            result = {"message_id": 1, "date": 0, "chat": {"id": 42, "type": "private"}}
        return json.dumps({"ok": True, "result": result}).encode()


@pytest.fixture
def http_recorder() -> Iterator[Recorder]:
    """A local HTTP server on 127.0.0.1 that records every POST (stopped after the test)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            recorder.requests.append((self.path, self.headers.get("Content-Type", ""), body))
            data = recorder.answer(self.path) if recorder.status == 200 else b"{}"
            self.send_response(recorder.status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorder.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
