"""``cout.txt`` of a file-storage run: the whole captured output, written cheaply (internal)."""

from __future__ import annotations

import os

from ._io import write_all, write_atomic

__all__ = ["CoutFile"]


class CoutFile:
    """Keep one run's ``cout.txt`` equal to the latest whole captured output.

    Each heartbeat brings the whole text (Sacred's contract). When it extends what was
    written, only the new part is appended; when only the last line changed (a progress
    bar redrawn with ``\\r``), that line is rewritten in place; otherwise the file is
    replaced atomically. A heartbeat therefore costs O(new output) in practice. Safe to
    retry after a failed write: bytes a failed call left behind are cut off first.

    Args:
        path: the ``cout.txt`` path.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.text = ""  # what the file holds
        self._size = 0  # its length in bytes

    def create(self) -> None:
        """Create the file empty (a started run has a ``cout.txt`` from the start)."""
        with open(self.path, "wb"):
            pass

    def resume(self) -> str:
        """Take the file as it is (a resumed run appends to it); return its text."""
        try:
            with open(self.path, "rb") as file:
                data = file.read()
        except FileNotFoundError:
            data = b""
            self.create()
        self.text = data.decode("utf-8", errors="replace")
        self._size = len(data)
        return self.text

    def save(self, text: str) -> None:
        """Make the file hold *text*, writing as little as possible."""
        old = self.text
        if text is old:
            return
        if text.startswith(old):  # the usual case: new output after the old
            if len(text) > len(old):
                self._write_at(self._size, text[len(old) :].encode("utf-8"))
        else:
            kept = old.rfind("\n") + 1  # complete lines; a progress bar redraws the last
            if kept and text.startswith(old[:kept]):
                offset = self._size - len(old[kept:].encode("utf-8"))
                self._write_at(offset, text[kept:].encode("utf-8"))
            else:
                write_atomic(self.path, text)
                self._size = len(text.encode("utf-8"))
        self.text = text

    def _write_at(self, offset: int, data: bytes) -> None:
        """Write *data* at byte *offset*, cutting off anything after it."""
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size != offset:
                os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
            write_all(fd, data)
        finally:
            os.close(fd)
        self._size = offset + len(data)
