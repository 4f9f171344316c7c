"""The agent that changes code: a small protocol, so steps do not care whether Claude or a script answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.inputs import SpecText
from bot.core.traceability import Table
from bot.core.usage import Usage

if TYPE_CHECKING:
    from bot.github.workspace import Workspace


@dataclass(frozen=True)
class AgentTask:
    """What a step asks of the agent. Text from issues, comments and logs is untrusted data."""

    kind: str  # implement | fix | revise | resolve
    repository: str
    issue_number: int
    issue_title: str
    component_name: str
    design_path: str
    test_path: str
    issue_body: str = ""
    working_directory: str = ""  # a monorepo's folder the component lives in ("": the repository's root)
    instructions: dict[str, str] = field(default_factory=dict)  # path → text (AGENTS.md, CLAUDE.md… on the way up)
    design: SpecText | None = None  # the design and test files as read at the base (None: read the workspace)
    tests: SpecText | None = None
    rules: tuple[str, ...] = ()
    failure_report: str = ""
    diff: str = ""
    conversation: tuple[dict[str, Any], ...] = ()  # human instructions and review threads, for Revise
    conflicts: tuple[dict[str, Any], ...] = ()  # ResolveConflicts: {path, base, ours, theirs} texts per file
    base_paths: tuple[str, ...] | None = None  # the files at the session's base commit, when the step knows them
    attempt: int = 1
    max_attempts: int = 1
    max_turns: int = 40
    token_budget: int = 2_000_000
    tokens_used_before: int = 0


@dataclass(frozen=True)
class AgentResult:
    summary: str
    usage: Usage = Usage()
    reply: str | None = None                        # for Revise: what to answer the human
    transcript: list[dict[str, Any]] = field(default_factory=list)
    traceability: Table | None = None               # the design → code → tests table, verified (bot/core/traceability.py)
    traceability_note: str | None = None            # why there is none, when there is none


class AgentStopped(Exception):
    """The agent stopped without finishing: turn limit, token budget, refusal, API unavailable.

    `retryable` says whether trying the same step again later may succeed; `outage` names the
    service problem behind it (the API overloaded, rate-limited, down), which pauses the session
    instead of using up an attempt, for `retry_after` seconds when the API said so.
    """

    def __init__(self, reason: str, *, retryable: bool = False, usage: Usage = Usage(),
                 transcript: list[dict[str, Any]] | None = None, outage: str | None = None,
                 retry_after: float | None = None, spec_problem: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable or outage is not None
        self.outage, self.retry_after = outage, retry_after
        self.spec_problem = spec_problem  # the agent reported that the tests and the design disagree
        self.usage = usage
        self.transcript = transcript or []


class Agent(Protocol):
    async def implement(self, task: AgentTask, workspace: Workspace) -> AgentResult:
        """Edit the workspace (staged, not committed) to do the task."""
        ...
