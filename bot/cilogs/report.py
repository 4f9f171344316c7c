"""The compact failure report: what a parsed CI log holds, and its text for a prompt.

`render` is the only way a parsed log reaches Claude, so it owns the hard size cap:
whatever the log held, the text it returns is at most `max_bytes` UTF-8 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFAULT_MAX_BYTES = 20_000

FailureKind = Literal["test", "build"]
Outcome = Literal["passed", "failed", "skipped"]

_INDENT = "    "
_MESSAGE_LINES_WHEN_SHORT = 4
_NOTHING_FOUND = "No failing tests or error lines were found in the log."


@dataclass(frozen=True)
class Failure:
    test_id: str
    file: str | None
    line: int | None
    message: str
    traceback: str = ""
    kind: FailureKind = "test"
    """`build` when something stopped tests from running (a compile error, a traceback before
    the runner started, a collection error, a test file the runner could not load), else
    `test`. A build failure on the head is never excused as also failing on the default branch."""


@dataclass(frozen=True)
class ListedTest:
    """A test the log names as having run, with its outcome."""

    test_id: str
    """The same id a `Failure` of that test has."""
    file: str | None
    """The test's own file when the log says it; None when it does not (go test, cargo unit
    tests)."""
    outcome: Outcome
    package: str | None = None
    """The Go package of a `go test` test, from the `ok`/`FAIL` line that closes the package's
    output; None for other runners and for go tests whose package line is not in the log."""


@dataclass(frozen=True)
class ParsedLog:
    runner: str
    failures: tuple[Failure, ...]
    summary: str | None
    excerpt: str
    omitted_failures: int = 0
    """Failures the parser saw but did not keep (beyond its count limit)."""
    max_bytes: int = DEFAULT_MAX_BYTES
    """The cap `render` applies when it is not given one."""
    listed_tests: tuple[ListedTest, ...] = ()
    """Every test the parsed part of the log names as having run, in the order first named.
    Failing tests are named wherever the runner reports a failure; passed and skipped ones only
    when the runner was asked to list them (see the runner modules). For a log over 2 MB only
    the parsed view (head, tail, windows around failures) is listed, so it may be partial."""


def render(parsed: ParsedLog, max_bytes: int | None = None) -> str:
    """Markdown-ish text of the failures, never longer than `max_bytes` UTF-8 bytes.

    When every failure fits in full (message and traceback) all are shown so. When not,
    the first ones are shown in full within half the budget and the rest in short form
    (a few message lines, no traceback): Claude gets details for the first failures and
    the breadth of the rest. Whatever still does not fit is counted in a closing
    "… N more failures omitted" note.
    """
    limit = parsed.max_bytes if max_bytes is None else max_bytes
    header = _render_header(parsed)
    if not parsed.failures:
        body = _render_excerpt(parsed.excerpt, limit - _byte_len(header) - 1) or _NOTHING_FOUND
        return truncate_utf8("\n".join(part for part in (header, body) if part), limit)
    return _render_failures(parsed, header, limit)


def truncate_utf8(text: str, max_bytes: int, marker: str = "…") -> str:
    """Cut `text` to at most `max_bytes` UTF-8 bytes on a character boundary."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    room = max_bytes - _byte_len(marker)
    if room <= 0:
        return encoded[: max(max_bytes, 0)].decode("utf-8", errors="ignore")
    return encoded[:room].decode("utf-8", errors="ignore") + marker


def _render_failures(parsed: ParsedLog, header: str, limit: int) -> str:
    total = len(parsed.failures) + parsed.omitted_failures
    full_blocks = [
        _render_failure(number, failure, include_traceback=True)
        for number, failure in enumerate(parsed.failures, start=1)
    ]
    everything = _byte_len(header) + sum(_byte_len(block) + 1 for block in full_blocks)
    fits_in_full = everything <= limit and not parsed.omitted_failures
    detail_budget = limit if fits_in_full else limit // 2
    parts = [header]
    used = _byte_len(header)
    for number, (failure, full) in enumerate(zip(parsed.failures, full_blocks, strict=True), 1):
        remaining = total - number
        reserve = _byte_len(_omitted_note(remaining)) + 1 if remaining else 0
        room = limit - used - 1 - reserve
        in_full = used + 1 + _byte_len(full) <= detail_budget
        block = full if in_full and _byte_len(full) <= room else _short_block(number, failure, room)
        if block is None:
            break
        parts.append(block)
        used += _byte_len(block) + 1
    shown = len(parts) - 1
    if shown < total:
        parts.append(_omitted_note(total - shown))
    return truncate_utf8("\n".join(parts), limit)


def _short_block(number: int, failure: Failure, room: int) -> str | None:
    """The failure without traceback; the first one is cut to fit rather than left out."""
    if room <= 0:
        return None
    short = _render_failure(number, _shortened(failure), include_traceback=False)
    if _byte_len(short) <= room:
        return short
    return truncate_utf8(short, room) if number == 1 else None


def _shortened(failure: Failure) -> Failure:
    lines = failure.message.splitlines()[:_MESSAGE_LINES_WHEN_SHORT]
    message = "\n".join(line[:300] for line in lines)
    return Failure(failure.test_id, failure.file, failure.line, message, "", failure.kind)


def _render_header(parsed: ParsedLog) -> str:
    lines = [f"Test runner: {parsed.runner}"]
    if parsed.summary:
        lines.append(f"Summary: {parsed.summary}")
    count = len(parsed.failures) + parsed.omitted_failures
    if count:
        lines.append(f"Failing tests: {count}")
    return "\n".join(lines)


def _render_failure(number: int, failure: Failure, *, include_traceback: bool) -> str:
    lines = ["", f"{number}. {failure.test_id}"]
    location = _location(failure)
    if location:
        lines.append(f"   at {location}")
    if failure.message:
        lines.append(_indented(failure.message))
    if include_traceback and failure.traceback:
        lines.append("   traceback:")
        lines.append(_indented(failure.traceback))
    return "\n".join(lines)


def _render_excerpt(excerpt: str, room: int) -> str:
    """The excerpt's last lines that fit: the end of a failed log matters most."""
    if not excerpt or room <= 0:
        return ""
    title = "Log excerpt (lines around errors, last part of the log):"
    lines = excerpt.splitlines()
    budget = room - _byte_len(title) - 1
    kept: list[str] = []
    for line in reversed(lines):
        cost = _byte_len(_INDENT + line) + 1
        if cost > budget:
            break
        kept.append(_INDENT + line)
        budget -= cost
    dropped = len(lines) - len(kept)
    if dropped:
        note = f"{_INDENT}… {dropped} earlier lines omitted"
        while kept and _byte_len(note) + 1 > budget:
            budget += _byte_len(kept.pop()) + 1
            dropped += 1
            note = f"{_INDENT}… {dropped} earlier lines omitted"
        kept.append(note)
    kept.reverse()
    return "\n".join([title, *kept])


def _location(failure: Failure) -> str:
    if not failure.file:
        return ""
    return f"{failure.file}:{failure.line}" if failure.line else failure.file


def _indented(text: str) -> str:
    return "\n".join(_INDENT + line if line else "" for line in text.splitlines())


def _omitted_note(count: int) -> str:
    noun = "failure" if count == 1 else "failures"
    return f"\n… {count} more {noun} omitted"


def _byte_len(text: str) -> int:
    return len(text.encode("utf-8"))
