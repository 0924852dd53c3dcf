"""``fd``-level capturing: file descriptors 1 and 2 through pipes and a reader thread (internal)."""

from __future__ import annotations

import codecs
import io
import os
import sys
import threading
from typing import Any, TextIO

from ._streams import SysCapture


def _flush(stream: Any) -> None:
    try:
        stream.flush()
    except Exception:  # noqa: BLE001 - a broken user stream must not break capturing
        pass


_LIBC: Any = None


def _flush_c_stdio() -> None:
    """Flush C-level ``stdout`` buffers, which are block-buffered when writing to a pipe."""
    global _LIBC
    try:
        if _LIBC is None:  # loaded once: CDLL() costs more than a short run's whole output
            import ctypes

            _LIBC = ctypes.CDLL(None)
        _LIBC.fflush(None)
    except Exception:  # noqa: BLE001 - no libc symbols (static or exotic builds): nothing to do
        pass


_PUMP_PAUSE = 0.002
"""Seconds the fd reader waits between reads, so output arrives in batches."""


def _enlarge_pipe(fd: int) -> None:
    """Give a pipe 1 MiB of buffer where Linux allows it (default 64 KiB), best effort."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def _write_all(fd: int, data: bytes) -> bool:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except OSError:
            return False
        view = view[written:]
    return True


class _OrderedTee:
    """``sys.stdout``/``sys.stderr`` while capturing: Python-level text goes straight to the
    user's stream and into the capture, after whatever fd-level output came before it."""

    def __init__(self, capture: FdCapture, target: Any, original: Any, encoding: str) -> None:
        self._capture = capture
        self._target = target
        self._original = original  # where text goes once the capture is over
        self.encoding = encoding
        self.errors = "backslashreplace"

    def write(self, text: str) -> int:
        capture = self._capture
        with capture._lock:
            if not capture._active:  # a handler kept this stream past the capture
                if self._original is not None:
                    self._original.write(text)
                return len(text)
            capture._drain()  # fd-level output written before this text comes first
            self._target.write(text)
            capture._push(text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        _flush(self._target)

    def isatty(self) -> bool:
        try:
            return bool(self._target.isatty())
        except Exception:  # noqa: BLE001
            return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


class FdCapture(SysCapture):
    """Capture by redirecting file descriptors 1 and 2 into pipes.

    Output written to the descriptors (subprocesses, C extensions, a logging handler that
    holds the original ``sys.stderr``) arrives through the pipes: a reader thread copies it
    to the original descriptors (the user still sees it live) and into the capture.
    Python-level writes to ``sys.stdout``/``sys.stderr`` go directly to the user's streams
    and into the capture, after taking what the pipes already hold, so a printed line and
    a log line keep their order and never merge. If the descriptors cannot be duplicated,
    this falls back to ``sys`` capturing.
    """

    mode = "fd"

    def start(self) -> None:
        """Redirect the descriptors and start the reader thread."""
        _flush(sys.stdout)
        _flush(sys.stderr)
        _flush_c_stdio()
        self._saved_fds: dict[int, int] = {}
        self._pipes: dict[int, int] = {}
        try:
            self._saved_fds = {1: os.dup(1), 2: os.dup(2)}
            pipes = [os.pipe() for _ in range(3)]
        except OSError:  # descriptors 1/2 closed, or no descriptors left
            for fd in self._saved_fds.values():
                os.close(fd)
            self._fallback = True
            super().start()
            return
        self._fallback = False
        import codecs

        self._decoders: dict[int, Any] = {}
        self._terminal_ok: dict[int, bool] = {}
        for fd, (read_end, write_end) in zip((1, 2), pipes[:2], strict=True):
            _enlarge_pipe(write_end)
            os.dup2(write_end, fd)
            os.close(write_end)
            os.set_blocking(read_end, False)
            self._pipes[read_end] = fd
            self._decoders[read_end] = codecs.getincrementaldecoder("utf-8")(errors="replace")
            self._terminal_ok[read_end] = True
        self._wake_r, self._wake_w = pipes[2]
        self._stopping = threading.Event()
        self._saved_sys = (sys.stdout, sys.stderr)
        sys.stdout = self._tee_for(1, sys.stdout)  # type: ignore[assignment]
        sys.stderr = self._tee_for(2, sys.stderr)  # type: ignore[assignment]
        self._thread = threading.Thread(target=self._pump, name="sacredlite-capture", daemon=True)
        self._thread.start()
        self._active = True

    def _tee_for(self, fd: int, current: TextIO | None) -> _OrderedTee:
        """A tee whose target is the user's stream: *current* itself unless it writes to
        *fd* (now a pipe), else a writer on the saved original descriptor."""
        encoding = getattr(current, "encoding", None) or "utf-8"
        writes_to_fd = False
        try:
            writes_to_fd = current is not None and current.fileno() == fd
        except (AttributeError, OSError, ValueError):
            pass
        if current is not None and not writes_to_fd:
            return _OrderedTee(self, current, current, encoding)
        raw = io.FileIO(self._saved_fds[fd], "w", closefd=False)
        target = io.TextIOWrapper(
            raw, encoding=encoding, errors="backslashreplace", write_through=True
        )
        return _OrderedTee(self, target, current, encoding)

    def _read_pipe(self, read_end: int) -> bool:
        """Move what one pipe holds to the user's descriptor and the capture (lock held)."""
        try:
            data = os.read(read_end, 1 << 20)
        except BlockingIOError:
            return False
        if not data:
            return False
        if self._terminal_ok[read_end]:
            self._terminal_ok[read_end] = _write_all(self._saved_fds[self._pipes[read_end]], data)
        self._push(self._decoders[read_end].decode(data))
        return True

    def _drain(self) -> None:
        """Take everything the pipes hold now (call with the lock held)."""
        for read_end in self._pipes:
            while self._read_pipe(read_end):
                pass

    def _pump(self) -> None:
        import selectors

        selector = selectors.DefaultSelector()
        for fd in (*self._pipes, self._wake_r):
            selector.register(fd, selectors.EVENT_READ)
        stopping = False
        while not stopping:
            for key, _ in selector.select():
                if key.fd == self._wake_r:
                    stopping = True
            with self._lock:
                self._drain()
            if not stopping:
                # Let output pile up a little: waking for every small write makes this
                # thread fight the writer for the GIL (3x slower printing, measured). The
                # pause ends early when the capture stops, so a short run does not wait.
                stopping = self._stopping.wait(_PUMP_PAUSE)
        selector.close()
        with self._lock:
            # The run is over: take what is already in the pipes, but do not wait for
            # background children that still hold the write ends.
            self._drain()
            for decoder in self._decoders.values():
                self._push(decoder.decode(b"", final=True))

    def _stop(self) -> None:
        if self._fallback:
            super()._stop()
            return
        _flush(sys.stdout)
        _flush(sys.stderr)
        _flush_c_stdio()
        with self._lock:
            self._drain()
            self._active = False  # from now on the tees write to the original streams
        sys.stdout, sys.stderr = self._saved_sys
        for fd, saved in self._saved_fds.items():
            os.dup2(saved, fd)
        self._stopping.set()
        os.write(self._wake_w, b"\0")
        self._thread.join(timeout=10)
        for fd in (*self._pipes, self._wake_r, self._wake_w, *self._saved_fds.values()):
            os.close(fd)
