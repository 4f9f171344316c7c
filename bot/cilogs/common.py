"""What every runner's parser shares: cleaning an Actions log, the bounded view of a big log,
blocks of lines, clipped messages, the excerpt of an unknown log and the normalization behind
failure signatures.

Logs can be huge (a chatty test suite easily writes tens of megabytes), so nothing here runs a
regex over the whole of a large log: `bounded_view` keeps the head and the tail of the log plus
windows around the runner's failure markers, found with `str.find`, and the parsers see only
that view.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bot.cilogs.report import Failure, ListedTest

FULL_PARSE_CHARS = 2_000_000
_HEAD_CHARS = 200_000
_TAIL_CHARS = 1_000_000
_MIDDLE_BUDGET_CHARS = 1_000_000
_WINDOW_REACH_CHARS = 20_000
_MAX_HITS_PER_MARKER = 2_000
MAX_LINE_CHARS = 2_000
MESSAGE_MAX_LINES = 12
_MESSAGE_MAX_CHARS = 2_000
TRACEBACK_MAX_LINES = 15
TRACEBACK_MAX_CHARS = 2_000
BLOCK_MAX_LINES = 400
_EXCERPT_SCAN_LINES = 3_000
_EXCERPT_MAX_LINES = 150
_EXCERPT_FALLBACK_LINES = 40
_EXCERPT_CONTEXT_BEFORE = 2
_EXCERPT_CONTEXT_AFTER = 3

GAP = "[… log lines skipped …]"
"""Stands where the bounded view left part of the log out; parsers end a block on it."""

Marker = tuple[str, int, int]
"""(text searched with `str.find`, lines kept before it, lines kept after it)."""


@dataclass(frozen=True)
class Runner:
    """A test runner's output format: how to recognise it and how to read it."""

    name: str
    signals: tuple[tuple[int, re.Pattern[str]], ...]
    """(weight, pattern) pairs; the runner whose patterns match most often wins detection."""
    markers: tuple[Marker, ...]
    """Failure markers searched in the middle of a big log."""
    parse: Callable[[list[str]], tuple[list[Failure], str | None]]
    """Cleaned lines -> (failures, summary line)."""
    list_tests: Callable[[list[str]], list[ListedTest]]
    """Cleaned lines -> every test named as having run, duplicates allowed."""


# ---------------------------------------------------------------------------- cleaning

_TIMESTAMP = re.compile(r"^\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?", re.M)
ANSI = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
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
    text = ANSI.sub("", text)
    text = _DROPPED_ACTIONS_LINE.sub("", text)
    return _ACTIONS_MARKER.sub(lambda m: _ACTIONS_MARKER_TEXT.get(m[1], ""), text)


def cap_line(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + "…"


# ----------------------------------------------------------------- bounded view of a log


def bounded_view(
    text: str, detect: Callable[[str], str], markers: Mapping[str, Iterable[Marker]]
) -> tuple[str, str | None]:
    """The whole log if small; else its head, tail and windows around failure markers.

    For a large log the runner is detected from head and tail (where its banner and
    summary are) and returned too; only that runner's markers are searched in the
    middle, with `str.find`.
    """
    if len(text) <= FULL_PARSE_CHARS:
        return text, None
    head_end = _cut_after_newline(text, _HEAD_CHARS)
    tail_start = _cut_after_newline(text, len(text) - _TAIL_CHARS)
    head, tail = text[:head_end], text[tail_start:]
    runner = detect(clean_log(head + "\n" + tail))
    windows = _marker_windows(text, head_end, tail_start, markers.get(runner, ()))
    pieces = [head.rstrip("\n")]
    for start, end in windows:
        pieces += [GAP, text[start:end].rstrip("\n")]
    pieces += [GAP, tail]
    return "\n".join(pieces), runner


def _marker_windows(
    text: str, start: int, end: int, markers: Iterable[Marker]
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
    return _within_budget(merged(spans), _MIDDLE_BUDGET_CHARS)


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


def merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching (start, end) spans joined, in order."""
    result: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


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
    newline = text.find("\n", position, position + MAX_LINE_CHARS)
    return newline + 1 if newline != -1 else position


# ---------------------------------------------------------------------- shared helpers

WORKSPACE_PREFIX = re.compile(
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
CODE_FRAME_LINE = re.compile(r"^\s*>?\s*\d*\s?\|")


def relative_path(path: str) -> str:
    path = WORKSPACE_PREFIX.sub("", path)
    return path[2:] if path.startswith("./") else path


def is_vendor_path(path: str) -> bool:
    return any(part in path for part in _VENDOR_PATH_PARTS)


def trim_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def clip(lines: list[str], max_lines: int, max_chars: int, *, keep_tail: bool = False) -> str:
    """Join `lines` (dedented, blank edges trimmed), keeping at most so many lines and chars."""
    lines = trim_blank(textwrap.dedent("\n".join(line.rstrip() for line in lines)).split("\n"))
    if len(lines) > max_lines:
        lines = lines[-max_lines:] if keep_tail else lines[:max_lines]
    text = "\n".join(lines)
    if len(text) <= max_chars:
        return text
    return "…" + text[-max_chars:] if keep_tail else text[:max_chars] + "…"


def message(lines: list[str]) -> str:
    return clip(lines, MESSAGE_MAX_LINES, _MESSAGE_MAX_CHARS)


def traceback(lines: list[str]) -> str:
    return clip(lines, TRACEBACK_MAX_LINES, TRACEBACK_MAX_CHARS)


def unique_failures(failures: list[Failure]) -> list[Failure]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for failure in failures:
        key = (failure.test_id, failure.message)
        if key not in seen:
            seen.add(key)
            unique.append(failure)
    return unique


def blocks(
    lines: list[str], starts: Callable[[str], re.Match[str] | None], ends: Callable[[str], bool]
) -> list[tuple[re.Match[str], list[str]]]:
    """Split lines into (header match, body lines) blocks; a body stops at `ends` or a gap."""
    found: list[tuple[re.Match[str], list[str]]] = []
    body: list[str] | None = None
    for line in lines:
        header = starts(line)
        if header:
            body = []
            found.append((header, body))
        elif body is not None:
            if line == GAP or ends(line):
                body = None
            elif len(body) < BLOCK_MAX_LINES:
                body.append(line)
    return found


def split_at_frames(body: list[str], frame: re.Pattern[str]) -> tuple[int, re.Match[str] | None]:
    """Where a JS runner's failure message ends (its code frame or first stack frame), and the
    first stack frame in the project's own code rather than in node_modules."""
    split = next(
        (i for i, line in enumerate(body) if CODE_FRAME_LINE.match(line) or frame.match(line)),
        len(body),
    )
    frames = [m for m in map(frame.match, body[split:]) if m]
    return split, next((m for m in frames if not is_vendor_path(m["file"])), None)


_OUTCOME_RANK = {"failed": 2, "passed": 1, "skipped": 0}


def merge_listed(tests: Iterable[ListedTest]) -> tuple[ListedTest, ...]:
    """Each test once, in the order first named; named more than once (a pytest test that
    passed but errored in teardown, a go test run with -count=2), it failed if any run
    failed, else passed if any run passed."""
    by_key: dict[tuple[str, str | None, str | None], ListedTest] = {}
    for test in tests:
        key = (test.test_id, test.file, test.package)
        known = by_key.get(key)
        if known is None or _OUTCOME_RANK[test.outcome] > _OUTCOME_RANK[known.outcome]:
            by_key[key] = test
    return tuple(by_key.values())


# ------------------------------------------------------------------- unknown: an excerpt

_STEP_FAILED = "Process completed with exit code"
_EXCERPT_MARKER = re.compile(r"error|fail|fatal|panic|exception|traceback", re.I)


def excerpt(lines: list[str]) -> str:
    """The last lines around error/fail markers, each distinct line once; or the log's end.

    Lines after the step's "Process completed with exit code" are the runner's post-job
    cleanup, not the failure, so the excerpt stops there.
    """
    tail = [line for line in _before_post_job(lines[-_EXCERPT_SCAN_LINES:]) if line != GAP]
    hits = [index for index, line in enumerate(tail) if _EXCERPT_MARKER.search(line)]
    if not hits:
        return "\n".join(trim_blank(tail)[-_EXCERPT_FALLBACK_LINES:])
    spans = merged(
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
    return "\n".join(trim_blank(_deduplicated(tail, chosen[-_EXCERPT_MAX_LINES:])))


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
        key = normalize(line)
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
    (ANSI, ""),
    (re.compile(WORKSPACE_PREFIX.pattern.removeprefix("^(?:file://)?")), ""),
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


def normalize(text: str) -> str:
    """Text with run-to-run noise (times, addresses, temp paths, line numbers) replaced."""
    for pattern, replacement in _NORMALIZERS:
        text = pattern.sub(replacement, text)
    return text.strip()
