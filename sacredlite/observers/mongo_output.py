"""Captured output of a MongoDB run: the whole text in, a bounded document field out (internal).

``heartbeat_event`` receives the run's whole captured output each time (Sacred's
contract). :class:`OutputTail` keeps the run document's ``captured_out`` at most
``limit`` characters long: older text moves, in order, to chunk documents of
``<runs>_output`` (the format is in :mod:`sacredlite.observers.mongo_store`). Each beat
costs O(new output) when the text grows at its end or changes only in its last line (a
progress bar redrawn with ``\\r``); only a change to earlier, already moved text rewrites
the chunks.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OutputTail"]


class OutputTail:
    """Turn each whole captured output into the writes that store it.

    Args:
        limit: characters of output kept in the run document's ``captured_out``.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._text = ""  # the whole output of the last beat
        self._tail = ""  # its last part, stored in captured_out
        self._start = 0  # characters before the tail, stored in chunks
        self._seq = 0  # the next chunk's number

    def update(self, text: str, collection: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Return the operations and run-document fields that store *text*.

        Args:
            text: the whole captured output so far.
            collection: the name of the chunk collection (``<runs>_output``).
        """
        ops: list[dict[str, Any]] = []
        fields: dict[str, Any] = {}
        old = self._text
        if text.startswith(old):
            self._tail += text[len(old) :]
        else:
            kept = old.rfind("\n") + 1
            if kept >= self._start and text.startswith(old[:kept]):
                self._tail = text[self._start :]  # only text still in the document changed
            else:  # moved text changed: store it all again
                ops.append({"op": "out_reset"})
                if self._start:
                    fields["sacredlite.captured_out_start"] = 0
                self._tail, self._start, self._seq = text, 0, 0
        self._text = text
        if len(self._tail) > self.limit:
            keep = max(self.limit // 2, 1)
            moved, self._tail = self._tail[:-keep], self._tail[-keep:]
            for i in range(0, len(moved), self.limit):
                piece = moved[i : i + self.limit]
                ops.append(
                    {"op": "out_chunk", "seq": self._seq, "start": self._start, "text": piece}
                )
                self._seq += 1
                self._start += len(piece)
            fields["sacredlite.captured_out_start"] = self._start
            fields["sacredlite.output_collection"] = collection
        fields["captured_out"] = self._tail
        return ops, fields
