"""The timeline as people read it (one row per attempt, with its duration and meaning) and the
budgets checked before each step: pure functions over recorded interactions and figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bot.core.attempts import Meaning, format_duration, timeline
from bot.core.budget import Spend, budget_stop, month_label, month_start, recent_months, spends
from bot.core.orchestrator import Step
from bot.core.record import SessionRecord

T0 = datetime(2025, 6, 30, 23, 59, tzinfo=timezone.utc)


@dataclass
class E:
    seq: int
    step: str
    status: str
    seconds: float = 0.0
    result: dict[str, Any] | None = None
    commit_sha: str | None = None
    error: str | None = None
    attempt: int = 1
    input: dict[str, Any] | None = field(default_factory=dict)

    @property
    def created_at(self) -> datetime:
        return T0 + timedelta(seconds=self.seconds)


def test_each_attempt_is_one_row_with_its_duration_and_meaning():
    entries = [
        E(1, "Initialize", "started", 0), E(2, "Initialize", "succeeded", 1.5, {"branch": "component-bot/1-stack"}),
        E(3, "GenerateImplementation", "started", 2),
        E(4, "GenerateImplementation", "succeeded", 194, {"files": ["a.py", "b.py"], "pr_number": 7},
          commit_sha="abcdef1234"),
        E(5, "RunTests", "started", 200), E(6, "RunTests", "succeeded", 201, {"state": "pending"}),
        E(7, "checks", "received", 300, input={"event": "check_run.completed"}),
        E(8, "checks", "received", 300.5), E(9, "checks", "received", 301),
        E(10, "RunTests", "started", 302),
        E(11, "RunTests", "succeeded", 303, {"state": "failed", "failing_tests": ["t::a", "t::b", "t::c", "t::d"]}),
        E(12, "FixTestFailures", "started", 304),
        E(13, "FixTestFailures", "failed", 305, {"kind": "transient"}, error="GitHub answered 502\ntraceback"),
        E(14, "FixTestFailures", "started", 310, attempt=2),
    ]
    rows = timeline(entries)
    assert [(r.seq, r.step, r.meaning) for r in rows] == [
        (1, "Initialize", Meaning.done), (3, "GenerateImplementation", Meaning.done),
        (5, "RunTests", Meaning.waiting), (7, "checks", Meaning.signal), (10, "RunTests", Meaning.failed),
        (12, "FixTestFailures", Meaning.error), (14, "FixTestFailures", Meaning.running)]
    assert [r.took for r in rows] == ["1.5s", "3m 12s", "1.0s", "", "1.0s", "1.0s", ""]
    assert rows[0].outcome == "done: branch component-bot/1-stack"
    assert rows[1].outcome == "done: commit abcdef1, 2 files, PR #7"
    assert rows[2].outcome == "waiting for the checks"
    assert rows[3].outcome == "checks changed (3×)" and rows[3].attempt is None
    assert rows[4].outcome == "tests failed: t::a, t::b, t::c and 1 more"
    assert rows[5].outcome == "error: GitHub answered 502"
    assert rows[6].attempt == 2 and rows[6].outcome == "running"
    assert SessionRecord(entries).attempts() == rows


def test_a_run_of_tests_that_found_failures_does_not_read_as_a_success():
    [row] = timeline([E(1, "RunTests", "started"), E(2, "RunTests", "succeeded", 1, {"state": "failed",
                                                                                    "failed_checks": ["test"]})])
    assert row.meaning == Meaning.failed and row.meaning.icon == "❌"
    assert row.outcome == "tests failed: test"
    [row] = timeline([E(1, "RunTests", "started"), E(2, "RunTests", "succeeded", 1, {"state": "passed",
                                                                                    "checks": [{}, {}]})])
    assert (row.meaning, row.outcome) == (Meaning.passed, "tests passed: 2 checks")
    [row] = timeline([E(1, "RunTests", "started"), E(2, "RunTests", "succeeded", 1,
                                                     {"state": "timed_out", "reason": "no check run appeared"})])
    assert (row.meaning, row.outcome) == (Meaning.needs_human, "needs a maintainer: no check run appeared")


def test_failures_mean_what_the_session_does_next():
    def meaning(kind: str) -> Meaning:
        [row] = timeline([E(1, "Finalize", "started"), E(2, "Finalize", "failed", 1, {"kind": kind}, error="x")])
        return row.meaning

    assert meaning("needs_human") == Meaning.needs_human
    assert meaning("outage") == Meaning.paused
    assert meaning("transient") == Meaning.error and meaning("fatal") == Meaning.error


def test_an_abandoned_start_is_interrupted_and_a_lone_end_stands_alone():
    rows = timeline([E(1, "GenerateImplementation", "started"), E(2, "GenerateImplementation", "started", 60),
                     E(3, "GenerateImplementation", "succeeded", 90, {}, commit_sha="1234567890"),
                     E(4, "RunTests", "succeeded", 95, {"state": "passed"})])
    assert [(r.seq, r.meaning, r.took) for r in rows] == [(1, Meaning.interrupted, ""), (2, Meaning.done, "30s"),
                                                         (4, Meaning.passed, "")]


def test_signals_are_worded_without_pinging_anyone():
    rows = timeline([E(1, "instruction", "received", input={"author": "maria"}),
                     E(2, "stop", "received", input={"by": "rick"}),
                     E(3, "merge", "received", input={"by": "maria", "approval": True})])
    assert [r.outcome for r in rows] == ["instruction from maria", "/stop by rick", "approved by maria"]


@pytest.mark.parametrize("seconds, text", [(0.04, "0.0s"), (9.94, "9.9s"), (42, "42s"), (185, "3m 05s"),
                                           (3720, "1h 02m")])
def test_durations(seconds, text):
    assert format_duration(timedelta(seconds=seconds)) == text
    assert format_duration(None) == ""


def spend(usd: float = 0.0, budget: float | None = None, tokens: int = 0, token_budget: int = 2_000_000) -> Spend:
    return Spend("2025-06", usd, budget, tokens, token_budget)


def test_only_steps_that_spend_are_held_back():
    assert {step for step in Step if spends(step)} >= {Step.Initialize, Step.GenerateImplementation,
                                                       Step.FixTestFailures, Step.Revise}
    assert not spends(Step.RunTests) and not spends(Step.Finalize)
    over = spend(60.0, 50.0)
    assert budget_stop(Step.RunTests, over) is None and budget_stop(Step.Finalize, over) is None
    assert budget_stop(Step.GenerateImplementation, spend(49.99, 50.0)) is None
    assert budget_stop(Step.GenerateImplementation, spend(10.0, None, 1_999_999)) is None


def test_over_the_monthly_budget_the_reason_has_the_figures():
    reason = budget_stop(Step.Revise, spend(50.0, 50.0, 12_345))
    assert reason.startswith("over budget: this installation has spent $50.00 in 2025-06 (UTC) of its monthly "
                             "budget of $50.00 (BOT_MONTHLY_BUDGET_USD); this session has used 12,345 of its "
                             "2,000,000 tokens")
    assert "before Revise, without calling the model" in reason and "next month" in reason


def test_over_the_token_budget_the_reason_has_the_figures():
    reason = budget_stop(Step.FixTestFailures, spend(3.2, None, 2_000_000))
    assert reason.startswith("over budget: this session has used 2,000,000 of its 2,000,000 tokens")
    assert "this installation has spent $3.20 in 2025-06 (UTC), with no monthly budget set" in reason
    assert spend(3.2, None, 2_000_000).figures()["session_tokens"] == 2_000_000


def test_months_are_calendar_months_in_utc():
    east = timezone(timedelta(hours=3))
    assert month_start(datetime(2025, 7, 1, 1, 0, tzinfo=east)) == datetime(2025, 6, 1, tzinfo=timezone.utc)
    assert month_label(datetime(2025, 7, 1, 1, 0, tzinfo=east)) == "2025-06"
    assert [label for label, _ in recent_months(datetime(2025, 2, 14, tzinfo=timezone.utc), 4)] == [
        "2024-11", "2024-12", "2025-01", "2025-02"]
