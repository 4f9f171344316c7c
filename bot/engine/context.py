"""The engine's dependencies, built once per process and handed to every handler and step."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.store.db import create_engine, session_factory
from bot.github.client import GitHubApps

if TYPE_CHECKING:
    from bot.agent import Agent
    from bot.engine.runner import Runner


@dataclass
class Context:
    settings: Settings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]
    github: GitHubApps | None = None
    agent: Agent | None = None
    runner: Runner | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, settings: Settings, *, github_transport: httpx.AsyncBaseTransport | None = None,
                   agent: Agent | None = None) -> AsyncIterator[Context]:
        engine = create_engine(settings.database_url)
        github = GitHubApps(settings, transport=github_transport) if settings.github_app_configured else None
        try:
            yield cls(settings=settings, engine=engine, db=session_factory(engine), github=github, agent=agent)
        finally:
            await engine.dispose()
