"""The dashboard's ASGI app: a JSON API over a :class:`~sacredlite.store.base.RunStore`
plus one static page (internal; started by ``sacredlite board``).

Every response carries a strict Content-Security-Policy; artifacts and sources are served
sandboxed and never as HTML, so nothing a run contains can run script in the page.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..store import limits
from ..store.base import RunStore
from ..store.config_origin import config_details
from ..store.curves import curve, metric_sections
from ..store.limits import check_limit
from ..store.records import (
    RunQuery,
    StoreError,
    derived_status,
    duration,
    flatten,
    get_path,
)
from ..store.table import clean, row
from .api_analysis import AnalysisApi
from .api_common import error_answer, json_answer, parse_float, parse_query
from .api_views import ViewsApi, read_body
from .security import AuthThrottle, SecurityHeaders

STATIC = Path(__file__).parent / "static"
FILE_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
_INLINE = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")
_TEXTLIKE = ("application/json", "application/xml", "application/x-yaml", "application/toml")


def _file_response(content: Path | bytes, ctype: str, name: str, download: bool) -> Response:
    if ctype.startswith("text/") or ctype in _TEXTLIKE or ctype.endswith("+json"):
        ctype = "text/plain; charset=utf-8"
    elif ctype not in _INLINE:
        download = True
    safe_name = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name.split("/")[-1])
    headers = {
        "Content-Security-Policy": FILE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'{"attachment" if download else "inline"}; filename="{safe_name}"',
    }
    if isinstance(content, Path):
        return FileResponse(content, media_type=ctype, headers=headers)
    return Response(content, media_type=ctype, headers=headers)


class _Api:
    """The route handlers, bound to one store."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def _id(self, request: Request) -> Any:
        return self.store.parse_id(request.path_params["run_id"])

    def meta(self, request: Request) -> Response:
        return json_answer(
            {
                "backend": self.store.backend,
                "location": self.store.location,
                "read_only": self.store.read_only,
                "version": __version__,
                "limits": {
                    "tags": limits.MAX_TAGS,
                    "tag_chars": limits.MAX_TAG_CHARS,
                    "notes_chars": limits.MAX_NOTES_CHARS,
                    "compared_runs": limits.MAX_COMPARED_RUNS,
                },
            }
        )

    def runs(self, request: Request) -> Response:
        query, columns = parse_query(request)
        total, records = self.store.list_runs(query, columns)
        rows = [row(r, columns, self.store) for r in records]
        return json_answer({"total": total, "offset": query.offset, "rows": rows})

    def keys(self, request: Request) -> Response:
        _, page = self.store.list_runs(RunQuery(limit=50))  # the newest runs suggest keys
        records = [self.store.run(r["_id"]) for r in page]
        found: dict[str, set[str]] = {
            "config": set(),
            "info": set(),
            "meta": set(),
            "result": set(),
        }
        for record in records:
            for section, keys in found.items():
                sub = record.get(section)
                if isinstance(sub, dict):
                    keys.update(
                        k for k in flatten(sub, section) if not k.startswith("info.metrics")
                    )
        metrics: set[str] = set()
        for record in records[:5]:
            try:
                metrics.update(self.store.metric_names(record["_id"]))
            except StoreError:
                continue
        out = {k: sorted(v)[:500] for k, v in found.items()}
        out["metrics"] = sorted(metrics)
        return json_answer(out)

    def run(self, request: Request) -> Response:
        run_id = self._id(request)
        record = dict(self.store.run(run_id))
        record.pop("captured_out", None)
        names = self.store.metric_names(run_id)
        return json_answer(
            {
                "run": record,
                "status": derived_status(record),
                "duration": duration(record),
                "artifacts": self.store.artifacts(run_id),
                "sources": self.store.sources(run_id),
                "metrics": names,
                "metric_sections": metric_sections(names),
                **config_details(self.store, run_id, record),
            }
        )

    def output(self, request: Request) -> Response:
        params = request.query_params
        tail = params.get("tail")
        offset = int(params.get("offset", 0) or 0)
        return json_answer(
            self.store.output(self._id(request), offset, int(tail) if tail else None)
        )

    def rollups(self, request: Request) -> Response:
        return json_answer(self.store.rollups(self._id(request)))

    def metric(self, request: Request) -> Response:
        params = request.query_params
        points = int(parse_float(params.get("points")) or 2000)
        check_limit("Points of a plotted metric", points, limits.MAX_PLOT_POINTS)
        data = curve(
            self.store,
            self._id(request),
            request.path_params["name"],
            params.get("x", "step"),
            parse_float(params.get("start")),
            parse_float(params.get("stop")),
            max(points, 2),
        )
        return json_answer(data)

    def artifact(self, request: Request) -> Response:
        name = request.path_params["name"]
        content, ctype = self.store.artifact(self._id(request), name)
        return _file_response(content, ctype, name, "download" in request.query_params)

    def source(self, request: Request) -> Response:
        path = request.path_params["path"]
        data = self.store.source(self._id(request), path)
        return _file_response(data, "text/plain", path, "download" in request.query_params)

    # Writes: the edge (security.py) has checked permissions, the Origin, the content type
    # and the body's size before these run; they run in a worker thread like every read.
    def tags(self, request: Request, raw: bytes) -> Response:
        run_id = self._id(request)
        self.store.set_tags(run_id, read_body(raw).get("tags"))  # type: ignore[arg-type]
        return json_answer({"ok": True, "tags": self.store.run(run_id)["omniboard"]["tags"]})

    def notes(self, request: Request, raw: bytes) -> Response:
        self.store.set_notes(self._id(request), read_body(raw).get("notes"))  # type: ignore[arg-type]
        return json_answer({"ok": True})

    def delete(self, request: Request, raw: bytes) -> Response:
        run_id = self._id(request)
        body = read_body(raw)
        if str(body.get("confirm")) != str(run_id):
            raise StoreError(f'Deleting run {run_id!r} needs the body {{"confirm": {run_id!r}}}.')
        self.store.delete_run(run_id)
        return json_answer({"ok": True, "deleted": run_id})

    def _ids(self, request: Request) -> list[Any]:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if not ids:
            raise StoreError("Pass the runs to compare as ?ids=1,2.")
        check_limit("Runs compared at once", len(ids), limits.MAX_COMPARED_RUNS)
        return [self.store.parse_id(i) for i in ids]

    def compare(self, request: Request) -> Response:
        runs = []
        for run_id in self._ids(request):
            record = self.store.run(run_id)
            runs.append(
                {
                    "id": run_id,
                    "experiment": get_path(record, "experiment"),
                    "status": derived_status(record),
                    "config": flatten(record.get("config") or {}),
                    "result": record.get("result"),
                    "metrics": self.store.metric_names(run_id),
                    "sources": [s["path"] for s in self.store.sources(run_id)],
                }
            )
        keys = sorted({k for r in runs for k in r["config"]})
        differs = [
            k for k in keys if len({json.dumps(clean(r["config"].get(k))) for r in runs}) > 1
        ]
        return json_answer({"runs": runs, "keys": keys, "differs": differs})

    def diff(self, request: Request) -> Response:
        a, b = (self._ids(request) + [None])[:2]
        if b is None:
            raise StoreError("A diff needs two runs: ?ids=A,B.")
        what = request.query_params.get("what", "output")
        if what == "output":
            left, right = self.store.output(a)["text"], self.store.output(b)["text"]
        else:
            path = request.query_params.get("path", "")
            left = self.store.source(a, path).decode("utf-8", "replace")
            right = self.store.source(b, path).decode("utf-8", "replace")
        for run_id, text in ((a, left), (b, right)):
            check_limit(
                f"Characters of run {run_id}'s {what} in a diff", len(text), limits.MAX_DIFF_CHARS
            )
        lines = difflib.unified_diff(
            left.splitlines(), right.splitlines(), f"run {a}", f"run {b}", lineterm="", n=3
        )
        return json_answer({"diff": "\n".join(list(lines)[:20000])})


WORKERS = 8
"""Threads answering store requests at once. Python runs one thread at a time: more
threads only take turns, each slower (a 40-thread pool gave 1 s tails under 200
concurrent requests); requests beyond these wait their turn."""


class _Workers:
    """The threads one app runs store work in (a limiter made on the app's event loop)."""

    def __init__(self, count: int = WORKERS) -> None:
        self.count = count
        self._limiter: Any = None

    async def run(self, handler: Any, *args: Any) -> Any:
        import anyio
        import anyio.to_thread

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.count)
        return await anyio.to_thread.run_sync(handler, *args, limiter=self._limiter)


def _guard(handler: Any, workers: _Workers, *, body: bool = False) -> Any:
    """Wrap a handler: run it in a worker thread (store work blocks and grows with the data;
    the event loop must stay free), with the request body if *body*, and turn store errors
    into JSON answers."""

    async def wrapped(request: Request) -> Response:
        try:
            if body:
                raw = await request.body()  # already read, and capped, by the edge
                answer: Response = await workers.run(handler, request, raw)
            else:
                answer = await workers.run(handler, request)
            return answer
        except (StoreError, ValueError) as exc:
            return error_answer(exc)

    return wrapped


def _answer_now(handler: Any) -> Any:
    """Wrap a handler that does no store work (it answers from memory): it runs on the
    event loop, so it never waits behind slow requests for a worker thread."""

    async def wrapped(request: Request) -> Response:
        return handler(request)  # type: ignore[no-any-return]

    return wrapped


def create_app(
    store: RunStore,
    *,
    auth: str | None = None,
    allowed_hosts: tuple[str, ...] | None = None,
    auth_throttle: AuthThrottle | None = None,
) -> Starlette:
    """Build the dashboard app over *store*.

    Args:
        store: where runs are read from (its ``read_only`` flag is honoured).
        auth: ``"USER:PASS"`` to require HTTP basic auth on every request.
        allowed_hosts: answer only requests whose Host header names one of these
            (``sacredlite board`` passes the loopback names when bound to 127.0.0.1).
        auth_throttle: the limit on failed logins per client (default: the numbers in
            :mod:`sacredlite.store.limits`).
    """
    api = _Api(store)
    workers = _Workers()
    analysis = AnalysisApi(store)
    saved = ViewsApi(store)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    r = "/api/runs/{run_id}"
    routes = [
        Route("/", index),
        Route("/api/meta", _answer_now(api.meta)),
        Route("/api/runs", _guard(api.runs, workers)),
        Route("/api/keys", _guard(api.keys, workers)),
        Route("/api/compare", _guard(api.compare, workers)),
        Route("/api/diff", _guard(api.diff, workers)),
        Route("/api/groups", _guard(analysis.groups, workers)),
        Route("/api/groups/metric", _guard(analysis.group_metric, workers)),
        Route("/api/welch", _guard(analysis.welch, workers)),
        Route("/api/analysis/parallel", _guard(analysis.parallel, workers)),
        Route("/api/analysis/importance", _guard(analysis.importance, workers)),
        Route("/api/export.csv", _guard(analysis.export_csv, workers)),
        Route("/api/views", _guard(saved.list, workers)),
        Route("/api/views/{name}", _guard(saved.save, workers, body=True), methods=["PUT"]),
        Route("/api/views/{name}", _guard(saved.delete, workers, body=True), methods=["DELETE"]),
        Route(r, _guard(api.run, workers)),
        Route(r, _guard(api.delete, workers, body=True), methods=["DELETE"]),
        Route(r + "/output", _guard(api.output, workers)),
        Route(r + "/metrics", _guard(api.rollups, workers)),
        Route(r + "/metrics/{name:path}", _guard(api.metric, workers)),
        Route(r + "/artifacts/{name:path}", _guard(api.artifact, workers)),
        Route(r + "/sources/{path:path}", _guard(api.source, workers)),
        Route(r + "/tags", _guard(api.tags, workers, body=True), methods=["PUT"]),
        Route(r + "/notes", _guard(api.notes, workers, body=True), methods=["PUT"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SecurityHeaders,
                auth=auth,
                allowed_hosts=allowed_hosts,
                read_only=store.read_only,
                throttle=auth_throttle,
            )
        ],
    )
    app.state.store = store
    return app
