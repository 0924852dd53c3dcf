"""Every rule of the board's HTTP edge, applied before a request reaches a handler (internal).

In order, for each request: the URL's size (414), the Host header (400, against DNS
rebinding), HTTP basic auth with a per-client limit on failed logins (401, 429), then for
writes (any method but GET/HEAD): read-only mode (403), the Origin (403, against CSRF),
a JSON body (400: a cross-site form cannot send one without the browser asking first), and
the body's size (413), read here, capped, before the handler sees it. Responses get the
security headers. The numbers live in :mod:`sacredlite.store.limits`; files are read only
inside the storage root (:mod:`sacredlite.store.paths`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..store.limits import (
    AUTH_FAILURE_BURST,
    AUTH_FAILURES_PER_SECOND,
    MAX_BODY_BYTES,
    MAX_URL_BYTES,
)

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'"
)
"""The page may run only its own scripts and talk only to its own server."""


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
"""Host names a board bound to the loopback interface answers to."""

_SAFE_METHODS = (b"GET", b"HEAD")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _host_name(scope: Scope) -> str:
    host = (_header(scope, b"host") or "").strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class AuthThrottle:
    """Limit failed logins per client: a burst, then a steady rate (a token bucket).

    A client over its budget gets 429 without its credentials being checked, so guessing
    goes no faster than the rate however many connections it opens.

    Args:
        burst: failures allowed in a row.
        per_second: failures allowed per second after the burst.
        clock: seconds, monotonic (tests pass a fake one).
        max_clients: clients remembered; the least recently failing are forgotten first.
    """

    def __init__(
        self,
        burst: int = AUTH_FAILURE_BURST,
        per_second: float = AUTH_FAILURES_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.burst = float(burst)
        self.per_second = per_second
        self.clock = clock
        self.max_clients = max_clients
        self._clients: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _tokens(self, client: str) -> float:
        tokens, since = self._clients.get(client, (self.burst, self.clock()))
        return min(self.burst, tokens + (self.clock() - since) * self.per_second)

    def wait(self, client: str) -> float:
        """Return the seconds *client* must wait before its next login is checked (0: none)."""
        tokens = self._tokens(client)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.per_second

    def failed(self, client: str) -> None:
        """Count one failed login of *client*."""
        self._clients[client] = (self._tokens(client) - 1, self.clock())
        self._clients.move_to_end(client)
        while len(self._clients) > self.max_clients:
            self._clients.popitem(last=False)


def _origin_matches(scope: Scope) -> bool:
    """Return whether the request's Origin (if any) is the board's own."""
    origin = _header(scope, b"origin")
    if origin is None:
        return True  # not a browser's cross-origin request (curl, tests, same-origin GET)
    host = (_header(scope, b"host") or "").lower()
    return origin.lower().split("://", 1)[-1] == host


class SecurityHeaders:
    """Apply the rules of the module docstring, then add the security headers.

    Args:
        app: the wrapped ASGI app.
        auth: ``"USER:PASS"`` to require HTTP basic auth.
        allowed_hosts: Host header names to answer (others get 400), so a web page cannot
            reach a board on 127.0.0.1 through DNS rebinding; ``None`` answers all.
        read_only: refuse every write before reading its body.
        throttle: the failed-login limiter (a default one when ``None``).
    """

    def __init__(
        self,
        app: ASGIApp,
        auth: str | None = None,
        allowed_hosts: tuple[str, ...] | None = None,
        read_only: bool = False,
        throttle: AuthThrottle | None = None,
    ) -> None:
        self.app = app
        self.auth = auth
        self.allowed_hosts = allowed_hosts
        self.read_only = read_only
        self.throttle = throttle or AuthThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        if scope["method"].encode() not in _SAFE_METHODS:
            body = await _read_body(scope, receive)
            if isinstance(body, tuple):
                await _answer(send, *body)
                return
            receive = _replay(body, receive)

        is_api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": PAGE_CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"no-referrer",
                    b"x-frame-options": b"DENY",
                    # API answers change under a live run; static files revalidate by ETag.
                    b"cache-control": b"no-store" if is_api else b"no-cache",
                }
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        """Return ``(status, message, headers)`` when a rule refuses the request."""
        url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + len(
            scope.get("query_string", b"")
        )
        if url_bytes > MAX_URL_BYTES:
            return 414, f"Request URL: at most {MAX_URL_BYTES:,} bytes, got {url_bytes:,}.", {}
        if self.allowed_hosts is not None and _host_name(scope) not in self.allowed_hosts:
            return 400, f"Unknown host {_host_name(scope)!r}.", {}
        if self.auth is not None:
            refused = self._check_auth(scope)
            if refused is not None:
                return refused
        if scope["method"].encode() in _SAFE_METHODS:
            return None
        if self.read_only:
            return 403, "This board is read-only: tags, notes and deletes are off.", {}
        if not _origin_matches(scope):
            origin = _header(scope, b"origin")
            return 403, f"Refusing a write from another origin ({origin!r}).", {}
        ctype = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return 400, "Send a JSON body with Content-Type: application/json.", {}
        return None

    def _check_auth(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        challenge = {"WWW-Authenticate": 'Basic realm="sacredlite board"'}
        given = _header(scope, b"authorization")
        if given is None or given[:6].lower() != "basic ":
            return 401, "Authentication required.", challenge
        client = str((scope.get("client") or ("?",))[0])
        wait = self.throttle.wait(client)
        if wait > 0:
            seconds = str(math.ceil(wait))
            return (
                429,
                f"Too many failed logins; try again in {seconds} s.",
                {"Retry-After": seconds},
            )
        try:
            user_pass = base64.b64decode(given[6:], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            user_pass = None
        assert self.auth is not None
        if user_pass is not None and secrets.compare_digest(user_pass.encode(), self.auth.encode()):
            return None
        self.throttle.failed(client)
        return 401, "Authentication required.", challenge


async def _read_body(scope: Scope, receive: Receive) -> bytes | tuple[int, str, dict[str, str]]:
    """Return the request body, or a 413 refusal as soon as it is known to be too big."""
    declared = _header(scope, b"content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > MAX_BODY_BYTES:
        return 413, _too_big(int(declared)), {}
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return 413, _too_big(size, more=message.get("more_body", False)), {}
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _too_big(size: int, more: bool = False) -> str:
    got = f"over {size:,}" if more else f"{size:,}"
    return f"Request body: at most {MAX_BODY_BYTES:,} bytes, got {got}."


def _replay(body: bytes, receive: Receive) -> Receive:
    """Return a ``receive`` that hands the app the body already read, then the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _answer(send: Send, status: int, message: str, headers: dict[str, str]) -> None:
    """Send a JSON ``{"error": message}`` response (what the page shows in its toast)."""
    body = json.dumps({"error": message}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"content-security-policy", PAGE_CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"cache-control", b"no-store"),
    ]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
