"""Every size limit on what users hand the board and the stores, in one place (internal).

The README's board section lists these numbers; change them here and there together.
Input over a limit is refused with a message naming the limit (HTTP 413, or 414 for a
URL), never truncated silently, and checked before any work that grows with it.
"""

from __future__ import annotations

from .records import StoreError

MAX_TAGS = 100
"""Tags per run."""
MAX_TAG_CHARS = 100
"""Characters per tag."""
MAX_NOTES_CHARS = 100_000
"""Characters of a run's notes."""

MAX_BODY_BYTES = 1_048_576
"""Bytes of a write request's body (1 MiB: the longest notes fit even fully escaped)."""
MAX_URL_BYTES = 16_384
"""Bytes of a request's path and query string together."""
MAX_FILTERS = 50
"""Filters in one runs query."""
MAX_COLUMNS = 50
"""Extra columns in one runs query."""
MAX_COMPARED_RUNS = 20
"""Runs compared at once."""
MAX_DIFF_CHARS = 2_000_000
"""Characters of each side of an output or source diff."""
MAX_GROUP_BY = 10
"""Columns runs are grouped by at once."""
MAX_GROUPS = 5_000
"""Groups in one answer."""
MAX_ANALYSIS_RUNS = 200_000
"""Runs one analysis (groups, Welch, parallel coordinates, importance, export) reads."""
MAX_CURVE_RUNS = 1_000
"""Runs whose metric one group plot reads."""
MAX_PLOT_POINTS = 20_000
"""Points of one plotted curve (a metric window, or a group plot's grid)."""
MAX_IMPORTANCE_KEYS = 200
"""Config keys ranked by one importance answer."""
MAX_VIEWS = 500
"""Saved views in one store."""
MAX_VIEW_NAME_CHARS = 100
"""Characters of a saved view's name."""
MAX_VIEW_BYTES = 65_536
"""Bytes of a saved view's state, as JSON."""

MAX_REMOTE_OBJECT_BYTES = 268_435_456
"""Bytes of one object read from an S3 store into memory (a JSON file, output, an
artifact): 256 MiB."""

AUTH_FAILURE_BURST = 10
"""Failed logins a client may make in a row before it is slowed down."""
AUTH_FAILURES_PER_SECOND = 0.5
"""Failed logins a client may make per second after its burst (then it gets 429)."""


class LimitError(StoreError):
    """Raise when an input is over one of the size limits of this module."""


def check_limit(what: str, count: int, limit: int, unit: str = "") -> None:
    """Raise :class:`LimitError` naming *what* and *limit* when *count* is over *limit*.

    The message reads ``Tags per run: at most 100, got 100,000.``

    Args:
        what: what is counted, e.g. ``"Tags per run"``.
        count: how many were given.
        limit: the most allowed.
        unit: after the limit, e.g. ``" characters"``.
    """
    if count > limit:
        raise LimitError(f"{what}: at most {limit:,}{unit}, got {count:,}.")
