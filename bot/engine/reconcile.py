"""A periodic look at the sessions waiting for checks, so a lost webhook delays a session by
minutes, never forever. It only signals a session when looking again could change its state:
every counted check has completed, or a timeout has passed."""

from __future__ import annotations

import asyncio
import logging

from bot.engine.context import Context
from bot.core.orchestrator import Signal
from bot.engine.runner import repo_config
from bot.store import sessions as store
from bot.store.models import Session, SessionStatus
from bot.steps.run_tests import check_runs_on, counted_checks, missing_required, waiting_since

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, context: Context, interval: float = 60.0) -> None:
        self.context, self.interval = context, interval

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("reconciliation failed")

    async def tick(self) -> int:
        """Signal every waiting session whose checks are worth reading again; returns how many."""
        async with self.context.db() as s:
            waiting = await store.sessions_with_status(s, SessionStatus.waiting_for_checks)
        signalled = 0
        for session in waiting:
            if await self._worth_a_look(session):
                await self.context.runner.signal(session.id, Signal.checks.value, {"reason": "reconciliation"})
                signalled += 1
        return signalled

    async def _worth_a_look(self, session: Session) -> bool:
        async with self.context.db() as s:
            interactions = await store.interactions_of(s, session.id)
        config = repo_config(interactions)
        waited = (self.context.runner.now() - waiting_since(session, interactions)).total_seconds()
        gh = self.context.github.installation(session.installation_id)
        runs = counted_checks(await check_runs_on(gh, session.owner, session.repo, session.head_sha),
                              config.required_checks, self.context.settings.app_id)
        if not runs:
            return waited > config.checks_appear_timeout
        finished = not missing_required(runs, config.required_checks) and all(
            r.get("status") == "completed" for r in runs)
        return finished or waited > config.checks_timeout
