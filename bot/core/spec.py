"""The spec is locked: what the agent may never change, and how to recognise the component's tests.

The component's test file and design file are the specification. So are the files that decide
how the tests run or what the agent is told: `conftest.py` files on the way from the repository
root to the test file, everything under `.github/` (workflows, the actions they use, this bot's
config), `.gitattributes`, `.gitmodules` and the instruction files. Each lock carries the words the
editor tool answers with, so the model learns what to do instead. Pure: no I/O.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.paths import directories_up

INSTRUCTION_FILES = ("AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md")
NESTED_INSTRUCTION_FILES = ("AGENTS.md", "CLAUDE.md")  # also read in every folder down to the working directory
REPORT_TOOL = "report_spec_problem"


def instruction_paths(working_directory: str = "") -> list[str]:
    """The instruction files a session reads: the root's (INSTRUCTION_FILES), then AGENTS.md and
    CLAUDE.md in each folder on the way down to the working directory, nearest last."""
    return [*INSTRUCTION_FILES, *(f"{folder}/{name}" for folder in directories_up(working_directory)[1:]
                                  for name in NESTED_INSTRUCTION_FILES)]


def instruction_order(path: str) -> tuple[int, str]:
    """Sorts instruction files root first, the nearest to the working directory last (it is read
    last, and wins where they disagree); `.github/copilot-instructions.md` is the root's."""
    folder = posixpath.dirname(path)
    return (0 if folder in ("", ".github") else folder.count("/") + 1, path)


@dataclass(frozen=True)
class Lock:
    """A path or glob the agent may not write, and what to tell it when it tries."""

    pattern: str
    reason: str


def spec_locks(design_path: str | None, test_path: str | None, configured: Iterable[str] = ()) -> tuple[Lock, ...]:
    """Every lock of a session: the fixed ones, then the repository's `protected_paths`."""
    locks: list[Lock] = []
    if test_path:
        locks.append(Lock(test_path, f"`{test_path}` is the component's test file, the specification: it is locked. "
                                     "Make the implementation satisfy it. If you are sure a test contradicts the "
                                     f"design, call `{REPORT_TOOL}` instead of changing the test."))
    if design_path:
        locks.append(Lock(design_path, f"`{design_path}` is the component's design document, the specification: it "
                                       "is locked. If it is wrong or contradicts the tests, call "
                                       f"`{REPORT_TOOL}`."))
    locks += [Lock(path, "conftest.py files between the repository root and the component's tests decide how the "
                         "tests run, so they are locked. Put what the implementation needs in its own modules.")
              for path in conftests_on_the_way(test_path)]
    locks += [
        Lock(".github", "everything under `.github/` (CI workflows, the actions they use, this bot's configuration "
                        "and instructions) is locked. If CI itself is wrong, say so in your final message."),
        Lock(".gitattributes", "`.gitattributes` changes how git treats files: it is locked."),
        Lock(".gitmodules", "`.gitmodules` changes the repository's submodules: it is locked."),
    ]
    for name in ("AGENTS.md", "CLAUDE.md"):
        reason = f"`{name}` files are the maintainers' instructions to you: read them, never change them."
        locks += [Lock(name, reason), Lock(f"*/{name}", reason)]
    locks += [Lock(pattern, f"`{pattern}` is protected by the repository's configuration (`protected_paths`).")
              for pattern in configured if pattern.strip()]
    return tuple(locks)


def conftests_on_the_way(test_path: str | None) -> list[str]:
    """`conftest.py` in the root and in every folder down to the test file's own."""
    if not test_path:
        return []
    folders = posixpath.dirname(test_path.strip("/")).split("/")
    paths = ["conftest.py"]
    for depth in range(1, len(folders) + 1):
        if folders[depth - 1]:
            paths.append("/".join(folders[:depth]) + "/conftest.py")
    return paths


# ----------------------------------------------------------------------------- the tests' names

_TEST_NAME_PATTERNS = (
    re.compile(r"^\s*(?:async\s+)?def\s+(test\w*)\s*\(", re.M),                      # pytest, unittest
    re.compile(r"^\s*func\s+((?:Test|Example|Benchmark|Fuzz)\w*)\s*\(", re.M),         # go test
    re.compile(r"#\[(?:tokio::)?test\]\s*(?:#\[[^\]]*\]\s*)*(?:pub\s+)?(?:async\s+)?fn\s+(\w+)", re.M),  # cargo
    re.compile(r"^\s*(?:test|property)\s+\"((?:[^\"\\]|\\.)+)\"", re.M),                 # ExUnit
    re.compile(r"\b(?:it|test)(?:\.\w+)?\(\s*([\"'`])(.+?)\1", re.M),                   # Jest, Vitest
    re.compile(r"@Test\s+(?:@\w+\s+)*(?:public\s+)?void\s+(\w+)\s*\(", re.M),                 # JUnit
)


def defined_test_names(text: str) -> frozenset[str]:
    """The names of the tests a test file defines, across the languages the bot knows (a heuristic:
    used only to recognise these tests among the ones a CI log lists)."""
    names: set[str] = set()
    for pattern in _TEST_NAME_PATTERNS:
        for match in pattern.finditer(text or ""):
            names.add(match.group(match.lastindex or 1).strip())
    return frozenset(n for n in names if n)


def is_component_test(test_id: str, file: str | None, test_path: str, names: frozenset[str]) -> bool:
    """Whether a test a CI log names comes from the component's test file: by the file its id
    names (pytest), the file the log gives, or else its name (a Go or Jest log may name only the
    test). Erring towards yes is safe where it is used: a failure of the component's test is
    never excused."""
    if "::" in test_id:  # pytest's node ids start with their file
        return same_file(test_id.split("::", 1)[0], test_path)
    if test_path in test_id or (file and same_file(file, test_path)):
        return True
    leaf = re.split(r"::|\s>\s|/|\.(?=[A-Za-z_]\w*$)", test_id)[-1].strip()
    return leaf in names or test_id in names


def same_file(reported: str, path: str) -> bool:
    """A path from a log against a repository path: logs often print it absolute or relative to a subfolder."""
    reported, path = reported.strip().lstrip("./"), path.strip().lstrip("./")
    return reported == path or reported.endswith("/" + path) or path.endswith("/" + reported)


# ----------------------------------------------------------------------------- verified, not assumed

@dataclass(frozen=True)
class SpecFile:
    """A spec file at the session's base and at the head that is about to be called green."""

    path: str
    base_oid: str | None
    head_oid: str | None
    changed_in: str | None = None  # the commit that last changed it, when it changed
    changed_by: str | None = None

    @property
    def unchanged(self) -> bool:
        return self.base_oid is not None and self.base_oid == self.head_oid


def spec_statement(files: Iterable[SpecFile]) -> str:
    """"Spec unchanged: tests/test_x.py (blob abc1234), docs/x.md (blob def5678)", or who changed what."""
    files = list(files)
    if all(f.unchanged for f in files):
        return "Spec unchanged: " + ", ".join(f"`{f.path}` (blob {f.head_oid[:7]})" for f in files)
    parts = []
    for f in files:
        if f.unchanged:
            parts.append(f"`{f.path}` unchanged (blob {f.head_oid[:7]})")
        elif f.head_oid is None:
            parts.append(f"`{f.path}` is missing at the head")
        else:
            who = f" by @{f.changed_by}" if f.changed_by else ""
            where = f" in {f.changed_in[:7]}" if f.changed_in else ""
            before = f"blob {f.base_oid[:7]}" if f.base_oid else "absent"
            parts.append(f"`{f.path}` changed{who}{where} ({before} → blob {f.head_oid[:7]})")
    return "Spec changed on the branch: " + "; ".join(parts)
