"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL via TEST_DATABASE_URL),
settings with a real RSA key, and the web app driven in-process through httpx."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Settings
from bot.store.db import migrate
from bot.store.models import Base

from tests.webhook_helpers import WEBHOOK_SECRET

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
PROCRASTINATE_TABLES = ("procrastinate_jobs", "procrastinate_periodic_defers", "procrastinate_workers",
                        "procrastinate_events")
PROCRASTINATE_DROP = Path(__file__).resolve().parent.parent / "migrations" / "procrastinate" / "drop.sql"


@pytest.fixture(scope="session")
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="session", autouse=True)
def _no_credential_in_any_log_line(private_key_pem: str):
    """Every log record of the whole run, formatted as our JSON logs, is checked for the test
    private keys, the webhook secrets, installation tokens and Anthropic keys (tests/ops/logscan.py)."""
    from tests.fakes import github as fake_github
    from tests.ops.logscan import LogScanner

    scanner = LogScanner()
    scanner.add_private_key("the test private key", private_key_pem)
    scanner.add_private_key("the fake GitHub App's private key", fake_github._key_pair()[0])
    scanner.add_secret("the test webhook secret", WEBHOOK_SECRET)
    scanner.add_secret("the fake GitHub's webhook secret", fake_github.WEBHOOK_SECRET)
    with scanner.installed():
        yield scanner
    scanner.assert_clean()


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per run: a SQLite template file, or the PostgreSQL test database itself."""
    if POSTGRES_URL:
        _reset_postgres(POSTGRES_URL)
        migrate(POSTGRES_URL)
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    migrate(f"sqlite+aiosqlite:///{path}")
    return str(path)


def _reset_postgres(url: str) -> None:
    async def drop_all() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            await conn.exec_driver_sql(PROCRASTINATE_DROP.read_text().replace("%", "%%"))
        await engine.dispose()

    asyncio.run(drop_all())


@pytest.fixture
async def database_url(_migrated_template: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database for this test."""
    if POSTGRES_URL:
        engine = create_async_engine(POSTGRES_URL)
        async with engine.begin() as conn:
            tables = ", ".join([*(t.name for t in Base.metadata.sorted_tables), *PROCRASTINATE_TABLES])
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()
        yield POSTGRES_URL
        return
    path = tmp_path / "bot.sqlite3"
    shutil.copy(_migrated_template, path)
    yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(database_url: str, private_key_pem: str) -> Settings:
    return Settings(
        _env_file=None,
        app_id=4242,
        private_key=private_key_pem,
        webhook_secret=WEBHOOK_SECRET,
        database_url=database_url,
        anthropic_api_key="sk-ant-test-key-0123456789",
    )


@pytest.fixture
async def app(settings: Settings):
    """The app with GitHub replaced by an (empty) fake and the agent by a script: never the network."""
    from tests.fakes.agent import ScriptedAgent
    from tests.fakes.github import FakeGitHub
    from webhooks.app import create_app

    application = create_app(settings, github_transport=httpx.ASGITransport(app=FakeGitHub().app),
                             agent=ScriptedAgent(), engine="in-process")
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
        yield http
