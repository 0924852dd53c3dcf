"""Saved views (issue 11): kept in the store (a file under the runs directory, or a MongoDB
collection), listed by name, refused when read-only, from another origin or over limits."""

import json

import pytest
from starlette.testclient import TestClient

from sacredlite.board.app import create_app
from sacredlite.store import limits

STATE = {"columns": ["config.lr", "metric:loss:last"], "sort": "-id", "group": ["config.lr"]}


def _delete(client, name, body, **kwargs):
    return client.request("DELETE", f"/api/views/{name}", json=body, **kwargs)


def test_views_are_saved_listed_replaced_and_deleted(backend):
    """PUT creates and replaces (keeping `created`), GET lists by name, DELETE confirms."""
    backend.populate(2)
    with TestClient(create_app(backend.open())) as c:
        assert c.get("/api/views").json() == {"views": []}
        assert c.put("/api/views/my view", json={"state": STATE}).json() == {"ok": True}
        assert c.put("/api/views/all runs", json={"state": {}}).json() == {"ok": True}
        views = c.get("/api/views").json()["views"]
        assert [v["name"] for v in views] == ["all runs", "my view"]
        assert views[1]["state"] == STATE and views[1]["created"] == views[1]["updated"]
        c.put("/api/views/my view", json={"state": {**STATE, "sort": "id"}})
        again = c.get("/api/views").json()["views"][1]
        assert again["state"]["sort"] == "id" and again["created"] == views[1]["created"]
        assert again["updated"] >= views[1]["updated"]
        resp = _delete(c, "my view", {"confirm": "other"})
        assert resp.status_code == 400 and "confirm" in resp.json()["error"]
        assert _delete(c, "my view", {"confirm": "my view"}).json()["ok"] is True
        assert [v["name"] for v in c.get("/api/views").json()["views"]] == ["all runs"]
        assert _delete(c, "gone", {"confirm": "gone"}).status_code == 404
        # a new store over the same backend sees them: they live in the store
        assert c.get("/api/runs").json()["total"] == 2  # the views file is not a run
    with TestClient(create_app(backend.open())) as c:
        assert [v["name"] for v in c.get("/api/views").json()["views"]] == ["all runs"]
    if backend.kind == "file":
        assert (backend.target / "_sacredlite_views.json").is_file()
    else:
        assert backend.target["sacredlite.views"].count_documents({}) == 1


def test_views_are_refused_read_only_and_from_another_origin(backend):
    """A read-only board refuses saving and deleting; a foreign Origin is refused (CSRF)."""
    with TestClient(create_app(backend.open())) as c:
        c.put("/api/views/keep", json={"state": STATE})
        resp = c.put("/api/views/x", json={"state": {}}, headers={"origin": "http://evil.example"})
        assert resp.status_code == 403
    with TestClient(create_app(backend.open(read_only=True))) as c:
        assert c.put("/api/views/x", json={"state": {}}).status_code == 403
        assert _delete(c, "keep", {"confirm": "keep"}).status_code == 403
        assert [v["name"] for v in c.get("/api/views").json()["views"]] == ["keep"]


@pytest.mark.parametrize(
    ("name", "body", "status", "words"),
    [
        ("a" * (limits.MAX_VIEW_NAME_CHARS + 1), {"state": {}}, 413, "view's name"),
        (" padded", {"state": {}}, 400, "not allowed"),
        ("tab%09here", {"state": {}}, 400, "not allowed"),
        ("ok", {"state": [1, 2]}, 400, "JSON object"),
        ("ok", {"view": {}}, 400, '"state"'),
        ("ok", {"state": {"x": "y" * limits.MAX_VIEW_BYTES}}, 413, "view's state"),
    ],
)
def test_bad_views_are_refused_with_the_reason(backend, name, body, status, words):
    """Names and states over the limits or of the wrong shape: 413/400 naming the problem."""
    with TestClient(create_app(backend.open())) as c:
        resp = c.put(
            f"/api/views/{name}",
            content=json.dumps(body),
            headers={"content-type": "application/json"},
        )
        assert resp.status_code == status and words in resp.json()["error"]
        assert c.get("/api/views").json()["views"] == []


def test_the_number_of_views_is_limited(backend, monkeypatch):
    """One view more than MAX_VIEWS is refused; replacing an existing one still works."""
    monkeypatch.setattr(limits, "MAX_VIEWS", 3)
    with TestClient(create_app(backend.open())) as c:
        for i in range(3):
            assert c.put(f"/api/views/v{i}", json={"state": {}}).status_code == 200
        resp = c.put("/api/views/v3", json={"state": {}})
        assert resp.status_code == 413 and "Saved views" in resp.json()["error"]
        assert c.put("/api/views/v1", json={"state": {"a": 1}}).status_code == 200
