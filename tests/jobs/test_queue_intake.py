"""On PostgreSQL the web process only verifies, records and queues: a 202 means the delivery row
and its job are both committed, in one transaction; wakes of a session collapse into one job."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.jobs.queue import QueueScheduler
from bot.jobs.recording import APPLICATION_NAME
from bot.store.models import DeliveryOutcome
from tests.conftest import POSTGRES_URL
from tests.fakes.agent import ScriptedAgent
from tests.fakes.github import FakeGitHub
from tests.webhook_helpers import load_payload, post_delivery
from webhooks.app import create_app

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason="Procrastinate runs on PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture
async def web(settings):
    """`serve --no-worker`: records and queues, works nothing."""
    app = create_app(settings, github_transport=httpx.ASGITransport(app=FakeGitHub().app), agent=ScriptedAgent(),
                     worker=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as http:
            yield app, http


async def rows(app, sql: str) -> list:
    async with app.state.db() as s:
        return list((await s.execute(text(sql))).all())


async def test_a_202_is_a_committed_delivery_and_its_queued_job(web):
    app, http = web
    response = await post_delivery(http, "issues", load_payload("issues.labeled"), delivery_id="d-1")
    assert response.status_code == 202
    assert await rows(app, "SELECT delivery_id, outcome FROM deliveries") == [("d-1", "pending")]
    assert await rows(app, "SELECT task_name, args->>'delivery_id', status FROM procrastinate_jobs "
                           "WHERE task_name = 'process_delivery'") == [("process_delivery", "d-1", "todo")]
    assert (await post_delivery(http, "issues", load_payload("issues.labeled"), delivery_id="d-1")).status_code == 200
    assert len(await rows(app, "SELECT id FROM procrastinate_jobs WHERE task_name = 'process_delivery'")) == 1


async def test_a_delivery_whose_job_cannot_be_queued_is_not_recorded_either(web):
    app, http = web
    async with app.state.db() as s, s.begin():  # the queue breaks (as a database-side failure would)
        await s.execute(text("ALTER FUNCTION procrastinate_defer_jobs_v1 RENAME TO procrastinate_defer_jobs_away"))
    try:
        response = await post_delivery(http, "issues", load_payload("issues.labeled"), delivery_id="d-2")
    finally:
        async with app.state.db() as s, s.begin():
            await s.execute(text("ALTER FUNCTION procrastinate_defer_jobs_away RENAME TO procrastinate_defer_jobs_v1"))
    assert response.status_code >= 500, "not acknowledged: GitHub records the delivery as failed"
    assert await rows(app, "SELECT delivery_id FROM deliveries") == []


async def test_a_batch_records_each_delivery_once_and_queues_a_job_for_each_wanted_one(web):
    app, http = web
    posts = [("issues", "issues.labeled", f"b-{n:02d}") for n in range(12)]
    posts += [("issues", "issues.labeled", "b-03"), ("issues", "issues.labeled", "b-07")]  # redelivered at once
    posts += [("pull_request", "pull_request.opened", f"i-{n}") for n in range(3)]  # no handler takes these
    responses = await asyncio.gather(*(post_delivery(http, event, load_payload(name), delivery_id=delivery_id)
                                       for event, name, delivery_id in posts))
    assert sorted(r.status_code for r in responses) == [200] * 2 + [202] * 15
    assert await rows(app, "SELECT count(*), count(DISTINCT delivery_id) FROM deliveries") == [(15, 15)]
    queued = await rows(app, "SELECT args->>'delivery_id', queue_name, priority FROM procrastinate_jobs "
                             "WHERE task_name = 'process_delivery' ORDER BY 1")
    assert queued == [(f"b-{n:02d}", "deliveries", 10) for n in range(12)]


async def test_a_cut_database_connection_is_replaced_without_losing_a_delivery(web):
    app, http = web
    assert (await post_delivery(http, "issues", load_payload("issues.labeled"), delivery_id="c-1")).status_code == 202
    cut = await rows(app, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          f"WHERE application_name = '{APPLICATION_NAME}'")
    assert cut == [(True,)]
    assert (await post_delivery(http, "issues", load_payload("issues.labeled"), delivery_id="c-2")).status_code == 202
    assert await rows(app, "SELECT args->>'delivery_id' FROM procrastinate_jobs "
                           "WHERE task_name = 'process_delivery' ORDER BY 1") == [("c-1",), ("c-2",)]


async def test_the_writer_is_closed_after_what_was_queued_at_shutdown_is_written(settings):
    app = create_app(settings, github_transport=httpx.ASGITransport(app=FakeGitHub().app), agent=ScriptedAgent(),
                     worker=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as http:
            assert (await post_delivery(http, "issues", load_payload("issues.labeled"),
                                        delivery_id="s-1")).status_code == 202
        finishing = asyncio.ensure_future(app.state.recorder.finish("s-1", DeliveryOutcome.processed))
        await asyncio.sleep(0)  # queued, not yet written, when the server stops
    await finishing
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            outcome = (await conn.execute(text("SELECT outcome FROM deliveries"))).scalar_one()
            left = (await conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                                       {"name": APPLICATION_NAME})).scalar_one()
    finally:
        await engine.dispose()
    assert (outcome, left) == ("processed", 0)


async def test_wakes_of_a_session_collapse_into_one_queued_job(web):
    app, _ = web
    scheduler = QueueScheduler(app.state.runtime.queue, app.state.db)
    for _ in range(3):
        await scheduler.schedule(7)
    await scheduler.schedule(7, delay=60)  # a timer does not hold back a wake, nor is it collapsed into one
    jobs = await rows(app, "SELECT lock, queueing_lock, scheduled_at IS NOT NULL FROM procrastinate_jobs "
                           "WHERE task_name = 'run_session' ORDER BY id")
    assert jobs == [("session:7", "session:7", False), ("session:7", "session:7:later", True)]


async def test_a_delivery_no_handler_takes_is_recorded_as_ignored_and_queues_no_job(web):
    app, http = web
    response = await post_delivery(http, "pull_request", load_payload("pull_request.opened"), delivery_id="d-3")
    assert response.status_code == 202
    assert await rows(app, "SELECT delivery_id, outcome, payload IS NULL FROM deliveries") == [("d-3", "ignored", True)]
    assert await rows(app, "SELECT id FROM procrastinate_jobs WHERE task_name = 'process_delivery'") == []
    assert (await post_delivery(http, "pull_request", load_payload("pull_request.opened"),
                                delivery_id="d-3")).status_code == 200, "still recognised when redelivered"
