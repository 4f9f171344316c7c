"""Procrastinate on PostgreSQL: the App (its tasks in bot/jobs/tasks.py), how jobs are named and
locked, and the `Scheduler` that defers them.

- A delivery is a `process_delivery` job, deferred in the statement that records it
  (bot/jobs/recording.py).
- A session's wake is a `run_session` job with `lock="session:<id>"`, so Procrastinate runs one
  job of a session at a time, whichever worker takes it; `queueing_lock="session:<id>"` collapses
  wakes that arrive while one is already waiting to run (a wake while one *runs* is queued once,
  and finds the new signal when it runs).
- A timer (the end of an outage pause) is a `resume_session` job scheduled for that time, under
  the session's lock and its own queueing lock, so it never holds back an ordinary wake.
"""

from __future__ import annotations

import logging
from typing import Any

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued

from bot.core.orchestrator import Status
from bot.jobs import tasks
from bot.store import sessions as store

log = logging.getLogger(__name__)

PROCESS_DELIVERY, RUN_SESSION, RESUME_SESSION = tasks.PROCESS_DELIVERY, tasks.RUN_SESSION, tasks.RESUME_SESSION
QUEUES = ("deliveries", "sessions", "maintenance")


def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


def conninfo(database_url: str) -> str:
    """The libpq URL of the SQLAlchemy one (`postgresql+psycopg://…` → `postgresql://…`)."""
    return "postgresql://" + database_url.split("://", 1)[1]


def make_app(database_url: str, *, pool_size: int = 10) -> App:
    """The Procrastinate App on the database (opened by the caller: `async with app.open_async()`)."""
    return tasks.register(App(connector=PsycopgConnector(conninfo=conninfo(database_url), min_size=1,
                                                         max_size=pool_size)))


async def defer_delivery_later(app: App, delivery_id: str, delay: float) -> None:
    """Process a delivery again after an outage (it stays pending meanwhile)."""
    try:
        await app.configure_task(PROCESS_DELIVERY, queueing_lock=f"delivery:{delivery_id}",
                                 schedule_in={"seconds": round(delay)}).defer_async(delivery_id=delivery_id)
    except AlreadyEnqueued:
        pass


class QueueScheduler:
    """The `Scheduler` (bot/core/scheduler.py) of sessions run as Procrastinate jobs."""

    def __init__(self, app: App, db: Any) -> None:  # noqa: ANN401 - a session factory
        self.app, self.db = app, db

    async def schedule(self, session_id: int, delay: float = 0.0) -> None:
        options: dict[str, Any] = {"lock": f"session:{session_id}", "queueing_lock": f"session:{session_id}"}
        if delay > 0:  # below a wake's priority, so that it holds none back while it is not due (resume_at)
            options.update(queueing_lock=f"session:{session_id}:later", schedule_in={"seconds": round(delay)},
                           priority=-1)
        try:
            await self.app.configure_task(RUN_SESSION, **options).defer_async(session_id=session_id)
        except AlreadyEnqueued:
            log.debug("session %s: a wake is already queued", session_id)

    async def signal(self, session_id: int, signal: str, payload: dict[str, Any] | None = None, *,
                     key: str | None = None) -> bool:
        recorded = await store.append_interaction(self.db, session_id, signal, Status.received.value,
                                                  input=payload or {}, dedupe_key=key)
        if recorded is None:
            log.info("session %s: %s from %s was recorded before; a replay changes nothing", session_id, signal, key)
            return False
        await self.schedule(session_id)
        return True

    async def wake(self, session_id: int) -> None:
        await self.schedule(session_id)

    async def resume_at(self, session_id: int, delay: float) -> None:
        """Look at a paused session again once its wait is over. The job takes no session lock:
        Procrastinate runs no job behind an earlier queued one of the same lock, due or not, so a
        locked resumption would hold back every wake (a `/stop`, a check run) until the pause ends.
        It only records the `resume` signal, whose wake is the session's locked job."""
        try:
            await self.app.configure_task(RESUME_SESSION, queueing_lock=f"session:{session_id}:resume",
                                          schedule_in={"seconds": max(1, round(delay))}).defer_async(
                session_id=session_id)
        except AlreadyEnqueued:
            log.debug("session %s: its resumption is already scheduled", session_id)
