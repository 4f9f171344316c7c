"""Setup mode and normal mode, and the switch from one to the other without a restart.

Without the GitHub App's settings the server starts in *setup mode*: only the database is open
(for `/healthz` and the dashboard), webhooks are refused with 503, and `/` offers to register
the App to whoever holds the setup token logged at start (webhooks/setup_token.py).
`Modes.activate(settings)` then starts the engine (GitHub clients, runner, intake) with the
registered settings, flips `app.state.ready` (the webhook route reads that flag) and revokes the
setup token. A server started with complete settings activates at once, so both paths run the
same engine code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager as AsyncContextManager

from fastapi import FastAPI

from bot.config import Settings
from bot.store.db import Database
from bot.telemetry.logs import register_secret
from webhooks.setup_token import SetupToken

log = logging.getLogger(__name__)

# The engine's lifetime: starts everything on entry (sets app.state.db/apps/runner/intake) and
# drains and stops it on exit.
Engine = Callable[[FastAPI, Settings], AsyncContextManager[None]]


class Modes:
    def __init__(self, app: FastAPI, stack: contextlib.AsyncExitStack, engine: Engine) -> None:
        self.app, self.stack, self.engine = app, stack, engine
        self.lock = asyncio.Lock()  # held across a whole registration, so only one can ever complete
        self._setup_database = contextlib.AsyncExitStack()
        self.setup_token: SetupToken | None = None  # in setup mode only, until the App is registered

    @property
    def ready(self) -> bool:
        return bool(getattr(self.app.state, "ready", False))

    async def start(self, settings: Settings) -> None:
        self.app.state.settings = settings
        self.app.state.ready = False
        if settings.github_app_configured:
            await self.activate(settings)
            return
        # Setup mode: the database only (no GitHub clients, no runner, no intake).
        self.app.state.db = await self._setup_database.enter_async_context(Database.open(settings.database_url))
        self.setup_token = SetupToken.start(settings)

    async def activate(self, settings: Settings) -> None:
        """Start the engine with complete settings; afterwards the server is in normal mode."""
        settings.require_github_app()
        if self.ready:
            return
        for secret in (settings.private_key, settings.webhook_secret, settings.github_client_secret):
            if secret is not None:
                register_secret(secret.get_secret_value())
        await self.stack.enter_async_context(self.engine(self.app, settings))
        self.app.state.settings = settings
        self.app.state.ready = True
        if self.setup_token is not None:
            self.setup_token.revoke()
        await self._setup_database.aclose()  # the engine has its own database connection pool now

    async def stop(self) -> None:
        await self._setup_database.aclose()


def lifespan(settings: Settings, engine: Engine) -> Callable[[FastAPI], AsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            modes = Modes(app, stack, engine)
            app.state.modes = modes
            stack.push_async_callback(modes.stop)
            await modes.start(settings)
            yield

    return run
