"""The context of one webhook event, built by the dispatcher for each delivery.

It carries the scope GitHub signed (installation, repository), the repository object to talk to
GitHub through, who sent the event, and the scheduler that wakes sessions. Handlers get nothing
else: no process-wide container to reach into.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.core.scheduler import Scheduler
from bot.github.client import GitHubApps
from bot.github.repository import Repository
from bot.handlers.event import Event
from bot.store.sessions import Scope


@dataclass(frozen=True)
class Deps:
    """What every event's context is built from; composed once by the app or the CLI."""

    settings: Settings
    db: async_sessionmaker[AsyncSession]
    apps: GitHubApps
    scheduler: Scheduler


@dataclass
class EventContext:
    event: Event
    settings: Settings
    db: async_sessionmaker[AsyncSession]
    apps: GitHubApps
    scheduler: Scheduler
    scope: Scope | None = None
    repository: Repository | None = None
    _writers: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def for_event(cls, event: Event, deps: Deps) -> EventContext:
        scope = scope_of(event)
        repository = None if scope is None else deps.apps.repository(scope.installation_id,
                                                                     scope.repository_full_name)
        return cls(event, deps.settings, deps.db, deps.apps, deps.scheduler, scope, repository)

    @property
    def sender(self) -> str:
        return str(self.event.sender.get("login") or "")

    @property
    def sent_by_bot(self) -> bool:
        """GitHub Apps (the bot itself included) have `type: Bot` and a `[bot]` login: they never steer."""
        return self.event.sender.get("type") == "Bot" or self.sender.endswith("[bot]")

    async def can_write(self, login: str | None = None) -> bool:
        """Write, maintain or admin on the repository (the sender by default); asked once per login."""
        login = self.sender if login is None else login
        if self.repository is None or not login:
            return False
        if login not in self._writers:
            self._writers[login] = await self.repository.can_write(login)
        return self._writers[login]

    async def sender_may_steer(self) -> bool:
        return not self.sent_by_bot and await self.can_write()

    async def slug(self) -> str:
        return await self.apps.slug()


def scope_of(event: Event) -> Scope | None:
    repository = event.repository
    if event.installation_id is None or not repository.get("id") or not repository.get("full_name"):
        return None
    return Scope(event.installation_id, repository["id"], repository["full_name"])
