"""Fixtures for the operator's surface: the CLI run against the test database and the fake GitHub."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from bot.cli import main
from tests.fakes.agent import ScriptedAgent
from tests.harness import STACK_IMPL, BotHarness, make_fake, settings_for

NOISY = ("httpx", "httpcore", "httpx2", "httpcore2", "aiosqlite", "alembic")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures logging for its process; put the test run's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, noisy_level in noisy.items():
        logging.getLogger(name).setLevel(noisy_level)


@pytest.fixture
def fake():
    return make_fake()


@pytest.fixture
def bot_settings(settings, fake):
    return settings_for(fake, settings)


@pytest.fixture
def cli_env(monkeypatch, tmp_path, bot_settings):
    """The environment `component-bot` reads, pointing at this test's database and fake App."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", bot_settings.database_url)
    monkeypatch.setenv("APP_ID", str(bot_settings.app_id))
    monkeypatch.setenv("PRIVATE_KEY", bot_settings.private_key.get_secret_value())
    monkeypatch.setenv("WEBHOOK_SECRET", bot_settings.webhook_secret.get_secret_value())
    monkeypatch.setenv("LOG_FORMAT", "json")
    return bot_settings


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def last_error_line(self) -> str:
        return self.err.strip().splitlines()[-1] if self.err.strip() else ""


@pytest.fixture
def cli(cli_env, capsys, fake):
    """Run `component-bot ARGS…` (its GitHub is the fake). Sync; use `acli` inside async tests."""

    def run(*argv: str) -> CliResult:
        capsys.readouterr()
        try:
            code = main(list(argv), github_transport=httpx.ASGITransport(app=fake.app))
        except SystemExit as exit_:  # a usage error, reported by argparse
            code = exit_.code
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def acli(cli):
    """The CLI from an async test: in a thread, since it runs its own event loop."""

    async def run(*argv: str) -> CliResult:
        return await asyncio.to_thread(cli, *argv)

    return run


@pytest.fixture
async def bot(bot_settings, fake):
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL, "widgets/__init__.py": "from .stack import Stack\n"})
    async with BotHarness(bot_settings, fake, agent) as harness:
        yield harness
