"""CI job logs -> a compact list of test failures for Claude.

A GitHub Actions job log is the runner's output with a timestamp on every line, ANSI
colours and `##[group]` markers. `parse_log` cleans it, recognises the test runner
(pytest, ExUnit, Jest, Vitest, go test, cargo test) and extracts each failing test with
its location, message and a short traceback. For any other output it keeps an excerpt
of the lines around error markers near the end of the log.

Logs can be huge (a chatty test suite easily writes tens of megabytes), so nothing here
runs a regex over the whole of a large log: `parse_log` keeps the head and the tail of
the log plus windows around the runner's failure markers, found with `str.find`, and
parses only that bounded view. `render` (in `report_text`) applies the hard byte cap.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice, pairwise

from bot.checks.report_text import DEFAULT_MAX_BYTES, Failure, ParsedLog, render, truncate_utf8

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Failure",
    "ParsedLog",
    "clean_log",
    "failure_signature",
    "parse_log",
    "render",
    "truncate_utf8",
]

_FULL_PARSE_CHARS = 2_000_000
_HEAD_CHARS = 200_000
_TAIL_CHARS = 1_000_000
_MIDDLE_BUDGET_CHARS = 1_000_000
_WINDOW_REACH_CHARS = 20_000
_MAX_HITS_PER_MARKER = 2_000
_MAX_LINE_CHARS = 2_000
_MAX_FAILURES = 300
_MESSAGE_MAX_LINES = 12
_MESSAGE_MAX_CHARS = 2_000
_TRACEBACK_MAX_LINES = 15
_TRACEBACK_MAX_CHARS = 2_000
_BLOCK_MAX_LINES = 400
_EXCERPT_SCAN_LINES = 3_000
_EXCERPT_MAX_LINES = 150
_EXCERPT_FALLBACK_LINES = 40
_EXCERPT_CONTEXT_BEFORE = 2
_EXCERPT_CONTEXT_AFTER = 3

_GAP = "[… log lines skipped …]"
"""Stands where the bounded view left part of the log out; parsers end a block on it."""


# ---------------------------------------------------------------------------- cleaning

_TIMESTAMP = re.compile(r"^\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?", re.M)
_ANSI = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_DROPPED_ACTIONS_LINE = re.compile(r"^##\[(?:endgroup|debug)\].*(?:\n|\Z)", re.M)
_ACTIONS_MARKER = re.compile(r"^##\[(group|error|warning|notice|command)\]", re.M)
_ACTIONS_MARKER_TEXT = {"error": "Error: ", "warning": "Warning: ", "notice": "Notice: "}


def clean_log(text: str) -> str:
    """Strip Actions timestamps, ANSI colour codes and `##[group]`-style markers.

    `##[group]Title` keeps its title, `##[endgroup]` and `##[debug]` lines go, and
    `##[error]X` reads `Error: X` as on GitHub's log page.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = _TIMESTAMP.sub("", text)
    text = _ANSI.sub("", text)
    text = _DROPPED_ACTIONS_LINE.sub("", text)
    return _ACTIONS_MARKER.sub(lambda m: _ACTIONS_MARKER_TEXT.get(m[1], ""), text)


# ------------------------------------------------------------------------- entry points


def parse_log(text: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedLog:
    """Detect the test runner in a CI log and extract its failures.

    `max_bytes` is the cap `render(parsed)` applies. When a known runner yields no
    failures (a crash before any test ran, say), the excerpt is filled as for an
    unknown runner, so the report is never empty-handed.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    view, runner = _bounded_view(text)
    cleaned = clean_log(view)
    runner = runner or _detect_runner(cleaned)
    lines = [_cap_line(line) for line in cleaned.split("\n")]
    parse = _PARSERS.get(runner)
    failures, summary = parse(lines) if parse else ([], None)
    unique = _unique_failures(failures)
    kept = tuple(unique[:_MAX_FAILURES])
    excerpt = "" if kept else _excerpt(lines)
    return ParsedLog(
        runner=runner,
        failures=kept,
        summary=summary,
        excerpt=excerpt,
        omitted_failures=len(unique) - len(kept),
        max_bytes=max_bytes,
    )


def failure_signature(parsed: ParsedLog) -> str:
    """A stable hash of the failures, blind to timings, addresses and temp paths.

    Two runs whose failing tests fail with the same messages get the same signature,
    which is how the fix loop notices that a fix changed nothing (a stall). Without
    parsed failures the normalized excerpt stands in for them.
    """
    if parsed.failures:
        items = sorted({(_normalize(f.test_id), _normalize(f.message)) for f in parsed.failures})
        payload = "\n".join(f"{test_id}\x1f{message}" for test_id, message in items)
    else:
        payload = "\n".join(_normalize(line) for line in parsed.excerpt.splitlines())
    digest = hashlib.sha256(f"{parsed.runner}\x1e{payload}".encode())
    return digest.hexdigest()


# ----------------------------------------------------------------- bounded view of a log

_STRONG_MARKERS: dict[str, tuple[tuple[str, int, int], ...]] = {
    # (marker, lines kept before it, lines kept after it)
    "pytest": (("= FAILURES =", 0, 200), ("= ERRORS =", 0, 200), ("_____ ", 0, 80)),
    "exunit": ((") test ", 0, 40), (") doctest ", 0, 40), (") property ", 0, 40)),
    "jest": (("●", 0, 60), ("FAIL ", 0, 2)),
    "vitest": ((" FAIL ", 0, 40), ("×", 0, 2)),
    "go": (("--- FAIL:", 40, 40), ("panic: ", 5, 40), ("[build failed]", 20, 0)),
    "cargo": (("---- ", 0, 60), ("panicked at", 3, 20), ("error[E", 0, 20)),
}


def _bounded_view(text: str) -> tuple[str, str | None]:
    """The whole log if small; else its head, tail and windows around failure markers.

    For a large log the runner is detected from head and tail (where its banner and
    summary are) and returned too; only that runner's markers are searched in the
    middle, with `str.find`.
    """
    if len(text) <= _FULL_PARSE_CHARS:
        return text, None
    head_end = _cut_after_newline(text, _HEAD_CHARS)
    tail_start = _cut_after_newline(text, len(text) - _TAIL_CHARS)
    head, tail = text[:head_end], text[tail_start:]
    runner = _detect_runner(clean_log(head + "\n" + tail))
    windows = _marker_windows(text, head_end, tail_start, _STRONG_MARKERS.get(runner, ()))
    pieces = [head.rstrip("\n")]
    for start, end in windows:
        pieces += [_GAP, text[start:end].rstrip("\n")]
    pieces += [_GAP, tail]
    return "\n".join(pieces), runner


def _marker_windows(
    text: str, start: int, end: int, markers: Iterable[tuple[str, int, int]]
) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for marker, before, after in markers:
        position = text.find(marker, start, end)
        hits = 0
        while position != -1 and hits < _MAX_HITS_PER_MARKER:
            span = (
                _lines_back(text, position, before, start),
                _lines_forward(text, position, after, end),
            )
            spans.append(span)
            hits += 1
            position = text.find(marker, max(span[1], position + len(marker)), end)
    return _within_budget(_merged(spans), _MIDDLE_BUDGET_CHARS)


def _lines_back(text: str, position: int, count: int, floor: int) -> int:
    floor = max(floor, position - _WINDOW_REACH_CHARS)
    line_start = text.rfind("\n", floor, position) + 1 or floor
    for _ in range(count):
        if line_start <= floor:
            break
        line_start = text.rfind("\n", floor, line_start - 1) + 1 or floor
    return line_start


def _lines_forward(text: str, position: int, count: int, ceiling: int) -> int:
    ceiling = min(ceiling, position + _WINDOW_REACH_CHARS)
    line_end = position
    for _ in range(count + 1):
        newline = text.find("\n", line_end, ceiling)
        if newline == -1:
            return ceiling
        line_end = newline + 1
    return line_end


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _within_budget(spans: list[tuple[int, int]], budget: int) -> list[tuple[int, int]]:
    kept = []
    for start, end in spans:
        if end - start > budget:
            break
        kept.append((start, end))
        budget -= end - start
    return kept


def _cut_after_newline(text: str, position: int) -> int:
    """`position` moved just past the next newline, unless that is too far away."""
    newline = text.find("\n", position, position + _MAX_LINE_CHARS)
    return newline + 1 if newline != -1 else position


def _cap_line(line: str) -> str:
    return line if len(line) <= _MAX_LINE_CHARS else line[:_MAX_LINE_CHARS] + "…"


# ---------------------------------------------------------------------- runner detection

_RUNNER_SIGNALS: tuple[tuple[str, int, re.Pattern[str]], ...] = (
    ("pytest", 5, re.compile(r"^=+ test session starts =+$", re.M)),
    ("pytest", 4, re.compile(r"^=+ (?:FAILURES|ERRORS|short test summary info) =+$", re.M)),
    ("pytest", 2, re.compile(r"^(?:FAILED|ERROR) \S+\.py\b", re.M)),
    ("pytest", 4, re.compile(r"^=*\s*\d+ (?:failed|passed|errors?)\b[^\n]* in [\d.]+s\b", re.M)),
    ("exunit", 3, re.compile(r"^ +\d+\) (?:test|doctest|property) [^\n]+ \([\w.]+\)$", re.M)),
    (
        "exunit",
        5,
        re.compile(r"^\d+ (?:doctests?|propert(?:y|ies)|tests?), [^\n]*\d+ failures?", re.M),
    ),
    ("exunit", 2, re.compile(r"^Finished in [\d.]+ seconds", re.M)),
    ("jest", 5, re.compile(r"^Test Suites: ", re.M)),
    ("jest", 3, re.compile(r"^ *● ", re.M)),
    ("jest", 2, re.compile(r"^Ran all test suites", re.M)),
    ("vitest", 5, re.compile(r"^ *RUN +v\d+\.\d+", re.M)),
    ("vitest", 5, re.compile(r"^ *Test Files +\d+", re.M)),
    ("vitest", 3, re.compile(r"^ *FAIL +\S+ > ", re.M)),
    ("vitest", 2, re.compile(r"⎯ Failed (?:Tests|Suites) \d+ ⎯")),
    ("go", 4, re.compile(r"^\s*--- FAIL: \S+ \(", re.M)),
    ("go", 4, re.compile(r"^(?:FAIL|ok)\s+\S+\s+(?:[\d.]+s|\(cached\)|\[build failed\])", re.M)),
    ("go", 1, re.compile(r"^=== RUN\s", re.M)),
    ("cargo", 5, re.compile(r"^test result: (?:FAILED|ok)\.", re.M)),
    ("cargo", 3, re.compile(r"^---- [^\n]+ stdout ----$", re.M)),
    ("cargo", 2, re.compile(r"^running \d+ tests?$", re.M)),
    ("cargo", 4, re.compile(r"^error: could not compile `", re.M)),
)
_SIGNAL_COUNT_LIMIT = 3
_MIN_RUNNER_SCORE = 4
_DETECT_HEAD_CHARS = 100_000
_DETECT_TAIL_CHARS = 400_000


def _detect_runner(text: str) -> str:
    """The runner whose banner, block and summary lines show up most, or "unknown".

    Only the start and the end of the text are looked at: that is where runners print
    their banner and their summary, and it keeps detection cheap on big logs.
    """
    if len(text) > _DETECT_HEAD_CHARS + _DETECT_TAIL_CHARS:
        text = text[:_DETECT_HEAD_CHARS] + "\n" + text[-_DETECT_TAIL_CHARS:]
    scores: dict[str, int] = {}
    for runner, weight, pattern in _RUNNER_SIGNALS:
        count = sum(1 for _ in islice(pattern.finditer(text), _SIGNAL_COUNT_LIMIT))
        scores[runner] = scores.get(runner, 0) + weight * count
    best = max(scores, key=lambda runner: scores[runner])
    return best if scores[best] >= _MIN_RUNNER_SCORE else "unknown"


# ---------------------------------------------------------------------- shared helpers

_WORKSPACE_PREFIX = re.compile(
    r"^(?:file://)?(?:/home/runner/work|/Users/runner/work|[A-Za-z]:[\\/]a)[\\/][^\\/]+[\\/][^\\/]+[\\/]"
)
_VENDOR_PATH_PARTS = (
    "node_modules",
    "site-packages",
    "/rustc/",
    "/.cargo/registry/",
    "/src/runtime/",
    "/src/testing/",
    "node:internal",
)
_CODE_FRAME_LINE = re.compile(r"^\s*>?\s*\d*\s?\|")


def _relative_path(path: str) -> str:
    path = _WORKSPACE_PREFIX.sub("", path)
    return path[2:] if path.startswith("./") else path


def _is_vendor_path(path: str) -> bool:
    return any(part in path for part in _VENDOR_PATH_PARTS)


def _trim_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _clip(lines: list[str], max_lines: int, max_chars: int, *, keep_tail: bool = False) -> str:
    """Join `lines` (dedented, blank edges trimmed), keeping at most so many lines and chars."""
    lines = _trim_blank(textwrap.dedent("\n".join(line.rstrip() for line in lines)).split("\n"))
    if len(lines) > max_lines:
        lines = lines[-max_lines:] if keep_tail else lines[:max_lines]
    text = "\n".join(lines)
    if len(text) <= max_chars:
        return text
    return "…" + text[-max_chars:] if keep_tail else text[:max_chars] + "…"


def _message(lines: list[str]) -> str:
    return _clip(lines, _MESSAGE_MAX_LINES, _MESSAGE_MAX_CHARS)


def _traceback(lines: list[str]) -> str:
    return _clip(lines, _TRACEBACK_MAX_LINES, _TRACEBACK_MAX_CHARS)


def _unique_failures(failures: list[Failure]) -> list[Failure]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for failure in failures:
        key = (failure.test_id, failure.message)
        if key not in seen:
            seen.add(key)
            unique.append(failure)
    return unique


def _blocks(
    lines: list[str], starts: Callable[[str], re.Match[str] | None], ends: Callable[[str], bool]
) -> list[tuple[re.Match[str], list[str]]]:
    """Split lines into (header match, body lines) blocks; a body stops at `ends` or a gap."""
    blocks: list[tuple[re.Match[str], list[str]]] = []
    body: list[str] | None = None
    for line in lines:
        header = starts(line)
        if header:
            body = []
            blocks.append((header, body))
        elif body is not None:
            if line == _GAP or ends(line):
                body = None
            elif len(body) < _BLOCK_MAX_LINES:
                body.append(line)
    return blocks


# ------------------------------------------------------------------------------- pytest

_PYTEST_SECTION = re.compile(r"^=+ (?P<title>.+?) =+$")
_PYTEST_HEADER = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$")
_PYTEST_SUMMARY_ITEM = re.compile(
    r"^(?P<kind>FAILED|ERROR) (?P<nodeid>[^\s\[]*(?:\.py|::)[^\s\[]*(?:\[.*?\])?)"
    r"(?: - (?P<message>.*))?$"
)
_PYTEST_LOCATION = re.compile(r"^(?P<file>[^\s:][^:]*?\.py):(?P<line>\d+):(?: (?P<what>.*))?$")
_PYTEST_CLOSING = re.compile(
    r"^=*\s*(?P<text>(?:\d+ (?:failed|passed|errors?|skipped|deselected|xfailed|xpassed"
    r"|warnings?|rerun)\b.*?|no tests ran) in [\d.]+s\b.*?)\s*=*$"
)
_PYTEST_BLOCK_PREFIXES = ("ERROR collecting ", "ERROR at setup of ", "ERROR at teardown of ")


def _parse_pytest(lines: list[str]) -> tuple[list[Failure], str | None]:
    blocks: list[tuple[str, list[str]]] = []
    summary_items: list[tuple[str, str]] = []
    summary = None
    section = ""
    body: list[str] | None = None
    for line in lines:
        if line == _GAP:
            body = None
            continue
        heading = _PYTEST_SECTION.match(line)
        if heading:
            section, body = heading["title"], None
            closing = _PYTEST_CLOSING.match(line)
            summary = closing["text"] if closing else summary
            continue
        if section in ("FAILURES", "ERRORS"):
            header = _PYTEST_HEADER.match(line)
            if header:
                body = []
                blocks.append((header["name"], body))
            elif body is not None and len(body) < _BLOCK_MAX_LINES:
                body.append(line)
            continue
        item = _PYTEST_SUMMARY_ITEM.match(line)
        if item:
            summary_items.append((item["nodeid"], item["message"] or ""))
            continue
        closing = _PYTEST_CLOSING.match(line)
        if closing:
            summary = closing["text"]
    return _pytest_failures(blocks, summary_items), summary


def _pytest_failures(
    blocks: list[tuple[str, list[str]]], summary_items: list[tuple[str, str]]
) -> list[Failure]:
    """Sections give location and message; the short summary gives full node ids."""
    nodeids_by_key: dict[str, list[str]] = {}
    for nodeid, _ in summary_items:
        nodeids_by_key.setdefault(_pytest_key_of_nodeid(nodeid), []).append(nodeid)
    failures = []
    described: set[str] = set()
    for name, body in blocks:
        key = _pytest_key_of_header(name)
        candidates = nodeids_by_key.get(key)
        nodeid = candidates.pop(0) if candidates else _pytest_guess_nodeid(key, body)
        described.add(nodeid)
        failures.append(_pytest_block_failure(nodeid, body))
    for nodeid, message in summary_items:
        if nodeid not in described:
            described.add(nodeid)
            failures.append(Failure(nodeid, nodeid.split("::")[0], None, message))
    return failures


def _pytest_block_failure(nodeid: str, body: list[str]) -> Failure:
    error_lines = [line[1:] for line in body if line.startswith("E ") or line == "E"]
    locations = [m for m in map(_PYTEST_LOCATION.match, body) if m]
    crash = next((m for m in reversed(locations) if _pytest_is_crash_line(m)), None)
    crash = crash or (locations[-1] if locations else None)
    message_lines = error_lines or [line for line in body if line.strip()][:1]
    relevant = [line for line in body if line.startswith(">") or _PYTEST_LOCATION.match(line)]
    return Failure(
        test_id=nodeid,
        file=_relative_path(crash["file"]) if crash else nodeid.split("::")[0],
        line=int(crash["line"]) if crash else None,
        message=_message(message_lines),
        traceback=_clip(relevant, _TRACEBACK_MAX_LINES, _TRACEBACK_MAX_CHARS, keep_tail=True),
    )


def _pytest_is_crash_line(location: re.Match[str]) -> bool:
    what = location["what"] or ""
    return bool(what) and not what.startswith("in ")


def _pytest_key_of_header(name: str) -> str:
    for prefix in _PYTEST_BLOCK_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _pytest_key_of_nodeid(nodeid: str) -> str:
    path, separator, rest = nodeid.partition("::")
    return rest.replace("::", ".") if separator else path


def _pytest_guess_nodeid(key: str, body: list[str]) -> str:
    """Without a short summary, rebuild `path::Class::test` from the block's first test file."""
    if key.endswith(".py"):
        return key
    for match in map(_PYTEST_LOCATION.match, body):
        if match and _looks_like_python_test_file(match["file"]):
            name, bracket, params = key.partition("[")
            return f"{_relative_path(match['file'])}::{name.replace('.', '::')}{bracket}{params}"
    return key


def _looks_like_python_test_file(path: str) -> bool:
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    return base.startswith("test_") or base.endswith("_test.py")


# ------------------------------------------------------------------------------- ExUnit

_EXUNIT_HEADER = re.compile(r"^ {2,3}(?P<number>\d+)\) (?P<title>.+)$")
_EXUNIT_TITLE = re.compile(r"^(?P<kind>test|doctest|property) (?P<name>.+) \((?P<module>[\w.]+)\)$")
_EXUNIT_LOCATION = re.compile(r"^\s+(?P<file>\S+\.exs?):(?P<line>\d+)$")
_EXUNIT_CLOSING = re.compile(r"^\d+ (?:doctests?|propert(?:y|ies)|tests?),.*\b\d+ failures?\b.*$")


def _parse_exunit(lines: list[str]) -> tuple[list[Failure], str | None]:
    blocks = _blocks(lines, _EXUNIT_HEADER.match, _exunit_block_ends)
    failures = [_exunit_failure(header["title"], body) for header, body in blocks]
    summary = next((line for line in reversed(lines) if _EXUNIT_CLOSING.match(line)), None)
    return failures, summary


def _exunit_block_ends(line: str) -> bool:
    return bool(line.strip()) and not line.startswith("   ")


def _exunit_failure(title: str, body: list[str]) -> Failure:
    parsed_title = _EXUNIT_TITLE.match(title)
    test_id = (
        f"{parsed_title['module']}: {parsed_title['kind']} {parsed_title['name']}"
        if parsed_title
        else title
    )
    body = _trim_blank(body)
    location = _EXUNIT_LOCATION.match(body[0]) if body else None
    if location:
        body = body[1:]
    split = next((i for i, line in enumerate(body) if line.strip() == "stacktrace:"), len(body))
    return Failure(
        test_id=test_id,
        file=location["file"] if location else None,
        line=int(location["line"]) if location else None,
        message=_message(body[:split]),
        traceback=_traceback(body[split + 1 :]),
    )


# --------------------------------------------------------------------------------- Jest

_JEST_FILE = re.compile(r"^\s*(?P<status>FAIL|PASS)\s+(?P<file>\S+)(?:\s+\([^)]*\))?\s*$")
_JEST_BLOCK = re.compile(r"^\s*● (?P<title>.+)$")
_JEST_FRAME = re.compile(r"^\s*at (?:.*? \()?(?P<file>[^\s()]+?):(?P<line>\d+):(?P<column>\d+)\)?$")
_JEST_TREE_LINE = re.compile(
    r"^(?P<indent> +)(?P<mark>[✓✕○✎] )?(?P<name>\S.*?)(?: \(\d+(?:\.\d+)? ?m?s\))?$"
)
_JEST_SUMMARY = re.compile(r"^(?P<label>Test Suites|Tests):\s+(?P<text>.+)$")
_JEST_BLOCK_END = ("Test Suites:", "Summary of all failing tests")
_JEST_SUITE_FAILED = "Test suite failed to run"


def _parse_jest(lines: list[str]) -> tuple[list[Failure], str | None]:
    failures: list[Failure] = []
    current_file: str | None = None
    block: tuple[str, list[str]] | None = None
    summaries: dict[str, str] = {}
    for line in lines:
        file_line = _JEST_FILE.match(line)
        header = _JEST_BLOCK.match(line)
        if block and (file_line or header or line == _GAP or line.startswith(_JEST_BLOCK_END)):
            failures.append(_jest_failure(*block, current_file))
            block = None
        if file_line:
            current_file = file_line["file"]
        elif header:
            block = (header["title"], [])
        elif block and len(block[1]) < _BLOCK_MAX_LINES:
            block[1].append(line)
        elif summary := _JEST_SUMMARY.match(line):
            summaries[summary["label"]] = " ".join(summary["text"].split())
    if block:
        failures.append(_jest_failure(*block, current_file))
    summary_text = "; ".join(f"{label}: {text}" for label, text in sorted(summaries.items()))
    return failures or _jest_crossed(lines), summary_text or None


def _jest_crossed(lines: list[str]) -> list[Failure]:
    """Failures from the `✕` lines of Jest's test tree, for logs cut before the `●` details.

    The tree follows a file's `FAIL` line up to the first blank line; describe blocks are
    the unmarked lines, nested by indentation.
    """
    failures = []
    file = None
    describes: list[tuple[int, str]] = []
    in_tree = False
    for line in lines:
        if file_line := _JEST_FILE.match(line):
            file, describes, in_tree = file_line["file"], [], True
            continue
        tree_line = _JEST_TREE_LINE.match(line) if in_tree else None
        if not tree_line:
            in_tree = False
            continue
        indent = len(tree_line["indent"])
        describes = [(level, name) for level, name in describes if level < indent]
        if tree_line["mark"] == "✕ ":
            test_id = " > ".join([*(name for _, name in describes), tree_line["name"]])
            failures.append(Failure(test_id, file, None, ""))
        elif not tree_line["mark"]:
            describes.append((indent, tree_line["name"]))
    return failures


def _split_at_frames(body: list[str], frame: re.Pattern[str]) -> tuple[int, re.Match[str] | None]:
    """Where a JS runner's failure message ends (its code frame or first stack frame), and the
    first stack frame in the project's own code rather than in node_modules."""
    split = next((i for i, line in enumerate(body) if _CODE_FRAME_LINE.match(line) or frame.match(line)), len(body))
    frames = [m for m in map(frame.match, body[split:]) if m]
    return split, next((m for m in frames if not _is_vendor_path(m["file"])), None)


def _jest_failure(title: str, body: list[str], current_file: str | None) -> Failure:
    split, own = _split_at_frames(body, _JEST_FRAME)
    if title == _JEST_SUITE_FAILED:
        test_id = current_file or title
    else:
        test_id = title.replace(" › ", " > ")
    return Failure(
        test_id=test_id,
        file=_relative_path(own["file"]) if own else current_file,
        line=int(own["line"]) if own else None,
        message=_message(body[:split]),
        traceback=_traceback([line for line in body[split:] if line.strip()]),
    )


# ------------------------------------------------------------------------------- Vitest

_VITEST_FAIL = re.compile(r"^\s*FAIL\s+(?:\|[^|]+\|\s+)?(?P<target>\S.*?)\s*$")
_VITEST_SEPARATOR = re.compile(r"^\s*⎯{2,}")
_VITEST_FRAME = re.compile(r"^\s*❯ (?:\S+ )?(?P<file>[^\s]+?):(?P<line>\d+):(?P<column>\d+)$")
_VITEST_CROSS = re.compile(r"^\s*× (?P<name>.+?)(?: \d+(?:\.\d+)?ms)?$")
_VITEST_ARROW = re.compile(r"^\s*→ (?P<message>.+)$")
_VITEST_FILE_HEADER = re.compile(r"^\s*❯ (?P<file>\S+) \(\d+ tests?")
_VITEST_SUMMARY = re.compile(r"^\s*(?P<label>Test Files|Tests)\s{2,}(?P<text>\S.*)$")


def _parse_vitest(lines: list[str]) -> tuple[list[Failure], str | None]:
    failures: list[Failure] = []
    targets: list[str] = []
    body: list[str] = []
    crossed = _vitest_crossed(lines)
    summaries: dict[str, str] = {}
    for line in lines:
        target = _VITEST_FAIL.match(line)
        ends_block = line == _GAP or _VITEST_SEPARATOR.match(line) or _VITEST_SUMMARY.match(line)
        if targets and (ends_block or (target and body)):
            failures += [_vitest_failure(t, body) for t in targets]
            targets, body = [], []
        if target:
            targets.append(target["target"])
        elif targets and len(body) < _BLOCK_MAX_LINES:
            body.append(line)
        if summary := _VITEST_SUMMARY.match(line):
            summaries[summary["label"]] = " ".join(summary["text"].split())
    failures += [_vitest_failure(t, body) for t in targets]
    summary_text = "; ".join(f"{label}: {text}" for label, text in sorted(summaries.items()))
    return failures or crossed, summary_text or None


def _vitest_failure(target: str, body: list[str]) -> Failure:
    file, separator, name = target.partition(" > ")
    if not separator:
        file = file.split(" [ ")[0].strip()
    split, own = _split_at_frames(body, _VITEST_FRAME)
    relevant = [
        line
        for line in body[split:]
        if _CODE_FRAME_LINE.match(line)
        or line.lstrip().startswith("Caused by:")
        or ((frame := _VITEST_FRAME.match(line)) and not _is_vendor_path(frame["file"]))
    ]
    return Failure(
        test_id=name or file,
        file=_relative_path(own["file"]) if own else file,
        line=int(own["line"]) if own else None,
        message=_message(body[:split]),
        traceback=_traceback(relevant),
    )


def _vitest_crossed(lines: list[str]) -> list[Failure]:
    """Failures from the `×` result lines, for logs cut before the error details."""
    failures = []
    file = None
    pending: str | None = None
    for line in lines:
        if header := _VITEST_FILE_HEADER.match(line):
            file = header["file"]
        elif cross := _VITEST_CROSS.match(line):
            if pending is not None:
                failures.append(Failure(pending, file, None, ""))
            pending = cross["name"]
        elif pending is not None:
            arrow = _VITEST_ARROW.match(line)
            failures.append(Failure(pending, file, None, arrow["message"] if arrow else ""))
            pending = None
    if pending is not None:
        failures.append(Failure(pending, file, None, ""))
    return failures


# ---------------------------------------------------------------------------------- go

_GO_RUN = re.compile(r"^=== (?:RUN|CONT|PAUSE|NAME)\s+(?P<name>\S+)$")
_GO_RESULT = re.compile(r"^\s*--- (?P<status>FAIL|PASS|SKIP): (?P<name>\S+) \([\d.]+s\)$")
_GO_OUTPUT = re.compile(r"^(?P<indent>\s+)(?P<file>[\w.\-/]+\.go):(?P<line>\d+): (?P<message>.*)$")
_GO_PACKAGE = re.compile(r"^(?P<status>FAIL|ok)\s+(?P<package>\S+)(?:\s+(?P<rest>.+?))?\s*$")
_GO_BUILD_HEADER = re.compile(r"^# (?P<package>\S+)")
_GO_COMPILE_ERROR = re.compile(r"^(?P<file>\S+\.go):(?P<line>\d+)(?::\d+)?: (?P<message>.+)$")
_GO_PANIC = re.compile(r"^panic: (?P<message>.+?)(?: \[recovered\])?$")
_GO_FRAME = re.compile(r"^\s+(?P<file>\S+\.go):(?P<line>\d+)(?: \+0x[0-9a-f]+)?$")
_GO_OUTPUT_LINES_PER_TEST = 40
_GO_PANIC_LINES = 200
_GO_AFTER_PANIC = ("FAIL", "ok ", "ok\t", "PASS", "--- ", "=== ", "exit status", "# ")


@dataclass
class _GoTest:
    name: str
    output: list[tuple[str, int, str]] = field(default_factory=list)
    """(file, line, message) of each `t.Error`/`t.Log` line, continuation lines folded in."""
    indent: int = 0
    panic: str = ""
    panic_frames: list[str] = field(default_factory=list)


def _parse_go(lines: list[str]) -> tuple[list[Failure], str | None]:
    tests: dict[str, _GoTest] = {}
    failed: dict[str, None] = {}
    build_failures: list[Failure] = []
    package_results: list[str] = []
    current: _GoTest | None = None
    build_package: str | None = None
    panicking: _GoTest | None = None
    for line in lines:
        if panicking is not None:
            if _go_panic_continues(line):
                if len(panicking.panic_frames) < _GO_PANIC_LINES:
                    panicking.panic_frames.append(line)
                continue
            panicking = None
        if line == _GAP:
            current = build_package = None
        elif run := _GO_RUN.match(line):
            current = tests.setdefault(run["name"], _GoTest(run["name"]))
        elif result := _GO_RESULT.match(line):
            current = tests.setdefault(result["name"], _GoTest(result["name"]))
            if result["status"] == "FAIL":
                failed[result["name"]] = None
        elif output := _GO_OUTPUT.match(line):
            if current is not None and len(current.output) < _GO_OUTPUT_LINES_PER_TEST:
                current.indent = len(output["indent"].expandtabs())
                current.output.append((output["file"], int(output["line"]), output["message"]))
        elif current is not None and current.output and _go_is_continuation(line, current):
            file, number, message = current.output[-1]
            current.output[-1] = (file, number, f"{message}\n{line.strip()}")
        elif panic := _GO_PANIC.match(line):
            panicking = current or tests.setdefault("panic", _GoTest("panic"))
            panicking.panic = panicking.panic or f"panic: {panic['message']}"
            failed[panicking.name] = None
        elif header := _GO_BUILD_HEADER.match(line):
            build_package = header["package"]
        elif build_package and (error := _GO_COMPILE_ERROR.match(line)):
            build_failures.append(_go_build_failure(build_package, error))
        elif _GO_PACKAGE.match(line):
            current = build_package = None
            package_results.append(" ".join(line.split()))
    failures = _go_build_failures_with_unexplained(build_failures, package_results)
    return failures + _go_test_failures(tests, failed), _go_summary(package_results)


def _go_panic_continues(line: str) -> bool:
    """Goroutine dumps run until the package result or the next test's output."""
    return line != _GAP and not line.startswith(_GO_AFTER_PANIC)


def _go_is_continuation(line: str, test: _GoTest) -> bool:
    stripped = line.lstrip()
    return bool(stripped) and len(line[: len(line) - len(stripped)].expandtabs()) > test.indent


def _go_build_failure(package: str, error: re.Match[str]) -> Failure:
    return Failure(
        test_id=f"{package} [build failed]",
        file=_relative_path(error["file"]),
        line=int(error["line"]),
        message=error["message"],
    )


def _go_build_failures_with_unexplained(
    build_failures: list[Failure], package_results: list[str]
) -> list[Failure]:
    """Compile errors, and a bare entry for each `[build failed]` package without them."""
    explained = {failure.test_id for failure in build_failures}
    unexplained = [
        Failure(test_id, None, None, "build failed")
        for result in package_results
        if result.startswith("FAIL ")
        and result.endswith(" [build failed]")
        and (test_id := result.removeprefix("FAIL ")) not in explained
    ]
    return build_failures + unexplained


def _go_test_failures(tests: dict[str, _GoTest], failed: dict[str, None]) -> list[Failure]:
    """Failed tests, leaving out parents that failed only because a subtest did."""
    parents = {name.rsplit("/", 1)[0] for name in failed if "/" in name}
    failures = []
    for name in failed:
        test = tests.get(name) or _GoTest(name)
        if name in parents and not test.output and not test.panic:
            continue
        failures.append(_go_failure(test))
    return failures


def _go_failure(test: _GoTest) -> Failure:
    messages = [test.panic] if test.panic else []
    for index, (file, number, message) in enumerate(test.output):
        messages.append(message if index == 0 and not test.panic else f"{file}:{number}: {message}")
    location = _go_location(test)
    return Failure(
        test_id=test.name,
        file=location[0],
        line=location[1],
        message=_message(messages),
        traceback=_traceback(_go_own_frames(test.panic_frames)),
    )


def _go_location(test: _GoTest) -> tuple[str | None, int | None]:
    """Where a panic happened in the project's code, else the first reported message."""
    frames = [m for m in map(_GO_FRAME.match, test.panic_frames) if m]
    own = next((m for m in frames if not _is_vendor_path(m["file"])), None)
    if own:
        return _relative_path(own["file"]), int(own["line"])
    if test.output:
        return test.output[0][0], test.output[0][1]
    return None, None


def _go_own_frames(panic_lines: list[str]) -> list[str]:
    """Function/location pairs of the panic's goroutine outside the runtime and testing."""
    kept = []
    for function, location in pairwise(panic_lines):
        frame = _GO_FRAME.match(location)
        if frame and not function.startswith("\t") and not _is_vendor_path(frame["file"]):
            kept += [function.strip(), "    " + _relative_path(frame["file"]) + ":" + frame["line"]]
    return kept


def _go_summary(package_results: list[str]) -> str | None:
    failed = [result for result in package_results if result.startswith("FAIL")]
    passed = len(package_results) - len(failed)
    parts = failed[:5] + ([f"… {len(failed) - 5} more failed packages"] if len(failed) > 5 else [])
    if passed:
        parts.append(f"ok: {passed} package{'s' if passed != 1 else ''}")
    return "; ".join(parts) or None


# ------------------------------------------------------------------------------- cargo

_CARGO_RUNNING = re.compile(r"^\s*Running (?:unittests )?(?P<source>\S+) \((?P<binary>[^)]+)\)$")
_CARGO_DOC_TESTS = re.compile(r"^\s*Doc-tests (?P<crate>\S+)$")
_CARGO_BLOCK = re.compile(r"^---- (?P<name>.+?) stdout ----$")
_CARGO_PANIC = re.compile(r"^thread '(?P<thread>[^']*)'(?: \(\d+\))? panicked at (?P<rest>.+)$")
_CARGO_PANIC_LOCATION = re.compile(r"^(?P<file>[^\s']+?):(?P<line>\d+):(?P<column>\d+):$")
_CARGO_OLD_PANIC = re.compile(
    r"^'(?P<message>.*)', (?P<file>\S+?):(?P<line>\d+):(?P<column>\d+)$", re.S
)
_CARGO_TEST_FAILED = re.compile(r"^test (?P<name>\S+) \.\.\. FAILED$")
_CARGO_LISTED_FAILURE = re.compile(r"^    (?P<name>\S+)$")
_CARGO_RESULT = re.compile(
    r"^test result: \w+\. (?P<passed>\d+) passed; (?P<failed>\d+) failed; (?P<ignored>\d+) ignored"
)
_CARGO_ERROR = re.compile(r"^error(?:\[(?P<code>E\d+)\])?: (?P<message>.+)$")
_CARGO_ARROW = re.compile(r"^\s*--> (?P<file>\S+?):(?P<line>\d+):(?P<column>\d+)$")
_CARGO_COULD_NOT_COMPILE = re.compile(
    r"^error: could not compile `(?P<crate>[^`]+)`(?: \((?P<target>[^)]+)\))?"
)
_CARGO_NOT_COMPILE_ERRORS = ("test failed", "could not compile", "build failed")
_CARGO_TARGETS_FAILED = re.compile(r"\d+ targets? failed")
_CARGO_BACKTRACE_AT = re.compile(r"^\s+at (?P<location>\S+?):(?P<line>\d+):\d+$")
_CARGO_BACKTRACE_FUNCTION = re.compile(r"^\s*\d+: (?P<function>.+)$")


def _parse_cargo(lines: list[str]) -> tuple[list[Failure], str | None]:
    failures: list[Failure] = []
    failed_names: dict[str, None] = {}
    results: list[tuple[str, re.Match[str]]] = []
    compile_errors: list[tuple[str, list[str]]] = []
    crate: str | None = None
    in_failure_list = False
    block: tuple[str, list[str]] | None = None
    error: tuple[str, list[str]] | None = None
    build_summary = None
    for line in lines:
        if block and _cargo_block_ends(line):
            failures.append(_cargo_failure(_cargo_test_id(crate, block[0]), block[1]))
            block = None
        if error and (not line.strip() or line == _GAP or line.startswith(("error", "warning"))):
            compile_errors.append(error)
            error = None
        listed = _CARGO_LISTED_FAILURE.match(line) if in_failure_list else None
        in_failure_list = line == "failures:" or listed is not None
        if listed:
            failed_names.setdefault(_cargo_test_id(crate, listed["name"]), None)
        elif running := _CARGO_RUNNING.match(line):
            crate = _cargo_crate(running["binary"])
        elif _CARGO_DOC_TESTS.match(line):
            crate = None
        elif header := _CARGO_BLOCK.match(line):
            block = (header["name"], [])
        elif block:
            if len(block[1]) < _BLOCK_MAX_LINES:
                block[1].append(line)
        elif failed := _CARGO_TEST_FAILED.match(line):
            failed_names.setdefault(_cargo_test_id(crate, failed["name"]), None)
        elif result := _CARGO_RESULT.match(line):
            results.append((line, result))
        elif could_not := _CARGO_COULD_NOT_COMPILE.match(line):
            failures += _cargo_build_failures(could_not, compile_errors)
            compile_errors = []
            build_summary = line[len("error: ") :]
        elif (compile_error := _CARGO_ERROR.match(line)) and _cargo_is_compile_error(compile_error):
            error = (line, [])
        elif error and len(error[1]) < _TRACEBACK_MAX_LINES:
            error[1].append(line)
    if block:
        failures.append(_cargo_failure(_cargo_test_id(crate, block[0]), block[1]))
    if error:
        compile_errors.append(error)
    failures += _cargo_build_failures(None, compile_errors)
    described = {failure.test_id for failure in failures}
    failures += [Failure(name, None, None, "") for name in failed_names if name not in described]
    return failures, _cargo_summary(results) or build_summary


def _cargo_block_ends(line: str) -> bool:
    return (
        line == _GAP
        or line == "failures:"
        or line.startswith("test result:")
        or _CARGO_BLOCK.match(line) is not None
    )


def _cargo_crate(binary: str) -> str:
    """The test binary's name without cargo's hash: `deps/stack_rs-65c8…` -> `stack_rs`."""
    name = binary.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".exe")
    return re.sub(r"-[0-9a-f]{8,}$", "", name)


def _cargo_test_id(crate: str | None, name: str) -> str:
    return f"{crate}::{name}" if crate else name


def _cargo_is_compile_error(error: re.Match[str]) -> bool:
    message = error["message"]
    if error["code"]:
        return True
    return not message.startswith(_CARGO_NOT_COMPILE_ERRORS) and not _CARGO_TARGETS_FAILED.match(
        message
    )


def _cargo_failure(test_id: str, body: list[str]) -> Failure:
    found = next(((i, m) for i, line in enumerate(body) if (m := _CARGO_PANIC.match(line))), None)
    if found is None:
        return Failure(test_id, None, None, _message([line for line in body if line.strip()]))
    panic_index, panic = found
    rest = body[panic_index + 1 :]
    location = _CARGO_PANIC_LOCATION.match(panic["rest"])
    message_lines: list[str]
    if location:
        message_lines = _cargo_panic_message(rest)
    else:
        location, message_lines = _cargo_old_panic(panic["rest"], rest)
    return Failure(
        test_id=test_id,
        file=_relative_path(location["file"]) if location else None,
        line=int(location["line"]) if location else None,
        message=_message(message_lines),
        traceback=_traceback(_cargo_own_frames(rest)),
    )


def _cargo_panic_message(lines: list[str]) -> list[str]:
    message = []
    for line in lines:
        if line.startswith(("note: ", "stack backtrace:")) or _CARGO_BLOCK.match(line):
            break
        message.append(line)
    return _trim_blank(message)


def _cargo_old_panic(first: str, rest: list[str]) -> tuple[re.Match[str] | None, list[str]]:
    """Rust before 1.73: `panicked at 'message', src/lib.rs:10:5`, message maybe multi-line."""
    candidate = first
    for extra in [None, *rest[:_MESSAGE_MAX_LINES]]:
        if extra is not None:
            candidate = f"{candidate}\n{extra}"
        if old := _CARGO_OLD_PANIC.match(candidate):
            return old, old["message"].split("\n")
    return None, [first]


def _cargo_own_frames(lines: list[str]) -> list[str]:
    frames = []
    function = None
    for line in lines:
        if named := _CARGO_BACKTRACE_FUNCTION.match(line):
            function = named["function"]
        elif (
            (at := _CARGO_BACKTRACE_AT.match(line))
            and function
            and not _is_vendor_path(at["location"])
        ):
            frames.append(f"{function} at {_relative_path(at['location'])}:{at['line']}")
    return frames


def _cargo_build_failures(
    could_not: re.Match[str] | None, errors: list[tuple[str, list[str]]]
) -> list[Failure]:
    if could_not:
        target = f" ({could_not['target']})" if could_not["target"] else ""
        test_id = f"{could_not['crate']}{target} [build failed]"
    else:
        test_id = "[build failed]"
    failures = []
    for first, snippet in errors:
        arrow = next((m for m in map(_CARGO_ARROW.match, snippet[:2]) if m), None)
        failures.append(
            Failure(
                test_id=test_id,
                file=_relative_path(arrow["file"]) if arrow else None,
                line=int(arrow["line"]) if arrow else None,
                message=first,
                traceback=_traceback(snippet),
            )
        )
    return failures


def _cargo_summary(results: list[tuple[str, re.Match[str]]]) -> str | None:
    if len(results) == 1:
        return results[0][0]
    if not results:
        return None
    passed, failed, ignored = (
        sum(int(match[key]) for _, match in results) for key in ("passed", "failed", "ignored")
    )
    return f"{failed} failed; {passed} passed; {ignored} ignored (in {len(results)} test targets)"


# ------------------------------------------------------------------- unknown: an excerpt

_STEP_FAILED = "Process completed with exit code"
_EXCERPT_MARKER = re.compile(r"error|fail|fatal|panic|exception|traceback", re.I)


def _excerpt(lines: list[str]) -> str:
    """The last lines around error/fail markers, each distinct line once; or the log's end.

    Lines after the step's "Process completed with exit code" are the runner's post-job
    cleanup, not the failure, so the excerpt stops there.
    """
    tail = [line for line in _before_post_job(lines[-_EXCERPT_SCAN_LINES:]) if line != _GAP]
    hits = [index for index, line in enumerate(tail) if _EXCERPT_MARKER.search(line)]
    if not hits:
        return "\n".join(_trim_blank(tail)[-_EXCERPT_FALLBACK_LINES:])
    spans = _merged(
        [
            (max(0, i - _EXCERPT_CONTEXT_BEFORE), min(len(tail), i + _EXCERPT_CONTEXT_AFTER + 1))
            for i in hits
        ]
    )
    chosen: list[int] = []
    for start, end in reversed(spans):
        chosen[:0] = range(start, end)
        if len(chosen) >= _EXCERPT_MAX_LINES:
            break
    return "\n".join(_trim_blank(_deduplicated(tail, chosen[-_EXCERPT_MAX_LINES:])))


def _before_post_job(lines: list[str]) -> list[str]:
    for index in range(len(lines) - 1, -1, -1):
        if _STEP_FAILED in lines[index]:
            return lines[: index + 1]
    return lines


def _deduplicated(lines: list[str], indices: list[int]) -> list[str]:
    kept: list[str] = []
    seen: set[str] = set()
    previous = None
    for index in indices:
        line = lines[index].rstrip()
        key = _normalize(line)
        if previous is not None and index != previous + 1 and kept and kept[-1] != "…":
            kept.append("…")
        previous = index
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(line[:500])
    return kept


# --------------------------------------------------------------------- normalization

_NORMALIZERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_ANSI, ""),
    (re.compile(_WORKSPACE_PREFIX.pattern.removeprefix("^(?:file://)?")), ""),
    (
        re.compile(
            r"(?:/tmp|/private/var|/var/folders|/run/user"
            r"|[A-Za-z]:\\Users\\[^\\\s]+\\AppData\\Local\\Temp)[\\/]\S*"
        ),
        "<tmp>",
    ),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?Z?"), "<datetime>"),
    (re.compile(r"\b\d\d:\d\d:\d\d(?:[.,]\d+)?\b"), "<time>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "0x?"),
    (re.compile(r"\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s|sec|secs|seconds|µs|us|ns|m|min)\b"), "<duration>"),
    (re.compile(r"(\.[A-Za-z]\w*):\d+(?::\d+)?"), r"\1:<n>"),
    (re.compile(r"\bline \d+"), "line <n>"),
    (re.compile(r"thread '([^']*)' \(\d+\)"), r"thread '\1'"),
    (re.compile(r"\bgoroutine \d+"), "goroutine <n>"),
    (re.compile(r"\s+"), " "),
)
"""Run-to-run noise. Long hex strings other than addresses and UUIDs are kept: they may
be the very values a test compares (digests, ids), and hiding them could report a stall
where a fix did change the outcome."""


def _normalize(text: str) -> str:
    """Text with run-to-run noise (times, addresses, temp paths, line numbers) replaced."""
    for pattern, replacement in _NORMALIZERS:
        text = pattern.sub(replacement, text)
    return text.strip()


_PARSERS: dict[str, Callable[[list[str]], tuple[list[Failure], str | None]]] = {
    "pytest": _parse_pytest,
    "exunit": _parse_exunit,
    "jest": _parse_jest,
    "vitest": _parse_vitest,
    "go": _parse_go,
    "cargo": _parse_cargo,
}
