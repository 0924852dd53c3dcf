"""JSON text of metric points, laid out as Sacred lays out ``metrics.json`` (internal).

Points are encoded once, compactly (``1,2,3``), for the side file; Sacred's ``indent=2``
layout puts :data:`ITEM_SEP` where the compact text has a comma between items, so for
numbers and timestamps (whose text holds no comma) the layout is derived when
``metrics.json`` is written. Strings and nested values keep an explicit layout.
Only the standard library.
"""

from __future__ import annotations

import json
import operator
from array import array
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import groupby, islice
from typing import Any

from ..events import MetricPoints
from ._json import iso_utc

KEYS = ("steps", "timestamps", "values")
"""The lists of a metric, in the order Sacred's ``sort_keys`` writes them."""

ITEM_SEP = ",\n      "  # Sacred's indent=2 at the depth of a metric's lists
_SCALARS = (int, float, str, bool, type(None))
_EPOCH = datetime(1970, 1, 1)

Fragment = tuple[str, str | None]
"""An encoded run of list items: the compact JSON (``1,2``) and, only when it cannot be
derived by putting Sacred's item separator in place of each comma, the layout form."""

Encoded = tuple[str, int, tuple[Fragment, Fragment, Fragment]]
"""One metric of a batch: its name, its number of points, and its encoded steps,
timestamps and values (in :data:`KEYS` order)."""

Convert = Callable[[str], Callable[[Any], Any]]
"""``convert(where)`` gives what turns an item JSON cannot hold into JSON data (it must not
raise); *where* names the list in warnings (``metric 'loss'``)."""


def fragments(items: list[Any], convert: Callable[[Any], Any] | None = None) -> Fragment:
    """Return the inside of a JSON array of *items*, compact, plus the layout if needed.

    Args:
        items: the values.
        convert: turns each item into JSON data when the list as given is not JSON
            (numpy values, objects); it must not raise. Without it, such items raise.
    """
    if not items:
        return "", None
    try:
        compact = json.dumps(items, separators=(",", ":"))[1:-1]
    except (TypeError, ValueError, RecursionError):  # convert only when needed
        if convert is None:
            raise
        items = [convert(v) for v in items]
        compact = json.dumps(items, separators=(",", ":"))[1:-1]
    if '"' not in compact and "[" not in compact and "{" not in compact:
        return compact, None
    layout = ITEM_SEP.join(
        json.dumps(v, sort_keys=True, indent=2).replace("\n", "\n      ") for v in items
    )
    return compact, layout


def layout(fragment: Fragment) -> str:
    """Return the items of *fragment* as they stand in ``metrics.json``."""
    compact, laid_out = fragment
    return compact.replace(",", ITEM_SEP) if laid_out is None else laid_out


def _isoformats(stamps: list[Any]) -> list[str]:
    """Return ``t.isoformat()`` for each stamp (an ISO string as it is: a resumed run's
    stored times), formatting a repeated object only once (the Run shares one datetime
    per millisecond)."""
    result = []
    previous: Any = None
    text = ""
    for stamp in stamps:
        if stamp is not previous:
            previous, text = stamp, stamp if type(stamp) is str else stamp.isoformat()
        result.append(text)
    return result


def stamp_fragments(stamps: list[Any]) -> Fragment:
    """Return :func:`fragments` of the ISO forms of datetimes (or ISO strings).

    ISO strings need no JSON escaping and hold no comma, so the fragment is one join and
    its layout is derived like a number list's; the ``+00:00`` of UTC-aware datetimes is
    dropped with one replace over the whole text.
    """
    if not stamps:
        return "", None
    try:
        text = '"' + '","'.join(_isoformats(stamps)) + '"'
    except (AttributeError, TypeError):
        text = ""
    text = text.replace("+00:00", "")
    if (
        not text
        or "+" in text
        or text.count("-") != 2 * len(stamps)  # other offsets, other strings
        or text.count('"') != 2 * len(stamps)  # a string that needs JSON's escapes
        or "\\" in text
    ):
        return fragments([iso_utc(t) for t in stamps])
    return text, None


def _millis(stamp: float) -> int:
    return int(stamp * 1000)  # as MetricPoints.timestamps() truncates


def _iso_item(ms: int) -> str:
    return f'"{(_EPOCH + timedelta(milliseconds=ms)).isoformat()}",'


def epoch_stamps_text(stamps: Sequence[float]) -> str:
    """Return the compact JSON items of epoch-second times as Sacred stores them: naive-UTC
    ISO strings at millisecond precision, each millisecond formatted once.

    The same text as the ISO forms of :meth:`MetricPoints.timestamps`, without a datetime
    per point: the points logged in one millisecond are one repeated string. Times that
    never go back (the usual case) are cut into milliseconds by bisection; others are
    grouped one by one.
    """
    chunks = []
    if all(map(operator.le, stamps, islice(stamps, 1, None))):  # one pass in C
        start, count = 0, len(stamps)
        while start < count:
            ms = _millis(stamps[start])
            end = bisect_right(stamps, ms, start, count, key=_millis)
            chunks.append(_iso_item(ms) * (end - start))
            start = end
    else:
        for ms, run in groupby(map(_millis, stamps)):
            chunks.append(_iso_item(ms) * len(list(run)))
    return "".join(chunks)[:-1]


def _floats_text(values: array[float]) -> str:
    """Return the compact JSON items of floats, as :func:`json.dumps` writes them."""
    text = repr(values.tolist())[1:-1].replace(", ", ",")  # float.__repr__, as json's
    if "n" in text:  # nan or inf: JSON's own spelling (NaN, Infinity)
        return json.dumps(values.tolist(), separators=(",", ":"))[1:-1]
    return text


def encode_series(name: str, series: Any, convert: Convert) -> Encoded:
    """Encode one metric's new points: a :class:`MetricPoints`, or Sacred's
    ``{"steps", "values", "timestamps"}`` lists (datetimes or ISO strings).

    Compact points are encoded without a Python object per point where they allow it:
    counting steps (a ``range``), float values (an ``array('d')``) and the times.
    """
    steps: Fragment | None = None
    values: Fragment | None = None
    if isinstance(series, MetricPoints):
        step_items, value_items = series.steps, series.values
        if type(step_items) is range:
            steps = repr(list(step_items))[1:-1].replace(", ", ","), None
        if isinstance(value_items, array) and value_items.typecode == "d":
            values = _floats_text(value_items), None
        stamps: Fragment = epoch_stamps_text(series.stamps), None
        count = len(series)
    else:
        step_items, value_items = list(series["steps"]), list(series["values"])
        stamps = stamp_fragments(list(series["timestamps"]))
        count = len(step_items)
    if steps is None:
        steps = fragments(list(step_items), convert(f"a step of metric {name!r}"))
    if values is None:
        values = fragments(list(value_items), convert(f"metric {name!r}"))
    return str(name), count, (steps, stamps, values)


def batch_line(encoded: Sequence[Encoded], start: int = 0) -> tuple[str, list[int]]:
    """Return the side-file line of a batch (compact JSON and a newline), and where each
    fragment is in it.

    Args:
        encoded: the batch's metrics.
        start: the offset at which the line will be written.

    Returns:
        The line, and for each metric in turn, for each key of :data:`KEYS`, the offset of
        its fragment (*start* added) and its length: six numbers per metric.
    """
    pieces = ["{"]
    spans: list[int] = []
    position = start + 1
    for i, (name, _, (steps, stamps, values)) in enumerate(encoded):
        for head, fragment in (
            (("," if i else "") + json.dumps(name) + ':{"steps":[', steps[0]),
            ('],"values":[', values[0]),
            ('],"timestamps":[', stamps[0]),
        ):
            position += len(head)
            pieces += (head, fragment)
            spans += (position, len(fragment))
            position += len(fragment)
        pieces.append("]}")
        position += 2
        spans[-6:] = (*spans[-6:-4], *spans[-2:], *spans[-4:-2])  # to KEYS order
    pieces.append("}\n")
    return "".join(pieces), spans


def _dump_list(values: list[Any]) -> str:
    if not values:
        return "[]"
    if all(type(v) in _SCALARS for v in values):
        # The C encoder with Sacred's indentation as the item separator: same bytes as
        # json.dumps(..., indent=2) at this depth, without the slow pure-Python encoder.
        inner = json.dumps(values, separators=(ITEM_SEP, ": "), ensure_ascii=True)
        return "[\n      " + inner[1:-1] + "\n    ]"
    text = json.dumps(values, sort_keys=True, indent=2)
    return text.replace("\n", "\n    ")


def dump_metrics(metrics: Mapping[str, Mapping[str, list[Any]]]) -> str:
    """Return *metrics* as the text of Sacred's ``metrics.json`` (``sort_keys``, ``indent=2``).

    Equal, byte for byte, to ``json.dumps(metrics, sort_keys=True, indent=2)`` for metric
    series of plain values, and fast for millions of points.
    """
    if not metrics:
        return "{}"
    parts = []
    for name in sorted(metrics):
        series = metrics[name]
        fields = ",\n".join(
            f"    {json.dumps(key)}: {_dump_list(list(series[key]))}" for key in sorted(series)
        )
        parts.append(f"  {json.dumps(name)}: {{\n{fields}\n  }}")
    return "{\n" + ",\n".join(parts) + "\n}"
