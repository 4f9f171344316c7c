"""One module per step. Each step reads what it needs through the session's repository, acts,
and returns an outcome; the runner records it. Steps are idempotent: running one twice never
makes a second commit, comment or pull request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.agent import Agent
from bot.config import Settings
from bot.core.orchestrator import Step
from bot.core.record import SessionRecord
from bot.core.repo_config import RepoConfig
from bot.core.results import Result
from bot.core.usage import Usage
from bot.github.repository import Repository
from bot.store.models import Session


class StepFailure(Exception):
    """A step could not finish. `kind`: transient (retry later), needs_human (wait for a person),
    fatal (the session fails), outage (a service is down: pause). `reason` is shown to people:
    no secrets, no tracebacks. `usage`: what the attempt cost before it failed."""

    def __init__(self, kind: str, reason: str, *, usage: Usage = Usage(), **result: Any) -> None:
        super().__init__(reason)
        self.kind, self.reason, self.usage, self.result = kind, reason, usage, result


@dataclass
class StepOutcome:
    result: Result
    commit_sha: str | None = None
    usage: Usage = Usage()
    transcript: list[dict[str, Any]] = field(default_factory=list)
    session_updates: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepContext:
    session: Session
    record: SessionRecord
    step: Step
    attempt: int
    repository: Repository  # the session's repository, through its installation
    settings: Settings
    agent: Agent
    save: Callable[..., Awaitable[None]]  # persist session columns at once (before effects that need them)
    now: Callable[[], dt.datetime]

    @property
    def config(self) -> RepoConfig:
        return self.record.config

    def step_trailer(self) -> str:
        """Marks the commit of one step occurrence, so a retried step finds the commit it already made."""
        return f"Component-Bot-Step: session {self.session.id} {self.step.value} #{self.record.occurrence(self.step)}"


class StepRunner(Protocol):
    async def __call__(self, ctx: StepContext) -> StepOutcome: ...
