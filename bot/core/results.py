"""The typed results of the steps, as recorded in each interaction's `result`.

A step returns one of these; the runner stores `to_dict()`; readers get it back with
`from_dict()`, which ignores keys it does not know (rows written by another version) and fills
what is missing with defaults. Failures carry a `FailureResult`. Pure data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

T = TypeVar("T", bound="Result")


class Result:
    """to_dict / from_dict for the frozen dataclasses below."""

    step: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)  # type: ignore[arg-type]
                if getattr(self, f.name) is not None}

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any] | None) -> T:
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass(frozen=True)
class InitializeResult(Result):
    step: ClassVar[str] = "Initialize"
    default_branch: str = "main"
    base_sha: str | None = None
    branch: str | None = None
    component: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] | None = None  # bot.core.inputs.TrustedInputs.as_dict()
    note: str | None = None


@dataclass(frozen=True)
class EditResult(Result):
    """What a step that commits (Generate, Fix, Revise) did."""

    step: ClassVar[str] = "edit"
    commit_sha: str | None = None
    files: list[str] = field(default_factory=list)
    pr_number: int | None = None         # Generate: the draft PR
    attempt: int | None = None           # Fix: which fix attempt
    fixing: list[str] | None = None      # Fix: the failing tests or checks it was given
    answered: list[int] | None = None    # Revise: the instructions (by seq) it answered
    reply: str | None = None             # Revise: what it said
    base_paths: list[str] | None = None  # Generate: the files at the base, shown to every later step the same way
    traceability: dict[str, Any] | None = None  # the verified design → code → tests table (core.traceability.Table)
    traceability_note: str | None = None         # or why there is none; neither: the step does not report one


@dataclass(frozen=True)
class RunTestsResult(Result):
    step: ClassVar[str] = "RunTests"
    state: str = "pending"  # pending | passed | failed | timed_out | not_run
    head_sha: str | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    failed_checks: list[str] | None = None
    failing_tests: list[str] | None = None
    pre_existing: list[str] | None = None
    verdicts: list[dict[str, Any]] | None = None  # per failed check: counted or excused, and why
    report: str | None = None
    signature: str | None = None
    reason: str | None = None
    tests_confirmed: bool | None = None  # the logs list the component's tests (None: no log lists tests)
    note: str | None = None


@dataclass(frozen=True)
class FinalizeResult(Result):
    step: ClassVar[str] = "Finalize"
    merged: bool = False
    merge_sha: str | None = None
    merge_refused: str | None = None
    waiting_for: str | None = None
    spec: str | None = None
    spec_unchanged: bool | None = None
    note: str | None = None
    stale_base: str | None = None  # the default branch's head, when the branch lacks it: brought up to date first
    pr_body: str | None = None  # the PR's summary, shown with its readiness when the session settles
    draft: bool = False         # the PR is still a draft: the settling marks it ready for review


@dataclass(frozen=True)
class UpdateResult(Result):
    """UpdateBranch: what became of the default branch's move."""

    step: ClassVar[str] = "UpdateBranch"
    state: str = "up_to_date"  # up_to_date | merged | left (not needed while under review) | conflict
    base_sha: str | None = None     # the default branch's head it looked at
    merge_sha: str | None = None    # merged: the merge commit, the branch's new head
    spec_changed: list[str] = field(default_factory=list)  # spec files that differ between the old and new base
    conflicts: list[str] = field(default_factory=list)     # conflict: files changed on both sides
    inputs: dict[str, Any] | None = None  # the trusted inputs at the new base, when the spec changed
    note: str | None = None


@dataclass(frozen=True)
class FailureResult(Result):
    step: ClassVar[str] = "failed"
    kind: str = "transient"  # transient | needs_human | fatal | outage
    reason: str = ""
    spec_problem: dict[str, str] | None = None
    service: str | None = None     # outage: GitHub | Anthropic
    what: str | None = None        # outage: "the GitHub rate limit"…
    retry_after: float | None = None
    since: str | None = None       # outage: the first outage in a row (ISO)
    until: str | None = None       # outage: when to try again (ISO)
    summary: str | None = None
    budget: dict[str, Any] | None = None  # over budget: the figures (bot.core.budget.Spend.figures())


RESULT_TYPES: dict[str, type[Result]] = {
    "Initialize": InitializeResult, "GenerateImplementation": EditResult, "RunTests": RunTestsResult,
    "FixTestFailures": EditResult, "Finalize": FinalizeResult, "Revise": EditResult,
    "UpdateBranch": UpdateResult, "ResolveConflicts": EditResult,
}
