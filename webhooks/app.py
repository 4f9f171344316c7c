"""The FastAPI application: composes the webhook intake and health check around the engine."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.middleware.errors import ServerErrorMiddleware

from bot import __version__
from bot.agent import Agent
from bot.agent.factory import close_agent, default_agent
from bot.config import Settings
from bot.engine.reconcile import Reconciler
from bot.engine.runner import Runner
from bot.github.client import GitHubApps
from bot.handlers import build_router
from bot.handlers.context import Deps
from bot.handlers.dispatch import Intake
from bot.handlers.router import Router
from bot.jobs.queue import is_postgres
from bot.jobs.runtime import Runtime
from bot.steps.registry import STEPS
from bot.store.db import Database, ping
from bot.store.recorder import DeliveryRecorder, sqlalchemy_writer
from bot.store.retention import prune_every_day
from webhooks import auth, dashboard, intake, metrics, modes, pages, setup

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10
QUEUE_OPTIONS = ("steps", "retry_delay", "now")  # the runner options a queue's runtime takes too


class App(FastAPI):
    """FastAPI, with `POST /api/github/webhooks` handed straight to its plain ASGI endpoint
    (webhooks/intake.py), before FastAPI's own layers. An exception there is answered 500 as
    FastAPI would (Starlette's ServerErrorMiddleware); other methods on the path, and every other
    path, go through FastAPI."""

    def __init__(self, **options: Any) -> None:  # noqa: ANN401 - FastAPI's
        super().__init__(**options)
        self.webhooks = ServerErrorMiddleware(intake.endpoint)
        self.router.add_route(intake.WEBHOOK_PATH, intake.endpoint, methods=["POST"])  # 405 for the others

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:  # noqa: ANN401
        if (scope["type"] == "http" and scope["path"] == intake.WEBHOOK_PATH and scope["method"] == "POST"
                and not scope.get("root_path") and not self.root_path):
            scope["app"] = self
            await self.webhooks(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings, *, router: Router | None = None,
               github_transport: httpx.AsyncBaseTransport | None = None, agent: Agent | None = None,
               runner_options: dict[str, Any] | None = None,
               oauth_transport: httpx.AsyncBaseTransport | None = None, worker: bool = True,
               engine: str = "auto", freeze_gc: bool = False) -> App:
    """The app. Tests pass the fake GitHub's transport and a scripted agent; production passes nothing.

    Sessions run in this process (`engine="in-process"`, the default on SQLite) or as Procrastinate
    jobs (`"queue"`, the default on PostgreSQL), worked here too unless `worker=False` (then this
    process only records deliveries and defers their jobs).

    Without the GitHub App's settings it starts in setup mode (webhooks/modes.py): `/` registers
    the App, and the engine below starts once it is registered, without a restart.

    `freeze_gc` (`serve`): once the engine has started, what is alive then (modules, models,
    pools: most of the heap) leaves the cyclic garbage collector's view (`gc.freeze`), so its
    collections only walk what requests allocate, instead of pausing on the whole heap.
    """
    queued = engine == "queue" or (engine == "auto" and is_postgres(settings.database_url))

    @contextlib.asynccontextmanager
    async def in_process(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
        options = dict(runner_options or {})
        steps = options.pop("steps", STEPS)
        the_agent = agent or default_agent(settings)
        async with (Database.open(settings.database_url) as db,
                    DeliveryRecorder.running(sqlalchemy_writer(db)) as recorder):
            apps = GitHubApps(settings, transport=github_transport)
            runner = Runner(db, apps, the_agent, settings, steps, **options)
            app.state.db, app.state.apps, app.state.runner, app.state.recorder = db, apps, runner, recorder
            app.state.intake = Intake(router or build_router(), Deps(settings, db, apps, runner), recorder)
            app.state.queued = False
            await app.state.intake.recover()
            await runner.recover()
            runner.start_sweeping()  # picks up signals other processes record (`component-bot sessions retry`)
            background = [asyncio.create_task(Reconciler(db, apps, runner, runner.now,
                                                         settings.reconcile_interval).run_forever())]
            if settings.retention_days:
                background.append(asyncio.create_task(prune_every_day(db, settings.retention_days), name="retention"))
            log.info("component-bot %s ready, running sessions in this process", __version__)
            try:
                yield
            finally:
                for task in background:
                    task.cancel()
                await asyncio.gather(*background, return_exceptions=True)
                try:
                    await asyncio.wait_for(app.state.intake.drain(), timeout=DRAIN_SECONDS)
                except TimeoutError:
                    log.warning("stopping with deliveries still in progress; they resume at the next start")
                await app.state.intake.close()
                await runner.close()
                await close_agent(the_agent)

    @contextlib.asynccontextmanager
    async def on_queue(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
        options = {k: v for k, v in (runner_options or {}).items() if k in QUEUE_OPTIONS}
        async with Runtime.open(settings, agent=agent, github_transport=github_transport, router=router,
                                **options) as runtime:
            app.state.db, app.state.apps, app.state.runtime = runtime.db, runtime.apps, runtime
            app.state.recorder, app.state.intake, app.state.queued = runtime.intake.recorder, runtime.intake, True
            working = asyncio.create_task(runtime.run_worker(concurrency=settings.worker_concurrency)) if worker else None
            log.info("component-bot %s ready, %s", __version__,
                     "working sessions here and in any worker" if worker else "recording deliveries for the workers")
            try:
                yield
            finally:
                if working is not None:
                    working.cancel()
                    await asyncio.gather(working, return_exceptions=True)

    started = on_queue if queued else in_process
    app = App(title="component-bot", version=__version__,
              lifespan=modes.lifespan(settings, frozen_after(started) if freeze_gc else started),
              docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.webhook_secret = lambda: app.state.settings.webhook_secret.get_secret_value()
    app.state.github_transport = github_transport  # setup's manifest conversion goes through it too
    app.state.oauth_transport = oauth_transport or github_transport  # dashboard sign-in (github.com + API)
    app.include_router(metrics.router)
    pages.handle_errors(app)
    for pages_router in (setup.router, auth.router, dashboard.router):
        app.include_router(pages_router)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            await ping(app.state.db.engine)
        except Exception as exc:  # noqa: BLE001 - any database failure means "not healthy"
            log.warning("health check failed: database unreachable (%s)", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "version": __version__})

    return app


def frozen_after(engine: modes.Engine) -> modes.Engine:
    """`engine`, with the heap it leaves after starting frozen out of the cyclic GC (`create_app`)."""

    @contextlib.asynccontextmanager
    async def run(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
        async with engine(app, settings):
            gc.collect()
            gc.freeze()
            yield

    return run
