"""The jobs, registered on a Procrastinate App (`register`). Each takes what it works with from the worker's
runtime (bot/jobs/runtime.py), handed over as Procrastinate's `additional_context`.

Periodic ones are deferred by whichever worker is up (Procrastinate records each tick once):
the reconciliation of sessions waiting for checks, the sweep for signals recorded by other
processes, retention, and the retry of jobs whose worker died (no heartbeat for
`STALLED_AFTER` seconds: killed, or cut off), which is how a killed worker's session resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from procrastinate import App, JobContext, RetryStrategy
from procrastinate.exceptions import UniqueViolation
from procrastinate.jobs import Status

log = logging.getLogger(__name__)


class Runtime(Protocol):
    """What the jobs need of the worker (bot/jobs/runtime.py)."""

    async def process_delivery(self, delivery_id: str) -> None: ...
    async def run_session(self, session_id: int) -> None: ...
    async def resume_session(self, session_id: int) -> None: ...
    async def reconcile(self) -> None: ...
    async def sweep(self) -> None: ...
    async def prune(self) -> None: ...


HEARTBEAT = 5.0  # seconds between a worker's heartbeats
STALLED_AFTER = 15.0  # a worker silent this long is dead: its jobs run again elsewhere


def runtime(context: JobContext) -> Runtime:
    return context.additional_context["runtime"]


async def process_delivery(context: JobContext, delivery_id: str) -> None:
    await runtime(context).process_delivery(delivery_id)


async def run_session(context: JobContext, session_id: int) -> None:
    await runtime(context).run_session(session_id)


async def resume_session(context: JobContext, session_id: int) -> None:
    await runtime(context).resume_session(session_id)


async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
    """Queue again each job whose worker died. One whose twin (same queueing lock) was queued while
    it ran cannot go back to `todo` (Procrastinate keeps one queued job per queueing lock): it is
    marked failed instead, which frees its lock, and the twin does the same work (a session's wake
    runs its next step from the record, whichever job runs it)."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER):
        try:
            await manager.retry_job(job)
        except UniqueViolation:
            log.warning("job %s (%s) was running on a worker that stopped; the job queued behind it (%s) "
                        "runs instead", job.id, job.task_name, job.queueing_lock)
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
        else:
            log.warning("job %s (%s) was running on a worker that stopped; running it again", job.id, job.task_name)


async def reconcile(context: JobContext, timestamp: int) -> None:
    await runtime(context).reconcile()


async def sweep(context: JobContext, timestamp: int) -> None:
    await runtime(context).sweep()


async def prune(context: JobContext, timestamp: int) -> None:
    await runtime(context).prune()


PROCESS_DELIVERY, RUN_SESSION, RESUME_SESSION = "process_delivery", "run_session", "resume_session"
TASKS: list[tuple[Callable[..., Awaitable[None]], dict[str, Any]]] = [
    (process_delivery, {"queue": "deliveries", "priority": 10, "retry": RetryStrategy(max_attempts=5,
                                                                                        exponential_wait=2)}),
    (run_session, {"queue": "sessions"}),
    (resume_session, {"queue": "sessions"}),
]
PERIODIC: list[tuple[Callable[..., Awaitable[None]], str, dict[str, Any]]] = [
    (retry_stalled_jobs, "* * * * * */10", {"priority": 20}),  # every 10 seconds (the 6th field)
    (reconcile, "* * * * *", {}),
    (sweep, "* * * * *", {}),
    (prune, "17 3 * * *", {}),  # daily; does nothing unless RETENTION_DAYS is set
]


def register(app: App) -> App:
    """The jobs, as tasks of `app` (one App per connection pool; tasks are registered on each)."""
    for fn, options in TASKS:
        app.task(name=fn.__name__, pass_context=True, **options)(fn)
    for fn, cron, options in PERIODIC:
        app.periodic(cron=cron)(app.task(name=fn.__name__, queue="maintenance", queueing_lock=fn.__name__,
                                         pass_context=True, **options)(fn))
    return app
