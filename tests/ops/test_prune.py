"""Retention: `component-bot prune` and `serve`'s daily task (RETENTION_DAYS) remove old processed
deliveries and the history of old finished sessions, never an active session or a pending delivery."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.handlers import commands
from bot.handlers.context import EventContext
from bot.handlers.event import Event
from bot.store.sessions import Scope
from bot.store import retention
from bot.config import ConfigError, load_settings
from bot.store.db import create_engine, session_factory
from bot.store import sessions as store
from bot.store.models import Delivery, Interaction, Session, utcnow

NOW = utcnow()
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=2)


@pytest.fixture
async def db(settings) -> AsyncIterator:
    engine = create_engine(settings.database_url)
    yield session_factory(engine)
    await engine.dispose()


async def add_delivery(db, delivery_id: str, outcome: str, received_at: datetime) -> None:
    async with db() as s:
        s.add(Delivery(delivery_id=delivery_id, event="issues", action="labeled", outcome=outcome,
                       received_at=received_at, processed_at=None if outcome == "pending" else received_at,
                       payload=b"{}" if outcome == "pending" else None))
        await s.commit()


async def add_session(db, status: str, last_active: datetime, *, issue: int, interactions: int = 3,
                      last_interaction: datetime | None = None) -> int:
    """A session last changed at `last_active`, with `interactions` steps (the last one at `last_interaction`)."""
    async with db() as s:
        session = Session(installation_id=42, repository_id=7, repository_full_name="octo/widgets",
                          issue_number=issue, status=status, trigger="label", triggered_by="maria",
                          active_key=None if status in ("completed", "failed", "cancelled") else f"7#{issue}",
                          fix_iterations=1, input_tokens=1000, output_tokens=200, cache_write_tokens=0,
                          cache_read_tokens=0, cost_usd=0.25, created_at=last_active, updated_at=last_active)
        s.add(session)
        await s.flush()
        for seq in range(1, interactions + 1):
            at = (last_interaction or last_active) if seq == interactions else last_active
            s.add(Interaction(session_id=session.id, seq=seq, step="GenerateImplementation", status="succeeded",
                              attempt=1, result={"files": ["a.py"]}, transcript=b"x" * 100, created_at=at))
        await s.commit()
        return session.id


async def interaction_counts(db) -> dict[int, int]:
    async with db() as s:
        rows = await s.execute(select(Interaction.session_id, func.count()).group_by(Interaction.session_id))
        return dict(rows.all())


async def sessions_by_id(db) -> dict[int, Session]:
    async with db() as s:
        return {session.id: session for session in await s.scalars(select(Session))}


async def delivery_ids(db) -> set[str]:
    async with db() as s:
        return set(await s.scalars(select(Delivery.delivery_id)))


@pytest.fixture
async def history(db) -> dict[str, int]:
    """Deliveries and sessions of every kind, old and recent."""
    for delivery_id, outcome, at in (("old-processed", "processed", OLD), ("old-ignored", "ignored", OLD),
                                     ("old-failed", "failed", OLD), ("old-pending", "pending", OLD),
                                     ("recent-processed", "processed", RECENT)):
        await add_delivery(db, delivery_id, outcome, at)
    ancient = NOW - timedelta(days=400)
    return {
        "old completed": await add_session(db, "completed", OLD, issue=1),
        "old failed": await add_session(db, "failed", OLD, issue=2),
        "old cancelled": await add_session(db, "cancelled", OLD, issue=3, interactions=5),
        "ancient running": await add_session(db, "running", ancient, issue=4),
        "ancient waiting": await add_session(db, "waiting_for_checks", ancient, issue=5),
        "ancient needs_human": await add_session(db, "needs_human", ancient, issue=6),
        "ancient paused": await add_session(db, "paused", ancient, issue=7),
        "ancient awaiting_review": await add_session(db, "awaiting_review", ancient, issue=8),
        "recent failed": await add_session(db, "failed", RECENT, issue=9),
        "old failed, signal since": await add_session(db, "failed", OLD, issue=10, last_interaction=RECENT),
    }


async def test_prune_keeps_active_sessions_and_removes_old_finished_history(db, history, acli):
    before = await interaction_counts(db)

    dry = await acli("prune", "--older-than", "30d", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    assert {k: v for k, v in json.loads(dry.out).items() if k != "cutoff"} == {
        "dry_run": True, "deliveries": 3, "sessions": 3, "interactions": 11}
    assert await interaction_counts(db) == before, "a dry run deletes nothing"

    pruned = await acli("prune", "--older-than", "30d")
    assert pruned.code == 0, pruned.err
    assert pruned.out.startswith("removed 3 deliveries no longer pending and the 11 interactions of 3 finished "
                                 "sessions, received or last active before ")
    assert "can no longer be retried" in pruned.out and "start a new session" in pruned.out

    assert await delivery_ids(db) == {"old-pending", "recent-processed"}
    gone = {history[name] for name in ("old completed", "old failed", "old cancelled")}
    assert await interaction_counts(db) == {sid: n for sid, n in before.items() if sid not in gone}
    sessions = await sessions_by_id(db)
    assert len(sessions) == len(history), "session rows are kept"
    for name, sid in history.items():
        assert (sessions[sid].pruned_at is not None) == (sid in gone), name
        assert sessions[sid].updated_at < NOW - timedelta(days=1), "the last activity is kept"
        assert sessions[sid].cost_usd == 0.25 and sessions[sid].input_tokens == 1000
    for name in ("ancient running", "ancient waiting", "ancient needs_human", "ancient paused"):
        assert sessions[history[name]].active_key is not None

    again = await acli("prune", "--older-than", "30d", "--json")
    assert {k: v for k, v in json.loads(again.out).items() if k not in ("cutoff", "dry_run")} == {
        "deliveries": 0, "sessions": 0, "interactions": 0}


async def test_a_pruned_session_cannot_be_retried(db, bot, acli):
    failed = await add_session(db, "failed", OLD, issue=2)
    report = await retention.prune(db, timedelta(days=30))
    assert (report.sessions, report.interactions) == (1, 3)
    session = (await sessions_by_id(db))[failed]

    assert await store.reopen_session(db, session) is False
    maintainer = EventContext(Event("issue_comment", "d-99", {"sender": {"login": "maria"}}), bot.settings, bot.db,
                              bot.apps, bot.runner, scope=Scope(session.installation_id, session.repository_id,
                                                                session.repository_full_name))
    await commands.retry(maintainer, session, "comment:99")  # a maintainer's /retry
    retried = await acli("sessions", "retry", str(failed))
    assert retried.code == 1
    session = (await sessions_by_id(db))[failed]
    assert (session.status, session.active_key) == ("failed", None)
    assert await interaction_counts(db) == {}, "nothing was appended to the pruned session"


async def test_a_session_reopened_before_its_mark_keeps_its_history(db):
    failed = await add_session(db, "failed", OLD, issue=2)
    cutoff = NOW - timedelta(days=30)
    async with db() as s:
        candidates = await store.prunable_session_ids(s, cutoff)
    assert candidates == [failed]
    assert await store.reopen_session(db, (await sessions_by_id(db))[failed])  # a /retry lands in between
    assert await store.mark_pruned(db, candidates, cutoff) == []
    assert await store.delete_interactions_of(db, []) == 0
    assert await interaction_counts(db) == {failed: 3}
    assert (await sessions_by_id(db))[failed].status == "running"


async def test_prune_works_through_many_small_batches(db):
    for i in range(7):
        await add_delivery(db, f"d{i}", "processed", OLD)
    finished = [await add_session(db, "completed", OLD, issue=i, interactions=3) for i in range(5)]
    active = await add_session(db, "running", OLD, issue=99)

    report = await retention.prune(db, timedelta(days=30), batch_size=2)
    assert (report.deliveries, report.sessions, report.interactions) == (7, 5, 15)
    assert await delivery_ids(db) == set()
    assert await interaction_counts(db) == {active: 3}
    sessions = await sessions_by_id(db)
    assert all(sessions[sid].pruned_at is not None for sid in finished) and sessions[active].pruned_at is None


async def test_serve_prunes_when_retention_days_is_set(settings, db, caplog):
    from tests.fakes.agent import ScriptedAgent
    from webhooks.app import create_app

    await add_delivery(db, "old-processed", "processed", OLD)
    await add_delivery(db, "recent-processed", "processed", RECENT)
    caplog.set_level(logging.INFO, logger="bot.store.retention")
    for retention_days, left in ((None, {"old-processed", "recent-processed"}), (30, {"recent-processed"})):
        app = create_app(settings.model_copy(update={"retention_days": retention_days}), agent=ScriptedAgent(),
                         engine="in-process")
        async with app.router.lifespan_context(app):
            for _ in range(100):
                if await delivery_ids(db) == left:
                    break
                await asyncio.sleep(0.05)
        assert await delivery_ids(db) == left
    [line] = [r.getMessage() for r in caplog.records if r.name == "bot.store.retention"]
    assert line.startswith("retention (RETENTION_DAYS=30): removed 1 deliveries no longer pending")


async def test_the_daily_task_outlives_a_failed_run(caplog):
    from bot.store.db import session_factory as factory

    unreachable = create_engine("postgresql+psycopg://postgres@127.0.0.1:9/unreachable")
    task = asyncio.create_task(retention.prune_every_day(factory(unreachable), 30, every=0.05))
    try:
        for _ in range(100):
            if sum("pruning failed" in r.getMessage() for r in caplog.records) >= 2:
                break
            await asyncio.sleep(0.05)
        assert not task.done()
        assert sum("pruning failed" in r.getMessage() for r in caplog.records) >= 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await unreachable.dispose()


@pytest.mark.parametrize(("value", "expected"), [("30", 30), ("", None), ("0", "greater than 0"),
                                                 ("1.5", "valid integer"), ("a month", "valid integer")])
def test_retention_days_is_a_positive_whole_number_of_days(monkeypatch, tmp_path, value, expected):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RETENTION_DAYS", value)
    if isinstance(expected, str):
        with pytest.raises(ConfigError, match=f"invalid setting RETENTION_DAYS: .*{expected}"):
            load_settings()
    else:
        assert load_settings().retention_days == expected
