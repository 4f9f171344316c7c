"""The fast tier: handlers and steps called directly, with the fake GitHub behind the real GitHub
client and a real database, but no web app, no intake and no runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from bot.github.client import GitHubApps
from bot.store.db import Database
from tests.harness import make_fake, settings_for


@dataclass
class RecordingScheduler:
    """The Scheduler protocol, writing down what it was asked (and recording signals for real)."""

    db: Any
    scheduled: list[int] = field(default_factory=list)
    signals: list[tuple[int, str, dict, str | None]] = field(default_factory=list)

    async def schedule(self, session_id: int, delay: float = 0.0) -> None:
        self.scheduled.append(session_id)

    async def signal(self, session_id: int, signal: str, payload: dict | None = None, *, key: str | None = None) -> bool:
        self.signals.append((session_id, signal, payload or {}, key))
        return True

    async def wake(self, session_id: int) -> None:
        self.scheduled.append(session_id)


@pytest.fixture
def fake():
    return make_fake()


@pytest.fixture
def unit_settings(settings, fake):
    return settings_for(fake, settings)


@pytest.fixture
async def db(database_url):
    async with Database.open(database_url) as database:
        yield database


@pytest.fixture
async def apps(unit_settings, fake):
    apps = GitHubApps(unit_settings, transport=httpx.ASGITransport(app=fake.app))
    async with apps.app:
        yield apps


@pytest.fixture
def scheduler(db):
    return RecordingScheduler(db)
