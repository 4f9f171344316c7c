"""Vitest output: `FAIL file > test` blocks between `⎯` separators, `×` result lines, the
summary.

A `FAIL` target without a test name is a test file that failed to load: a build failure.

Listed tests come from the result lines: the verbose reporter prints one per test
(`✓ src/stack.test.ts > Stack > push 1ms`), the default reporter prints them only for a file
with failures, under its `❯ src/stack.test.ts (5 tests | 1 failed)` header, without the file
(`✓ Stack > push 1ms`). `✓` is passed, `×` failed, `↓` skipped or todo. `FAIL file > test`
blocks name failed tests too.
"""

from __future__ import annotations

import re

from bot.cilogs.common import (
    BLOCK_MAX_LINES,
    CODE_FRAME_LINE,
    GAP,
    Runner,
    is_vendor_path,
    message,
    relative_path,
    split_at_frames,
    traceback,
)
from bot.cilogs.report import Failure, ListedTest, Outcome

_SIGNALS = (
    (5, re.compile(r"^ *RUN +v\d+\.\d+", re.M)),
    (5, re.compile(r"^ *Test Files +\d+", re.M)),
    (3, re.compile(r"^ *FAIL +\S+ > ", re.M)),
    (2, re.compile(r"⎯ Failed (?:Tests|Suites) \d+ ⎯")),
)
_MARKERS = ((" FAIL ", 0, 40), ("×", 0, 2))

_FAIL = re.compile(r"^\s*FAIL\s+(?:\|[^|]+\|\s+)?(?P<target>\S.*?)\s*$")
_SEPARATOR = re.compile(r"^\s*⎯{2,}")
_FRAME = re.compile(r"^\s*❯ (?:\S+ )?(?P<file>[^\s]+?):(?P<line>\d+):(?P<column>\d+)$")
_CROSS = re.compile(r"^\s*× (?P<name>.+?)(?: \d+(?:\.\d+)?ms)?$")
_ARROW = re.compile(r"^\s*→ (?P<message>.+)$")
_FILE_HEADER = re.compile(r"^\s*❯ (?P<file>\S+) \(\d+ tests?")
_SUMMARY = re.compile(r"^\s*(?P<label>Test Files|Tests)\s{2,}(?P<text>\S.*)$")
_ANY_FILE_HEADER = re.compile(r"^\s*[❯✓×↓] (?P<file>\S+) \(\d+ tests?\b")
_RESULT = re.compile(r"^\s*(?P<mark>[✓×↓]) (?P<name>\S.*?)(?: \d+(?:\.\d+)?m?s)?$")
_TEST_FILE = re.compile(r"^[\w./@+-]+\.[cm]?[jt]sx?$")
_OUTCOMES: dict[str, Outcome] = {"✓": "passed", "×": "failed", "↓": "skipped"}


def parse(lines: list[str]) -> tuple[list[Failure], str | None]:
    failures: list[Failure] = []
    targets: list[str] = []
    body: list[str] = []
    crossed = _crossed(lines)
    summaries: dict[str, str] = {}
    for line in lines:
        target = _FAIL.match(line)
        ends_block = line == GAP or _SEPARATOR.match(line) or _SUMMARY.match(line)
        if targets and (ends_block or (target and body)):
            failures += [_failure(t, body) for t in targets]
            targets, body = [], []
        if target:
            targets.append(target["target"])
        elif targets and len(body) < BLOCK_MAX_LINES:
            body.append(line)
        if summary := _SUMMARY.match(line):
            summaries[summary["label"]] = " ".join(summary["text"].split())
    failures += [_failure(t, body) for t in targets]
    summary_text = "; ".join(f"{label}: {text}" for label, text in sorted(summaries.items()))
    return failures or crossed, summary_text or None


def list_tests(lines: list[str]) -> list[ListedTest]:
    listed = []
    file = None
    for line in lines:
        if header := _ANY_FILE_HEADER.match(line):
            file = header["file"]
        elif result := _RESULT.match(line):
            first, separator, rest = result["name"].partition(" > ")
            outcome = _OUTCOMES[result["mark"]]
            if separator and _TEST_FILE.match(first):
                listed.append(ListedTest(rest, first, outcome))
            else:
                listed.append(ListedTest(result["name"], file, outcome))
        elif (target := _FAIL.match(line)) and " > " in target["target"]:
            target_file, _, name = target["target"].partition(" > ")
            listed.append(ListedTest(name, target_file, "failed"))
    return listed


def _failure(target: str, body: list[str]) -> Failure:
    file, separator, name = target.partition(" > ")
    if not separator:
        file = file.split(" [ ")[0].strip()
    split, own = split_at_frames(body, _FRAME)
    relevant = [
        line
        for line in body[split:]
        if CODE_FRAME_LINE.match(line)
        or line.lstrip().startswith("Caused by:")
        or ((frame := _FRAME.match(line)) and not is_vendor_path(frame["file"]))
    ]
    return Failure(
        test_id=name or file,
        file=relative_path(own["file"]) if own else file,
        line=int(own["line"]) if own else None,
        message=message(body[:split]),
        traceback=traceback(relevant),
        kind="test" if separator else "build",
    )


def _crossed(lines: list[str]) -> list[Failure]:
    """Failures from the `×` result lines, for logs cut before the error details."""
    failures = []
    file = None
    pending: str | None = None
    for line in lines:
        if header := _FILE_HEADER.match(line):
            file = header["file"]
        elif cross := _CROSS.match(line):
            if pending is not None:
                failures.append(Failure(pending, file, None, ""))
            pending = cross["name"]
        elif pending is not None:
            arrow = _ARROW.match(line)
            failures.append(Failure(pending, file, None, arrow["message"] if arrow else ""))
            pending = None
    if pending is not None:
        failures.append(Failure(pending, file, None, ""))
    return failures


RUNNER = Runner("vitest", _SIGNALS, _MARKERS, parse, list_tests)
