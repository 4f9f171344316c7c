"""Does a file parse? Pure: a path and its text in, the syntax errors out.

Python is parsed by the running interpreter's own parser (`ast.parse`); JavaScript, TypeScript
(and TSX), Go, Rust, Elixir and Java by tree-sitter grammars, where an error is an ERROR node
(text the grammar could not place) or a MISSING node (a token it had to assume, such as a `)`).
Any other file, a file over the size cap, and a parser giving up (Python's recursion or memory
limits, tree-sitter's deadline) give `None`: "cannot check", never an error.

Both parsers hold the GIL for the whole parse, so a worker thread would not keep the event loop
responsive; bounds do. Measured on 1 MB of ordinary code, tree-sitter takes 140–240 ms per
grammar and `ast.parse` 500–800 ms, so Python files are checked up to half that size. Text that
is mostly errors is tree-sitter's slow case (1 MB of brackets: 1–4 s of error recovery), so its
parse is also cancelled at TREE_SITTER_TIME_LIMIT_SECONDS, through its progress callback.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tree_sitter
import tree_sitter_elixir
import tree_sitter_go
import tree_sitter_java
import tree_sitter_javascript
import tree_sitter_rust
import tree_sitter_typescript

MAX_CHECKED_BYTES = 1_000_000
MAX_PYTHON_CHECKED_BYTES = 500_000
TREE_SITTER_TIME_LIMIT_SECONDS = 0.4
MAX_REPORTED_ERRORS = 5
MAX_QUOTED_CHARS = 40


@dataclass(frozen=True)
class Grammar:
    language: str  # also the `language` label of the refusals metric: a small fixed set
    package: str   # the PyPI distribution that ships the grammar
    load: Callable[[], Any]


GRAMMARS = {
    "javascript": Grammar("javascript", "tree-sitter-javascript", tree_sitter_javascript.language),
    "typescript": Grammar("typescript", "tree-sitter-typescript", tree_sitter_typescript.language_typescript),
    "tsx": Grammar("typescript", "tree-sitter-typescript", tree_sitter_typescript.language_tsx),
    "go": Grammar("go", "tree-sitter-go", tree_sitter_go.language),
    "rust": Grammar("rust", "tree-sitter-rust", tree_sitter_rust.language),
    "elixir": Grammar("elixir", "tree-sitter-elixir", tree_sitter_elixir.language),
    "java": Grammar("java", "tree-sitter-java", tree_sitter_java.language),
}
PYTHON = "python"
EXTENSIONS = {
    ".py": PYTHON, ".pyi": PYTHON,
    ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".rs": "rust", ".ex": "elixir", ".exs": "elixir", ".java": "java",
}
LANGUAGES = frozenset({PYTHON} | {grammar.language for grammar in GRAMMARS.values()})


@dataclass(frozen=True)
class ParseError:
    line: int    # 1-based
    column: int  # 1-based, in characters
    message: str


@dataclass(frozen=True)
class Parsed:
    language: str  # one of LANGUAGES
    parser: str    # which parser said so, for the model to weigh its verdict: "Python 3.11's parser"
    errors: tuple[ParseError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


class CannotCheck(Exception):
    """The parser gave up (recursion, memory, a limit of its own): no verdict, not an error."""


def grammar_name(path: str) -> str | None:
    """The grammar a path is parsed with (`tsx`, `python`…), from its extension; None when none is."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return EXTENSIONS.get(name[dot:].lower()) if dot > 0 else None


def parse(path: str, text: str) -> Parsed | None:
    """The syntax errors of `text` as the file `path`, the first MAX_REPORTED_ERRORS in file
    order; None when the file's language is not one parsed here, the text is over the size cap,
    or the parser gave up."""
    name = grammar_name(path)
    if name is None:
        return None
    text = text.removeprefix("\ufeff")
    data = text.encode("utf-8", "surrogatepass")
    cap = MAX_PYTHON_CHECKED_BYTES if name == PYTHON else MAX_CHECKED_BYTES
    if len(data) > cap:
        return None
    try:
        if name == PYTHON:
            return Parsed(PYTHON, python_parser(), python_errors(text))
        grammar = GRAMMARS[name]
        return Parsed(grammar.language, grammar_parser(grammar), tree_sitter_errors(name, data))
    except CannotCheck:
        return None


# ----- Python


def python_parser() -> str:
    return f"Python {sys.version_info.major}.{sys.version_info.minor}'s parser"


def python_errors(text: str) -> tuple[ParseError, ...]:
    """Python reports one error, the first. Its warnings (an invalid escape sequence…) are not
    errors, and must not become errors where warnings are turned into exceptions."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as exc:
        return (ParseError(max(exc.lineno or 1, 1), max(exc.offset or 1, 1), exc.msg or "invalid syntax"),)
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:
        raise CannotCheck(type(exc).__name__) from exc
    return ()


# ----- tree-sitter


@functools.cache
def tree_sitter_language(name: str) -> tree_sitter.Language:
    return tree_sitter.Language(GRAMMARS[name].load())


@functools.cache
def grammar_parser(grammar: Grammar) -> str:
    try:
        return f"tree-sitter, {grammar.package} {importlib.metadata.version(grammar.package)}"
    except importlib.metadata.PackageNotFoundError:
        return f"tree-sitter, {grammar.package}"


def tree_sitter_errors(name: str, data: bytes) -> tuple[ParseError, ...]:
    return tuple(describe_node(node, data) for node in error_nodes(tree_sitter_tree(name, data).root_node))


def tree_sitter_tree(name: str, data: bytes) -> tree_sitter.Tree:
    """The parse tree, or CannotCheck past TREE_SITTER_TIME_LIMIT_SECONDS. The deadline needs the
    progress callback, which tree-sitter offers only when it reads the text through a callback."""
    view = memoryview(data)
    deadline = time.monotonic() + TREE_SITTER_TIME_LIMIT_SECONDS
    try:
        tree = tree_sitter.Parser(tree_sitter_language(name)).parse(
            lambda offset, _point: view[offset:], progress_callback=lambda _offset, _errors: time.monotonic() > deadline)
    except ValueError as exc:  # "Parsing failed": cancelled by the callback
        raise CannotCheck(f"tree-sitter took more than {TREE_SITTER_TIME_LIMIT_SECONDS} s") from exc
    if tree is None:
        raise CannotCheck("tree-sitter returned no tree")
    return tree


def error_nodes(root: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The outermost ERROR and MISSING nodes in file order, at most MAX_REPORTED_ERRORS. Only
    subtrees that contain an error are entered; iterative, as a tree can be deeper than
    Python's recursion limit."""
    found: list[tree_sitter.Node] = []
    stack = [root]
    while stack and len(found) < MAX_REPORTED_ERRORS:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(node)
        elif node.has_error:
            stack.extend(reversed(node.children))
    return found


def describe_node(node: tree_sitter.Node, data: bytes) -> ParseError:
    row, byte_column = node.start_point
    line_start = node.start_byte - byte_column
    column = len(data[line_start:node.start_byte].decode("utf-8", "replace")) + 1
    return ParseError(row + 1, column, node_message(node, data))


def node_message(node: tree_sitter.Node, data: bytes) -> str:
    """Never `node.text`: on a tree parsed through a read callback it crashes the interpreter
    (tree-sitter 0.26.1), as the tree holds no source."""
    if node.is_missing:
        return f"missing {node.type.replace('_', ' ')}" if node.is_named else f"missing `{node.type}`"
    text = data[node.start_byte:node.end_byte].decode("utf-8", "replace")
    first_line = text.strip().split("\n", 1)[0].strip()
    if not first_line:
        return "syntax error"
    quoted = first_line if len(first_line) <= MAX_QUOTED_CHARS else first_line[:MAX_QUOTED_CHARS] + "…"
    last_row = node.end_point[0]
    through = f" (through line {last_row + 1})" if last_row > node.start_point[0] else ""
    return f"unexpected `{quoted}`{through}"
