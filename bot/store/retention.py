"""Retention: what `component-bot prune` removes, and `serve` every day when RETENTION_DAYS is set.

Past the window (by the time of the last activity) it deletes:

- deliveries that are no longer pending: their payload went when they were processed, the row
  stayed (a pending delivery is kept whatever its age: it has still to be processed);
- the interactions, transcripts included, of finished sessions (completed, failed, cancelled)
  whose last activity (a change to the session, an interaction) is older than the window.

Sessions in any other status are never touched, whatever their age. Session rows are kept: they
are small, and the dashboard and the cost history read them. A session whose interactions went is
marked pruned (`pruned_at`) and can no longer be reopened by `/retry` or `sessions retry`: the
orchestrator would have nothing to carry on from. The maintainer starts a new session instead.

Everything is deleted in batches, each its own short transaction, so that a large database is
never locked for long; intake and sessions carry on meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telemetry import metrics
from bot.store import sessions as store
from bot.store.models import Delivery, DeliveryOutcome, utcnow

log = logging.getLogger(__name__)

BATCH_SIZE = 500
DAY = 24 * 60 * 60.0


@dataclass(frozen=True)
class PruneReport:
    cutoff: datetime
    dry_run: bool
    deliveries: int    # rows deleted (or, dry run, that would be)
    sessions: int      # finished sessions whose interactions were deleted
    interactions: int

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "cutoff": self.cutoff.isoformat()}

    def summary(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        return (f"{verb} {self.deliveries} deliveries no longer pending and the {self.interactions} interactions of "
                f"{self.sessions} finished sessions, received or last active before "
                f"{self.cutoff.isoformat(timespec='seconds')}")


async def prune(db: async_sessionmaker[AsyncSession], older_than: timedelta, *, dry_run: bool = False,
                now: datetime | None = None, batch_size: int = BATCH_SIZE) -> PruneReport:
    """Delete (or, with `dry_run`, count) what retention removes past `older_than`."""
    cutoff = (now or utcnow()) - older_than
    if dry_run:
        async with db() as s:
            deliveries = await count_old_deliveries(s, cutoff)
            sessions, interactions = await store.count_prunable(s, cutoff)
        return PruneReport(cutoff, True, deliveries, sessions, interactions)
    deliveries = await delete_old_deliveries(db, cutoff, batch_size)
    sessions, interactions = await prune_finished_sessions(db, cutoff, batch_size)
    return PruneReport(cutoff, False, deliveries, sessions, interactions)


def _old_and_done(cutoff: datetime):  # noqa: ANN202 - a SQL condition on Delivery
    return (Delivery.outcome != DeliveryOutcome.pending.value) & (Delivery.received_at < cutoff)


async def count_old_deliveries(s: AsyncSession, cutoff: datetime) -> int:
    return await s.scalar(select(func.count()).select_from(Delivery).where(_old_and_done(cutoff))) or 0


async def delete_old_deliveries(db: async_sessionmaker[AsyncSession], cutoff: datetime, batch_size: int) -> int:
    batch = select(Delivery.id).where(_old_and_done(cutoff)).order_by(Delivery.id).limit(batch_size)
    return await store.delete_in_batches(db, delete(Delivery).where(Delivery.id.in_(batch)), batch_size)


async def prune_finished_sessions(db: async_sessionmaker[AsyncSession], cutoff: datetime,
                                  batch_size: int) -> tuple[int, int]:
    """Mark each batch of prunable sessions pruned, then delete their interactions: (sessions, interactions).

    Marking first makes it safe against a concurrent `/retry`: a session reopened before its mark
    is not marked (nor emptied), one marked first is not reopened."""
    sessions = interactions = 0
    after = 0
    while True:
        async with db() as s:
            candidates = await store.prunable_session_ids(s, cutoff, after=after, limit=batch_size)
        if not candidates:
            return sessions, interactions
        after = candidates[-1]
        marked = await store.mark_pruned(db, candidates, cutoff)
        if marked:
            interactions += await store.delete_interactions_of(db, marked, batch_size=batch_size)
            sessions += len(marked)


async def prune_every_day(db: async_sessionmaker[AsyncSession], days: int, *, every: float = DAY) -> None:
    """`serve`'s retention task: prune past `days` days now, then every `every` seconds, until cancelled."""
    while True:
        try:
            report = await prune(db, timedelta(days=days))
        except Exception:  # noqa: BLE001 - the next run tries again
            log.exception("retention: pruning failed")
            metrics.record_error("retention")
        else:
            log.info("retention (RETENTION_DAYS=%d): %s", days, report.summary())
        await asyncio.sleep(every)
