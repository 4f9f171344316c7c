"""A session's timeline as people read it: one row per step attempt, with its duration and what
it meant, and one per signal from outside.

An attempt is recorded as two interactions (started, then succeeded or failed); a row pairs
them. What an attempt *meant* is not its status: a RunTests that read failing checks succeeded
as a step, but its meaning is "tests failed". The words and icons here are the only spelling of
these meanings: the status comment, the check run, `/status` and the dashboard all use them. Pure.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.orchestrator import WRITING_STEPS, Signal, Status, Step


class Meaning(str, enum.Enum):
    done = "done"                # the step did its work: a branch, a commit, a reply, a summary
    passed = "passed"            # RunTests: the checks passed
    failed = "failed"            # RunTests: tests (or checks) failed
    waiting = "waiting"          # RunTests: the checks are still running
    needs_human = "needs_human"  # the session waits for a maintainer (the spec, a budget, checks that never ran…)
    error = "error"              # the attempt broke; the step is tried again, or the session failed
    paused = "paused"            # a service was down: the session resumes by itself
    running = "running"          # started, not finished yet
    interrupted = "interrupted"  # started, then the worker stopped; a later attempt took over
    signal = "signal"            # not a step: something happened outside (checks changed, a comment…)

    @property
    def word(self) -> str:
        return WORDS[self]

    @property
    def icon(self) -> str:
        return ICONS[self]


WORDS = {
    Meaning.done: "done", Meaning.passed: "tests passed", Meaning.failed: "tests failed",
    Meaning.waiting: "waiting for the checks", Meaning.needs_human: "needs a maintainer", Meaning.error: "error",
    Meaning.paused: "paused", Meaning.running: "running", Meaning.interrupted: "interrupted", Meaning.signal: "",
}
ICONS = {
    Meaning.done: "✅", Meaning.passed: "✅", Meaning.failed: "❌", Meaning.waiting: "⏳",
    Meaning.needs_human: "✋", Meaning.error: "⚠️", Meaning.paused: "⏸️", Meaning.running: "🔄",
    Meaning.interrupted: "↩️", Meaning.signal: "•",
}
FAILURE_MEANINGS = {"needs_human": Meaning.needs_human, "outage": Meaning.paused}
TESTS_MEANINGS = {"passed": Meaning.passed, "failed": Meaning.failed, "pending": Meaning.waiting}
MAX_NAMES = 3


class Entry(Protocol):
    """What the record and its timeline read of an interaction row."""

    seq: int
    step: str
    status: str
    attempt: int
    input: Mapping[str, Any] | None
    result: Mapping[str, Any] | None
    commit_sha: str | None
    error: str | None
    created_at: datetime


@dataclass(frozen=True)
class Row:
    """One step attempt (its start and its end; either may be missing) or one signal."""

    started: Entry | None
    ended: Entry | None
    meaning: Meaning
    detail: str
    times: int = 1  # a signal: how many of its kind came in a row (each checks event is one)

    @property
    def entry(self) -> Entry:
        """The row's last interaction: the outcome, or the start of an attempt still running."""
        return self.ended or self.started  # type: ignore[return-value] - a row has one at least

    @property
    def seq(self) -> int:
        return (self.started or self.entry).seq

    @property
    def step(self) -> str:
        return self.entry.step

    @property
    def attempt(self) -> int | None:
        return None if self.meaning == Meaning.signal else self.entry.attempt

    @property
    def at(self) -> datetime:
        return (self.started or self.entry).created_at

    @property
    def duration(self) -> timedelta | None:
        if self.started is None or self.ended is None:
            return None
        return max(self.ended.created_at - self.started.created_at, timedelta(0))

    @property
    def took(self) -> str:
        return format_duration(self.duration)

    @property
    def outcome(self) -> str:
        """The meaning's word and the detail, as one line: "tests failed: test_pop"."""
        if self.meaning == Meaning.signal:
            return self.detail + (f" ({self.times}×)" if self.times > 1 else "")
        if not self.detail or self.detail.lower().startswith(self.meaning.word):
            return self.detail or self.meaning.word
        return f"{self.meaning.word}: {self.detail}"


def timeline(entries: Sequence[Entry]) -> list[Row]:
    """The rows, in the order their attempts started. A start followed by another start (the
    worker died and the attempt was taken up again) is interrupted; a start with no end yet is
    running; an end with no start (a duplicate, or a row written by hand) stands alone. Signals
    of one kind in a row (a check run, its suite and its workflow run completing) are one row."""
    rows: list[Row] = []
    open_at: int | None = None  # the index in rows of the attempt still open
    for entry in sorted(entries, key=lambda e: e.seq):
        if entry.status == Status.received:
            last = rows[-1] if rows else None
            if last is not None and last.meaning == Meaning.signal and last.step == entry.step:
                rows[-1] = Row(None, last.entry, Meaning.signal, last.detail, last.times + 1)
            else:
                rows.append(Row(None, entry, Meaning.signal, signal_detail(entry)))
        elif entry.status == Status.started:
            if open_at is not None:
                rows[open_at] = Row(rows[open_at].started, None, Meaning.interrupted, "")
            open_at = len(rows)
            rows.append(Row(entry, None, Meaning.running, ""))
        elif open_at is not None and rows[open_at].step == entry.step:
            rows[open_at] = Row(rows[open_at].started, entry, meaning_of(entry), detail_of(entry))
            open_at = None
        else:
            rows.append(Row(None, entry, meaning_of(entry), detail_of(entry)))
    return rows


def meaning_of(entry: Entry) -> Meaning:
    """What a finished attempt meant for the session."""
    result = entry.result or {}
    if entry.status == Status.failed:
        return FAILURE_MEANINGS.get(str(result.get("kind")), Meaning.error)
    if entry.step == Step.RunTests.value:
        return TESTS_MEANINGS.get(str(result.get("state")), Meaning.needs_human)  # timed out, or never ran
    return Meaning.done


def detail_of(entry: Entry) -> str:
    """One line on what a finished attempt did or why it failed."""
    result = entry.result or {}
    if entry.status == Status.failed:
        return first_line(entry.error or str(result.get("reason") or ""))
    if entry.step == Step.RunTests.value:
        return _tests_detail(result)
    if entry.step == Step.Initialize.value:
        return f"branch {result['branch']}" if result.get("branch") else ""
    if entry.step == Step.Finalize.value:
        if result.get("merged"):
            return "merged" + (f" as {str(result['merge_sha'])[:7]}" if result.get("merge_sha") else "")
        return str(result.get("waiting_for") or result.get("note") or "ready for review")
    if entry.step in WRITING_STEPS:
        return _edit_detail(entry, result)
    if entry.step == Step.UpdateBranch.value:
        return str(result.get("note") or result.get("state") or "")
    return ""


def _tests_detail(result: Mapping[str, Any]) -> str:
    state, checks = result.get("state"), result.get("checks") or []
    if state == "failed":
        return names(result.get("failing_tests") or result.get("failed_checks") or [])
    if state == "passed":
        return f"{len(checks)} check{'s' if len(checks) != 1 else ''}" if checks else ""
    return first_line(str(result.get("reason") or ""))


def _edit_detail(entry: Entry, result: Mapping[str, Any]) -> str:
    if not entry.commit_sha:
        return "replied" if result.get("reply") else str(result.get("note") or "")
    files = result.get("files") or []
    parts = [f"commit {entry.commit_sha[:7]}"]
    if files:
        parts.append(f"{len(files)} file{'s' if len(files) != 1 else ''}")
    if result.get("pr_number"):
        parts.append(f"PR #{result['pr_number']}")
    return ", ".join(parts)


def signal_detail(entry: Entry) -> str:
    """A signal in words. Logins are written without `@`: a timeline posted on GitHub pings nobody."""
    data = entry.input or {}
    who = data.get("by") or data.get("author")
    by = f" by {who}" if who else ""
    words = {
        Signal.checks.value: "checks changed",
        Signal.instruction.value: f"instruction{by.replace(' by ', ' from ')}",
        Signal.retry.value: f"/retry{by}",
        Signal.stop.value: f"/stop{by}",
        Signal.merge.value: (f"approved{by}" if data.get("approval") else f"merge asked{by}"),
        Signal.merged.value: "the pull request was merged",
        Signal.closed.value: "the pull request was closed",
        Signal.human_push.value: f"pushed to the branch{by}",
        Signal.resume.value: "resumed after the outage",
        Signal.edited.value: f"issue edited{by}",
        "base_moved": "the default branch moved",
    }
    return words.get(entry.step, entry.step)


def names(items: Sequence[Any]) -> str:
    shown = [str(item) for item in items[:MAX_NAMES]]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit - 1] + "…"


def format_duration(duration: timedelta | None) -> str:
    """'0.4s', '42s', '3m 05s', '1h 02m'; '' when unknown."""
    if duration is None:
        return ""
    seconds = duration.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
