"""JSON text of metric points, laid out as Sacred lays out ``metrics.json`` (internal).

The encoding side of :mod:`sacredlite.observers.file_metrics`: points are encoded once,
compactly, for the side file, and turned into Sacred's ``indent=2`` layout only when
``metrics.json`` is written. Only the standard library.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

KEYS = ("steps", "timestamps", "values")
"""The lists of a metric, in the order Sacred's ``sort_keys`` writes them."""

_SCALARS = (int, float, str, bool, type(None))
ITEM_SEP = ",\n      "  # Sacred's indent=2 at the depth of a metric's lists


def iso_utc(moment: datetime | str) -> str:
    """Return *moment* as a naive-UTC ISO 8601 string, as Sacred stores times in files.

    Naive datetimes are taken to be UTC already (Sacred's own ``utcnow()`` values);
    strings are passed through.
    """
    if isinstance(moment, str):
        return moment
    offset = moment.utcoffset()
    if offset:
        moment = moment - offset
    return moment.replace(tzinfo=None).isoformat()


Fragment = tuple[str, str | None]
"""An encoded run of list items: the compact JSON (``1,2``) and, only when it cannot be
derived by putting Sacred's item separator in place of each comma, the layout form."""


def fragments(items: list[Any], convert: Callable[[Any], Any] | None = None) -> Fragment:
    """Return the inside of a JSON array of *items*, compact, plus the layout if needed.

    Numbers (the common case) are encoded once by the C encoder; their layout form is
    derived when ``metrics.json`` is written. Strings and nested values keep an explicit
    layout (Sacred puts one item per line at the depth of a metric's lists).

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
    compact, layout = fragment
    return compact.replace(",", ITEM_SEP) if layout is None else layout


def _isoformats(stamps: list[Any]) -> list[str]:
    """Return ``t.isoformat()`` for each stamp, formatting a repeated object only once
    (the Run shares one datetime per millisecond)."""
    result = []
    previous: Any = None
    text = ""
    for stamp in stamps:
        if stamp is not previous:
            previous, text = stamp, stamp.isoformat()
        result.append(text)
    return result


def stamp_fragments(stamps: list[Any]) -> Fragment:
    """Return :func:`fragments` of the ISO forms of *stamps*, fast for UTC datetimes.

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
    if not text or "+" in text or text.count("-") != 2 * len(stamps):  # other offsets, str
        return fragments([iso_utc(t) for t in stamps])
    return text, None


Encoded = tuple[str, int, tuple[Fragment, Fragment, Fragment]]
"""One metric of a batch: its name, its number of points, and its encoded steps,
timestamps and values."""


def batch_line(encoded: list[Encoded]) -> str:
    """Return the side-file line of a batch (compact JSON and a newline)."""
    return (
        "{"
        + ",".join(
            f'{json.dumps(name)}:{{"steps":[{st[0]}],"values":[{va[0]}],"timestamps":[{ts[0]}]}}'
            for name, _, (st, ts, va) in encoded
        )
        + "}\n"
    )


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
