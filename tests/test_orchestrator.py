"""next_step(): every transition, table-driven, no I/O."""

from __future__ import annotations

import pytest

from bot.core.orchestrator import (
    InvalidInteraction,
    Limits,
    Record,
    SessionComplete,
    Step,
    Waiting,
    SESSION_STEPS,
    next_step,
)

I, G, R, F, Z, V = (Step.Initialize, Step.GenerateImplementation, Step.RunTests, Step.FixTestFailures,
                    Step.Finalize, Step.Revise)
PASSED = {"state": "passed"}
PENDING = {"state": "pending", "reason": "waiting for 2 checks"}


def failed_tests(signature: str = "sig-a") -> dict:
    return {"state": "failed", "signature": signature}


def history(*entries) -> list[Record]:
    """Entries: (step, status[, result]) for attempts, or (signal,) for a received signal."""
    records = []
    for seq, entry in enumerate(entries, start=1):
        if len(entry) == 1:
            records.append(Record(seq, entry[0], "received"))
        else:
            step, status, *rest = entry
            name = step.value if isinstance(step, Step) else step
            records.append(Record(seq, name, status, rest[0] if rest else None))
    return records


def ok(step, result=None):
    return [(step, "started"), (step, "succeeded", result or {})]


def fail(step, kind="transient", reason="boom"):
    return [(step, "started"), (step, "failed", {"kind": kind, "reason": reason})]


BASE = [*ok(I), *ok(G, {"commit_sha": "c1"})]


def test_steps_are_ordered():
    assert SESSION_STEPS == (I, G, R, F, Z)


CASES = {
    "nothing yet → Initialize": ([], I),
    "initialized → generate": ([*ok(I)], G),
    "generated → run tests": (BASE, R),
    "tests pending → waiting for checks": ([*BASE, *ok(R, PENDING)], Waiting("waiting for 2 checks", "waiting_for_checks")),
    "checks changed while waiting → run tests again": ([*BASE, *ok(R, PENDING), ("checks",)], R),
    "checks signal during the run still counts": ([*BASE, (R, "started"), ("checks",), (R, "succeeded", PENDING)], R),
    "checks signal before the run is consumed by it": ([*BASE, ("checks",), *ok(R, PENDING)],
                                                       Waiting("waiting for 2 checks", "waiting_for_checks")),
    "tests pass → finalize": ([*BASE, *ok(R, PASSED)], Z),
    "tests fail → fix": ([*BASE, *ok(R, failed_tests())], F),
    "fixed → run tests": ([*BASE, *ok(R, failed_tests()), *ok(F, {"commit_sha": "c2"})], R),
    "fix then pass → finalize": ([*BASE, *ok(R, failed_tests("a")), *ok(F), *ok(R, PASSED)], Z),
    "different failures after fix → fix again": ([*BASE, *ok(R, failed_tests("a")), *ok(F), *ok(R, failed_tests("b"))], F),
    "same failures after a fix → stall": (
        [*BASE, *ok(R, failed_tests("a")), *ok(F), *ok(R, failed_tests("a"))],
        Waiting("the same tests failed again, unchanged, after a fix", "needs_human"),
    ),
    "fix cap reached → needs human": (
        [*BASE, *ok(R, failed_tests("a")), *ok(F), *ok(R, failed_tests("b")), *ok(F), *ok(R, failed_tests("c")),
         *ok(F), *ok(R, failed_tests("d"))],
        Waiting("the tests still fail after 3 fix attempts", "needs_human"),
    ),
    "retry after the cap → fix again": (
        [*BASE, *ok(R, failed_tests("a")), *ok(F), *ok(R, failed_tests("b")), *ok(F), *ok(R, failed_tests("c")),
         *ok(F), *ok(R, failed_tests("d")), ("retry",)],
        F,
    ),
    "retry after a stall → fix again": (
        [*BASE, *ok(R, failed_tests("a")), *ok(F), *ok(R, failed_tests("a")), ("retry",)], F),
    "checks timed out → needs human": (
        [*BASE, *ok(R, {"state": "timed_out", "reason": "no check run appeared"})],
        Waiting("no check run appeared", "needs_human"),
    ),
    "finalized → awaiting review": ([*BASE, *ok(R, PASSED), *ok(Z)], Waiting("waiting for a maintainer's review", "awaiting_review")),
    "finalize merged → complete": ([*BASE, *ok(R, PASSED), *ok(Z, {"merged": True})], SessionComplete("completed", "merged")),
    "merged signal → complete": ([*BASE, *ok(R, PASSED), *ok(Z), ("merged",)], SessionComplete("completed", "the pull request was merged")),
    "closed signal → cancelled": ([*BASE, ("closed",)], SessionComplete("cancelled", "the pull request was closed without merging")),
    "stop while a step runs → cancelled": ([*BASE, (R, "started"), ("stop",)], SessionComplete("cancelled", "stopped by a maintainer")),
    "signals after the end change nothing": ([*BASE, ("closed",), ("retry",), ("instruction",)],
                                             SessionComplete("cancelled", "the pull request was closed without merging")),
    "retry after stop carries on": ([*BASE, (R, "started"), ("stop",), ("retry",)], R),
    "retry after merge changes nothing": ([*BASE, *ok(R, PASSED), *ok(Z), ("merged",), ("retry",)],
                                          SessionComplete("completed", "the pull request was merged")),
    "instruction while awaiting review → revise": ([*BASE, *ok(R, PASSED), *ok(Z), ("instruction",)], V),
    "instruction while waiting for checks → revise": ([*BASE, *ok(R, PENDING), ("instruction",)], V),
    "revise with a commit → run tests": ([*BASE, *ok(R, PASSED), *ok(Z), ("instruction",), *ok(V, {"commit_sha": "c3"})], R),
    "revise that only answered → back to review": (
        [*BASE, *ok(R, PASSED), *ok(Z), ("instruction",), *ok(V, {"reply": "because"})],
        Waiting("waiting for a maintainer's review", "awaiting_review"),
    ),
    "instructions during a revise → another revise": (
        [*BASE, *ok(R, PASSED), *ok(Z), ("instruction",), (V, "started"), ("instruction",), (V, "succeeded", {})], V),
    "merge asked while awaiting review → finalize again": ([*BASE, *ok(R, PASSED), *ok(Z), ("merge",)], Z),
    "merge asked while tests fail waits for the tests": ([*BASE, *ok(R, PENDING), ("merge",)],
                                                        Waiting("waiting for 2 checks", "waiting_for_checks")),
    "merge asked, then tests pass → finalize once": ([*BASE, *ok(R, PENDING), ("merge",), ("checks",),
                                                     *ok(R, PASSED), *ok(Z)],
                                                    Waiting("waiting for a maintainer's review", "awaiting_review")),
    "human push while awaiting review → run tests": ([*BASE, *ok(R, PASSED), *ok(Z), ("human_push",)], R),
    "instruction before a PR exists waits": ([*ok(I), ("instruction",)], G),
    "open attempt (worker died) → resume it": ([*ok(I), (G, "started")], G),
    "abandoned attempt restarted → still that step": ([*ok(I), (G, "started"), (G, "started")], G),
    "transient failure → retry": ([*ok(I), *fail(G)], G),
    "transient failures up to the limit → failed": (
        [*ok(I), *fail(G), *fail(G), *fail(G, reason="overloaded")],
        SessionComplete("failed", "GenerateImplementation failed 3 times; last error: overloaded"),
    ),
    "success resets the failure count": ([*fail(I), *fail(I), *ok(I), *fail(G), *fail(G)], G),
    "needs-human failure waits": ([*fail(I, "needs_human", "design file docs/x.md not found")],
                                  Waiting("design file docs/x.md not found", "needs_human")),
    "retry after needs-human → that step": ([*fail(I, "needs_human", "missing"), ("retry",)], I),
    "fatal failure → failed": ([*fail(I, "fatal", "bad config")], SessionComplete("failed", "bad config")),
    "retry after fatal → that step": ([*fail(I, "fatal", "bad config"), ("retry",)], I),
    "duplicated outcome is ignored": ([*ok(I), (I, "succeeded", {})], G),
    "duplicated signal is harmless": ([*BASE, *ok(R, PENDING), ("checks",), ("checks",)], R),
}


@pytest.mark.parametrize("records, expected", CASES.values(), ids=CASES.keys())
def test_transition(records, expected):
    assert next_step(Limits(), history(*records)) == expected


INVALID = {
    "step out of order": [*ok(I), (R, "started")],
    "skipping initialize": [(G, "started")],
    "finish without start": [(I, "succeeded", {})],
    "conflicting duplicate outcome": [*ok(I, {"branch": "a"}), (I, "failed", {"kind": "fatal"})],
    "two steps at once": [*ok(I), (G, "started"), (R, "started")],
    "unknown step": [("Deploy", "started")],
    "unknown signal": [("teleport",)],
    "finalize before tests pass": [*BASE, *ok(R, failed_tests()), (Z, "started")],
}


@pytest.mark.parametrize("records", INVALID.values(), ids=INVALID.keys())
def test_invalid_interactions(records):
    decision = next_step(Limits(), history(*records))
    assert isinstance(decision, InvalidInteraction)
    assert decision.reason


def test_records_are_read_in_sequence_order_whatever_order_they_come_in():
    records = history(*BASE, *ok(R, PASSED))
    assert next_step(Limits(), list(reversed(records))) == Z


def test_limits_come_from_the_session():
    records = history(*BASE, *ok(R, failed_tests("a")))
    assert next_step(Limits(max_fix_iterations=0), records) == Waiting(
        "the tests still fail after 0 fix attempts", "needs_human")
    assert next_step(Limits(max_step_attempts=1), history(*fail(I))) == SessionComplete(
        "failed", "Initialize failed 1 times; last error: boom")


def test_replaying_is_deterministic():
    records = history(*BASE, *ok(R, failed_tests("a")), *ok(F), ("checks",))
    assert len({repr(next_step(Limits(), records)) for _ in range(5)}) == 1


# ----- outages pause the session; they never fail it

OUTAGE = {"kind": "outage", "reason": "waiting for the GitHub rate limit until 14:05 UTC"}


def outage(step):
    return [(step, "started"), (step, "failed", OUTAGE)]


@pytest.mark.parametrize("step", [I, G, R, F])
def test_an_outage_pauses_instead_of_counting_as_a_failed_attempt(step):
    before = {I: [], G: [*ok(I)], R: BASE, F: [*BASE, *ok(R, failed_tests())]}[step]
    records = history(*before, *outage(step), ("resume",), *outage(step), ("resume",), *outage(step))
    assert next_step(Limits(max_step_attempts=2), records) == Waiting(OUTAGE["reason"], "paused")


def test_resume_runs_the_paused_step_again():
    records = history(*BASE, *outage(R), ("resume",))
    assert next_step(None, records) == R


def test_outages_between_transient_failures_do_not_add_to_the_attempts():
    records = history(*BASE, *fail(R), *outage(R), ("resume",), *fail(R))
    assert next_step(Limits(max_step_attempts=3), records) == R


def test_a_resume_after_the_step_ran_again_changes_nothing():
    records = history(*BASE, *outage(R), ("resume",), *ok(R, PENDING), ("resume",))
    assert next_step(None, records) == Waiting("waiting for 2 checks", "waiting_for_checks")


U, C = Step.UpdateBranch, Step.ResolveConflicts
WAITING = [*BASE, *ok(R, PENDING)]
READY = [*BASE, *ok(R, PASSED), *ok(Z, {"waiting_for": "review"})]
BASE_DRIFT = {
    "the base moved while checks run → update the branch": ([*WAITING, ("base_moved",)], U),
    "the base moved during generation → update once it committed": (
        [*ok(I), (G, "started"), ("base_moved",), (G, "succeeded", {"commit_sha": "c1"})], U),
    "the base moved before the branch exists → nothing to update": ([*ok(I), ("base_moved",)], G),
    "merged → test the merge": ([*WAITING, ("base_moved",), *ok(U, {"state": "merged"})], R),
    "conflict → resolve": ([*WAITING, ("base_moved",), *ok(U, {"state": "conflict"})], C),
    "resolved → test": ([*WAITING, ("base_moved",), *ok(U, {"state": "conflict"}), *ok(C, {"commit_sha": "m"})], R),
    "already up to date → carry on waiting": (
        [*WAITING, ("base_moved",), *ok(U, {"state": "up_to_date"})],
        Waiting("waiting for 2 checks", "waiting_for_checks")),
    "under review, spec unchanged → left, still awaiting review": (
        [*READY, ("base_moved",), *ok(U, {"state": "left"})], Waiting("review", "awaiting_review")),
    "Finalize found the base stale → update before ready": (
        [*BASE, *ok(R, PASSED), *ok(Z, {"stale_base": "b2"})], U),
    "stale, but the branch held it after all → Finalize again": (
        [*BASE, *ok(R, PASSED), *ok(Z, {"stale_base": "b2"}), *ok(U, {"state": "up_to_date"})], Z),
    "stale, merged → test again before ready": (
        [*BASE, *ok(R, PASSED), *ok(Z, {"stale_base": "b2"}), *ok(U, {"state": "merged"})], R),
    "a conflict in a locked file → a person": (
        [*WAITING, ("base_moved",), *fail(U, "needs_human", "conflicts in tests/test_x.py")],
        Waiting("conflicts in tests/test_x.py", "needs_human")),
}


@pytest.mark.parametrize("entries,expected", list(BASE_DRIFT.values()), ids=list(BASE_DRIFT))
def test_base_drift(entries, expected):
    assert next_step(None, history(*entries)) == expected


def test_the_base_moving_because_our_pull_request_merged_changes_nothing():
    merged = [*BASE, *ok(R, PASSED), *ok(Z, {"merged": True})]
    assert next_step(None, history(*merged, ("base_moved",))) == SessionComplete("completed", "merged")


def test_a_step_decided_just_before_the_session_ended_does_not_spoil_the_record():
    """The merge (or a /stop) recorded between deciding a step and recording its start."""
    entries = [*WAITING, ("base_moved",), ("merged",), (U, "started"), (U, "succeeded", {"state": "merged"})]
    assert next_step(None, history(*entries)) == SessionComplete("completed", "the pull request was merged")
