"""A metric against the x axis the user picks, and the mean curve of a group of runs with
its band (internal).

x axes: ``step``; ``wall`` (each point's timestamp in seconds since the epoch);
``relative`` (seconds since the run's first point of the metric); ``metric:OTHER`` (the
value of the run's metric OTHER logged at the same step; points whose step OTHER lacks are
left out, and the curve is ordered by x). Derived series are cached per store and rebuilt
when the metric gains points (the store's metric version token).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import limits
from .analysis import all_matching, check_by, make_groups
from .limits import check_limit
from .records import NotFound, RunQuery, StoreError
from .series import Series, _json_number, _np, _numbers

if TYPE_CHECKING:
    from .base import RunId, RunStore

X_KINDS = ("step", "wall", "relative", "metric:OTHER")
"""The x axes a metric can be drawn against."""
BANDS = ("minmax", "std")
"""A group curve's band: the members' lowest and highest value, or mean +- one std."""
_KEEP = 64


def check_x(x: str) -> str:
    """Validate an x axis name (see :data:`X_KINDS`)."""
    if x in ("step", "wall", "relative") or (x.startswith("metric:") and len(x) > 7):
        return x
    raise StoreError(f"Unknown x axis {x!r}; use step, wall, relative or metric:NAME.")


def _epoch_seconds(timestamps: list[Any]) -> Any:
    """Return timestamps (ISO strings as stored, or datetimes) as epoch seconds."""
    assert _np is not None
    if timestamps and all(isinstance(t, str) for t in timestamps[:1]):
        try:
            parsed = _np.array([t.rstrip("Z") for t in timestamps], dtype="datetime64[us]")
            return parsed.astype("int64") / 1e6
        except ValueError:
            pass
    out = []
    for t in timestamps:
        if isinstance(t, str):
            try:
                t = datetime.fromisoformat(t.rstrip("Z"))
            except ValueError:
                t = None
        if isinstance(t, datetime):
            t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
            out.append(t.timestamp())
        else:
            out.append(math.nan)
    return _np.asarray(out, dtype=float)


def _build(store: RunStore, run_id: RunId, name: str, x: str) -> Series:
    if x.startswith("metric:"):
        other = x[len("metric:") :]
        if other not in store.metric_names(run_id):
            raise NotFound(f"Run {run_id!r} has no metric {other!r} to use as x axis.")
        ys, xs = store.series(run_id, name), store.series(run_id, other)
        steps_x = _np.asarray(xs.steps)
        at = _np.searchsorted(steps_x, ys.steps)
        inside = at < len(steps_x)
        match = _np.zeros(len(ys.steps), dtype=bool)
        match[inside] = steps_x[at[inside]] == ys.steps[inside]
        xv = _np.asarray(xs.values)[at[match]]
        keep = _np.isfinite(xv)
        return Series(xv[keep], ys.values[match][keep])
    points = store.metric_points(run_id, name)
    n = min(len(points["timestamps"]), len(points["values"]))
    seconds = _epoch_seconds(points["timestamps"][:n])
    values = _numbers(points["values"][:n])
    if x == "relative" and n:
        seconds = seconds - _np.nanmin(seconds)
    return Series(seconds, values)


def x_series(store: RunStore, run_id: RunId, name: str, x: str = "step") -> Series:
    """Return the metric *name* of a run against the x axis *x* (cached until it grows)."""
    if x == "step":
        return store.series(run_id, name)
    if _np is None:
        raise StoreError("Other x axes than step need numpy: pip install 'sacredlite[board]'.")
    version: Any = store._metric_version(run_id, name)
    if x.startswith("metric:"):
        version = (version, store._metric_version(run_id, x[len("metric:") :]))
    cache: OrderedDict[Any, tuple[Any, Series]] = store._derived
    key = (run_id, name, x)
    with store._lock:
        hit = cache.get(key)
        if hit is not None and hit[0] == version:
            cache.move_to_end(key)
            return hit[1]
    series = _build(store, run_id, name, x)
    with store._lock:
        cache[key] = (version, series)
        while len(cache) > _KEEP:
            cache.popitem(last=False)
    return series


def curve(
    store: RunStore,
    run_id: RunId,
    name: str,
    x: str = "step",
    start: float | None = None,
    stop: float | None = None,
    points: int = 2000,
) -> dict[str, Any]:
    """Return at most *points* points of a metric between x *start* and *stop*.

    The answer is the metric route's: ``{"name", "x_kind", "steps" (the x values),
    "values", "total", "downsampled"}``.
    """
    check_x(x)
    if name not in store.metric_names(run_id):
        raise NotFound(
            f"Run {run_id!r} has no metric {name!r}; it has {store.metric_names(run_id)}."
        )
    window = x_series(store, run_id, name, x).window(start, stop, points)
    return {"name": name, "x_kind": x, **window}


def group_curves(
    store: RunStore,
    query: RunQuery,
    by: list[str],
    name: str,
    x: str = "step",
    band: str = "minmax",
    points: int = 500,
) -> dict[str, Any]:
    """Return each group's mean curve of metric *name* with its band.

    Every member is interpolated (linearly) onto one x grid shared by all groups, spanning
    the members' x range; at each x the mean and the band (``minmax``: lowest and highest
    member, ``std``: mean +- the sample standard deviation) are over the members that
    reach that x. Members without the metric are left out of the curve, not of ``ids``.
    """
    check_by(by)
    check_x(x)
    if band not in BANDS:
        raise StoreError(f"Unknown band {band!r}; use {' or '.join(BANDS)}.")
    if not name:
        raise StoreError("Say which metric to draw: ?name=loss.")
    if _np is None:
        raise StoreError("Group plots need numpy: pip install 'sacredlite[board]'.")
    check_limit("Points of a group plot", points, limits.MAX_PLOT_POINTS)
    records = all_matching(store, query, by)
    check_limit("Runs in one group plot", len(records), limits.MAX_CURVE_RUNS)
    groups = make_groups(store, records, by)
    members: dict[Any, Series] = {}
    for group in groups:
        for record in group.records:
            try:
                if name in store.metric_names(record["_id"]):
                    series = x_series(store, record["_id"], name, x)
                    if len(series):
                        members[record["_id"]] = series
            except NotFound:
                continue
    grid = _grid(list(members.values()), points, x == "step")
    out = []
    for group in groups:
        entry = group.describe(by)
        rows = [_resample(members[r["_id"]], grid) for r in group.records if r["_id"] in members]
        entry["members"] = [r["_id"] for r in group.records if r["_id"] in members]
        entry.update(_band(rows, grid, band))
        out.append(entry)
    return {"by": by, "name": name, "x_kind": x, "band": band, "groups": out}


def _grid(members: list[Series], points: int, whole: bool) -> Any:
    """Return the shared x grid: every whole step when they fit, else *points* even ones."""
    lows = [float(s.steps[0]) for s in members if math.isfinite(float(s.steps[0]))]
    highs = [float(s.steps[-1]) for s in members if math.isfinite(float(s.steps[-1]))]
    if not lows or not highs:
        return _np.empty(0)
    lo, hi = min(lows), max(highs)
    if whole and float(lo).is_integer() and hi - lo + 1 <= points:
        return _np.arange(lo, hi + 1, dtype=float)
    return _np.linspace(lo, hi, max(2, points)) if hi > lo else _np.asarray([lo])


def _resample(series: Series, grid: Any) -> Any:
    xs, ys = _np.asarray(series.steps, dtype=float), _np.asarray(series.values, dtype=float)
    keep = _np.isfinite(xs) & _np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    if not xs.size:
        return _np.full(grid.shape, _np.nan)
    return _np.interp(grid, xs, ys, left=_np.nan, right=_np.nan)


def _band(rows: list[Any], grid: Any, band: str) -> dict[str, list[Any]]:
    if not rows or not grid.size:
        return {"x": [], "mean": [], "lo": [], "hi": []}
    import warnings

    stack = _np.vstack(rows)
    with warnings.catch_warnings():  # an x no member reaches is a gap (null), not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = _np.nanmean(stack, axis=0)
        if band == "minmax":
            lo, hi = _np.nanmin(stack, axis=0), _np.nanmax(stack, axis=0)
        else:
            counts = _np.sum(_np.isfinite(stack), axis=0)
            std = _np.where(counts > 1, _np.nanstd(stack, axis=0, ddof=1), 0.0)
            lo, hi = mean - std, mean + std
    return {
        "x": [_json_number(v) for v in grid.tolist()],
        "mean": [_json_number(v) for v in mean.tolist()],
        "lo": [_json_number(v) for v in lo.tolist()],
        "hi": [_json_number(v) for v in hi.tolist()],
    }


def metric_sections(names: list[str]) -> dict[str, list[str]]:
    """Group metric names by their prefix before the first ``/`` or ``.`` (``system/rss_mb``
    is in ``system``; names without one are in ``""``), each section sorted."""
    out: dict[str, list[str]] = {}
    for name in sorted(names):
        cut = min((i for i in (name.find("/"), name.find(".")) if i > 0), default=-1)
        out.setdefault(name[:cut] if cut > 0 else "", []).append(name)
    return out
