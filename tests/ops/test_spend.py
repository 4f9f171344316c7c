"""What the model cost, by installation, repository and calendar month (UTC): each attempt counts
in the month it ended, so a session across the turn of a month counts in both; a pruned session
counts in the month of its last activity. SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest

from bot.core.budget import month_start, recent_months
from bot.store import spend
from bot.store.db import create_engine, session_factory
from bot.store.models import Interaction, Session

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)
MARCH, FEBRUARY = month_start(NOW), datetime(2025, 2, 1, tzinfo=timezone.utc)


@pytest.fixture
async def db(settings) -> AsyncIterator:
    engine = create_engine(settings.database_url)
    yield session_factory(engine)
    await engine.dispose()


async def add_session(db, *, installation: int, repository: tuple[int, str], issue: int,
                      attempts: list[tuple[datetime, float]], pruned_at: datetime | None = None,
                      updated_at: datetime = NOW) -> None:
    """A session with one step attempt per (ended at, cost); a pruned one keeps only its total."""
    async with db() as s:
        total = round(sum(cost for _, cost in attempts), 6)
        session = Session(installation_id=installation, repository_id=repository[0],
                          repository_full_name=repository[1], issue_number=issue, status="completed",
                          trigger="label", triggered_by="maria", fix_iterations=0, input_tokens=0,
                          output_tokens=0, cache_write_tokens=0, cache_read_tokens=0, cost_usd=total,
                          created_at=attempts[0][0] if attempts else updated_at, updated_at=updated_at,
                          pruned_at=pruned_at)
        s.add(session)
        await s.flush()
        if pruned_at is None:
            for seq, (at, cost) in enumerate(attempts, start=1):
                s.add(Interaction(session_id=session.id, seq=seq, step="FixTestFailures", status="succeeded",
                                  attempt=1, cost_usd=cost, created_at=at))
        await s.commit()


WIDGETS, GADGETS, ROCKETS = (1, "octo/widgets"), (2, "octo/gadgets"), (3, "acme/rockets")


@pytest.fixture
async def history(db):
    # across the turn of the month: $1 in February, $2 in March
    await add_session(db, installation=42, repository=WIDGETS, issue=1,
                      attempts=[(datetime(2025, 2, 28, 23, 50, tzinfo=timezone.utc), 1.0),
                                (datetime(2025, 3, 1, 0, 10, tzinfo=timezone.utc), 2.0)])
    # pruned: its $4 counts in the month of its last activity (February)
    await add_session(db, installation=42, repository=GADGETS, issue=2,
                      attempts=[(datetime(2025, 1, 20, tzinfo=timezone.utc), 4.0)],
                      pruned_at=NOW, updated_at=datetime(2025, 2, 3, tzinfo=timezone.utc))
    # another installation
    await add_session(db, installation=43, repository=ROCKETS, issue=3,
                      attempts=[(datetime(2025, 3, 5, tzinfo=timezone.utc), 8.0),
                                (datetime(2024, 11, 5, tzinfo=timezone.utc), 16.0)])
    return db


async def test_an_installations_spend_this_month(history):
    async with history() as s:
        assert await spend.installation_spend(s, 42, MARCH) == pytest.approx(2.0)
        assert await spend.installation_spend(s, 42, FEBRUARY) == pytest.approx(7.0)
        assert await spend.installation_spend(s, 43, MARCH) == pytest.approx(8.0)
        assert await spend.installation_spend(s, 99, MARCH) == 0.0


async def test_spend_by_installation_for_metrics(history):
    async with history() as s:
        assert await spend.spend_by_installation(s, MARCH) == {42: pytest.approx(2.0), 43: pytest.approx(8.0)}


async def test_monthly_spend_per_repository_scoped(history):
    months = recent_months(NOW, 6)
    assert [label for label, _ in months] == ["2024-10", "2024-11", "2024-12", "2025-01", "2025-02", "2025-03"]
    async with history() as s:
        everything = await spend.monthly_spend(s, months)
        assert everything == {("2025-02", "octo/widgets"): pytest.approx(1.0),
                              ("2025-03", "octo/widgets"): pytest.approx(2.0),
                              ("2025-02", "octo/gadgets"): pytest.approx(4.0),
                              ("2025-03", "acme/rockets"): pytest.approx(8.0),
                              ("2024-11", "acme/rockets"): pytest.approx(16.0)}
        mine = await spend.monthly_spend(s, months, repository_ids={WIDGETS[0]})
        assert set(mine) == {("2025-02", "octo/widgets"), ("2025-03", "octo/widgets")}
        assert await spend.monthly_spend(s, months, repository_ids=set()) == {}
        assert set(await spend.monthly_spend(s, months, repository="acme/rockets")) == {
            ("2025-03", "acme/rockets"), ("2024-11", "acme/rockets")}
        assert set(await spend.monthly_spend(s, months[-2:])) == {
            ("2025-02", "octo/widgets"), ("2025-03", "octo/widgets"), ("2025-02", "octo/gadgets"),
            ("2025-03", "acme/rockets")}, "older months are left out"
