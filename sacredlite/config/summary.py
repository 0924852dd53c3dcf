"""What a run's updates changed in the config, and how ``print_config`` shows it (internal)."""

from __future__ import annotations

import pprint
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple


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


# -- print_config's text (Sacred's layout and colours) ---------------------------------------
COLOR_DIRTY = "\033[31m"
COLOR_TYPECHANGED = "\033[31m"
COLOR_ADDED = "\033[32m"
COLOR_MODIFIED = "\033[34m"
COLOR_DOC = "\033[2m"
ENDC = "\033[0m"

_DOC_KEY = "__doc__"  # a config scope's docstring, shown first, dimmed
_DOC_COLUMN = 35
_PRINTER = pprint.PrettyPrinter()


class ConfigEntry(NamedTuple):
    """A config value as ``print_config`` shows it."""

    key: str
    value: Any
    added: bool
    modified: bool
    typechanged: tuple[type, type] | None
    doc: str | None


class PathEntry(NamedTuple):
    """A non-empty section of the config (``key:`` followed by its entries)."""

    key: str
    added: bool
    modified: bool
    typechanged: tuple[type, type] | None
    doc: str | None


def _is_section(value: Any) -> bool:
    return isinstance(value, dict) and bool(value)


def _ordered(config: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The docstring first, then plain values, then sections, each sorted by key."""

    def order(item: tuple[Any, Any]) -> tuple[int, str]:
        key, value = item
        if key == _DOC_KEY:
            return 0, ""
        return (2 if _is_section(value) else 1), str(key)

    return sorted(config.items(), key=order)


def iterate_marked(
    config: Mapping[str, Any], summary: ConfigSummary, prefix: str = ""
) -> Iterator[tuple[str, ConfigEntry | PathEntry]]:
    """Yield ``(dotted path, entry)`` for every value and section, in ``print_config`` order."""
    for key, value in _ordered(config):
        path = _joined(prefix, str(key))
        marks = (
            path in summary.added,
            path in summary.modified,
            summary.typechanged.get(path),
            summary.docs.get(path),
        )
        if _is_section(value):
            yield path, PathEntry(str(key), *marks)
            yield from iterate_marked(value, summary, path)
        else:
            yield path, ConfigEntry(str(key), value, *marks)


def format_entry(indent: int, entry: ConfigEntry | PathEntry, colour: bool = True) -> str:
    """Return one ``print_config`` line (several for a long value or a docstring).

    The colour shows what the updates did: red type changed, green added, blue modified;
    a docstring and the ``# doc`` comments are dimmed.
    """
    pad = " " * indent
    color = ""
    if entry.typechanged:
        color = COLOR_TYPECHANGED
    elif entry.added:
        color = COLOR_ADDED
    elif entry.modified:
        color = COLOR_MODIFIED
    if isinstance(entry, ConfigEntry) and entry.key == _DOC_KEY:
        color = COLOR_DOC
        text = pad + '"""' + str(entry.value).replace("\n", "\n" + pad) + '"""'
    elif isinstance(entry, ConfigEntry):
        text = f"{pad}{entry.key} = {_PRINTER.pformat(entry.value)}"
    else:
        text = f"{pad}{entry.key}:"
    if entry.doc:
        doc = f"{COLOR_DOC}# {entry.doc}{ENDC}" if colour else f"# {entry.doc}"
        if len(text) <= _DOC_COLUMN:
            text = f"{text:<{_DOC_COLUMN}}  {doc}"
        else:
            text += "    " + doc
    if not colour or not color:
        return text
    return color + text + ENDC


def format_config(
    config: Mapping[str, Any], summary: ConfigSummary | None = None, colour: bool = True
) -> str:
    """Return the text ``print_config`` prints for *config*, as Sacred's.

    Args:
        config: the run's config.
        summary: what the updates changed, and the docs (``run.config_modifications``).
        colour: Sacred always writes ANSI colours, piped or not; ``False`` leaves them out.
    """
    summary = ConfigSummary() if summary is None else summary
    legend = (
        f"({COLOR_MODIFIED}modified{ENDC}, {COLOR_ADDED}added{ENDC}, "
        f"{COLOR_TYPECHANGED}typechanged{ENDC}, {COLOR_DOC}doc{ENDC})"
        if colour
        else "(modified, added, typechanged, doc)"
    )
    lines = [f"Configuration {legend}:"]
    for path, entry in iterate_marked(config, summary):
        lines.append(format_entry(2 + 2 * path.count("."), entry, colour))
    return "\n".join(lines)
