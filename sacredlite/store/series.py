"""Metric series held in memory for plotting, and server-side downsampling (internal).

A :class:`Series` keeps one metric's steps and values sorted by step. :meth:`Series.window`
returns at most *points* points for a step range using min/max buckets: every bucket
contributes its lowest and its highest point, in step order, so spikes survive. Zoomed
windows are re-bucketed from the points inside them. For windows of millions of points a
min/max index of blocks of :data:`BLOCK` points is kept (built once per series version):
the buckets are then computed from each block's extremes, not from every point. numpy
arrays are used when numpy is installed (a 1,000,000-point window takes milliseconds); a
pure-Python path gives the same answer without it.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

_np: Any
try:
    import numpy as _np
except ImportError:  # pragma: no cover - numpy comes with pandas; the board works without
    _np = None


BLOCK = 1024
"""Points per block of a long series' min/max index (built on its first wide window)."""


def _number(value: Any) -> float:
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return math.nan
    return math.nan


def _numbers(items: Any) -> Any:
    """Return *items* as floats (NaN for non-numbers): a numpy array, or a list without numpy."""
    if _np is not None:
        if isinstance(items, _np.ndarray):
            return items.astype(float, copy=False)
        try:
            arr = _np.asarray(items, dtype=float)
            if arr.ndim == 1:
                return arr
        except (TypeError, ValueError):
            pass
        return _np.asarray([_number(x) for x in items], dtype=float)
    try:
        return [float(x) for x in items]
    except (TypeError, ValueError):
        return [_number(x) for x in items]


def _json_number(value: float) -> float | int | None:
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _last(value: float) -> float | int:
    value = float(value)
    return value if not math.isfinite(value) else _json_number(value)  # type: ignore[return-value]


class Series:
    """One metric's points, sorted by step, ready to window and downsample.

    Args:
        steps: the step of each point.
        values: the value of each point (non-numbers become NaN).
    """

    def __init__(self, steps: Any, values: Any) -> None:
        n = min(len(steps), len(values))
        xs, ys = _numbers(steps[:n]), _numbers(values[:n])
        if _np is not None:
            if n > 1 and bool((xs[1:] < xs[:-1]).any()):
                order = _np.argsort(xs, kind="stable")
                xs, ys = xs[order], ys[order]
        elif any(xs[i] > xs[i + 1] for i in range(n - 1)):
            order = sorted(range(n), key=xs.__getitem__)
            xs, ys = [xs[i] for i in order], [ys[i] for i in order]
        self.steps = xs
        self.values = ys
        self._blocks: tuple[Any, Any, Any] | None = None

    def __len__(self) -> int:
        return len(self.steps)

    def extend(self, steps: Any, values: Any) -> None:
        """Append points (re-sorting only when they arrive out of order)."""
        more = Series(steps, values)
        if _np is not None:
            xs = _np.concatenate([self.steps, more.steps])
            ys = _np.concatenate([self.values, more.values])
        else:
            xs, ys = self.steps + more.steps, self.values + more.values
        if len(self.steps) and len(more.steps) and more.steps[0] < self.steps[-1]:
            merged = Series(xs, ys)
            xs, ys = merged.steps, merged.values
        self.steps, self.values = xs, ys

    def _candidates(self, lo: int, hi: int) -> Any:
        """Return the indices in ``[lo, hi)`` that can be a bucket's min or max: each whole
        block's lowest and highest point (from the min/max index), every point of the
        partial blocks at both ends."""
        assert _np is not None
        if self._blocks is None or self._blocks[0] is not self.values:
            n = len(self.values) // BLOCK * BLOCK
            whole = self.values[:n]
            nan = _np.isnan(whole)
            if nan.any():  # a NaN would be every bucket's min and max: never pick one
                low = _np.where(nan, _np.inf, whole).reshape(-1, BLOCK)
                high = _np.where(nan, -_np.inf, whole).reshape(-1, BLOCK)
            else:
                low = high = whole.reshape(-1, BLOCK)
            base = _np.arange(n // BLOCK) * BLOCK
            self._blocks = (self.values, base + low.argmin(axis=1), base + high.argmax(axis=1))
        _, imin, imax = self._blocks
        first = -(-lo // BLOCK)
        last = max(first, min(hi // BLOCK, len(imin)))
        inner = _np.unique(_np.concatenate([imin[first:last], imax[first:last]]))
        return _np.concatenate(
            [_np.arange(lo, min(first * BLOCK, hi)), inner, _np.arange(max(last * BLOCK, lo), hi)]
        )

    def rollup(self) -> dict[str, float | int | None]:
        """Return ``{"last", "min", "max", "count"}``: the last value as it is (NaN and
        infinities included), the lowest and highest finite values, and the count."""
        count = len(self.values)
        if _np is not None:
            finite = self.values[_np.isfinite(self.values)]
            low = float(finite.min()) if finite.size else None
            high = float(finite.max()) if finite.size else None
        else:
            numbers = [v for v in self.values if math.isfinite(v)]
            low = min(numbers) if numbers else None
            high = max(numbers) if numbers else None
        return {
            "last": _last(self.values[-1]) if count else None,
            "min": low,
            "max": high,
            "count": count,
        }

    def window(
        self, start: float | None = None, stop: float | None = None, points: int = 2000
    ) -> dict[str, Any]:
        """Return ``{"steps", "values", "total", "downsampled"}`` for ``start <= step <= stop``.

        At most *points* points come back (min/max per bucket). NaN and infinities become
        ``None`` so the answer is valid JSON.
        """
        points = max(2, int(points))
        if _np is not None:
            lo = 0 if start is None else int(_np.searchsorted(self.steps, start, "left"))
            hi = (
                len(self.steps)
                if stop is None
                else int(_np.searchsorted(self.steps, stop, "right"))
            )
        else:
            lo = 0 if start is None else bisect.bisect_left(self.steps, start)
            hi = len(self.steps) if stop is None else bisect.bisect_right(self.steps, stop)
        total = max(0, hi - lo)
        if total <= points:
            idx: Any = range(lo, hi)
        elif _np is not None and total >= 4 * BLOCK * points // 2:
            candidates = self._candidates(lo, hi)
            picked = _minmax_numpy(self.values[candidates], 0, len(candidates), points // 2)
            idx = candidates[picked]
        elif _np is not None:
            idx = _minmax_numpy(self.values, lo, hi, points // 2)
        else:
            idx = _minmax_python(self.values, lo, hi, points // 2)
        if _np is not None:
            idx = _np.asarray(idx, dtype=int)
            xs, ys = self.steps[idx].tolist(), self.values[idx].tolist()
        else:
            xs, ys = [self.steps[i] for i in idx], [self.values[i] for i in idx]
        return {
            "steps": [_json_number(x) for x in xs],
            "values": [_json_number(y) for y in ys],
            "total": total,
            "downsampled": total > len(xs),
        }


def _minmax_numpy(values: Any, lo: int, hi: int, buckets: int) -> Any:
    """Return the indices of each bucket's min and max point in ``values[lo:hi]``."""
    assert _np is not None
    arr = values[lo:hi]
    n = arr.size
    size = -(-n // buckets)
    pad = size * buckets - n
    nan = _np.isnan(arr)
    low = _np.concatenate([_np.where(nan, _np.inf, arr), _np.full(pad, _np.inf)])
    high = _np.concatenate([_np.where(nan, -_np.inf, arr), _np.full(pad, -_np.inf)])
    base = _np.arange(buckets) * size
    imin = base + low.reshape(buckets, size).argmin(axis=1)
    imax = base + high.reshape(buckets, size).argmax(axis=1)
    both = _np.unique(_np.concatenate([imin, imax]))
    return both[both < n] + lo


def _minmax_python(values: list[float], lo: int, hi: int, buckets: int) -> list[int]:
    n = hi - lo
    size = -(-n // buckets)
    out: list[int] = []
    for a in range(lo, hi, size):
        b = min(a + size, hi)
        finite = [i for i in range(a, b) if not math.isnan(values[i])] or [a]
        i_min = min(finite, key=values.__getitem__)
        i_max = max(finite, key=values.__getitem__)
        out.extend(sorted({i_min, i_max}))
    return out
