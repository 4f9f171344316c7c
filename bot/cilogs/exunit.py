"""ExUnit (`mix test`) output: numbered failure blocks and the closing count line.

Listed tests: every failure block names a failed test (with the file from its location
line); `mix test --trace` also lists each test that ran under its module's header
(`StackTest [test/stack_test.exs]`, then `  * test push (0.01ms) [L#4]`), passed unless a
failure block names it, skipped when marked `(skipped)` or `(excluded)`. A test that started
(its `--trace` line without a time) but never finished is listed only if it failed.
"""

from __future__ import annotations

import re

from bot.cilogs.common import Runner, blocks, message, trim_blank, traceback
from bot.cilogs.report import Failure, ListedTest, Outcome

_SIGNALS = (
    (3, re.compile(r"^ +\d+\) (?:test|doctest|property) [^\n]+ \([\w.]+\)$", re.M)),
    (5, re.compile(r"^\d+ (?:doctests?|propert(?:y|ies)|tests?), [^\n]*\d+ failures?", re.M)),
    (2, re.compile(r"^Finished in [\d.]+ seconds", re.M)),
)
_MARKERS = ((") test ", 0, 40), (") doctest ", 0, 40), (") property ", 0, 40))

_HEADER = re.compile(r"^ {2,3}(?P<number>\d+)\) (?P<title>.+)$")
_TITLE = re.compile(r"^(?P<kind>test|doctest|property) (?P<name>.+) \((?P<module>[\w.]+)\)$")
_LOCATION = re.compile(r"^\s+(?P<file>\S+\.exs?):(?P<line>\d+)$")
_CLOSING = re.compile(r"^\d+ (?:doctests?|propert(?:y|ies)|tests?),.*\b\d+ failures?\b.*$")
_MODULE_HEADER = re.compile(r"^(?P<module>[A-Z][\w.]*) \[(?P<file>[^\]]+\.exs?)\]$")
_TRACE_LINE = re.compile(
    r"^  \* (?P<kind>test|doctest|property) (?P<name>.+?)"
    r"(?: \((?P<status>\d+(?:\.\d+)?ms|skipped|excluded)\))? \[L#\d+\]$"
)


def parse(lines: list[str]) -> tuple[list[Failure], str | None]:
    found = blocks(lines, _HEADER.match, _block_ends)
    failures = [_failure(header["title"], body) for header, body in found]
    summary = next((line for line in reversed(lines) if _CLOSING.match(line)), None)
    return failures, summary


def list_tests(lines: list[str]) -> list[ListedTest]:
    failed = _failed_tests(lines)
    failed_ids = {test.test_id for test in failed}
    listed = []
    module = file = None
    for line in lines:
        if header := _MODULE_HEADER.match(line):
            module, file = header["module"], header["file"]
        elif module and (trace := _TRACE_LINE.match(line)) and trace["status"]:
            test_id = f"{module}: {trace['kind']} {trace['name']}"
            outcome = _trace_outcome(trace["status"], test_id in failed_ids)
            listed.append(ListedTest(test_id, file, outcome))
    return listed + failed


def _trace_outcome(status: str, failed: bool) -> Outcome:
    if status in ("skipped", "excluded"):
        return "skipped"
    return "failed" if failed else "passed"


def _failed_tests(lines: list[str]) -> list[ListedTest]:
    failed = []
    for header, body in blocks(lines, _HEADER.match, _block_ends):
        title = _TITLE.match(header["title"])
        if title:
            location = next((m for m in map(_LOCATION.match, body[:2]) if m), None)
            test_id = f"{title['module']}: {title['kind']} {title['name']}"
            failed.append(ListedTest(test_id, location["file"] if location else None, "failed"))
    return failed


def _block_ends(line: str) -> bool:
    return bool(line.strip()) and not line.startswith("   ")


def _failure(title: str, body: list[str]) -> Failure:
    parsed_title = _TITLE.match(title)
    test_id = (
        f"{parsed_title['module']}: {parsed_title['kind']} {parsed_title['name']}"
        if parsed_title
        else title
    )
    body = trim_blank(body)
    location = _LOCATION.match(body[0]) if body else None
    if location:
        body = body[1:]
    split = next((i for i, line in enumerate(body) if line.strip() == "stacktrace:"), len(body))
    return Failure(
        test_id=test_id,
        file=location["file"] if location else None,
        line=int(location["line"]) if location else None,
        message=message(body[:split]),
        traceback=traceback(body[split + 1 :]),
    )


RUNNER = Runner("exunit", _SIGNALS, _MARKERS, parse, list_tests)
