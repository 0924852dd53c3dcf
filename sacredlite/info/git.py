"""Git state of the repositories holding a run's sources (``experiment.repositories``).

Fast and crash-free where Sacred (via GitPython) is neither:

* the commit and the remote URL are read straight from ``.git`` (``HEAD``, loose refs,
  ``packed-refs``, ``config``) — no process, no GitPython import;
* dirtiness costs one ``git status`` process per repository; the uncommitted diff (one
  ``git diff HEAD``) is taken only when the repository is dirty;
* no repository, a repository without commits (Sacred: ``ValueError: Reference at
  'refs/heads/main' does not exist``), a detached HEAD, no ``origin`` remote and a missing
  ``git`` binary all give an entry with what is known (``None`` for the unknown).

``dirty`` follows Sacred (GitPython's ``is_dirty()``): changes to tracked files, staged or
not; untracked files do not make a repository dirty. A repository without commits is
always dirty. The stored diff holds the tracked changes plus, as new-file patches, those of
the given paths (the run's sources) that git does not track — never other untracked files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["dirty_files", "find_repository", "get_repository_info", "redact_url", "which"]

MAX_UNTRACKED_BYTES = 1 << 20
"""Untracked files larger than this are named in the diff but their content is left out."""

MAX_UNTRACKED_TOTAL = 8 << 20
"""Once this much untracked content is in a diff, further untracked files are only named."""

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^/@:\s]*:)[^/@\s]*(?=@)")
"""The rule :func:`redact_url` applies, as a pattern (its reference in the tests)."""


_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_USERINFO_END = frozenset("/@") | frozenset(" \t\n\r\f\v")


def _has_scheme_before(text: str, end: int) -> bool:
    """Whether a URL scheme (a letter, then letters, digits, ``+.-``) ends at *end*."""
    index = end - 1
    while index >= 0 and text[index] in _SCHEME_CHARS:
        if text[index].isalpha() and text[index].isascii():
            return True
        index -= 1
    return False


def redact_url(url: str) -> str:
    """Replace the password in a URL such as ``https://user:token@host/x`` with ``***``.

    Linear in the length of the text (a regular expression here was quadratic on long
    strings, and every string of a run's meta passes through it).

    Args:
        url: any string; text that is not a URL with a password is returned unchanged.
    """
    if "@" not in url or "://" not in url:
        return url
    parts: list[str] = []
    done = 0
    found = url.find("://")
    while found != -1:
        start = found + 3
        colon = -1
        index = start
        while index < len(url) and url[index] not in _USERINFO_END:
            if colon == -1 and url[index] == ":":
                colon = index
            index += 1
        if (
            colon != -1
            and index < len(url)
            and url[index] == "@"
            and _has_scheme_before(url, found)
        ):
            parts.append(url[done : colon + 1])
            parts.append("***")
            done = index
        found = url.find("://", max(index - 1, start))  # a "//" can only follow at index
    parts.append(url[done:])
    return "".join(parts)


def find_repository(path: str) -> tuple[str, str, str] | None:
    """Return ``(worktree, git_dir, common_dir)`` of the repository containing *path*.

    Handles ``.git`` files (worktrees, submodules). ``None`` outside any repository.

    Args:
        path: a file or directory.
    """
    current = os.path.abspath(path)
    if not os.path.isdir(current):
        current = os.path.dirname(current)
    while True:
        dot_git = os.path.join(current, ".git")
        git_dir = None
        if os.path.isdir(dot_git):
            git_dir = dot_git
        elif os.path.isfile(dot_git):
            git_dir = _read_gitdir_file(dot_git, current)
        if git_dir is not None and os.path.isfile(os.path.join(git_dir, "HEAD")):
            common = git_dir
            commondir_file = os.path.join(git_dir, "commondir")
            if os.path.isfile(commondir_file):
                with open(commondir_file, encoding="utf-8") as f:
                    common = os.path.normpath(os.path.join(git_dir, f.read().strip()))
            return current, git_dir, common
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _read_gitdir_file(dot_git: str, worktree: str) -> str | None:
    try:
        with open(dot_git, encoding="utf-8") as f:
            content = f.read().strip()
    except OSError:
        return None
    if not content.startswith("gitdir:"):
        return None
    return os.path.normpath(os.path.join(worktree, content[len("gitdir:") :].strip()))


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def _resolve_ref(ref: str, git_dir: str, common_dir: str, depth: int = 0) -> str | None:
    for base in (git_dir, common_dir):
        content = _read_text(os.path.join(base, ref))
        if content is not None:
            content = content.strip()
            if content.startswith("ref:") and depth < 5:
                return _resolve_ref(content[4:].strip(), git_dir, common_dir, depth + 1)
            return content if _SHA.match(content) else None
    packed = _read_text(os.path.join(common_dir, "packed-refs")) or ""
    for line in packed.splitlines():
        sha, _, name = line.partition(" ")
        if name == ref and _SHA.match(sha):
            return sha
    return None


def _head_commit(worktree: str, git_dir: str, common_dir: str) -> str | None:
    head = (_read_text(os.path.join(git_dir, "HEAD")) or "").strip()
    if _SHA.match(head):
        return head  # detached HEAD
    if head.startswith("ref:"):
        commit = _resolve_ref(head[4:].strip(), git_dir, common_dir)
        if commit is not None:
            return commit
    if os.path.isdir(os.path.join(common_dir, "reftable")):
        # New ref storage format: not readable as files; ask git.
        out = _git(worktree, "rev-parse", "--verify", "-q", "HEAD")
        if out is not None and _SHA.match(out.strip()):
            return out.strip()
    return None  # no commit yet


def _remote_url(common_dir: str) -> str | None:
    """Return the URL of ``origin``, else of the first remote, else ``None``."""
    config = _read_text(os.path.join(common_dir, "config")) or ""
    urls: dict[str, str] = {}
    section = None
    for raw in config.splitlines():
        line = raw.strip()
        if line.startswith("["):
            match = re.match(r'\[\s*remote\s+"(.*)"\s*\]', line)
            section = match.group(1) if match else None
        elif section is not None and "=" in line:
            key, _, value = line.partition("=")
            if key.strip().lower() == "url" and section not in urls:
                urls[section] = value.strip().strip('"')
    url = urls.get("origin") or next(iter(urls.values()), None)
    return redact_url(url) if url else None


GIT_TIMEOUT = 30.0
"""Seconds a git command may take before its answer is treated as unknown."""

MAX_DIFF_BYTES = 16 << 20
"""A longer ``git diff`` is cut here, with a marker line saying so."""


def which(program: str) -> str | None:
    """Return the path of *program* on ``PATH``, like ``shutil.which``.

    :mod:`shutil` imports zlib, bz2 and lzma: a few ms of start-up for one lookup.
    """
    if os.name != "posix":  # pragma: no cover - PATHEXT and friends
        import shutil

        return shutil.which(program)
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(directory or ".", program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _git(worktree: str, *args: str, limit: int | None = None) -> str | None:
    """Run git in *worktree*; return stdout, or ``None`` if git is missing or fails.

    With *limit*, output beyond that many bytes is dropped (git is stopped) and a
    ``# ... truncated`` line ends the text.
    """
    exe = which("git")
    if exe is None:
        return None
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(var, None)
    argv = [exe, "-C", worktree, "--no-optional-locks", *args]
    try:
        if hasattr(os, "posix_spawn"):
            code, out = _spawn(argv, env, limit)
        else:  # pragma: no cover - Windows
            import subprocess

            proc = subprocess.run(argv, env=env, capture_output=True, timeout=GIT_TIMEOUT)
            code, out = proc.returncode, proc.stdout
    except Exception:  # noqa: BLE001 - git trouble must never fail a run
        return None
    if limit is not None and len(out) > limit:
        text = out[:limit].decode("utf-8", errors="replace")
        return text + f"\n# diff truncated at {limit} bytes by sacredlite\n"
    return out.decode("utf-8", errors="replace") if code == 0 else None


def _spawn(argv: list[str], env: dict[str, str], limit: int | None) -> tuple[int, bytes]:
    """Run *argv* with stdout captured, via ``posix_spawn``; stop reading past *limit*.

    Importing :mod:`subprocess` costs about 5 ms, a tenth of the start-up budget.
    """
    import select
    import time

    read_end, write_end = os.pipe()
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        pid = os.posix_spawn(
            argv[0],
            argv,
            env,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, devnull, 0),
                (os.POSIX_SPAWN_DUP2, write_end, 1),
                (os.POSIX_SPAWN_DUP2, devnull, 2),
            ],
        )
    finally:
        os.close(write_end)
        os.close(devnull)
    chunks = []
    received = 0
    deadline = time.monotonic() + GIT_TIMEOUT
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([read_end], [], [], remaining)[0]:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                raise TimeoutError(f"{argv[0]} {argv[3:]} took over {GIT_TIMEOUT} s")
            data = os.read(read_end, 1 << 16)
            if not data:
                break
            chunks.append(data)
            received += len(data)
            if limit is not None and received > limit:
                os.kill(pid, 9)
                break
    finally:
        os.close(read_end)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks)


def _changed_tracked(worktree: str) -> list[str] | None:
    """Return tracked paths with staged or unstaged changes, or ``None`` if git cannot tell.

    Untracked files are not scanned here (``-uno``): that keeps the common clean case fast.
    """
    out = _git(worktree, "status", "--porcelain=v1", "-z", "--untracked-files=no")
    if out is None:
        return None
    changed: list[str] = []
    entries = iter(out.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        code, name = entry[:2], entry[3:]
        changed.append(name)
        if "R" in code or "C" in code:
            next(entries, None)  # the original path of a rename/copy
    return changed


def _untracked_among(worktree: str, files: list[str]) -> list[str]:
    """Return those of *files* (absolute paths) that git does not track, relative to worktree.

    Only the run's own files are asked about: untracked output directories (``-F runs``
    inside the repository), data or ``.env`` files never end up in a stored diff.
    """
    rel = [os.path.relpath(f, worktree).replace(os.sep, "/") for f in files]
    if not rel:
        return []
    out = _git(worktree, "ls-files", "-z", "--", *rel)
    if out is None:
        return []
    tracked = set(out.split("\0"))
    inside = (name for name in dict.fromkeys(rel) if not name.startswith("../"))
    return [name for name in inside if name not in tracked]


def _untracked_diff(worktree: str, names: list[str]) -> str:
    """Render untracked files as ``git diff``-style "new file" patches."""
    parts = []
    budget = MAX_UNTRACKED_TOTAL
    for name in names:
        path = os.path.join(worktree, name)
        header = f"diff --git a/{name} b/{name}\nnew file mode 100644\n"
        try:
            size = os.path.getsize(path)
            if size > min(MAX_UNTRACKED_BYTES, budget):
                parts.append(f"{header}# untracked file of {size} bytes; content not stored\n")
                continue
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if b"\0" in data:
            parts.append(f"{header}Binary files /dev/null and b/{name} differ\n")
            continue
        if not data:
            parts.append(header)
            continue
        budget -= size
        text = data.decode("utf-8", errors="replace")
        lines = text.splitlines(keepends=True)
        body = "".join("+" + line for line in lines)
        if not text.endswith("\n"):
            body += "\n\\ No newline at end of file\n"
        parts.append(f"{header}--- /dev/null\n+++ b/{name}\n@@ -0,0 +1,{len(lines)} @@\n{body}")
    return "".join(parts)


def _repository_entry(
    worktree: str, git_dir: str, common_dir: str, files: list[str], with_diff: bool
) -> dict[str, Any]:
    commit = _head_commit(worktree, git_dir, common_dir)
    # Without a remote, Sacred records "git:/" + the work tree; so do we.
    url = _remote_url(common_dir) or f"git:/{worktree}"
    entry: dict[str, Any] = {"url": url, "commit": commit, "dirty": None}
    changed = _changed_tracked(worktree)
    if changed is None:
        return entry
    # Without a commit nothing can be checked out again: always dirty.
    entry["dirty"] = bool(changed) or commit is None
    if entry["dirty"] and with_diff:
        if commit is not None:
            diff = _git(
                worktree, "diff", "HEAD", "--no-color", "--no-ext-diff", limit=MAX_DIFF_BYTES
            )
        else:
            diff = _git(
                worktree, "diff", "--cached", "--no-color", "--no-ext-diff", limit=MAX_DIFF_BYTES
            )
        untracked = _untracked_among(worktree, files)
        entry["diff"] = (diff or "") + _untracked_diff(worktree, untracked)
    return entry


def get_repository_info(paths: Iterable[str], include_diff: bool = True) -> list[dict[str, Any]]:
    """Describe each distinct git repository that contains one of *paths*.

    Returns ``[{"url", "commit", "dirty", "diff"?}]`` in order of first appearance:
    ``url`` of ``origin`` (else the first remote, else ``None``; passwords replaced by
    ``***``), ``commit`` (``None`` before the first commit), ``dirty`` (``None`` when git
    is not installed) and, only when dirty, ``diff``: the text of ``git diff HEAD`` followed
    by new-file patches of the untracked ones among *paths* (beyond Sacred, #832). Never
    raises for repository trouble.

    Args:
        paths: source files (or directories) of the experiment.
        include_diff: compute ``diff`` for dirty repositories.
    """
    repos: dict[str, tuple[tuple[str, str, str], list[str]]] = {}
    for path in paths:
        try:
            found = find_repository(path)
        except OSError:
            continue
        if found is not None:
            repos.setdefault(found[0], (found, []))[1].append(os.path.abspath(path))
    entries = []
    for found, files in repos.values():
        try:
            entries.append(_repository_entry(*found, files, with_diff=include_diff))
        except (OSError, UnicodeDecodeError):
            entries.append({"url": None, "commit": None, "dirty": None})
    return entries


_DIFF_HEADER = re.compile(r"^diff --git a/(.*) b/(.*)$", re.MULTILINE)


def dirty_files(repository: dict[str, Any]) -> list[str]:
    """Return the files changed in a dirty repository entry, for ``-e/--enforce_clean``.

    Read from the entry's ``diff``; includes untracked files when the diff does.

    Args:
        repository: one entry of :func:`get_repository_info` (with ``include_diff=True``).
    """
    return sorted({m.group(2) for m in _DIFF_HEADER.finditer(repository.get("diff") or "")})
