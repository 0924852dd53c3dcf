"""Fixtures for the board and store tests: populated stores on both backends."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import runbuilder  # noqa: E402
from board_server import BoardServer  # noqa: E402

from sacredlite.store import open_store  # noqa: E402


class Backend:
    """One storage backend holding test runs: write runs, then open a store over them."""

    def __init__(self, kind, target, url=None, db_name=None):
        self.kind = kind
        self.target = target  # the directory, or the pymongo Database
        self.url = url
        self.db_name = db_name
        self.stores = []

    def write(self, run_id, **fields):
        """Write one run in Sacred's stored form."""
        writer = runbuilder.write_file_run if self.kind == "file" else runbuilder.write_mongo_run
        return writer(self.target, run_id, **fields)

    def populate(self, n=6):
        """Write the standard varied runs 1..n."""
        writer = runbuilder.write_file_run if self.kind == "file" else runbuilder.write_mongo_run
        runbuilder.populate(writer, self.target, n)

    def open(self, read_only=False):
        """Open a store over this backend."""
        if self.kind == "file":
            store = open_store(self.target, read_only=read_only)
        else:
            store = open_store(mongo_url=self.url, db_name=self.db_name, read_only=read_only)
        self.stores.append(store)
        return store


@pytest.fixture(params=["file", "mongo"])
def backend(request, tmp_path):
    """An empty backend: a storage directory, or a fresh database on the test MongoDB server."""
    if request.param == "file":
        root = tmp_path / "runs"
        root.mkdir()
        b = Backend("file", root)
        yield b
    else:
        server = request.getfixturevalue("mongo_server")
        name = request.getfixturevalue("mongo_db_name")
        client = server.client()
        b = Backend("mongo", client[name], server.url, name)
        yield b
        client.drop_database(name)
        client.close()
    for store in b.stores:
        store.close()


@pytest.fixture(scope="module", params=["file", "mongo"])
def shared(request, tmp_path_factory):
    """A populated backend shared by a module's tests that only read."""
    if request.param == "file":
        root = tmp_path_factory.mktemp("runs")
        b = Backend("file", root)
        b.populate()
        yield b
    else:
        import uuid

        server = request.getfixturevalue("mongo_server")
        name = f"t_{uuid.uuid4().hex[:12]}"
        client = server.client()
        b = Backend("mongo", client[name], server.url, name)
        b.populate()
        yield b
        client.drop_database(name)
        client.close()
    for store in b.stores:
        store.close()


@pytest.fixture
def populated(backend):
    """A backend holding the six standard runs."""
    backend.populate()
    return backend


SHOTS = Path("/tmp/board-shots")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item (for screenshots on failure)."""
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


@pytest.fixture
def serve():
    """Start board servers for a test (``serve(store)`` returns one); all stop afterwards."""
    servers = []

    def start(store, **kwargs):
        server = BoardServer(store, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageProbe:
    """A page plus the errors, failed requests and dialogs seen while it was open."""

    def __init__(self, page):
        self.page = page
        self.errors = []
        self.failed = []
        self.dialogs = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("requestfailed", lambda req: self.failed.append(req.url))
        page.on(
            "response",
            lambda resp: resp.status >= 400 and self.failed.append(f"{resp.status} {resp.url}"),
        )

    def assert_clean(self):
        """Fail if the page raised, logged an error or had a failed request."""
        assert self.errors == [] and self.failed == [], (self.errors, self.failed)


@pytest.fixture
def page(browser, request):
    """A fresh browser page; a screenshot lands in /tmp/board-shots/failures/ if the test fails."""
    # bypass_csp: Playwright's wait_for_function needs eval, and the escaping tests must
    # prove that the page escapes content on its own, not that the CSP blocks the result.
    context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    probe = PageProbe(pg)
    yield probe
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        out = SHOTS / "failures"
        out.mkdir(parents=True, exist_ok=True)
        name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in request.node.name)
        try:
            pg.screenshot(path=str(out / f"{name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - the screenshot is a courtesy, not the result
            pass
    context.close()


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Keep the file store's index cache out of the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


def populate_seeds(backend):
    """Write 12 runs: lr in (0.1, 0.01) x opt in (adam, sgd) x 3 seeds, each with a loss
    curve of 50 steps whose level depends on lr, plus a second metric and a dict result."""
    run_id = 0
    for lr in (0.1, 0.01):
        for opt in ("adam", "sgd"):
            for seed in (1, 2, 3):
                run_id += 1
                level = (1.0 if lr == 0.1 else 2.0) + seed * 0.01 + (0.5 if opt == "sgd" else 0)
                backend.write(
                    run_id,
                    name="sweep",
                    config={"lr": lr, "seed": seed, "opt": opt, "width": 64},
                    metrics={
                        "loss": (list(range(50)), [level + 1.0 / (s + 1) for s in range(50)]),
                        "train/acc": (list(range(0, 50, 5)), [s / 50 for s in range(0, 50, 5)]),
                    },
                    result={"score": level, "epochs": 50},
                )


@pytest.fixture(scope="module", params=["file", "mongo"])
def seeds(request, tmp_path_factory):
    """A backend holding the 12 runs of :func:`populate_seeds`, shared by a module."""
    if request.param == "file":
        b = Backend("file", tmp_path_factory.mktemp("seeds"))
        populate_seeds(b)
        yield b
    else:
        import uuid

        server = request.getfixturevalue("mongo_server")
        name = f"t_{uuid.uuid4().hex[:12]}"
        client = server.client()
        b = Backend("mongo", client[name], server.url, name)
        populate_seeds(b)
        yield b
        client.drop_database(name)
        client.close()
    for store in b.stores:
        store.close()
