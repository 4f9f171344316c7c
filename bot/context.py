"""The engine's dependencies, built once per process and handed to every handler and step."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import create_engine, session_factory


@dataclass
class Context:
    settings: Settings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[Context]:
        engine = create_engine(settings.database_url)
        try:
            yield cls(settings=settings, engine=engine, db=session_factory(engine))
        finally:
            await engine.dispose()
