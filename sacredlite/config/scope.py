"""Config scopes: functions whose local variables become config entries (internal).

``@ex.config`` turns a function into a :class:`ConfigScope` (Sacred's name and shape). Its
body is compiled once; every evaluation runs it in a :class:`DogmaticDict` namespace:

* ``fixed`` values (the ``with`` updates) win over the body's assignments, and entries the
  body computes from them follow (``a = 10; b = 2 * a`` with ``a=3`` gives ``b = 6``);
* ``preset`` values (earlier layers) are visible as the scope's arguments and end up in the
  result;
* ``fallback`` values (sub-ingredients' configs, ``_log``) are visible as arguments but
  are not part of the result.

The result is a :class:`ConfigSummary`: the config, plus which entries were added,
modified or changed type, and each entry's doc (its trailing comment or the comment line
above it). Every local is kept, as Sacred keeps it: ``_id = 5`` and a docstring
(``__doc__``) are config entries too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .custom_containers import dogmatize
from .summary import ConfigSummary
from .utils import normalize_or_die, recursive_fill_in

if TYPE_CHECKING:
    import ast
    from types import CodeType

__all__ = ["ConfigScope", "SEED_DOC"]

# ast, inspect, io, re, tokenize and textwrap are imported where a scope is parsed, not
# when sacredlite is imported (they are a third of `import sacredlite`).

SEED_DOC = "the random seed for this experiment"


def _scope_arguments(func: Callable[..., Any]) -> list[str]:
    """Return the names a scope takes; refuse ``*args``, ``**kwargs`` and defaults."""
    import inspect

    names = []
    for param in inspect.signature(func).parameters.values():
        if param.kind is param.VAR_POSITIONAL:
            raise AssertionError("*args not allowed for ConfigScope functions")
        if param.kind is param.VAR_KEYWORD:
            raise AssertionError("**kwargs not allowed for ConfigScope functions")
        if param.default is not param.empty:
            raise AssertionError("default values are not allowed for ConfigScope functions")
        names.append(param.name)
    return names


def function_body(func: Callable[..., Any]) -> tuple[str, int]:
    """Return ``(body source, line number of its first line)`` of *func*.

    The body starts right after the ``:`` of the ``def`` line, so a comment there or on
    the lines before the first statement stays with it (as the doc of the first entry).
    """
    import ast
    import inspect
    import io
    import textwrap
    import tokenize

    lines, first_line = inspect.getsourcelines(func)
    source = textwrap.dedent("".join(lines))
    tree = _parse(source, func)
    func_def = tree.body[0]
    if not isinstance(func_def, ast.FunctionDef | ast.AsyncFunctionDef):
        raise ValueError(f"{func!r} is not defined by a def statement; cannot read its body.")
    first = func_def.body[0]
    start = (func_def.lineno, 0)
    skip = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.end > (first.lineno, first.col_offset):
            break
        if tok.type not in skip:
            start = tok.end  # the end of the last token of the header: its ':'
    source_lines = source.splitlines(keepends=True)
    body = source_lines[start[0] - 1][start[1] :] + "".join(source_lines[start[0] :])
    return body, first_line + start[0] - 1


def _parse(source: str, func: Callable[..., Any]) -> ast.Module:
    import ast

    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise SyntaxError(
            f"Cannot parse the source of config scope {func.__qualname__!r}: {exc}"
        ) from exc


def is_empty_or_comment(line: str) -> bool:
    """Return whether *line* holds no code: blank, or only a comment."""
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def dedent_line(line: str, indent: str) -> str:
    """Remove from *line* the leading part that matches *indent* character by character."""
    cut = 0
    for have, want in zip(line, indent, strict=False):
        if have != want:
            break
        cut += 1
    return line[cut:]


def dedent_body(body: str) -> str:
    """Remove the indentation of the body's first code line from every line.

    Lines indented less (comments, continuation lines, text in strings) lose only the
    part of their indentation that matches.
    """
    import re

    lines = body.split("\n")
    indent = ""
    for line in lines:
        if not is_empty_or_comment(line):
            match = re.match(r"\s*", line)
            indent = match.group() if match else ""
            break
    return "\n".join(dedent_line(line, indent) for line in lines)


def _compile_body(func: Callable[..., Any]) -> tuple[CodeType, str]:
    """Return the compiled body of *func* (line numbers as in its file) and its source."""
    import ast
    import inspect

    filename = inspect.getsourcefile(func) or inspect.getfile(func)
    body, first_line = function_body(func)
    body = dedent_body(body)
    tree = ast.parse(body, filename)
    ast.increment_lineno(tree, first_line - 1)
    try:
        code = compile(tree, filename, "exec")
    except SyntaxError as exc:
        kind = {"'return' outside function": "return", "'yield' outside function": "yield"}
        statement = kind.get(exc.msg)
        if statement is None:
            raise
        text = (exc.text or "").strip()
        raise SyntaxError(
            f"No {statement} statements allowed in ConfigScopes\n"
            f"('{text}' in File \"{exc.filename}\", line {exc.lineno})"
        ) from exc
    return code, body


def _is_ignored(comment: str) -> bool:
    import re

    from ..settings import SETTINGS

    return any(re.match(pattern, comment) for pattern in SETTINGS.CONFIG.IGNORED_COMMENTS)


def _doc_for_line(lineno: int, lines: list[str]) -> str | None:
    """The doc of an entry assigned on line *lineno* (1-based) of the body: the first
    comment on that line, else the nearest comment line above (blank lines skipped)."""
    import io
    import tokenize

    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(lines[lineno - 1]).readline))
        for tok in tokens:
            if tok.type == tokenize.COMMENT:
                text = tok.string[1:].strip()
                if not _is_ignored(text):
                    return text
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    index = lineno - 2
    while index >= 0:
        line = lines[index].strip()
        if line.startswith("#"):
            comment = line.strip("# ")
            return None if _is_ignored(comment) else comment
        if line:
            return None
        index -= 1
    return None


def comment_docs(body: str) -> dict[str, str]:
    """Map each name the body assigns to its doc; ``seed`` always has Sacred's."""
    import ast

    docs = {"seed": SEED_DOC}
    lines = body.split("\n")

    def visit(target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            if target.id not in docs:
                doc = _doc_for_line(target.lineno, lines)
                if doc is not None:
                    docs[target.id] = doc
        elif isinstance(target, ast.Tuple):
            for element in target.elts:
                visit(element)

    for statement in ast.parse(body).body:
        for node in (statement, *ast.iter_child_nodes(statement)):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    visit(target)
    return docs


class ConfigScope:
    """A function whose local variables become config entries.

    Args:
        func: the decorated function. It may take arguments (earlier entries, ingredients'
            configs, ``_log``), without defaults, ``*args`` or ``**kwargs``.
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        self.args = _scope_arguments(func)
        self._func = func
        self._body_code, body = _compile_body(func)
        self._var_docs = comment_docs(dedent_body(body))
        self.__doc__ = func.__doc__

    def __call__(
        self,
        fixed: Mapping[str, Any] | None = None,
        preset: Mapping[str, Any] | None = None,
        fallback: Mapping[str, Any] | None = None,
    ) -> ConfigSummary:
        """Evaluate the body; return the resulting config and what changed.

        Raises:
            KeyError: the scope takes an argument that neither *preset* nor *fallback* has.
        """
        namespace = dogmatize(dict(fixed or {}))
        preset = preset or {}
        fallback = fallback or {}
        visible_fallbacks = {}
        for name in self.args:
            if name in preset:
                namespace[name] = preset[name]
            elif name in fallback:
                visible_fallbacks[name] = fallback[name]
            else:
                available = set(preset) | set(fallback)
                raise KeyError(
                    f"'{name}' not in preset for ConfigScope. Available options are: {available}"
                )
        namespace.fallback = visible_fallbacks
        exec(self._body_code, dict(self._func.__globals__), namespace)  # noqa: S102 - the feature
        added = namespace.revelation()
        summary = ConfigSummary(
            added,
            namespace.modified,
            namespace.typechanges,
            namespace.fallback_writes,
            docs=self._var_docs,
        )
        recursive_fill_in(namespace, preset)
        for key, value in namespace.items():
            try:
                summary[key] = normalize_or_die(value)
            except ValueError:
                pass
        return summary

    def __repr__(self) -> str:
        return f"<ConfigScope {self._func.__qualname__}>"


class ConfigDict:
    """A dict (or a config file's content) used as a config layer (Sacred's ``ConfigDict``).

    Args:
        values: the entries; keys are checked and values normalised at once.
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._conf: dict[str, Any] = normalize_or_die(dict(values))

    def __call__(
        self,
        fixed: Mapping[str, Any] | None = None,
        preset: Mapping[str, Any] | None = None,
        fallback: Mapping[str, Any] | None = None,
    ) -> ConfigSummary:
        """Return the dict's entries under *fixed*, filled up from *preset*."""
        from .custom_containers import undogmatize

        result = dogmatize(dict(fixed or {}))
        recursive_fill_in(result, self._conf)
        recursive_fill_in(result, preset or {})
        added = result.revelation()
        summary = ConfigSummary(added, result.modified, result.typechanges)
        summary.update(undogmatize(result))
        return summary

    def __repr__(self) -> str:
        return f"<ConfigDict {sorted(self._conf)}>"
