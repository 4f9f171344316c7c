"""A periodic look at the sessions waiting for checks, so a lost webhook delays a session by
minutes, never forever. It only signals a session when looking again could change its state:
every counted check has completed, or a timeout has passed.

Webhooks are the normal way a session learns its checks finished; this is the safety net, so it
looks at a session less often the longer it has waited (after 2 minutes, then at about half the
time waited so far, at most every 15 minutes): a few check-run listings per wait, not one a minute
for every waiting session, which would spend an installation's rate limit at scale."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
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

FIRST_LOOK = timedelta(minutes=2)
LONGEST_GAP = timedelta(minutes=15)


class Reconciler:
    def __init__(self, db: Any, apps: GitHubApps, scheduler: Scheduler, now: Callable[[], datetime],  # noqa: ANN401
                 interval: float = 60.0) -> None:
        self.db, self.apps, self.scheduler, self.now, self.interval = db, apps, scheduler, now, interval
        self._looked: dict[tuple[int, str | None], datetime] = {}  # (session, head) → when it was last looked at

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
        self._looked = {key: at for key, at in self._looked.items() if key[0] in {x.id for x in waiting}}
        for session in waiting:
            if await self._worth_a_look(session):
                await self.scheduler.signal(session.id, Signal.checks.value, {"reason": "reconciliation"})
                signalled += 1
        return signalled

    async def _worth_a_look(self, session: Session) -> bool:
        async with self.db() as s:
            record = SessionRecord(await store.interactions_of(s, session.id))
        config = record.config
        now, since = self.now(), record.waiting_since(session.created_at)
        if not due(now, since, self._looked.get((session.id, session.head_sha))):
            return False
        self._looked[(session.id, session.head_sha)] = now
        waited = (now - since).total_seconds()
        runs = counted_checks(await check_runs_on(self.apps.installation(session.installation_id), session.owner,
                                                  session.repo, session.head_sha),
                              record.required_checks, self.apps.app_id)
        if not runs:
            return waited > config.checks_appear_timeout
        return all_finished(runs, record.required_checks) or waited > config.checks_timeout


def due(now: datetime, waiting_since: datetime, last_look: datetime | None) -> bool:
    """Whether a session waiting since `waiting_since` is due a look (see the module docstring)."""
    waited = now - waiting_since
    if waited < FIRST_LOOK:
        return False
    return last_look is None or now - last_look >= min(LONGEST_GAP, max(FIRST_LOOK, waited / 2))
