"""Jest output: `●` failure blocks under each `FAIL file` line, the test tree, the summary.

A "Test suite failed to run" block is a build failure: the file's tests never ran.

Listed tests come from the test tree Jest prints under a file's `PASS`/`FAIL` line (always
with `--verbose`, and by default when a single test file ran): `✓` passed, `✕` failed,
`○ skipped` and `✎ todo` skipped, describe blocks joined with " > " as in failure ids. The
`●` blocks name failed tests too, so without a tree only the failures are listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.cilogs.common import (
    BLOCK_MAX_LINES,
    GAP,
    Runner,
    message,
    relative_path,
    split_at_frames,
    traceback,
)
from bot.cilogs.report import Failure, ListedTest, Outcome

_SIGNALS = (
    (5, re.compile(r"^Test Suites: ", re.M)),
    (3, re.compile(r"^ *● ", re.M)),
    (2, re.compile(r"^Ran all test suites", re.M)),
)
_MARKERS = (("●", 0, 60), ("FAIL ", 0, 2))

_FILE = re.compile(r"^\s*(?P<status>FAIL|PASS)\s+(?P<file>\S+)(?:\s+\([^)]*\))?\s*$")
_BLOCK = re.compile(r"^\s*● (?P<title>.+)$")
_FRAME = re.compile(r"^\s*at (?:.*? \()?(?P<file>[^\s()]+?):(?P<line>\d+):(?P<column>\d+)\)?$")
_TREE_LINE = re.compile(
    r"^(?P<indent> +)(?P<mark>[✓✕○✎] )?(?P<name>\S.*?)(?: \(\d+(?:\.\d+)? ?m?s\))?$"
)
_SUMMARY = re.compile(r"^(?P<label>Test Suites|Tests):\s+(?P<text>.+)$")
_BLOCK_END = ("Test Suites:", "Summary of all failing tests")
_SUITE_FAILED = "Test suite failed to run"
_TREE_OUTCOMES: dict[str, tuple[Outcome, str]] = {
    "✓": ("passed", ""),
    "✕": ("failed", ""),
    "○": ("skipped", "skipped "),
    "✎": ("skipped", "todo "),
}
"""Outcome of a tree mark, and the word Jest puts before the test's name after it."""


def parse(lines: list[str]) -> tuple[list[Failure], str | None]:
    failures: list[Failure] = []
    current_file: str | None = None
    block: tuple[str, list[str]] | None = None
    summaries: dict[str, str] = {}
    for line in lines:
        file_line = _FILE.match(line)
        header = _BLOCK.match(line)
        if block and (file_line or header or line == GAP or line.startswith(_BLOCK_END)):
            failures.append(_failure(*block, current_file))
            block = None
        if file_line:
            current_file = file_line["file"]
        elif header:
            block = (header["title"], [])
        elif block and len(block[1]) < BLOCK_MAX_LINES:
            block[1].append(line)
        elif summary := _SUMMARY.match(line):
            summaries[summary["label"]] = " ".join(summary["text"].split())
    if block:
        failures.append(_failure(*block, current_file))
    summary_text = "; ".join(f"{label}: {text}" for label, text in sorted(summaries.items()))
    return failures or _crossed(lines), summary_text or None


def list_tests(lines: list[str]) -> list[ListedTest]:
    listed = []
    for file, test_id, mark in _tree(lines):
        outcome, word = _TREE_OUTCOMES[mark]
        listed.append(ListedTest(_without_word(test_id, word), file, outcome))
    return listed + _blocks_named(lines)


def _blocks_named(lines: list[str]) -> list[ListedTest]:
    """The tests `●` blocks name, failed, in the file of the `FAIL` line above them."""
    named = []
    current_file = None
    for line in lines:
        if file_line := _FILE.match(line):
            current_file = file_line["file"]
        elif (header := _BLOCK.match(line)) and header["title"] != _SUITE_FAILED:
            named.append(ListedTest(_test_id(header["title"]), current_file, "failed"))
    return named


def _crossed(lines: list[str]) -> list[Failure]:
    """Failures from the `✕` lines of Jest's test tree, for logs cut before the `●` details."""
    return [Failure(test_id, file, None, "") for file, test_id, mark in _tree(lines) if mark == "✕"]


def _tree(lines: list[str]) -> Iterator[tuple[str | None, str, str]]:
    """(file, test id, mark) of each marked line of Jest's test tree.

    The tree follows a file's `FAIL`/`PASS` line up to the first blank line; describe blocks
    are the unmarked lines, nested by indentation.
    """
    file = None
    describes: list[tuple[int, str]] = []
    in_tree = False
    for line in lines:
        if file_line := _FILE.match(line):
            file, describes, in_tree = file_line["file"], [], True
            continue
        tree_line = _TREE_LINE.match(line) if in_tree else None
        if not tree_line:
            in_tree = False
            continue
        indent = len(tree_line["indent"])
        describes = [(level, name) for level, name in describes if level < indent]
        if tree_line["mark"]:
            test_id = " > ".join([*(name for _, name in describes), tree_line["name"]])
            yield file, test_id, tree_line["mark"][0]
        else:
            describes.append((indent, tree_line["name"]))


def _without_word(test_id: str, word: str) -> str:
    """`Stack > skipped peek` -> `Stack > peek`: the word is before the test's own name."""
    path, separator, name = test_id.rpartition(" > ")
    return f"{path}{separator}{name.removeprefix(word)}"


def _test_id(title: str) -> str:
    return title.replace(" › ", " > ")


def _failure(title: str, body: list[str], current_file: str | None) -> Failure:
    split, own = split_at_frames(body, _FRAME)
    suite_failed = title == _SUITE_FAILED
    return Failure(
        test_id=(current_file or title) if suite_failed else _test_id(title),
        file=relative_path(own["file"]) if own else current_file,
        line=int(own["line"]) if own else None,
        message=message(body[:split]),
        traceback=traceback([line for line in body[split:] if line.strip()]),
        kind="build" if suite_failed else "test",
    )


RUNNER = Runner("jest", _SIGNALS, _MARKERS, parse, list_tests)
