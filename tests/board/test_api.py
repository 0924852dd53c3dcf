import base64
import json
import os

import pytest
import runbuilder
from starlette.testclient import TestClient

from sacredlite.board.app import create_app
from sacredlite.store import open_store


@pytest.fixture(scope="module")
def client(shared):
    """A client over shared runs, for tests that only read."""
    with TestClient(create_app(shared.open())) as c:
        yield c


@pytest.fixture
def wclient(populated):
    """A client over runs of this test alone, for tests that write."""
    with TestClient(create_app(populated.open())) as c:
        yield c


def test_lists_runs_with_filters_columns_and_sort(client):
    """/api/runs filters by status and path, adds config and metric columns, sorts and pages."""
    data = client.get(
        "/api/runs",
        params={
            "status": "COMPLETED",
            "sort": "config.lr",
            "columns": "config.lr,metric:loss:last",
        },
    ).json()
    assert data["total"] == 3
    assert [r["id"] for r in data["rows"]] == [6, 4, 1]
    assert data["rows"][2]["cols"]["config.lr"] == 0.1
    assert data["rows"][2]["cols"]["metric:loss:last"] == pytest.approx(1 / 100)
    flt = json.dumps([["config.batch", "gt", 100], ["experiment", "eq", "cifar"]])
    data = client.get("/api/runs", params={"filter": flt, "limit": 1}).json()
    assert data["total"] == 2 and [r["id"] for r in data["rows"]] == [6]
    assert client.get("/api/runs", params={"q": "number 5"}).json()["total"] == 1


def test_bad_filter_is_a_400_with_a_clear_message(client):
    """A malformed filter or operator is refused with 400 and a message naming it."""
    resp = client.get("/api/runs", params={"filter": "[[1,2]"})
    assert resp.status_code == 400 and "Bad filter" in resp.json()["error"]
    resp = client.get("/api/runs", params={"filter": json.dumps([["x", "like", 1]])})
    assert resp.status_code == 400 and "'like'" in resp.json()["error"]


def test_run_detail_has_everything_the_page_shows(client):
    """/api/runs/ID returns run, derived status, artifacts, sources and metric names."""
    data = client.get("/api/runs/2").json()
    assert data["status"] == "FAILED"
    assert data["run"]["fail_trace"][-1] == "ValueError: boom\n"
    assert data["run"]["config"]["optimizer"] == {"name": "sgd"}
    assert data["metrics"] == ["acc", "loss"]
    assert [a["name"] for a in data["artifacts"]] == ["model.txt", "plot.png"]
    assert data["sources"][0]["path"] == "train.py"
    assert client.get("/api/runs/77").status_code == 404


def test_metric_is_downsampled_on_the_server(client):
    """The metric route returns at most `points` points and honours a step window."""
    data = client.get("/api/runs/1/metrics/loss", params={"points": 20}).json()
    assert len(data["steps"]) <= 20 and data["total"] == 100 and data["downsampled"]
    data = client.get("/api/runs/1/metrics/loss", params={"start": 10, "stop": 19}).json()
    assert data["steps"] == list(range(10, 20))
    assert client.get("/api/runs/1/metrics/nope").status_code == 404
    assert client.get("/api/runs/1/metrics").json()["acc"]["max"] == 0.9


def test_output_supports_offset_and_tail(client):
    """Captured output is served whole, from an offset (live tail) or as the last bytes."""
    whole = client.get("/api/runs/1/output").json()
    assert whole["text"] == "epoch 1\nrun 1 says hello\n"
    assert client.get("/api/runs/1/output", params={"offset": whole["end"]}).json()["text"] == ""
    assert client.get("/api/runs/1/output", params={"tail": 6}).json()["text"] == "hello\n"


def test_artifacts_are_served_sandboxed(client):
    """Images are inline, text is text/plain, and every file carries a sandbox CSP."""
    resp = client.get("/api/runs/1/artifacts/plot.png")
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    assert resp.headers["content-security-policy"].startswith("sandbox")
    assert resp.headers["x-content-type-options"] == "nosniff"
    resp = client.get("/api/runs/1/artifacts/model.txt", params={"download": ""})
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.headers["content-disposition"].startswith("attachment")
    resp = client.get("/api/runs/1/sources/train.py")
    assert resp.text.startswith("import sacred") and resp.headers["content-type"].startswith(
        "text/plain"
    )


def test_html_artifact_is_never_served_as_html(backend):
    """An HTML artifact comes back as text/plain, so its script cannot run."""
    backend.write(1, artifact_files={"page.html": b"<script>alert(1)</script>"})
    with TestClient(create_app(backend.open())) as c:
        resp = c.get("/api/runs/1/artifacts/page.html")
    assert resp.headers["content-type"].startswith("text/plain")
    assert "sandbox" in resp.headers["content-security-policy"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/runs/1/artifacts/..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/runs/1/artifacts/../../run.json",
        "/api/runs/1/artifacts/%2Fetc%2Fpasswd",
        "/api/runs/1/artifacts/run.json",
        "/api/runs/1/artifacts/..%5C..%5Cetc",
        "/api/runs/1/sources/..%2F..%2Fetc%2Fpasswd",
        "/api/runs/1/sources/%2Fetc%2Fpasswd",
        "/api/runs/..%2F1/artifacts/plot.png",
        "/api/runs/_sources/output",
        "/static/..%2F..%2Fapp.py",
        "/static/%2E%2E/app.py",
    ],
)
def test_file_routes_stay_inside_the_storage_root(client, url):
    """Traversal with ../, absolute paths, encoded separators and non-artifacts is refused."""
    resp = client.get(url)
    assert resp.status_code in (400, 404), resp.text[:200]
    assert "root:" not in resp.text and "create_app" not in resp.text


def test_symlinked_artifact_outside_root_is_refused(tmp_path):
    """A file-storage artifact that is a symlink leading out of the root is not served."""
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    root = tmp_path / "runs"
    run_dir = runbuilder.write_file_run(root, 1, artifact_files={"link.txt": b""})
    os.remove(run_dir / "link.txt")
    os.symlink(secret, run_dir / "link.txt")
    with TestClient(create_app(open_store(root))) as c:
        resp = c.get("/api/runs/1/artifacts/link.txt")
    assert resp.status_code == 400 and "top secret" not in resp.text


def test_tags_and_notes_round_trip(wclient):
    """Tags and notes written through the API are read back in the run and the table."""
    resp = wclient.put("/api/runs/3/tags", json={"tags": ["best", "<b>x</b>"]})
    assert resp.status_code == 200 and resp.json()["tags"] == ["best", "<b>x</b>"]
    assert wclient.put("/api/runs/3/notes", json={"notes": "look"}).status_code == 200
    run = wclient.get("/api/runs/3").json()["run"]
    assert run["omniboard"] == {"tags": ["best", "<b>x</b>"], "notes": "look"}
    rows = wclient.get("/api/runs", params={"q": "best"}).json()["rows"]
    assert [(r["id"], r["notes"]) for r in rows] == [(3, "look")]


def test_writes_need_a_json_body(wclient):
    """A form-encoded write (what a cross-site form can send) is refused."""
    resp = wclient.put(
        "/api/runs/3/tags",
        content="tags=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 400
    assert wclient.put("/api/runs/3/tags", json={"tags": "x"}).status_code == 400


def test_delete_needs_confirmation(wclient):
    """DELETE removes a run only when the body confirms its id."""
    assert wclient.request("DELETE", "/api/runs/4", json={}).status_code == 400
    assert wclient.request("DELETE", "/api/runs/4", json={"confirm": 4}).status_code == 200
    assert wclient.get("/api/runs/4").status_code == 404
    assert wclient.get("/api/runs").json()["total"] == 5


def test_read_only_refuses_writes(populated):
    """In read-only mode tags, notes and deletes answer 403 and nothing changes."""
    with TestClient(create_app(populated.open(read_only=True))) as c:
        assert c.get("/api/meta").json()["read_only"] is True
        assert c.put("/api/runs/1/tags", json={"tags": ["x"]}).status_code == 403
        assert c.request("DELETE", "/api/runs/1", json={"confirm": 1}).status_code == 403
        assert c.get("/api/runs/1").json()["run"]["omniboard"]["tags"] == []


def test_basic_auth(populated):
    """With --auth every route needs the right HTTP basic credentials."""
    with TestClient(create_app(populated.open(), auth="ann:s3cret")) as c:
        assert c.get("/").status_code == 401
        assert c.get("/api/runs").status_code == 401
        bad = base64.b64encode(b"ann:wrong").decode()
        assert c.get("/api/runs", headers={"Authorization": f"Basic {bad}"}).status_code == 401
        good = base64.b64encode(b"ann:s3cret").decode()
        assert c.get("/api/runs", headers={"Authorization": f"Basic {good}"}).status_code == 200


def test_page_has_a_strict_content_security_policy(client):
    """The page forbids inline and foreign scripts and loads uPlot from the package."""
    resp = client.get("/")
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert "/static/vendor/uPlot.iife.min.js" in resp.text
    assert client.get("/static/vendor/uPlot.iife.min.js").status_code == 200


def test_compare_and_diff(client):
    """Compare lists flattened configs and the keys that differ; diff shows output changes."""
    data = client.get("/api/compare", params={"ids": "1,2"}).json()
    assert set(data["differs"]) == {"lr", "batch", "optimizer.name"}
    assert data["runs"][1]["config"]["optimizer.name"] == "sgd"
    diff = client.get("/api/diff", params={"ids": "1,2", "what": "output"}).json()["diff"]
    assert "-run 1 says hello" in diff and "+run 2 says hello" in diff
    src = client.get("/api/diff", params={"ids": "1,2", "what": "source", "path": "train.py"})
    assert src.json()["diff"] == ""


def test_keys_offer_config_info_and_metric_columns(client):
    """/api/keys suggests config, info and meta paths and metric names for columns."""
    keys = client.get("/api/keys").json()
    assert "config.optimizer.name" in keys["config"] and "info.best" in keys["info"]
    assert keys["metrics"] == ["acc", "loss"]


def test_loopback_board_refuses_foreign_host_names(shared):
    """With loopback host names configured, a rebound foreign Host header gets 400."""
    from sacredlite.board.security import LOOPBACK_NAMES

    app = create_app(shared.open(), allowed_hosts=LOOPBACK_NAMES)
    with TestClient(app, base_url="http://127.0.0.1:5100") as c:
        assert c.get("/api/runs").status_code == 200
        assert c.get("/api/runs", headers={"host": "localhost:5100"}).status_code == 200
        assert c.get("/api/runs", headers={"host": "[::1]:5100"}).status_code == 200
        resp = c.get("/api/runs", headers={"host": "evil.example:5100"})
        assert resp.status_code == 400 and "evil.example" in resp.text


def test_run_files_symlinked_outside_the_root_are_not_served(tmp_path):
    """run.json, config.json, info.json, cout.txt and metrics linked out of the root stay unread."""
    secret = "TOP-SECRET-OUTSIDE"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "doc.json").write_text(json.dumps({"secret": secret}))
    (outside / "cout.txt").write_text(secret)
    points = {"steps": [1], "values": [1], "timestamps": ["2026-01-01T00:00:00"]}
    (outside / "metrics.json").write_text(json.dumps({secret: points}))
    root = tmp_path / "runs"
    run1 = runbuilder.write_file_run(root, 1, metrics={"loss": ([0], [1.0])})
    run2 = runbuilder.write_file_run(root, 2)
    run2_doc = json.loads((run2 / "run.json").read_text())
    (outside / "run.json").write_text(json.dumps({**run2_doc, "command": secret}))
    for name, target in [
        ("config.json", "doc.json"),
        ("info.json", "doc.json"),
        ("cout.txt", "cout.txt"),
        ("metrics.json", "metrics.json"),
    ]:
        (run1 / name).unlink()
        os.symlink(outside / target, run1 / name)
    (run2 / "run.json").unlink()
    os.symlink(outside / "run.json", run2 / "run.json")
    with TestClient(create_app(open_store(root))) as c:
        answers = [
            c.get("/api/runs/1"),
            c.get("/api/runs/1/output"),
            c.get("/api/runs/1/metrics"),
            c.get("/api/runs", params={"columns": "config.secret,info.secret"}),
            c.get("/api/keys"),
            c.get("/api/compare", params={"ids": "1"}),
            c.get("/api/runs/2"),
        ]
        assert c.get(f"/api/runs/1/metrics/{secret}").status_code == 404
    assert all(secret not in resp.text for resp in answers)
    assert answers[0].status_code == 200 and answers[0].json()["run"]["config"] == {}
    assert answers[3].json()["total"] == 1
    assert answers[6].status_code == 400 and "resolves outside" in answers[6].json()["error"]


def _strict_json(text):
    """Parse *text* as a browser does: NaN and Infinity tokens are errors."""

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


NAN = float("nan")
INF = float("inf")


def write_non_finite_run(backend):
    """Write run 1 with NaN and ±Infinity where Sacred stores them (its file layout writes
    them as the tokens NaN / Infinity / -Infinity)."""
    backend.write(
        1,
        config={"lr": NAN, "clip": INF, "bounds": [-INF, 1.5]},
        info={"best": -INF},
        result=NAN,
        metrics={"loss": ([0, 1, 2, 3], [1.0, NAN, INF, -INF])},
    )


def test_non_finite_numbers_come_as_standard_json(backend):
    """NaN and ±Infinity in config, info, result and metrics are served as valid JSON: as the
    strings "NaN", "Infinity", "-Infinity", and as null (gaps) in plotted points."""
    write_non_finite_run(backend)
    with TestClient(create_app(backend.open())) as c:
        run = _strict_json(c.get("/api/runs/1").text)["run"]
        rows = _strict_json(
            c.get("/api/runs", params={"columns": "config.lr,metric:loss:last"}).text
        )["rows"]
        rollups = _strict_json(c.get("/api/runs/1/metrics").text)
        points = _strict_json(c.get("/api/runs/1/metrics/loss").text)
        compare = _strict_json(c.get("/api/compare", params={"ids": "1"}).text)
    assert run["config"] == {"lr": "NaN", "clip": "Infinity", "bounds": ["-Infinity", 1.5]}
    assert run["info"]["best"] == "-Infinity" and run["result"] == "NaN"
    assert rows[0]["result"] == "NaN"
    assert rows[0]["cols"] == {"config.lr": "NaN", "metric:loss:last": "-Infinity"}
    assert rollups == {"loss": {"last": "-Infinity", "min": 1, "max": 1, "count": 4}}
    assert points["values"] == [1, None, None, None]
    assert compare["runs"][0]["config"]["clip"] == "Infinity"
