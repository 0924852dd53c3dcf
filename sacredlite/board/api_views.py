"""The board's saved-view routes (internal): list, save and delete named UI states. The
edge (:mod:`.security`) has checked read-only mode, the Origin, the content type and the
body's size before a write gets here."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..store import views
from ..store.base import RunStore
from ..store.records import StoreError
from .api_common import json_answer


def read_body(raw: bytes) -> dict[str, Any]:
    """Return a write request's JSON object body."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise StoreError("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise StoreError(f"Expected a JSON object, got {type(body).__name__}.")
    return body


class ViewsApi:
    """The saved-view handlers, bound to one store."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def list(self, request: Request) -> Response:
        return json_answer({"views": views.list_views(self.store)})

    def save(self, request: Request, raw: bytes) -> Response:
        name = request.path_params["name"]
        body = read_body(raw)
        if "state" not in body:
            raise StoreError('Saving a view needs the body {"state": {...}}.')
        views.save_view(self.store, name, body["state"])
        return json_answer({"ok": True})

    def delete(self, request: Request, raw: bytes) -> Response:
        name = request.path_params["name"]
        if read_body(raw).get("confirm") != name:
            raise StoreError(f'Deleting view {name!r} needs the body {{"confirm": {name!r}}}.')
        views.delete_view(self.store, name)
        return json_answer({"ok": True, "deleted": name})
