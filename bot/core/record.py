"""A session's record: its interactions, in order, and every projection of them the bot needs.

The interactions are append-only: step attempts (started → succeeded | failed) and signals from
outside (received). `next_step` folds them into the next decision; everything else that reads
the record — the runner, the steps, the status comment, the operator tools — asks this class,
in these terms, instead of walking the rows itself. Pure: it reads objects that look like
interaction rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.attempts import Entry, Row, timeline
from bot.core.orchestrator import WRITING_STEPS, Decision, Limits, Record, Signal, Status, Step, next_step
from bot.core.repo_config import RepoConfig
from bot.core.results import RESULT_TYPES, EditResult, FailureResult, Result, RunTestsResult
from bot.core.traceability import Table, Trace
from bot.core.usage import Usage

# GitHub Actions needs longer than this to queue a run and finish it: checks of a commit made
# this recently are not worth asking for.
JUST_NOW = timedelta(seconds=20)
STEP_NAMES = frozenset(step.value for step in Step)


@dataclass(frozen=True)
class SessionRecord:
    entries: Sequence[Entry]

    # ----- deciding

    @property
    def config(self) -> RepoConfig:
        """The repository config Initialize read (defaults before that)."""
        result = self.last_result(Step.Initialize)
        return RepoConfig.model_validate(result.get("config") or {}) if result is not None else RepoConfig()

    @property
    def working_directory(self) -> str:
        """The session's working directory as Initialize resolved it ("": the repository's root)."""
        result = self.last_result(Step.Initialize) or {}
        return str((result.get("component") or {}).get("working_directory") or "")

    @property
    def required_checks(self) -> list[str]:
        """The check names or globs that decide, for the session's working directory."""
        return self.config.checks_required_in(self.working_directory)

    def decide(self) -> Decision:
        config = self.config
        return next_step(Limits(config.max_fix_iterations, config.max_step_attempts),
                         [Record(e.seq, e.step, e.status, e.result) for e in self.entries])

    def signal_pending(self, session_status: str) -> bool:
        """The last interaction is a signal, and acting on it would change something: run a step,
        or move the session to another status (a /stop, a merge…)."""
        if not self.entries or self.entries[-1].status != Status.received:
            return False
        decision = self.decide()
        return isinstance(decision, Step) or getattr(decision, "status", None) != session_status

    # ----- steps

    def finished(self, step: Step) -> list[Entry]:
        return [e for e in self.entries if e.step == step.value and e.status in (Status.succeeded, Status.failed)]

    def last_result(self, step: Step) -> dict[str, Any] | None:
        """The raw result of the step's last success, or None."""
        for entry in reversed(self.entries):
            if entry.step == step.value and entry.status == Status.succeeded:
                return dict(entry.result or {})
        return None

    def last(self, step: Step) -> Result | None:
        """The typed result of the step's last success, or None."""
        raw = self.last_result(step)
        return RESULT_TYPES[step.value].from_dict(raw) if raw is not None else None

    def last_effective_result(self) -> tuple[Step, dict[str, Any]] | None:
        """The last success that moved the session (not a Revise that only answered, nor an
        UpdateBranch that merged nothing), with its result."""
        for entry in reversed(self.entries):
            if entry.status != Status.succeeded or entry.step not in STEP_NAMES:
                continue
            result = dict(entry.result or {})
            if entry.step == Step.Revise.value and not result.get("commit_sha"):
                continue
            if entry.step == Step.UpdateBranch.value and result.get("state") in ("up_to_date", "left"):
                continue
            return Step(entry.step), result
        return None

    def base_paths(self) -> tuple[str, ...] | None:
        """The files at the session's base as Generate listed them (None: not listed, too many)."""
        paths = (self.last_result(Step.GenerateImplementation) or {}).get("base_paths")
        return tuple(paths) if paths is not None else None

    def latest_inputs(self) -> dict[str, Any] | None:
        """The trusted inputs as last read: at the session's base (Initialize), or at the new base
        when the spec changed on the default branch (UpdateBranch)."""
        for entry in reversed(self.entries):
            if entry.status == Status.succeeded and entry.step in (Step.Initialize.value, Step.UpdateBranch.value):
                inputs = (entry.result or {}).get("inputs")
                if inputs:
                    return dict(inputs)
        return None

    def tests(self) -> RunTestsResult:
        return self.last(Step.RunTests) or RunTestsResult()

    def attempt_number(self, step: Step) -> int:
        """1 + the consecutive failed attempts of `step` since its last success."""
        attempt = 1
        for entry in reversed(self.entries):
            if entry.step != step.value:
                if entry.status in (Status.succeeded, Status.failed):
                    break
                continue
            if entry.status == Status.succeeded:
                break
            if entry.status == Status.failed:
                attempt += 1
        return attempt

    def first_try(self, step: Step) -> bool:
        """No earlier attempt of this occurrence of the step, failed or abandoned by a crash: what
        the session knows of the branch is all there is (a retry must look again)."""
        last = self.entries[-1] if self.entries else None
        abandoned = last is not None and last.step == step.value and last.status == Status.started
        return self.attempt_number(step) == 1 and not abandoned

    def occurrence(self, step: Step) -> int:
        """How many times the step has succeeded before, plus one: names this run's commit."""
        return 1 + sum(1 for e in self.entries if e.step == step.value and e.status == Status.succeeded)

    def last_failure(self) -> FailureResult | None:
        """The failure the session stopped on, when its last finished attempt failed."""
        last = next((e for e in reversed(self.entries) if e.status in (Status.succeeded, Status.failed)), None)
        return FailureResult.from_dict(last.result) if last is not None and last.status == Status.failed else None

    def spec_problem(self) -> dict[str, str] | None:
        failure = self.last_failure()
        return failure.spec_problem if failure is not None else None

    def fixes(self) -> list[tuple[EditResult, str]]:
        """Each successful fix with a commit: its result and commit sha."""
        return [(EditResult.from_dict(e.result), e.commit_sha) for e in self.entries
                if e.step == Step.FixTestFailures.value and e.status == Status.succeeded and e.commit_sha]

    def commits(self) -> list[Entry]:
        return [e for e in self.entries if e.status == Status.succeeded and e.commit_sha]

    # ----- waiting

    def committed_just_now(self, sha: str | None, now: datetime) -> bool:
        """`sha` is the commit the step just before made, seconds ago, and no check reported since
        that step's first attempt began: no check can have finished on it yet. Every attempt counts,
        not only the last: a retry succeeds with the commit an interrupted attempt already made."""
        last = self.entries[-1] if self.entries else None
        if sha is None or last is None or last.status != Status.succeeded or last.commit_sha != sha:
            return False
        if not timedelta(0) <= now - last.created_at < JUST_NOW:
            return False
        for entry in reversed(self.entries[:-1]):
            if entry.status == Status.received:
                if entry.step == Signal.checks.value:
                    return False
            elif entry.step != last.step:
                return True
        return True

    def waiting_since(self, fallback: datetime) -> datetime:
        """When the head commit was made: the last writing step's success, or a human push."""
        for entry in reversed(self.entries):
            if entry.status == Status.succeeded and entry.commit_sha:
                return entry.created_at
            if entry.status == Status.received and entry.step == Signal.human_push.value:
                return entry.created_at
            if entry.step == Step.Initialize.value and entry.status == Status.succeeded:
                return entry.created_at
        return fallback

    def outage_streak(self) -> list[Entry]:
        """The outage failures at the end of the record, oldest first (signals and starts in between aside)."""
        streak: list[Entry] = []
        for entry in reversed(self.entries):
            if entry.status in (Status.received, Status.started):
                continue
            if entry.status != Status.failed or (entry.result or {}).get("kind") != "outage":
                break
            streak.append(entry)
        return streak[::-1]

    def paused_until(self) -> datetime | None:
        streak = self.outage_streak()
        until = (streak[-1].result or {}).get("until") if streak else None
        return datetime.fromisoformat(until) if until else None

    # ----- people

    def merge_requests(self) -> list[dict[str, Any]]:
        """Merge signals (/merge, approvals) since the last Finalize began."""
        requests: list[dict[str, Any]] = []
        for entry in self.entries:
            if entry.step == Step.Finalize.value and entry.status == Status.started:
                requests = []
            elif entry.step == Signal.merge.value and entry.status == Status.received:
                requests.append(dict(entry.input or {}))
        return requests

    def pending_instructions(self) -> list[dict[str, Any]]:
        """The instructions no successful Revise has answered yet, in the order people wrote them
        (deliveries are processed concurrently, so the order they were recorded in may differ)."""
        answered = {seq for e in self.entries if e.step == Step.Revise.value and e.status == Status.succeeded
                    for seq in (e.result or {}).get("answered", [])}
        pending = [dict(e.input or {}, seq=e.seq) for e in self.entries
                   if e.step == Signal.instruction.value and e.status == Status.received and e.seq not in answered]
        return sorted(pending, key=lambda i: (str(i.get("at") or ""), i["seq"]))

    # ----- what it did, for people

    def attempts(self) -> list[Row]:
        """The timeline: one row per step attempt (its start and end paired, with its duration and
        what it meant: tests passed, tests failed, needs a maintainer…) and one per signal."""
        return timeline(self.entries)

    def traceability(self) -> Trace | None:
        """The traceability of the last commit whose step reported on it (Generate, Fix, Revise): the
        newest wins, and one that could not be verified says why instead of leaving an older table."""
        for entry in reversed(self.entries):
            result = entry.result or {}
            if entry.step in WRITING_STEPS and entry.status == Status.succeeded and entry.commit_sha and (
                    "traceability" in result or "traceability_note" in result):
                table = result.get("traceability")
                return Trace(Table.from_dict(table) if table else None, result.get("traceability_note"),
                             entry.commit_sha)
        return None

    def last_finished(self) -> Entry | None:
        """The last step attempt that ended (signals aside)."""
        return next((e for e in reversed(self.entries) if e.status in (Status.succeeded, Status.failed)), None)

    def files_changed(self) -> list[str]:
        """Every file a writing step changed, in the order they were first changed."""
        files: dict[str, None] = {}
        for entry in self.entries:
            if entry.step in WRITING_STEPS and entry.status == Status.succeeded:
                files.update(dict.fromkeys(str(f) for f in (entry.result or {}).get("files") or []))
        return list(files)

    def test_runs(self) -> list[tuple[Entry, RunTestsResult]]:
        """Every successful RunTests, oldest first, with what it read."""
        return [(e, RunTestsResult.from_dict(e.result)) for e in self.entries
                if e.step == Step.RunTests.value and e.status == Status.succeeded]

    def usage_by_step(self) -> dict[str, tuple[int, Usage]]:
        """Per step: its finished attempts and what they cost together."""
        usage: dict[str, tuple[int, Usage]] = {}
        for entry in self.entries:
            if entry.status in (Status.succeeded, Status.failed):
                attempts, total = usage.get(entry.step, (0, Usage()))
                usage[entry.step] = (attempts + 1, total + Usage.of(entry))
        return usage
