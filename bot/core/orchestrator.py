"""The orchestrator: a pure function from a session's recorded interactions to what happens next.

No I/O. `next_step(session, interactions)` folds the append-only interactions (step attempts,
and signals from outside such as "checks changed" or a maintainer's instruction) and answers
the next `Step`, or that the session is `Waiting`, is complete (`SessionComplete`), or that the
record makes no sense (`InvalidInteraction`). Replaying the same interactions always gives the
same answer, which is what makes a wake-up idempotent and a crash recoverable.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class Step(str, enum.Enum):
    Initialize = "Initialize"
    GenerateImplementation = "GenerateImplementation"
    RunTests = "RunTests"
    FixTestFailures = "FixTestFailures"
    Finalize = "Finalize"
    Revise = "Revise"
    UpdateBranch = "UpdateBranch"          # the default branch moved: merge it into the session's branch
    ResolveConflicts = "ResolveConflicts"  # that merge conflicts in files the agent wrote: it resolves them


class Status(str, enum.Enum):
    """An interaction's status: the only spelling of these words in the code."""

    started = "started"
    succeeded = "succeeded"
    failed = "failed"
    received = "received"  # a signal from outside: checks changed, a human instruction, /retry, /stop…


class Signal(str, enum.Enum):
    checks = "checks"              # check runs changed on the head commit (or a reconciliation tick)
    instruction = "instruction"    # a maintainer's comment or review to act on
    retry = "retry"                # /retry, or the trigger label added again
    stop = "stop"                  # /stop
    merged = "merged"              # the PR was merged
    closed = "closed"              # the PR was closed without merging
    human_push = "human_push"      # someone else pushed to the bot's branch
    merge = "merge"                # /merge, or an approving review when the policy merges on approval
    resume = "resume"              # the wait after an outage (rate limit, GitHub or Anthropic down) is over
    edited = "edited"              # a writer edited the issue: later steps use the new text (changes no step)
    base_moved = "base_moved"      # the default branch moved (a push to it)


SESSION_STEPS = (Step.Initialize, Step.GenerateImplementation, Step.RunTests, Step.FixTestFailures, Step.Finalize)
"""The ordered steps of a session (Revise joins when a human asks for changes)."""


@dataclass(frozen=True)
class Waiting:
    reason: str
    status: str  # waiting_for_checks | awaiting_review | needs_human | paused


@dataclass(frozen=True)
class SessionComplete:
    status: str  # completed | failed | cancelled
    reason: str = ""


@dataclass(frozen=True)
class InvalidInteraction:
    seq: int
    reason: str


Decision = Step | Waiting | SessionComplete | InvalidInteraction


class SessionLimits(Protocol):
    max_fix_iterations: int
    max_step_attempts: int


@dataclass(frozen=True)
class Limits:
    max_fix_iterations: int = 3
    max_step_attempts: int = 3


@dataclass(frozen=True)
class Record:
    """The orchestrator's view of one interaction row."""

    seq: int
    step: str
    status: str  # started | succeeded | failed | received
    result: Mapping[str, Any] | None = None

    def same_outcome(self, other: Record) -> bool:
        return (self.step, self.status, dict(self.result or {})) == (other.step, other.status, dict(other.result or {}))


STOPPED = "stopped by a maintainer"
WRITING_STEPS = frozenset({Step.GenerateImplementation, Step.FixTestFailures, Step.Revise, Step.ResolveConflicts})


@dataclass
class _State:
    limits: Limits
    open: Record | None = None
    last: Record | None = None              # last finished attempt
    last_effective: Record | None = None    # last success that moves the session (a reply-only Revise does not)
    failures: int = 0                       # consecutive failed attempts of last.step (outages aside)
    fix_iterations: int = 0                 # successful fixes in the current test cycle
    failing_signatures: list[str] = field(default_factory=list)
    checks_changed: bool = False            # a checks signal since the last RunTests finished
    human_pushed: bool = False
    base_moved: bool = False                # the default branch moved since the branch was last brought up to date
    instructions: int = 0                   # instructions not yet taken by a Revise
    merge_requested: bool = False           # a merge signal since the last Finalize started
    retry: bool = False
    resume: bool = False                    # an outage's wait is over
    terminal: SessionComplete | None = None



def is_outage(record: Record) -> bool:
    return record.status == Status.failed and (record.result or {}).get("kind") == "outage"


def next_step(session: SessionLimits | None, interactions: Sequence[Record]) -> Decision:
    state = _State(limits=_limits(session))
    for record in sorted(interactions, key=lambda r: r.seq):
        problem = _apply(state, record)
        if problem is not None:
            return InvalidInteraction(record.seq, problem)
    return _decide(state)


def _limits(session: SessionLimits | None) -> Limits:
    if session is None:
        return Limits()
    return Limits(session.max_fix_iterations, session.max_step_attempts)


def _apply(state: _State, record: Record) -> str | None:
    """Fold one record into the state; a string explains why the record is invalid."""
    if record.status == Status.received:
        return _apply_signal(state, record)
    try:
        step = Step(record.step)
    except ValueError:
        return f"unknown step {record.step!r}"
    if record.status == Status.started:
        return _apply_start(state, record, step)
    if record.status in (Status.succeeded, Status.failed):
        return _apply_finish(state, record, step)
    return f"unknown status {record.status!r}"


def _apply_start(state: _State, record: Record, step: Step) -> str | None:
    if state.terminal is not None:
        return None  # decided before a /stop or the merge was recorded: the session ended regardless
    if state.open is not None:
        if state.open.step == record.step:
            state.open = record  # the previous attempt was abandoned (the worker died); this resumes it
            return None
        return f"{record.step} started while {state.open.step} was still running"
    expected = _decide(state)
    if expected != step:
        return f"{record.step} started, but the next step was {_describe(expected)}"
    if step == Step.Revise:
        state.instructions = 0
    if step == Step.Finalize:
        state.merge_requested = False
    if step == Step.RunTests:
        state.checks_changed = False  # signals from now on arrived after the checks were read
    if step == Step.RunTests or step in WRITING_STEPS:
        state.human_pushed = False
    if step == Step.UpdateBranch:
        state.base_moved = False
    state.retry = state.resume = False
    state.open = record
    return None


def _apply_finish(state: _State, record: Record, step: Step) -> str | None:
    if state.terminal is not None:
        return None
    if state.open is None or state.open.step != record.step:
        if state.last is not None and state.last.same_outcome(record):
            return None  # a duplicate of the outcome already recorded
        return f"{record.step} {record.status} without having started"
    state.open = None
    if record.status == Status.failed:
        if not is_outage(record):  # an outage says nothing about the step: it does not use up an attempt
            state.failures = state.failures + 1 if state.last is not None and state.last.step == record.step \
                and state.last.status == Status.failed else 1
        state.last = record
        return None
    state.failures = 0
    state.last = record
    result = record.result or {}
    if step == Step.Revise and not result.get("commit_sha"):
        return None  # answered only: the session carries on from where it was
    if step == Step.UpdateBranch and result.get("state") in ("up_to_date", "left"):
        before = state.last_effective
        if before is None or before.step != Step.Finalize.value or not (before.result or {}).get("stale_base"):
            return None  # nothing merged: the session carries on from where it was
        # Finalize found the base stale, and the branch holds it after all: Finalize again
    state.last_effective = record
    if step in {Step.GenerateImplementation, Step.Revise}:
        state.fix_iterations, state.failing_signatures = 0, []
    if step == Step.FixTestFailures:
        state.fix_iterations += 1
    if step == Step.RunTests:
        if result.get("state") == "failed":
            state.failing_signatures.append(str(result.get("signature", "")))
    return None


def _apply_signal(state: _State, record: Record) -> str | None:
    try:
        signal = Signal(record.step)
    except ValueError:
        return f"unknown signal {record.step!r}"
    if state.terminal is not None:
        if signal == Signal.retry and state.terminal.reason == STOPPED:
            state.terminal = None  # /retry after /stop carries on where the session stopped
        else:
            return None
    if signal == Signal.checks:
        state.checks_changed = True
    elif signal == Signal.human_push:
        state.human_pushed = True
    elif signal == Signal.base_moved:
        state.base_moved = True
    elif signal == Signal.instruction:
        state.instructions += 1
    elif signal == Signal.merge:
        state.merge_requested = True
    elif signal == Signal.resume:
        state.resume = True
    elif signal == Signal.retry:
        state.retry = True
        state.fix_iterations, state.failing_signatures = 0, []
    elif signal == Signal.stop:
        state.terminal = SessionComplete("cancelled", STOPPED)
    elif signal == Signal.merged:
        state.terminal = SessionComplete("completed", "the pull request was merged")
    elif signal == Signal.closed:
        state.terminal = SessionComplete("cancelled", "the pull request was closed without merging")
    return None


def _decide(state: _State) -> Decision:
    if state.terminal is not None:
        return state.terminal
    if state.open is not None:
        return Step(state.open.step)
    last = state.last
    if last is None:
        return Step.Initialize
    if last.status == Status.failed:
        return _after_failure(state, last)
    effective = state.last_effective
    if effective is None:
        return Step.Initialize
    if effective.step == Step.Finalize.value and (effective.result or {}).get("merged"):
        return SessionComplete("completed", "merged")
    has_pull_request = Step(effective.step) not in {Step.Initialize}
    if state.instructions and has_pull_request:
        return Step.Revise
    if state.human_pushed and has_pull_request:
        return Step.RunTests
    if state.base_moved and has_pull_request:
        return Step.UpdateBranch
    return _after_success(state, Step(effective.step), effective.result or {})


def _after_failure(state: _State, last: Record) -> Decision:
    result = last.result or {}
    kind = result.get("kind", "transient")
    reason = str(result.get("reason") or f"{last.step} failed")
    if state.retry or state.resume:
        return Step(last.step)
    if kind == "outage":
        return Waiting(reason, "paused")
    if kind == "needs_human":
        return Waiting(reason, "needs_human")
    if kind == "fatal":
        return SessionComplete("failed", reason)
    if state.failures < state.limits.max_step_attempts:
        return Step(last.step)
    return SessionComplete("failed", f"{last.step} failed {state.failures} times; last error: {reason}")


def _after_success(state: _State, step: Step, result: Mapping[str, Any]) -> Decision:
    if step == Step.Initialize:
        return Step.GenerateImplementation
    if step in WRITING_STEPS:
        return Step.RunTests
    if step == Step.UpdateBranch:
        return {"conflict": Step.ResolveConflicts, "merged": Step.RunTests}.get(str(result.get("state")), Step.Finalize)
    if step == Step.RunTests:
        return _after_tests(state, result)
    if step == Step.Finalize:
        if result.get("merged"):
            return SessionComplete("completed", "merged")
        if result.get("stale_base"):
            return Step.UpdateBranch  # the default branch moved: never ready, nor merged, behind it
        if state.retry or state.merge_requested:
            return Step.Finalize
        return Waiting(str(result.get("waiting_for") or "waiting for a maintainer's review"), "awaiting_review")
    raise AssertionError(step)  # pragma: no cover - every Step is handled above


def _after_tests(state: _State, result: Mapping[str, Any]) -> Decision:
    outcome = result.get("state")
    if outcome == "pending":
        if state.checks_changed:
            return Step.RunTests
        return Waiting(str(result.get("reason") or "waiting for the checks to finish"), "waiting_for_checks")
    if outcome == "passed":
        return Step.Finalize
    if outcome == "failed":
        signatures = state.failing_signatures
        if len(signatures) >= 2 and signatures[-1] == signatures[-2] and signatures[-1]:
            return Waiting("the same tests failed again, unchanged, after a fix", "needs_human")
        if state.fix_iterations >= state.limits.max_fix_iterations:
            return Waiting(f"the tests still fail after {state.fix_iterations} fix attempts", "needs_human")
        return Step.FixTestFailures
    if state.retry or state.checks_changed:
        return Step.RunTests
    return Waiting(str(result.get("reason") or "the checks did not complete"), "needs_human")


def _describe(decision: Decision) -> str:
    if isinstance(decision, Step):
        return decision.value
    return type(decision).__name__
