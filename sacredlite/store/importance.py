"""Which config keys move a metric: rank correlation, and random-forest importance when
scikit-learn is installed (internal; imported lazily, never at start-up).

A numeric key is correlated with the metric directly (Spearman's rank correlation); a
categorical key (text, bools, lists) is one-hot encoded and reports the category whose
indicator correlates most strongly, named in ``"category"``. For the forest, categorical
keys are coded as ordinals in sorted order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import limits
from .analysis import all_matching, key_text
from .records import RunQuery, StoreError, _sort_key, flatten
from .stats import as_float, spearman

if TYPE_CHECKING:
    from .base import RunStore

MIN_FOREST_RUNS = 5
"""Runs with a metric value needed before a forest is fitted."""


def varying_config_keys(records: list[dict[str, Any]]) -> list[str]:
    """Return the flattened config keys whose value differs between *records* (a key some
    runs lack varies too), sorted."""
    seen: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for record in records:
        for key, value in flatten(record.get("config") or {}, "config").items():
            seen.setdefault(key, set()).add(key_text(value))
            counts[key] = counts.get(key, 0) + 1
    return sorted(k for k, texts in seen.items() if len(texts) > 1 or counts[k] < len(records))


def _correlate(values: list[Any], target: list[float]) -> tuple[float | None, Any]:
    """Return ``(correlation, category)`` of one key's *values* with *target*."""
    numbers = [as_float(v) if not isinstance(v, bool) else None for v in values]
    if all(n is not None for n in numbers):
        return spearman(numbers, target), None  # type: ignore[arg-type]
    best: tuple[float | None, Any] = (None, None)
    texts = [key_text(v) for v in values]
    for text in sorted(set(texts)):
        indicator = [1.0 if t == text else 0.0 for t in texts]
        corr = spearman(indicator, target)
        if corr is not None and (best[0] is None or abs(corr) > abs(best[0])):
            best = (corr, values[texts.index(text)])
    return best


def _forest(columns: list[list[Any]], target: list[float]) -> list[float] | None:
    """Return each column's random-forest importance, or ``None`` without scikit-learn."""
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        return None
    matrix = []
    coded = []
    for values in columns:
        numbers = [as_float(v) if not isinstance(v, bool) else None for v in values]
        if all(n is not None for n in numbers):
            coded.append(numbers)
            continue
        order = {key_text(v): i for i, v in enumerate(sorted(values, key=_sort_key))}
        coded.append([float(order[key_text(v)]) for v in values])
    matrix = [list(row) for row in zip(*coded, strict=True)]
    model = RandomForestRegressor(n_estimators=50, random_state=0, n_jobs=1)
    model.fit(matrix, target)
    return [float(x) for x in model.feature_importances_]


def importance(
    store: RunStore, query: RunQuery, metric: str, keys: list[str] | None
) -> dict[str, Any]:
    """Rank config *keys* (default: every config key that varies) by how they move *metric*.

    Returns ``{"metric", "runs", "keys": [{"key", "correlation", "abs_correlation",
    "category", "forest"}], "forest_available", "truncated"}``, strongest first.
    """
    if not metric:
        raise StoreError("Say which metric to explain: ?metric=metric:loss:last.")
    records = all_matching(store, query, [metric, "config", *(keys or [])])
    pairs = [(r, as_float(store.column_value(r, metric))) for r in records]
    used = [(r, y) for r, y in pairs if y is not None]
    truncated = False
    if keys is None:
        keys = varying_config_keys([r for r, _ in used])
        if len(keys) > limits.MAX_IMPORTANCE_KEYS:  # said in the answer, never silent
            keys, truncated = keys[: limits.MAX_IMPORTANCE_KEYS], True
    target = [y for _, y in used if y is not None]
    columns = [[store.column_value(r, k) for r, _ in used] for k in keys]
    forest = None
    forest_available = True
    try:
        import sklearn  # noqa: F401
    except ImportError:
        forest_available = False
    if forest_available and len(used) >= MIN_FOREST_RUNS and keys:
        forest = _forest(columns, target)
    ranked = []
    for i, key in enumerate(keys):
        corr, category = _correlate(columns[i], target) if len(used) >= 2 else (None, None)
        ranked.append(
            {
                "key": key,
                "correlation": corr,
                "abs_correlation": None if corr is None else abs(corr),
                "category": category,
                "forest": None if forest is None else forest[i],
            }
        )
    ranked.sort(key=lambda k: -float(k["abs_correlation"] or 0.0))
    return {
        "metric": metric,
        "runs": len(used),
        "keys": ranked,
        "forest_available": forest_available,
        "truncated": truncated,
    }
