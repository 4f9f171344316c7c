"""Traceability: from each section of the design to the code that implements it and the tests that
cover it, checked before anyone sees it.

The agent reports the table with a tool call (bot/agent/traceability.py). `check` holds it against
what can be verified: every heading of the design has a row, or a row saying why it does not apply;
every file is in the branch's tree and is not the spec; every function appears, as a word, in its
file; every test is defined in the component's test file (the names `defined_test_names` finds).
What is wrong comes back as one line per problem, for the model to fix. A table that passes is
returned in the design's order, with the design's spelling of each heading. Pure: no I/O.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.spec import defined_test_names, same_file

MAX_ROWS = 150
MAX_ITEMS = 50        # files in a row, functions in a file, tests in a row
MAX_TEXT_CHARS = 300  # a heading, a path, a name, a reason
MAX_PROBLEMS = 30
WHOLE_DOCUMENT = "(the whole design)"  # the one section of a design without headings

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_NOT_PARAGRAPH = re.compile(r"^(?: {4}|\t| {0,3}(?:[>|]|[-*+][ \t]|\d{1,9}[.)][ \t]|<))")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_NAME_PARTS = re.compile(r"::|#|\.|->")


# ----------------------------------------------------------------------------- the design's sections

def headings(text: str | None) -> list[tuple[int, str]]:
    """(level, text) of each Markdown heading, ATX (`## Push`) or setext (underlined with `===` or
    `---`), in order; none inside fenced code blocks or YAML front matter."""
    lines = (text or "").splitlines()
    if lines and lines[0].strip() == "---":  # front matter
        end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")), None)
        lines = lines[end + 1:] if end is not None else lines
    found: list[tuple[int, str]] = []
    fence: str | None = None
    paragraph: list[str] = []
    for line in lines:
        if fence is not None:
            if re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", line):
                fence = None
            continue
        if opening := _FENCE.match(line):
            fence, paragraph = opening.group(1), []
        elif atx := _ATX.match(line):
            found.append((len(atx.group(1)), clean(atx.group(2) or "")))
            paragraph = []
        elif paragraph and _SETEXT.match(line):
            found.append((1 if "=" in line else 2, clean(" ".join(paragraph))))
            paragraph = []
        elif line.strip() and not _NOT_PARAGRAPH.match(line):
            paragraph.append(line.strip())
        else:
            paragraph = []
    return [(level, heading) for level, heading in found if heading]


def clean(heading: str) -> str:
    """A heading as people read it: links as their text, spaces collapsed."""
    return " ".join(_LINK.sub(r"\1", heading).split())


def key(heading: str) -> str:
    """What two spellings of a heading share: no leading `#`s, backticks or emphasis, any case."""
    text = clean(heading).lstrip("#").replace("`", "").replace("*", "")
    return " ".join(text.strip(" _:").split()).casefold()


@dataclass(frozen=True)
class Basis:
    """What a table is checked against: the design's sections and the tests the test file defines."""

    design_path: str
    test_path: str
    sections: tuple[str, ...]   # the headings that need a row, in the design's order
    optional: tuple[str, ...]   # headings that may have one: the document's title
    test_names: frozenset[str]
    test_text: str | None

    @classmethod
    def of(cls, design_path: str, design_text: str | None, test_path: str, test_text: str | None) -> Basis:
        """A design's one top-level heading, first, above other headings, is its title, not a
        section; a design without headings is one section."""
        found = headings(design_text)
        optional: list[str] = []
        if len(found) > 1 and found[0][0] == 1 and sum(1 for level, _ in found if level == 1) == 1:
            optional.append(found.pop(0)[1])
        sections: dict[str, str] = {}
        for _, heading in found:
            sections.setdefault(key(heading), heading)
        return cls(design_path, test_path, tuple(sections.values()) or (WHOLE_DOCUMENT,), tuple(optional),
                   defined_test_names(test_text or ""), test_text)

    def canonical(self, heading: str) -> str | None:
        """The design's spelling of a heading the table names; None if the design has no such heading."""
        wanted = key(heading)
        return next((h for h in (*self.optional, *self.sections) if key(h) == wanted), None)

    def test_defined(self, name: str) -> bool:
        """By its name, or by the last part of a node id (`tests/test_x.py::TestX::test_y`). When the
        bot cannot tell the file's test names (an unknown framework), the name must be in its text."""
        if self.test_text is None:
            return False
        head = name.split("::", 1)[0] if "::" in name else ""
        if ("/" in head or "." in head) and not same_file(head, self.test_path):
            return False
        candidates = [name, *([name.rsplit("::", 1)[1]] if "::" in name else [])]
        if self.test_names:
            return any(c in self.test_names for c in candidates)
        return any(c and c in self.test_text for c in candidates)


# ----------------------------------------------------------------------------- the table

@dataclass(frozen=True)
class Implementation:
    path: str
    functions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    heading: str
    files: tuple[Implementation, ...] = ()
    tests: tuple[str, ...] = ()
    not_applicable: str | None = None  # why the section needs no code

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"heading": self.heading}
        if self.files:
            row["files"] = [{"path": f.path, **({"functions": list(f.functions)} if f.functions else {})}
                            for f in self.files]
        if self.tests:
            row["tests"] = list(self.tests)
        if self.not_applicable:
            row["not_applicable"] = self.not_applicable
        return row


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": [row.as_dict() for row in self.rows]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Table:
        """A table as recorded (`as_dict`), or as the tool's input when `parse` accepted it."""
        parsed = parse(data or {})
        return parsed if isinstance(parsed, Table) else cls()

    def paths_to_read(self, tree: Collection[str]) -> list[str]:
        """The files whose text `check` needs: those in the tree that name functions."""
        return sorted({f.path for row in self.rows for f in row.files if f.functions and f.path in tree})


def parse(data: Mapping[str, Any]) -> Table | list[str]:
    """The tool's input as a table, or what is wrong with its shape."""
    rows = data.get("rows") if isinstance(data, Mapping) else None
    if not isinstance(rows, list) or not rows:
        return ["`rows` must be a non-empty list: one row per heading of the design"]
    if len(rows) > MAX_ROWS:
        return [f"at most {MAX_ROWS} rows"]
    problems: list[str] = []
    parsed: list[Row] = []
    for number, row in enumerate(rows, 1):
        if not isinstance(row, Mapping) or not isinstance(row.get("heading"), str) or not row["heading"].strip():
            problems.append(f"row {number}: needs `heading`, the text of a heading of the design")
            continue
        files, tests = row.get("files") or [], row.get("tests") or []
        reason = row.get("not_applicable")
        if not isinstance(files, list) or not all(isinstance(f, Mapping) and isinstance(f.get("path"), str)
                                                  and isinstance(f.get("functions") or [], list) for f in files):
            problems.append(f"row {number}: `files` must be a list of objects with a `path` and optional "
                            "`functions` (a list of names)")
            continue
        if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
            problems.append(f"row {number}: `tests` must be a list of test names")
            continue
        if reason is not None and not isinstance(reason, str):
            problems.append(f"row {number}: `not_applicable` must be a string: why the section needs no code")
            continue
        if len(files) > MAX_ITEMS or len(tests) > MAX_ITEMS:
            problems.append(f"row {number}: at most {MAX_ITEMS} files and {MAX_ITEMS} tests")
            continue
        implementations = tuple(Implementation(path_of(f["path"]), tuple(
            short(str(name).split("(")[0].strip()) for name in (f.get("functions") or [])[:MAX_ITEMS]
            if str(name).split("(")[0].strip())) for f in files)
        parsed.append(Row(short(row["heading"].strip()), implementations,
                          tuple(short(t.strip()) for t in tests if t.strip()),
                          short(because(reason)) if reason and reason.strip() else None))
    return problems or Table(tuple(parsed))


def path_of(path: str) -> str:
    path = path.strip()
    while path.startswith("./"):
        path = path[2:]
    return short(path.lstrip("/"))


def because(reason: str) -> str:
    """The reason without a leading "not applicable" or "because", which the PR says itself."""
    text = " ".join(reason.split())
    text = re.sub(r"^not applicable\W*", "", text, flags=re.IGNORECASE)
    return re.sub(r"^because\s+", "", text, flags=re.IGNORECASE)


def short(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS - 1] + "…"


@dataclass(frozen=True)
class Trace:
    """What the pull request shows: the table verified at a commit, or why there is none."""

    table: Table | None = None
    note: str | None = None
    commit_sha: str | None = None  # None: the commit being made


# ----------------------------------------------------------------------------- checking

@dataclass(frozen=True)
class Verdict:
    table: Table | None      # the table as the PR shows it, when nothing is wrong
    problems: tuple[str, ...]


def check(table: Table, basis: Basis, tree: Collection[str], texts: Mapping[str, str | None]) -> Verdict:
    """`tree`: every file on the branch as it is now; `texts`: the text of each file in
    `table.paths_to_read(tree)` (None: not text)."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    rows: list[Row] = []
    for number, row in enumerate(table.rows, 1):
        where = f"row {number} ({row.heading!r})"
        heading = basis.canonical(row.heading)
        if heading is None:
            problems.append(f"{where}: {basis.design_path} has no such heading{suggest(row.heading, basis.sections)}")
            problems += row_problems(where, row, basis, tree, texts)
            continue
        if heading in seen:
            problems.append(f"{where}: {heading!r} is already listed in row {seen[heading]}: one row per heading")
            continue
        seen[heading] = number
        problems += row_problems(where, row, basis, tree, texts)
        rows.append(Row(heading, row.files, row.tests, row.not_applicable))
    missing = [s for s in basis.sections if s not in seen]
    if missing:
        problems.append("no row for " + ", ".join(repr(s) for s in missing) + ": add one for each, with the files "
                        "that implement it, or `not_applicable` and why")
    if problems:
        return Verdict(None, tuple(problems))
    order = {h: i for i, h in enumerate((*basis.optional, *basis.sections))}
    return Verdict(Table(tuple(sorted(rows, key=lambda r: order[r.heading]))), ())


def row_problems(where: str, row: Row, basis: Basis, tree: Collection[str],
                 texts: Mapping[str, str | None]) -> list[str]:
    if row.not_applicable is not None:
        if row.files or row.tests:
            return [f"{where}: either `not_applicable` or files and tests, not both"]
        return []
    if not row.files:
        return [f"{where}: name the files that implement it, or give `not_applicable` and why"]
    problems = []
    for implementation in row.files:
        path = implementation.path
        if same_file(path, basis.test_path) or same_file(path, basis.design_path):
            problems.append(f"{where}: `{path}` is the spec, not the implementation"
                            + (": list its tests under `tests`" if same_file(path, basis.test_path) else ""))
        elif path not in tree:
            problems.append(f"{where}: `{path}` is not a file on the branch{suggest(path, tree)}")
        elif implementation.functions:
            problems += [f"{where}: {problem}" for problem in function_problems(implementation, texts.get(path))]
    for name in row.tests:
        if not basis.test_defined(name):
            problems.append(f"{where}: test `{name}` is not defined in {basis.test_path}"
                            + suggest(name.rsplit("::", 1)[-1], basis.test_names))
    return problems


def function_problems(implementation: Implementation, text: str | None) -> list[str]:
    if text is None:
        return [f"`{implementation.path}` is not text: list it without functions"]
    return [f"`{name}` does not appear in `{implementation.path}`" for name in implementation.functions
            if not all(re.search(rf"(?<![\w$]){re.escape(part)}(?![\w$])", text)
                       for part in _NAME_PARTS.split(name) if part.strip())]


def suggest(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (did you mean `{close[0]}`?)" if close else ""


def rejection(problems: tuple[str, ...] | list[str], basis: Basis) -> str:
    """The problems as the model reads them: one line each, then what it needs to fix them."""
    lines = [f"- {p}" for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"- … and {len(problems) - MAX_PROBLEMS} more")
    text = "\n".join(lines)
    if any("heading" in p or "no row for" in p for p in problems):
        text += f"\n\nThe headings of {basis.design_path}: " + ", ".join(repr(s) for s in basis.sections)
    if any("test `" in p for p in problems) and basis.test_names:
        names = sorted(basis.test_names)
        shown = ", ".join(names[:100]) + (" …" if len(names) > 100 else "")
        text += f"\n\nThe tests {basis.test_path} defines: {shown}"
    return text
