"""A periodic look at the sessions waiting for checks, so a lost webhook delays a session by
minutes, never forever. It only signals a session when looking again could change its state:
every counted check has completed, or a timeout has passed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.core.checks import all_finished, counted_checks
from bot.core.orchestrator import Signal
from bot.core.record import SessionRecord
from bot.core.scheduler import Scheduler
from bot.github.checks import check_runs_on
from bot.github.client import GitHubApps
from bot.store import sessions as store
from bot.store.models import Session, SessionStatus

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, db: Any, apps: GitHubApps, scheduler: Scheduler, now: Callable[[], datetime],  # noqa: ANN401
                 interval: float = 60.0) -> None:
        self.db, self.apps, self.scheduler, self.now, self.interval = db, apps, scheduler, now, interval

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("reconciliation failed")

    async def tick(self) -> int:
        """Signal every waiting session whose checks are worth reading again; returns how many."""
        async with self.db() as s:
            waiting = await store.sessions_with_status(s, SessionStatus.waiting_for_checks)
        signalled = 0
        for session in waiting:
            if await self._worth_a_look(session):
                await self.scheduler.signal(session.id, Signal.checks.value, {"reason": "reconciliation"})
                signalled += 1
        return signalled

    async def _worth_a_look(self, session: Session) -> bool:
        async with self.db() as s:
            record = SessionRecord(await store.interactions_of(s, session.id))
        config = record.config
        waited = (self.now() - record.waiting_since(session.created_at)).total_seconds()
        runs = counted_checks(await check_runs_on(self.apps.installation(session.installation_id), session.owner,
                                                  session.repo, session.head_sha),
                              config.required_checks, self.apps.app_id)
        if not runs:
            return waited > config.checks_appear_timeout
        return all_finished(runs, config.required_checks) or waited > config.checks_timeout
