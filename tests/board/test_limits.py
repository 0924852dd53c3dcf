"""Hostile requests (issue 9, item 7): permissions first, every input size-limited, the board
never frozen. The figures of the attack: 100,000 tags froze a --read-only board for 33 s; a
50 MB notes body was stored."""

import base64
import http.client
import json
import socket
import threading
import time
import urllib.parse
import urllib.request

import pytest
from starlette.testclient import TestClient

from sacredlite.board.app import create_app
from sacredlite.board.security import AuthThrottle
from sacredlite.store import limits


@pytest.fixture
def wclient(populated):
    """A client over writable runs of this test alone."""
    with TestClient(create_app(populated.open())) as c:
        yield c


def _put(url, body, timeout=60):
    """PUT *body* as JSON; return ``(status, answer)``, also when the board answers before
    taking the whole body (it then stops reading, so sending the rest fails)."""
    data = json.dumps(body, separators=(",", ":")).encode()
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.putrequest("PUT", parts.path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(data)))
        conn.endheaders()
        conn.sock.settimeout(0.5)
        try:  # an early answer is waiting: the refusal came from the headers alone
            early = conn.sock.recv(1, socket.MSG_PEEK)
        except TimeoutError:
            early = b""
        conn.sock.settimeout(timeout)
        if not early:
            conn.send(data)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


@pytest.mark.parametrize("read_only", [True, False], ids=["read-only", "writable"])
def test_100000_tags_are_refused_at_once_and_the_board_stays_responsive(
    populated, serve, read_only
):
    """A PUT of 100,000 tags answers 403/413 within a second; other requests are not held up."""
    board = serve(populated.open(read_only=read_only))
    tags = [f"t{i}" for i in range(100_000)]  # 0.9 MB: under the body limit
    answer = {}

    def attack():
        start = time.monotonic()
        answer["reply"] = _put(board.url + "api/runs/1/tags", {"tags": tags})
        answer["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=attack)
    thread.start()
    time.sleep(0.05)
    start = time.monotonic()
    with urllib.request.urlopen(board.url + "api/meta", timeout=30) as resp:
        assert resp.status == 200
    assert time.monotonic() - start < 1.0
    thread.join(60)
    status, body = answer["reply"]
    assert answer["seconds"] < 2.0
    if read_only:
        assert status == 403 and "read-only" in body["error"]
    else:
        assert status == 413 and body["error"] == "Tags per run: at most 100, got 100,000."


def test_a_50_mb_notes_body_is_refused_not_stored(populated, serve):
    """A 50 MB notes body gets 413 naming the body limit, and the run's notes stay as they were."""
    store = populated.open()
    board = serve(store)
    status, body = _put(board.url + "api/runs/1/notes", {"notes": "x" * 50_000_000})
    assert status == 413
    assert body["error"].startswith("Request body: at most 1,048,576 bytes, got ")
    assert store.run(1)["omniboard"]["notes"] == ""


def test_a_body_without_length_is_cut_off_at_the_limit():
    """A chunked body (no Content-Length) is refused as soon as it passes the limit: the
    board reads little more than 1 MiB of the 64 MiB on offer, and the app never runs."""
    import asyncio

    from sacredlite.board.security import SecurityHeaders

    offered = []
    sent = []

    async def receive():
        offered.append(1)
        return {"type": "http.request", "body": b"x" * 65_536, "more_body": len(offered) < 1024}

    async def send(message):
        sent.append(message)

    async def app(scope, receive, send):
        raise AssertionError("the handler must not run")

    scope = {
        "type": "http",
        "method": "PUT",
        "path": "/api/runs/1/notes",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
    }
    # In a thread of its own: a browser test may have left this thread's event loop running.
    worker = threading.Thread(
        target=asyncio.run, args=(SecurityHeaders(app)(scope, receive, send),)
    )
    worker.start()
    worker.join(30)
    assert sent[0]["status"] == 413 and len(offered) == 17
    assert b"at most 1,048,576 bytes, got over 1,114,112" in sent[1]["body"]


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        ("tags", {"tags": ["t"] * 101}, "Tags per run: at most 100, got 101."),
        ("tags", {"tags": ["x" * 101]}, "Characters per tag: at most 100 characters, got 101."),
        (
            "notes",
            {"notes": "n" * 100_001},
            "Characters of notes: at most 100,000 characters, got 100,001.",
        ),
    ],
    ids=["tag-count", "tag-length", "notes-length"],
)
def test_each_limit_is_named_when_it_is_passed(wclient, route, body, message):
    """One over a limit is a 413 whose message names the limit; nothing is stored."""
    resp = wclient.put(f"/api/runs/2/{route}", json=body)
    assert resp.status_code == 413 and resp.json()["error"] == message
    assert wclient.get("/api/runs/2").json()["run"]["omniboard"] == {"tags": [], "notes": ""}


def test_inputs_at_the_limits_are_accepted(wclient):
    """Exactly 100 tags of 100 characters and notes of 100,000 characters are stored."""
    tags = [f"{i:03d}" + "x" * 97 for i in range(limits.MAX_TAGS)]
    assert wclient.put("/api/runs/2/tags", json={"tags": tags + tags[:0]}).status_code == 200
    notes = "é" * limits.MAX_NOTES_CHARS  # escaped in JSON: still under the body limit
    assert wclient.put("/api/runs/2/notes", json={"notes": notes}).status_code == 200
    assert wclient.get("/api/runs/2").json()["run"]["omniboard"] == {"tags": tags, "notes": notes}


def test_duplicate_tags_are_dropped_keeping_the_first(wclient):
    """Tags are stripped and de-duplicated in their first order."""
    resp = wclient.put("/api/runs/2/tags", json={"tags": ["b", " a", "b ", "", "a", "c"]})
    assert resp.json()["tags"] == ["b", "a", "c"]


def test_read_only_is_checked_before_anything_else(populated):
    """A read-only board refuses a write before looking at its content type or body."""
    with TestClient(create_app(populated.open(read_only=True))) as c:
        resp = c.put("/api/runs/1/tags", content=b"tags=x", headers={"content-type": "text/plain"})
        assert resp.status_code == 403
        resp = c.request("DELETE", "/api/runs/1", content=b"x" * 2_000_000)
        assert resp.status_code == 403


def test_writes_from_another_origin_are_refused(wclient):
    """A write whose Origin is not the board's own is refused (CSRF); the board's own passes."""
    foreign = {"origin": "http://evil.example"}
    assert wclient.put("/api/runs/2/tags", json={"tags": ["x"]}, headers=foreign).status_code == 403
    own = {"origin": "http://testserver"}
    assert wclient.put("/api/runs/2/tags", json={"tags": ["x"]}, headers=own).status_code == 200
    assert (
        wclient.put(
            "/api/runs/2/tags", json={"tags": ["y"]}, headers={"origin": "null"}
        ).status_code
        == 403
    )


def test_query_sizes_are_limited(wclient):
    """Too many filters, columns or compared runs, or an overlong URL, are refused by name."""
    flt = json.dumps([["config.lr", "gt", 0]] * 51)
    resp = wclient.get("/api/runs", params={"filter": flt})
    assert (
        resp.status_code == 413 and resp.json()["error"] == "Filters per query: at most 50, got 51."
    )
    resp = wclient.get("/api/runs", params={"columns": ",".join(f"c{i}" for i in range(51))})
    assert resp.status_code == 413 and "Columns per query: at most 50" in resp.json()["error"]
    resp = wclient.get("/api/compare", params={"ids": ",".join(str(i) for i in range(21))})
    assert resp.status_code == 413 and "Runs compared at once: at most 20" in resp.json()["error"]
    resp = wclient.get("/api/runs", params={"q": "x" * 20_000})
    assert resp.status_code == 414 and "Request URL: at most 16,384 bytes" in resp.json()["error"]


def _basic(credentials):
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def test_failed_logins_are_limited_per_client(shared):
    """After 10 failed logins a client gets 429 (its guesses unchecked, even a right one)
    until its budget refills at one try per 2 s; other clients are not affected."""
    now = [1000.0]
    throttle = AuthThrottle(clock=lambda: now[0])
    app = create_app(shared.open(), auth="ann:s3cret", auth_throttle=throttle)
    with (
        TestClient(app, client=("10.0.0.1", 1)) as attacker,
        TestClient(app, client=("10.0.0.2", 1)) as user,
    ):
        codes = [
            attacker.get("/api/meta", headers=_basic(f"ann:guess{i}")).status_code
            for i in range(11)
        ]
        assert codes == [401] * 10 + [429]
        locked = attacker.get("/api/meta", headers=_basic("ann:s3cret"))
        assert locked.status_code == 429 and locked.headers["retry-after"] == "2"
        assert "Too many failed logins" in locked.json()["error"]
        assert attacker.get("/api/meta").status_code == 401  # no credentials: just the challenge
        assert user.get("/api/meta", headers=_basic("ann:s3cret")).status_code == 200
        now[0] += 2.0
        assert attacker.get("/api/meta", headers=_basic("ann:s3cret")).status_code == 200


def test_guessing_is_held_to_the_rate_however_many_connections(populated, serve):
    """8 connections guessing for 3 s get at most 10 + 0.5/s guesses checked (the attack
    made 1,162 per second); every other answer is 429."""
    board = serve(populated.open(), auth="ann:s3cret")
    counts = {}
    stop = time.monotonic() + 3.0
    start = time.monotonic()

    def guess(k):
        conn = http.client.HTTPConnection("127.0.0.1", int(board.url.rsplit(":", 1)[1].strip("/")))
        i = 0
        while time.monotonic() < stop:
            i += 1
            conn.request("GET", "/api/meta", headers=_basic(f"ann:g{k}-{i}"))
            resp = conn.getresponse()
            resp.read()
            counts[resp.status] = counts.get(resp.status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=guess, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    elapsed = time.monotonic() - start
    assert set(counts) <= {401, 429}
    assert counts[401] <= 10 + 0.5 * elapsed + 1
    assert counts[429] > 100


def test_the_readme_lists_the_limits_in_force():
    """The README's board section shows the numbers of sacredlite/store/limits.py."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Dashboard (`sacredlite board`)")[1].split("\n## ")[0]
    rows = {
        "request body (writes)": f"{limits.MAX_BODY_BYTES:,} bytes",
        "request URL (path and query)": f"{limits.MAX_URL_BYTES:,} bytes",
        "tags per run / characters per tag": f"{limits.MAX_TAGS} / {limits.MAX_TAG_CHARS}",
        "characters of notes": f"{limits.MAX_NOTES_CHARS:,}",
        "filters / extra columns per runs query": f"{limits.MAX_FILTERS} / {limits.MAX_COLUMNS}",
        "runs compared at once": f"{limits.MAX_COMPARED_RUNS}",
        "characters of each side of an output or source diff": f"{limits.MAX_DIFF_CHARS:,}",
    }
    for what, number in rows.items():
        line = next(row for row in section.splitlines() if row.strip().startswith(f"| {what} |"))
        assert number in line, line
    per_try = 1 / limits.AUTH_FAILURES_PER_SECOND
    prose = " ".join(section.split())
    assert (
        f"After {limits.AUTH_FAILURE_BURST} failed logins a client may try once every {per_try:g} s"
        in prose
    )
