"""Jobs that wait, against Procrastinate's own tables: a dead worker's jobs run again
(`retry_stalled_jobs`, bot/jobs/tasks.py, with a worker that stops sending heartbeats in the middle
of its jobs), and a session's timer never holds back its wakes (bot/jobs/queue.py)."""

from __future__ import annotations

import time

import psycopg
import pytest

from bot.jobs import tasks
from bot.jobs.queue import QueueScheduler, conninfo, make_app
from procrastinate import JobContext
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason="Procrastinate runs on PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture
async def queue(database_url):
    app = make_app(database_url, pool_size=2)
    async with app.open_async():
        yield app


def sql(database_url: str, statement: str) -> list[tuple]:
    with psycopg.connect(conninfo(database_url), autocommit=True) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


async def run_retry_stalled_jobs(queue, job) -> None:
    """As the periodic task runs it (`job` is only its context's)."""
    context = JobContext(app=queue, job=job, start_timestamp=time.time(), abort_reason=lambda: None)
    await tasks.retry_stalled_jobs(context, int(time.time()))


async def test_a_dead_workers_session_job_gives_way_to_the_wake_queued_while_it_ran(queue, database_url):
    scheduler, manager = QueueScheduler(queue, db=None), queue.job_manager
    dying = await manager.register_worker()
    await scheduler.schedule(7)
    running = await manager.fetch_job(queues=["sessions"], worker_id=dying)  # session 7's step is running …
    await scheduler.schedule(7)  # … when a webhook wakes the session again: a second job, queued behind the lock
    await scheduler.schedule(8)
    await manager.fetch_job(queues=["sessions"], worker_id=dying)  # session 8's step, on the same worker
    sql(database_url, "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute'")

    await run_retry_stalled_jobs(queue, running)

    jobs = sql(database_url, "SELECT args->>'session_id', status FROM procrastinate_jobs "
                             "WHERE task_name = 'run_session' ORDER BY id")
    assert jobs == [("7", "failed"), ("7", "todo"), ("8", "todo")], "no job left running on the dead worker"
    runnable = await manager.fetch_job(queues=["sessions"], worker_id=await manager.register_worker())
    assert runnable is not None and runnable.task_kwargs["session_id"] in (7, 8)


@pytest.mark.parametrize("timer", ["resume_at", "schedule"])
async def test_a_timer_does_not_hold_back_a_wake_of_its_session(queue, timer):
    """An outage's pause is a job due when it ends; a `/stop` or a check run meanwhile wakes the
    session at once (Procrastinate runs no job behind an earlier queued job of the same lock)."""
    scheduler, manager = QueueScheduler(queue, db=None), queue.job_manager
    await (scheduler.resume_at(7, delay=600) if timer == "resume_at" else scheduler.schedule(7, delay=600))
    await scheduler.schedule(7)
    job = await manager.fetch_job(queues=["sessions"], worker_id=await manager.register_worker())
    assert job is not None and (job.task_name, job.task_kwargs) == ("run_session", {"session_id": 7})
    assert job.scheduled_at is None, "the wake, not the timer"
