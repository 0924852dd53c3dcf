"""Every file a reader of file storage opens resolves inside its storage root (internal).

This module is the one home of that rule (issue 9): ``run.json``, ``config.json``,
``info.json``, ``cout.txt``, ``metrics.json(l)``, ``omniboard.json``, artifacts, sources
and git diffs are all opened through :func:`open_inside` (or located through
:func:`safe_join` when a caller needs a path, as a streamed artifact does).

The rule: a path is given as parts relative to the root (no absolute parts, no ``..``, no
NUL bytes). It is opened one component at a time without following symbolic links, so a
symlink swapped in while it is being opened cannot lead elsewhere. A symlink on the way is
followed only when its target, fully resolved, is still inside the root (so a link from one
run to a file of another works); one leading outside is refused with
:class:`UnsafePathError`. Only regular files are opened (a FIFO
planted as ``cout.txt`` would otherwise block a reader forever).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from ..errors import SacredliteError


class UnsafePathError(SacredliteError):
    """A path that leads outside the storage root, or names no regular file in it."""


_FILE = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_DOTS = ("", ".", "..")
_WALKS = os.open in os.supports_dir_fd and bool(_NOFOLLOW)
"""Whether this platform can open a path component by component (POSIX)."""


def _components(root: str | os.PathLike[str], parts: tuple[str, ...]) -> list[str]:
    """Return the path components of *parts*, refusing absolute paths, ``..`` and NULs."""
    names: list[str] = []
    for part in parts:
        if part not in _DOTS and "/" not in part and "\\" not in part and "\x00" not in part:
            names.append(part)  # one plain name (the common case: a run id, a file name)
            continue
        if not part or "\x00" in part or os.path.isabs(part) or part.startswith(("/", "\\")):
            raise UnsafePathError(
                f"Refusing path {part!r}: it must be relative to {os.fspath(root)!r}."
            )
        # A backslash is a name character on POSIX, but '..\\' would climb elsewhere.
        if ".." in part.replace("\\", "/").split("/"):
            raise UnsafePathError(f"Refusing path {part!r}: '..' is not allowed.")
        names += [p for p in part.split("/") if p not in ("", ".")]
    if not names:
        raise UnsafePathError(f"Refusing path {'/'.join(parts)!r}: it names no file.")
    return names


def safe_join(root: str | os.PathLike[str], *parts: str) -> Path:
    """Return the resolved path of *parts* under *root*, refusing anything outside it.

    Raises:
        UnsafePathError: for absolute parts, ``..``, NUL bytes, or symlinks leading outside.
    """
    names = _components(root, parts)
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(real_root, *names))
    if os.path.commonpath([real_root, target]) != real_root:
        raise UnsafePathError(
            f"Refusing path {'/'.join(parts)!r}: it resolves outside {os.fspath(root)!r}."
        )
    return Path(target)


class _Link(Exception):
    """A symbolic link (or a non-directory) was met while opening without following."""


def _open_without_links(root: str, names: list[str]) -> int:
    fd = os.open(root, os.O_RDONLY | _DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        for name in names[:-1]:
            try:
                step = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                # A symlink to a directory gives ENOTDIR with O_DIRECTORY | O_NOFOLLOW.
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _Link from None
                raise
            os.close(fd)
            fd = step
        try:
            return os.open(names[-1], _FILE | _NOFOLLOW, dir_fd=fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _Link from None
            raise
    finally:
        os.close(fd)


def open_inside(root: str | os.PathLike[str], *parts: str) -> BinaryIO:
    """Open the regular file *parts* under *root* for reading in binary mode.

    Args:
        root: the storage root (its own path may contain symlinks).
        parts: the path below the root, e.g. ``("7", "cout.txt")`` or ``"_sources/a.py"``.

    Raises:
        UnsafePathError: the path is absolute, uses ``..``, or resolves outside *root*.
        FileNotFoundError: there is no such file (``OSError`` for other failures).
    """
    names = _components(root, parts)
    if not _WALKS:  # pragma: no cover - not POSIX: resolve, then open
        fd = os.open(safe_join(root, *parts), _FILE)
    else:
        base = os.fspath(root)
        try:
            fd = _open_without_links(base, names)
        except _Link:
            real_root = os.path.realpath(base)
            resolved = os.path.relpath(safe_join(root, *parts), real_root)
            try:
                fd = _open_without_links(real_root, resolved.split(os.sep))
            except _Link:
                raise UnsafePathError(
                    f"Refusing path {'/'.join(parts)!r}: it changed while being opened."
                ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePathError(f"Refusing path {'/'.join(parts)!r}: it is not a regular file.")
        return os.fdopen(fd, "rb")  # O_NONBLOCK does nothing to a regular file
    except BaseException:
        os.close(fd)
        raise


def read_inside(root: str | os.PathLike[str], *parts: str) -> bytes:
    """Return the content of the regular file *parts* under *root* (see :func:`open_inside`)."""
    with open_inside(root, *parts) as fh:
        return fh.read()
