"""Where a run's config values came from, and the docs of its config entries (internal).

Sacred stores the command line's ``meta.config_updates`` and ``meta.named_configs`` (the
names, in order) but neither the named configs' contents nor the config docs (the trailing
comments of config scopes live only in the experiment's code). Both are read here from the
run's stored copy of its main source file, when it has one: functions decorated with
``@<x>.config`` give docs (a line's trailing comment, or the comment line above it, as
Sacred's ``ConfigSummary`` finds them), functions decorated with ``@<x>.named_config`` the
keys each named config sets. A key set by a ``with`` update is ``"update"``; a key a used
named config assigns (the last one used wins, as in Sacred) carries that config's name.
Named configs that are dicts or files, and ingredients' scopes, are not found this way: the
answer always includes ``named_configs`` and ``config_updates`` as stored.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from ..config.scope import comment_docs, dedent_body
from .records import Record, StoreError, flatten

if TYPE_CHECKING:
    from .base import RunId, RunStore

MAX_SOURCE_BYTES = 2_000_000
"""Source files larger than this are not parsed for config docs."""


def _scopes(text: str) -> list[tuple[str, str, dict[str, str], set[str]]]:
    """Return ``(kind, function name, docs, assigned names)`` of each config scope."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    lines = text.split("\n")
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef) or not node.body:
            continue
        kinds = [
            d.attr if isinstance(d, ast.Attribute) else getattr(d, "id", "")
            for d in node.decorator_list
        ]
        kind = next((k for k in kinds if k in ("config", "named_config")), None)
        if kind is None:
            continue
        end = node.body[-1].end_lineno or node.body[-1].lineno
        body = None
        for start in (node.lineno + 1, node.body[0].lineno):
            candidate = dedent_body("\n".join(lines[start - 1 : end]))
            try:
                assigned = _assigned(ast.parse(candidate))
                body = candidate
                break
            except SyntaxError:
                continue
        if body is None:
            continue
        try:
            docs = comment_docs(body)
        except SyntaxError:
            docs = {}
        out.append((kind, node.name, docs, assigned))
    return out


def _assigned(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
    return names


def _main_source(store: RunStore, run_id: RunId, record: Record) -> tuple[str, str] | None:
    mainfile = str((record.get("experiment") or {}).get("mainfile") or "")
    try:
        sources = store.sources(run_id)
    except StoreError:
        return None
    paths = [s["path"] for s in sources]
    chosen = next((p for p in paths if p == mainfile), None)
    if chosen is None and mainfile:
        chosen = next((p for p in paths if p.split("/")[-1] == mainfile.split("/")[-1]), None)
    if chosen is None:
        return None
    try:
        data = store.source(run_id, chosen)
    except StoreError:
        return None
    if len(data) > MAX_SOURCE_BYTES:
        return None
    return chosen, data.decode("utf-8", "replace")


def config_details(store: RunStore, run_id: RunId, record: Record) -> dict[str, Any]:
    """Return ``{"named_configs", "config_updates", "config_origin", "config_docs",
    "config_docs_source"}`` of a run.

    ``config_origin`` maps flattened config keys (``optimizer.lr``) to ``"update"`` or the
    named config that set them (keys of unknown origin are left out); ``config_docs`` maps
    top-level config keys to their docs; ``config_docs_source`` names the source file read
    (``None`` when the run stored none).
    """
    meta = record.get("meta") or {}
    named = [str(n) for n in (meta.get("named_configs") or [])]
    updates = meta.get("config_updates") or {}
    updates = updates if isinstance(updates, dict) else {}
    keys = list(flatten(record.get("config") or {}))
    found = _main_source(store, run_id, record)
    scopes = _scopes(found[1]) if found else []
    docs: dict[str, str] = {}
    for kind, _, scope_docs, _ in scopes:
        if kind == "config":
            for key, doc in scope_docs.items():
                docs.setdefault(key, doc)
    origin: dict[str, str] = {}
    for name in named:  # later named configs override earlier ones
        assigned = set().union(*(a for k, n, _, a in scopes if k == "named_config" and n == name))
        for key in keys:
            if key.split(".")[0] in assigned:
                origin[key] = name
    updated = set(flatten(updates))
    for key in keys:
        if key in updated or any(key.startswith(u + ".") for u in updated):
            origin[key] = "update"
    top = {k.split(".")[0] for k in keys}
    return {
        "named_configs": named,
        "config_updates": updates,
        "config_origin": origin,
        "config_docs": {k: v for k, v in docs.items() if k in top},
        "config_docs_source": found[0] if found else None,
    }
