"""The FastAPI application: composes the webhook intake and health check around the engine."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bot import __version__
from bot.config import Settings
from bot.context import Context
from bot.db import ping
from bot.handlers import build_router
from bot.intake import Intake
from bot.routing import Router
from webhooks import intake

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10


def create_app(settings: Settings, router: Router | None = None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Context.open(settings) as context:
            app.state.context = context
            app.state.intake = Intake(router or build_router(), context)
            await app.state.intake.recover()
            log.info("component-bot %s ready", __version__)
            yield
            try:
                await asyncio.wait_for(app.state.intake.drain(), timeout=DRAIN_SECONDS)
            except TimeoutError:
                log.warning("stopping with deliveries still in progress; they resume at the next start")

    app = FastAPI(title="component-bot", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.webhook_secret = lambda: settings.webhook_secret.get_secret_value()
    app.include_router(intake.router)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            await ping(app.state.context.engine)
        except Exception as exc:  # noqa: BLE001 - any database failure means "not healthy"
            log.warning("health check failed: database unreachable (%s)", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "version": __version__})

    return app
