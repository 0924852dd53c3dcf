"""What a run's updates changed in the config, and how ``print_config`` shows it (internal)."""

from __future__ import annotations

import pprint
from collections.abc import Iterable, Mapping
from typing import Any

from .paths import iterate_flattened

_NUMBERS = (int, float)


def type_changed(old: Any, new: Any) -> bool:
    """Return whether replacing *old* by *new* changes its type (int<->float does not)."""
    if old is None or new is None:
        return False
    if isinstance(old, _NUMBERS) and isinstance(new, _NUMBERS):
        return isinstance(old, bool) != isinstance(new, bool)
    return type(old) is not type(new)


def _prefixes(path: str) -> list[str]:
    """``"a.b.c"`` -> ``["a", "a.b"]``: the proper parent paths of *path*."""
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _joined(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix and path else prefix or path


class ConfigSummary(dict[str, Any]):
    """A config (this dict) plus what the updates did to it (Sacred's ``ConfigSummary``).

    Attributes:
        added: dotted paths that updates added (no config scope defines them).
        modified: dotted paths whose value an update changed, and their parents.
        typechanged: dotted path -> ``(old type, new type)`` where an update changed the type.
        ignored_fallbacks: names a scope tried to set although they are read-only fallbacks
            (an ingredient's config seen from its parent).
        docs: dotted path -> the comment documenting the entry.
    """

    def __init__(
        self,
        added: Iterable[str] = (),
        modified: Iterable[str] = (),
        typechanged: Mapping[str, tuple[type, type]] | Iterable[tuple[str, tuple[type, type]]] = (),
        ignored_fallbacks: Iterable[str] = (),
        docs: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__()
        self.added: set[str] = set(added)
        self.modified: set[str] = set(modified)
        self.typechanged: dict[str, tuple[type, type]] = dict(typechanged)
        self.ignored_fallbacks: set[str] = set(ignored_fallbacks)
        self.docs: dict[str, str] = dict(docs)
        self.ensure_coherence()

    def update_from(self, other: ConfigSummary, path: str = "") -> None:
        """Merge the summary of a later config layer at *path*.

        An entry stays "added" only if every layer added it (a later scope that defines it
        makes it a plain update); modified and type-changed entries accumulate; a doc is
        taken where there is none yet.
        """
        self.added &= {_joined(path, a) for a in other.added}
        self._merge_changes(other, path)
        for key, doc in other.docs.items():
            if not self.docs.get(key):
                self.docs[key] = doc

    def update_add(self, other: ConfigSummary, path: str = "") -> None:
        """Merge the summary of another ingredient whose config lives at *path*."""
        self.added |= {_joined(path, a) for a in other.added}
        self._merge_changes(other, path)
        self.docs.update(
            {_joined(path, k): v for k, v in other.docs.items() if not path or k != "seed"}
        )
        self.ensure_coherence()

    def _merge_changes(self, other: ConfigSummary, path: str) -> None:
        self.modified |= {_joined(path, m) for m in other.modified}
        self.typechanged.update({_joined(path, k): v for k, v in other.typechanged.items()})
        self.ensure_coherence()

    def ensure_coherence(self) -> None:
        """Mark the parents of changed entries as modified; keep the three sets disjoint."""
        changed = [*self.added, *self.modified, *self.typechanged]
        self.modified |= {p for path in changed for p in _prefixes(path)}
        self.added -= set(self.typechanged)
        self.modified -= set(self.typechanged)
        self.modified -= self.added


_COLOURS = {"added": "\033[32m", "modified": "\033[34m", "typechanged": "\033[31m"}
_RESET = "\033[0m"


def _mark(path: str, summary: ConfigSummary) -> str | None:
    if path in summary.typechanged:
        return "typechanged"
    if path in summary.added:
        return "added"
    if path in summary.modified:
        return "modified"
    return None


def format_config(config: Mapping[str, Any], summary: ConfigSummary, colour: bool) -> str:
    """Render *config* as Sacred's ``print_config`` does, marking what changed.

    With *colour* the marks are ANSI colours (modified blue, added green, typechanged red);
    without, each changed line ends with ``[modified]``/``[added]``/``[typechanged]``.
    """
    legend = "Configuration (modified, added, typechanged, doc):"
    if colour:
        legend = (
            f"Configuration ({_COLOURS['modified']}modified{_RESET}, "
            f"{_COLOURS['added']}added{_RESET}, {_COLOURS['typechanged']}typechanged{_RESET}, "
            "doc):"
        )
    lines = [legend]
    lines.extend(_format_entries(config, "", 1, summary, colour))
    return "\n".join(lines)


def _format_entries(
    config: Mapping[str, Any], prefix: str, depth: int, summary: ConfigSummary, colour: bool
) -> list[str]:
    lines: list[str] = []
    indent = "  " * depth
    simple = sorted((k, v) for k, v in config.items() if not _is_section(v))
    sections = sorted((k, v) for k, v in config.items() if _is_section(v))
    for key, value in simple + sections:
        path = f"{prefix}.{key}" if prefix else str(key)
        if _is_section(value):
            text = f"{indent}{key}:"
        else:
            text = f"{indent}{key} = {pprint.pformat(value, width=200)}"
        mark = _mark(path, summary)
        doc = summary.docs.get(path)
        if mark and colour:
            text = f"{_COLOURS[mark]}{text}{_RESET}"
        elif mark:
            text = f"{text}  [{mark}]"
        if doc:
            text = f"{text.ljust(40)}  # {doc}"
        lines.append(text)
        if _is_section(value):
            lines.extend(_format_entries(value, path, depth + 1, summary, colour))
    return lines


def _is_section(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value)


def flat_paths(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``{dotted path: leaf value}`` of *config*."""
    return dict(iterate_flattened(config))
