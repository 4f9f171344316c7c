"""A push to the default branch: every active session of the repository whose branch exists is
told its base moved (`base_moved`), and brings its branch up to date (bot/steps/update_branch.py).
Finalize compares again before it marks a PR ready or merges it, so a lost push costs nothing."""

from __future__ import annotations

import logging

from bot.core.orchestrator import Signal
from bot.handlers.context import EventContext
from bot.handlers.router import Router
from bot.store import sessions as store

log = logging.getLogger(__name__)
router = Router()


@router.on("push")
async def default_branch_pushed(ctx: EventContext) -> None:
    payload = ctx.event.payload
    default = (payload.get("repository") or {}).get("default_branch")
    after = payload.get("after") or ""
    if not default or payload.get("ref") != f"refs/heads/{default}" or payload.get("deleted") or set(after) == {"0"}:
        return
    async with ctx.db() as s:
        sessions = await store.active_in_repository(s, ctx.scope)
    for session in sessions:
        if session.branch and session.base_sha and session.base_sha != after:
            log.info("session %s: %s moved to %s", session.id, default, after[:7])
            await ctx.scheduler.signal(session.id, Signal.base_moved.value, {"base": after, "by": ctx.sender},
                                       key=f"base:{after}")
