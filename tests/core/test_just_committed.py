"""SessionRecord.committed_just_now: RunTests skips listing check runs only when none can have
finished on the commit yet — never when checks reported on it, even during an earlier attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.core.orchestrator import Signal, Status, Step
from bot.core.record import SessionRecord

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
SHA = "b36c0a989b4cb39a94b8679330e9544a4d4d6926"


@dataclass(frozen=True)
class Row:
    seq: int
    step: str
    status: str
    created_at: datetime
    attempt: int = 1
    input: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    commit_sha: str | None = None
    error: str | None = None


def record(*entries: tuple[str, str, float] | tuple[str, str, float, str]) -> SessionRecord:
    """(step, status, seconds after T0[, commit sha]) per entry, in order."""
    return SessionRecord([Row(seq, step, status, T0 + timedelta(seconds=at), commit_sha=sha[0] if sha else None)
                          for seq, (step, status, at, *sha) in enumerate(entries, start=1)])


G, CHECKS = Step.GenerateImplementation.value, Signal.checks.value
INITIALIZED = (Step.Initialize.value, Status.succeeded, 0.0)


def test_a_commit_made_seconds_ago_with_no_check_since_is_just_made():
    made = record(INITIALIZED, (G, Status.started, 1.0), (G, Status.succeeded, 5.0, SHA))
    assert made.committed_just_now(SHA, T0 + timedelta(seconds=6))


def test_checks_that_reported_while_the_step_ran_mean_it_is_not():
    made = record(INITIALIZED, (G, Status.started, 1.0), (CHECKS, Status.received, 3.0),
                  (G, Status.succeeded, 5.0, SHA))
    assert not made.committed_just_now(SHA, T0 + timedelta(seconds=6))


def test_checks_that_reported_during_an_interrupted_attempt_count_too():
    """The first attempt made the commit and its worker was killed; the checks reported; the retry
    found the commit already made and succeeded with it seconds ago. The checks are done: skipping
    the look leaves the session waiting for webhooks that came already, until the reconciler."""
    retried = record(INITIALIZED, (G, Status.started, 1.0), (CHECKS, Status.received, 10.0),
                     (CHECKS, Status.received, 16.0), (G, Status.started, 40.0), (G, Status.failed, 44.0),
                     (G, Status.started, 46.0), (G, Status.succeeded, 47.0, SHA))
    assert not retried.committed_just_now(SHA, T0 + timedelta(seconds=48))


def test_a_retried_attempt_with_no_check_in_between_is_still_just_made():
    retried = record(INITIALIZED, (G, Status.started, 1.0), (G, Status.failed, 3.0), (G, Status.started, 5.0),
                     (G, Status.succeeded, 9.0, SHA))
    assert retried.committed_just_now(SHA, T0 + timedelta(seconds=10))
