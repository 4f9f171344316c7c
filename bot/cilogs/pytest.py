"""pytest output: the FAILURES/ERRORS sections and the short test summary.

A collection error (`ERROR collecting tests/test_x.py`, `ERROR tests/test_x.py`) is a build
failure: none of the file's tests ran. An error in a test's setup or teardown is a test
failure. pytest's own `ImportError while loading conftest` is read by `builds`.

Listed tests come from the short test summary (`PASSED`/`FAILED`/`ERROR`/`XFAIL`/`XPASS`
lines; by default pytest prints only failures and errors there, `-rA` adds the rest) and from
the progress lines of `-v` (`tests/test_x.py::test_a PASSED [ 50%]`). XFAIL counts as
skipped and XPASS as passed. `SKIPPED [1] tests/test_x.py:12: reason` names a location, not
a test, so skipped tests are listed only by `-v`. Collection errors are not tests and are
not listed.
"""

from __future__ import annotations

import re

from bot.cilogs.common import (
    BLOCK_MAX_LINES,
    GAP,
    TRACEBACK_MAX_CHARS,
    TRACEBACK_MAX_LINES,
    Runner,
    clip,
    message,
    relative_path,
)
from bot.cilogs.report import Failure, FailureKind, ListedTest, Outcome

_SIGNALS = (
    (5, re.compile(r"^=+ test session starts =+$", re.M)),
    (4, re.compile(r"^=+ (?:FAILURES|ERRORS|short test summary info) =+$", re.M)),
    (2, re.compile(r"^(?:FAILED|ERROR) \S+\.py\b", re.M)),
    (4, re.compile(r"^=*\s*\d+ (?:failed|passed|errors?)\b[^\n]* in [\d.]+s\b", re.M)),
)
_MARKERS = (("= FAILURES =", 0, 200), ("= ERRORS =", 0, 200), ("_____ ", 0, 80))

_SECTION = re.compile(r"^=+ (?P<title>.+?) =+$")
_HEADER = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$")
_SUMMARY_ITEM = re.compile(
    r"^(?P<kind>FAILED|ERROR) (?P<nodeid>[^\s\[]*(?:\.py|::)[^\s\[]*(?:\[.*?\])?)"
    r"(?: - (?P<message>.*))?$"
)
_LOCATION = re.compile(r"^(?P<file>[^\s:][^:]*?\.py):(?P<line>\d+):(?: (?P<what>.*))?$")
_CLOSING = re.compile(
    r"^=*\s*(?P<text>(?:\d+ (?:failed|passed|errors?|skipped|deselected|xfailed|xpassed"
    r"|warnings?|rerun)\b.*?|no tests ran) in [\d.]+s\b.*?)\s*=*$"
)
_COLLECTING = "ERROR collecting "
_BLOCK_PREFIXES = (_COLLECTING, "ERROR at setup of ", "ERROR at teardown of ")

_TEST_NODEID = r"(?P<nodeid>[^\s\[]*::[^\s\[]*(?:\[.*?\])?)"
_RESULT_WORD = r"(?P<outcome>PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)"
_VERBOSE_RESULT = re.compile(rf"^{_TEST_NODEID} {_RESULT_WORD}(?: \(.*\))?(?:\s+\[\s*\d+%\])?$")
_SUMMARY_RESULT = re.compile(rf"^{_RESULT_WORD} {_TEST_NODEID}(?:\s.*)?$")
_OUTCOMES: dict[str, Outcome] = {
    "PASSED": "passed",
    "XPASS": "passed",
    "FAILED": "failed",
    "ERROR": "failed",
    "SKIPPED": "skipped",
    "XFAIL": "skipped",
}
_LISTING_SECTIONS = ("", "test session starts", "short test summary info")
"""Where pytest prints result lines; elsewhere a matching line is a test's captured output."""


def parse(lines: list[str]) -> tuple[list[Failure], str | None]:
    blocks: list[tuple[str, list[str]]] = []
    summary_items: list[tuple[str, str]] = []
    summary = None
    section = ""
    body: list[str] | None = None
    for line in lines:
        if line == GAP:
            body = None
            continue
        heading = _SECTION.match(line)
        if heading:
            section, body = heading["title"], None
            closing = _CLOSING.match(line)
            summary = closing["text"] if closing else summary
            continue
        if section in ("FAILURES", "ERRORS"):
            header = _HEADER.match(line)
            if header:
                body = []
                blocks.append((header["name"], body))
            elif body is not None and len(body) < BLOCK_MAX_LINES:
                body.append(line)
            continue
        item = _SUMMARY_ITEM.match(line)
        if item:
            summary_items.append((item["nodeid"], item["message"] or ""))
            continue
        closing = _CLOSING.match(line)
        if closing:
            summary = closing["text"]
    return _failures(blocks, summary_items), summary


def list_tests(lines: list[str]) -> list[ListedTest]:
    listed = []
    section = ""
    for line in lines:
        if heading := _SECTION.match(line):
            section = heading["title"]
        elif section in _LISTING_SECTIONS and (
            result := _VERBOSE_RESULT.match(line) or _SUMMARY_RESULT.match(line)
        ):
            nodeid = result["nodeid"]
            listed.append(ListedTest(nodeid, nodeid.split("::")[0], _OUTCOMES[result["outcome"]]))
    return listed


def _failures(
    blocks: list[tuple[str, list[str]]], summary_items: list[tuple[str, str]]
) -> list[Failure]:
    """Sections give location and message; the short summary gives full node ids."""
    nodeids_by_key: dict[str, list[str]] = {}
    for nodeid, _ in summary_items:
        nodeids_by_key.setdefault(_key_of_nodeid(nodeid), []).append(nodeid)
    failures = []
    described: set[str] = set()
    for name, body in blocks:
        key = _key_of_header(name)
        candidates = nodeids_by_key.get(key)
        nodeid = candidates.pop(0) if candidates else _guess_nodeid(key, body)
        described.add(nodeid)
        kind: FailureKind = "build" if name.startswith(_COLLECTING) else "test"
        failures.append(_block_failure(nodeid, body, kind))
    for nodeid, text in summary_items:
        if nodeid not in described:
            described.add(nodeid)
            kind = "test" if "::" in nodeid else "build"
            failures.append(Failure(nodeid, nodeid.split("::")[0], None, text, kind=kind))
    return failures


def _block_failure(nodeid: str, body: list[str], kind: FailureKind) -> Failure:
    error_lines = [line[1:] for line in body if line.startswith("E ") or line == "E"]
    locations = [m for m in map(_LOCATION.match, body) if m]
    crash = next((m for m in reversed(locations) if _is_crash_line(m)), None)
    crash = crash or (locations[-1] if locations else None)
    message_lines = error_lines or [line for line in body if line.strip()][:1]
    relevant = [line for line in body if line.startswith(">") or _LOCATION.match(line)]
    return Failure(
        test_id=nodeid,
        file=relative_path(crash["file"]) if crash else nodeid.split("::")[0],
        line=int(crash["line"]) if crash else None,
        message=message(message_lines),
        traceback=clip(relevant, TRACEBACK_MAX_LINES, TRACEBACK_MAX_CHARS, keep_tail=True),
        kind=kind,
    )


def _is_crash_line(location: re.Match[str]) -> bool:
    what = location["what"] or ""
    return bool(what) and not what.startswith("in ")


def _key_of_header(name: str) -> str:
    for prefix in _BLOCK_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _key_of_nodeid(nodeid: str) -> str:
    path, separator, rest = nodeid.partition("::")
    return rest.replace("::", ".") if separator else path


def _guess_nodeid(key: str, body: list[str]) -> str:
    """Without a short summary, rebuild `path::Class::test` from the block's first test file."""
    if key.endswith(".py"):
        return key
    for match in map(_LOCATION.match, body):
        if match and _looks_like_python_test_file(match["file"]):
            name, bracket, params = key.partition("[")
            return f"{relative_path(match['file'])}::{name.replace('.', '::')}{bracket}{params}"
    return key


def _looks_like_python_test_file(path: str) -> bool:
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    return base.startswith("test_") or base.endswith("_test.py")


RUNNER = Runner("pytest", _SIGNALS, _MARKERS, parse, list_tests)
