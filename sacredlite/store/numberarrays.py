"""Parse the flat JSON arrays of numbers of a ``metrics.json`` fast (internal).

:func:`parse_array` gives the same numbers as :func:`json.loads` (as a numpy array, or
the list json gives when the array holds anything else). Long arrays are parsed by
pyarrow's CSV reader when pyarrow is installed (each comma made a line break; the numbers
are parsed in C++ threads, outside the GIL, as floats: the store plots floats, and an
integer array would be copied into floats anyway), else by numpy; ``NaN``, ``Infinity``,
``-Infinity`` and ``null`` (as NaN) are understood by both; strings, booleans, nested
values, empty, missing or extra items go to :func:`json.loads`, which decides. (Number
spellings JSON lacks but C parsers read, ``nan``, ``inf`` or ``+1``, are read as numbers;
Sacred and sacredlite never write them.)
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from . import series as _series

ARROW_MIN_BYTES = 1 << 20
"""Arrays at least this long (in bytes of text) are parsed by pyarrow when it is there:
below it, starting the CSV reader costs more than it saves."""
_INTEGER_FREE = (b".", b"e", b"E", b"n", b"N", b"i", b"I")
"""Bytes that only a number other than a plain integer holds (a point, an exponent,
``NaN``, ``Infinity``, ``null``): numpy parses whole numbers as integers, much faster."""
_LINES = bytes.maketrans(b",\n\r\t", b"\n   ")
"""Each comma made a line break, and every other line break or tab a space."""
_BLANKS = b" \t\r\n"


def _is_integers(body: bytes) -> bool:
    return not any(ch in body for ch in _INTEGER_FREE)


def _parse_with_arrow(data: bytes) -> Any:
    """Return the numbers of *data* (one JSON array's text) parsed by pyarrow, or ``None``
    when pyarrow is absent or the text is not a plain, flat list of numbers."""
    try:
        import pyarrow as pa
        from pyarrow import csv
    except ImportError:  # pragma: no cover - pyarrow comes with the transfer extra
        return None
    np = _series._np
    if data.find(b"[", 1) >= 0 or data.find(b"]") < len(data) - 1 or b"{" in data:
        return None  # nested: json decides
    try:
        table = csv.read_csv(
            # one pass: brackets dropped, one line per item; blanks around a number are
            # trimmed, an empty item ("1,,2", not JSON) or "1 2" fails to convert
            pa.py_buffer(data.translate(_LINES, b"[]")),
            read_options=csv.ReadOptions(column_names=["x"], block_size=1 << 24),
            parse_options=csv.ParseOptions(
                quote_char=False, escape_char=False, ignore_empty_lines=False
            ),
            convert_options=csv.ConvertOptions(
                column_types={"x": pa.float64()},  # the store plots floats: no int copy
                null_values=["null"],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None  # strings, booleans, anything not a number: json decides
    parts = [_chunk_floats(chunk) for chunk in table.column(0).chunks]
    return np.concatenate(parts) if parts else np.empty(0)


def _chunk_floats(chunk: Any) -> Any:
    """Return one chunk of float64 numbers read by pyarrow as a numpy array, nulls as NaN
    (read from its buffers: ``to_numpy`` would import pandas, a quarter of a second)."""
    np = _series._np
    validity, data = chunk.buffers()
    numbers = np.frombuffer(data, dtype=np.float64, count=len(chunk), offset=chunk.offset * 8)
    if not chunk.null_count:
        return numbers
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    present = bits[chunk.offset : chunk.offset + len(chunk)].astype(bool)
    return np.where(present, numbers, np.nan)


def _parse_with_numpy(body: bytes) -> Any:
    np = _series._np
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            text = body.decode("ascii")
            if _is_integers(body) and b"-" not in body:
                # Whole non-negative numbers (steps, mostly): integer parsing is ~8x faster.
                numbers = np.fromstring(text, sep=",", dtype=np.int64)
                if not numbers.size or numbers.max() < np.iinfo(np.int64).max:
                    return numbers  # (a bigger number would have been clipped to the max)
            return np.fromstring(text, sep=",")
    except (ValueError, UnicodeDecodeError, DeprecationWarning):
        return None  # null, strings or other non-numbers: let json decide


def parse_array(data: bytes) -> Any:
    """Parse the text of one flat JSON array of numbers (``[1, 2.5, NaN]``).

    Returns:
        a numpy array when numpy is installed and the array holds only numbers (and
        ``null``, as NaN; float64, or int64 for short arrays of whole numbers), else what
        :func:`json.loads` returns.

    Raises:
        ValueError: *data* is not JSON.
    """
    np = _series._np
    if np is not None and data[:1] == b"[" and data[-1:] == b"]":
        head, tail = data[1:65].lstrip(_BLANKS), data[-65:-1].rstrip(_BLANKS)
        if head.startswith(b",") or tail.endswith(b","):
            return json.loads(data)  # a leading or trailing comma: not JSON, json says why
        parsed = _parse_with_arrow(data) if len(data) >= ARROW_MIN_BYTES else None
        if parsed is None:
            body = data[1:-1]
            if not body or body.isspace():
                return np.empty(0)
            parsed = _parse_with_numpy(body)
        if parsed is not None:
            return parsed
    return json.loads(data)
