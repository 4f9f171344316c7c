"""What a process that works Procrastinate's jobs holds: the database, the GitHub App's clients, the
agent, the session engine (bot/engine/work.py) and the delivery handlers (bot/handlers), composed
once; the jobs (bot/jobs/tasks.py) call into it. `component-bot worker` runs it, and `serve`
runs one inside the web process unless told `--no-worker`.

There is no lease here: Procrastinate runs one job of a session at a time (its `lock`), and a
worker that dies mid-step has its job run again elsewhere (tasks.retry_stalled_jobs); what a step
does on GitHub is idempotent, so running its rest again repeats nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
from procrastinate import App

from bot.agent import Agent
from bot.agent.factory import close_agent, default_agent
from bot.config import Settings
from bot.core.orchestrator import Signal, Step
from bot.engine.outages import resume_due
from bot.engine.publishing import Publisher
from bot.engine.reconcile import Reconciler
from bot.engine.work import SessionWork
from bot.github.client import GitHubApps
from bot.handlers import build_router
from bot.handlers.context import Deps
from bot.handlers.dispatch import Intake
from bot.handlers.router import Router
from bot.jobs import tasks
from bot.jobs.queue import QUEUES, QueueScheduler, conninfo, defer_delivery_later, make_app
from bot.jobs.recording import PostgresDeliveryWriter
from bot.steps import StepRunner
from bot.steps.registry import STEPS
from bot.store import sessions as store
from bot.store.db import Database
from bot.store.recorder import DeliveryRecorder
from bot.store.retention import prune
from bot.store.models import utcnow
from bot.telemetry.logs import log_context

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, settings: Settings, db: Database, queue: App, apps: GitHubApps, agent: Agent,
                 recorder: DeliveryRecorder, *, steps: Mapping[Step, StepRunner] = STEPS, router: Router | None = None,
                 retry_delay: Callable[[int], float] = lambda attempt: min(2.0 ** attempt, 60.0),
                 now: Callable[[], datetime] = utcnow) -> None:
        self.settings, self.db, self.queue, self.apps, self.agent, self.now = settings, db, queue, apps, agent, now
        self.scheduler = QueueScheduler(queue, db)
        self.work = SessionWork(db, Publisher(apps, settings), agent, settings, steps, retry_delay=retry_delay,
                                now=now, on_paused=self._paused)
        self.intake = Intake(router or build_router(), Deps(settings, db, apps, self.scheduler), recorder,
                             later=lambda delivery_id, delay: defer_delivery_later(queue, delivery_id, delay))
        self.reconciler = Reconciler(db, apps, self.scheduler, now)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, settings: Settings, *, agent: Agent | None = None,
                   github_transport: httpx.AsyncBaseTransport | None = None, **options: Any) -> AsyncIterator[Runtime]:  # noqa: ANN401
        """The runtime on `settings.database_url` (PostgreSQL), its queue open for deferring."""
        the_agent = agent or default_agent(settings)
        queue = make_app(settings.database_url)
        async with (Database.open(settings.database_url) as db, queue.open_async(),
                    PostgresDeliveryWriter(conninfo(settings.database_url), queue) as writer,
                    DeliveryRecorder.running(writer) as recorder):  # the recorder's last writes, then the writer closes
            runtime = cls(settings, db, queue, GitHubApps(settings, transport=github_transport), the_agent,
                          recorder, **options)
            try:
                yield runtime
            finally:
                await runtime.intake.close()
                if agent is None:
                    await close_agent(the_agent)

    async def run_worker(self, *, concurrency: int = 10, queues: list[str] | None = None, wait: bool = True,
                   install_signal_handlers: bool = False) -> None:
        """Work jobs until cancelled (or, `wait=False`, until none is left to do now)."""
        await self.queue.run_worker_async(
            queues=list(queues or QUEUES), concurrency=concurrency, wait=wait,
            install_signal_handlers=install_signal_handlers, additional_context={"runtime": self},
            update_heartbeat_interval=tasks.HEARTBEAT, stalled_worker_timeout=tasks.STALLED_AFTER,
            delete_jobs="successful", shutdown_graceful_timeout=30)

    # ----- what the jobs do

    async def process_delivery(self, delivery_id: str) -> None:
        await self.intake.process(delivery_id)

    async def run_session(self, session_id: int) -> None:
        with log_context(session_id=session_id):
            session, _ = await self.work.load(session_id)
            if session is None:
                return
            with log_context(installation_id=session.installation_id, repository=session.repository_full_name):
                async with self.apps.installation(session.installation_id):
                    await self.work.run_until_waiting(session_id)

    async def resume_session(self, session_id: int) -> None:
        session, record = await self.work.load(session_id)
        until = resume_due(session.status, record, self.now()) if session is not None else None
        if until is not None:
            await self.scheduler.signal(session_id, Signal.resume.value, {"after": until.isoformat()})

    async def sweep(self) -> None:
        """Wake the sessions with a signal they have not acted on (recorded by a process that
        could not defer the wake) and the paused ones whose wait is over."""
        async with self.db() as s:
            session_ids = await store.unfinished_session_ids(s)
        for session_id in session_ids:
            session, record = await self.work.load(session_id)
            if session is not None and record.signal_pending(session.status):
                await self.scheduler.schedule(session_id)
            else:
                await self.resume_session(session_id)

    async def reconcile(self) -> None:
        await self.reconciler.tick()

    async def prune(self) -> None:
        if self.settings.retention_days:
            report = await prune(self.db, timedelta(days=self.settings.retention_days))
            log.info("retention: %s", report.summary())

    async def _paused(self, session_id: int, until: datetime) -> None:
        await self.scheduler.resume_at(session_id, (until - self.now()).total_seconds())

