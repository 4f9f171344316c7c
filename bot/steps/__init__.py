"""One module per step. Each step reads what it needs from GitHub, acts, and returns an outcome;
the runner records it. Steps are idempotent: running one twice never makes a second commit,
comment or pull request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from githubkit import GitHub

from bot.agent import Agent, Usage
from bot.config import RepoConfig, Settings
from bot.github.client import GitHubApps
from bot.github.comments import Comments
from bot.store.models import Interaction, Session


class StepFailure(Exception):
    """A step could not finish. `kind`: transient (retry later), needs_human (wait for a person),
    fatal (the session fails). `reason` is shown to people: no secrets, no tracebacks."""

    def __init__(self, kind: str, reason: str, **result: Any) -> None:
        super().__init__(reason)
        self.kind, self.reason, self.result = kind, reason, result


@dataclass
class StepOutcome:
    result: dict[str, Any]
    commit_sha: str | None = None
    usage: Usage = Usage()
    transcript: list[dict[str, Any]] = field(default_factory=list)
    session_updates: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepContext:
    session: Session
    interactions: list[Interaction]
    attempt: int
    occurrence: int  # how many times this step has succeeded before, plus one
    gh: GitHub
    apps: GitHubApps
    settings: Settings
    agent: Agent
    config: RepoConfig
    save: Callable[..., Awaitable[None]]  # persist session columns at once (before effects that need them)
    now: Callable[[], dt.datetime]

    @property
    def owner(self) -> str:
        return self.session.owner

    @property
    def repo(self) -> str:
        return self.session.repo

    async def comments(self) -> Comments:
        """Our marked comments in the session's repository (only the App's own count)."""
        return Comments(self.gh, self.owner, self.repo, await self.apps.bot_login())

    def step_trailer(self, step: str) -> str:
        """Marks the commit of one step occurrence, so a retried step finds the commit it already made."""
        return f"Component-Bot-Step: session {self.session.id} {step} #{self.occurrence}"

    def last_result(self, step: str) -> dict[str, Any]:
        for interaction in reversed(self.interactions):
            if interaction.step == step and interaction.status == "succeeded":
                return interaction.result or {}
        return {}


class StepRunner(Protocol):
    async def __call__(self, ctx: StepContext) -> StepOutcome: ...
