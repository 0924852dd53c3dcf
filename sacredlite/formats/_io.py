"""File primitives of the stored formats: crash-safe writes and content digests (internal).

Every file a format writes goes through :func:`write_atomic` or :func:`copy_atomic`: a
temporary file in the same directory, then ``os.replace``, so a reader (or a process killed
mid-write) sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

__all__ = ["copy_atomic", "md5_bytes", "md5_file", "open_atomic", "write_all", "write_atomic"]


def _new_md5() -> Any:
    # The builtin _md5 imports in 0.4 ms; hashlib (OpenSSL bindings) takes 3 ms of the
    # start-up budget.
    try:
        from _md5 import md5  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - Python builds without the builtin module
        from hashlib import md5
    return md5()


def md5_file(path: str | os.PathLike[str]) -> str:
    """Return the md5 hex digest of a file's content (Sacred's source digest)."""
    digest = _new_md5()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return str(digest.hexdigest())


def md5_bytes(data: bytes) -> str:
    """Return the md5 hex digest of *data*."""
    digest = _new_md5()
    digest.update(data)
    return str(digest.hexdigest())


def _temporary(path: str | os.PathLike[str]) -> str:
    return f"{os.fspath(path)}.tmp{os.getpid()}_{threading.get_ident()}"


def write_atomic(path: str | os.PathLike[str], data: str | bytes | Iterable[str]) -> None:
    """Write *data* (text, bytes, or text chunks written one by one) to *path* crash-safely."""
    tmp = _temporary(path)
    try:
        if isinstance(data, bytes):
            with open(tmp, "wb") as binary:
                binary.write(data)
        else:
            with open(tmp, "w", encoding="utf-8") as text:
                if isinstance(data, str):
                    text.write(data)
                else:
                    for chunk in data:
                        text.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def copy_atomic(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Copy *src* to *dest* so that readers (and racing writers) see whole files only."""
    tmp = _temporary(dest)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


_EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


@contextmanager
def open_atomic(path: str | os.PathLike[str], permissions: int = 0o666) -> Iterator[BinaryIO]:
    """Open a binary file that replaces *path* when the ``with`` block ends without error.

    For content written piece by piece (a file too big to hold as one string). The
    temporary file is created exclusively: a stale one, or a link planted at its name, is
    removed first and never written through. On an error it is removed and *path* is left
    as it was.

    Args:
        path: the file to replace.
        permissions: of the new file, before the umask (``0o600``: private to the user).
    """
    tmp = _temporary(path)
    try:
        fd = os.open(tmp, _EXCLUSIVE, permissions)
    except FileExistsError:
        os.remove(tmp)  # left by a killed process with this pid, or planted
        fd = os.open(tmp, _EXCLUSIVE, permissions)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.remove(tmp)
        raise


def write_all(fd: int, data: bytes) -> None:
    """Write all of *data* to the file descriptor *fd* (``os.write`` may write less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
