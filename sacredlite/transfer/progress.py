"""A progress bar for long copies: tqdm when installed, else one plain line (internal)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Progress:
    """Count done items of *total* on *stream* (nothing when not *enabled*).

    Args:
        total: the number of items.
        what: the noun counted (``runs``).
        enabled: show progress at all.
        stream: where to draw (standard error).
    """

    def __init__(
        self, total: int, what: str = "runs", *, enabled: bool = True, stream: TextIO | None = None
    ) -> None:
        self.total, self.what, self.done = total, what, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self._bar: Any = None
        self._shown = 0.0
        if not self.enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=total, unit=f" {what}", file=self.stream, leave=False)

    def advance(self, count: int = 1) -> None:
        """Count *count* more items done."""
        self.done += count
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(count)
            return
        now = time.monotonic()
        if now - self._shown >= 0.5 or self.done == self.total:
            self._shown = now
            self.stream.write(f"\r{self.done:,}/{self.total:,} {self.what}")
            self.stream.flush()

    def close(self) -> None:
        """Remove the bar (the summary follows)."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
        else:
            self.stream.write("\n")
            self.stream.flush()
