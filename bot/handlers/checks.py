"""Check events wake the sessions waiting on that commit: `check_run`, `check_suite` and
`workflow_run` completed; and a session still running a step on that branch (the step making
the commit, whose session does not know its sha yet), so the step after it reads the checks
instead of assuming they cannot have finished. Events for any other commit (an older head,
another repository) are recorded by intake and change nothing."""

from __future__ import annotations

import logging

from bot.core.orchestrator import Signal
from bot.handlers.context import EventContext
from bot.handlers.event import Event
from bot.handlers.router import Router
from bot.store import sessions as store
from bot.store.models import SessionStatus

log = logging.getLogger(__name__)
router = Router()

LISTENING = (SessionStatus.waiting_for_checks.value, SessionStatus.running.value)


def head_sha_of(event: Event) -> str | None:
    for key in ("check_run", "check_suite", "workflow_run"):
        obj = event.payload.get(key)
        if isinstance(obj, dict):
            return obj.get("head_sha")
    return None


def head_branch_of(event: Event) -> str | None:
    for obj in (event.payload.get("check_suite"), (event.payload.get("check_run") or {}).get("check_suite"),
                event.payload.get("workflow_run")):
        if isinstance(obj, dict) and obj.get("head_branch"):
            return obj["head_branch"]
    return None


def from_ourselves(event: Event, app_id: int | None) -> bool:
    """Our own `component-bot` check run must not wake us (it changes at every step)."""
    for key in ("check_run", "check_suite"):
        app = (event.payload.get(key) or {}).get("app") or {}
        if app and app.get("id") == app_id:
            return True
    return False


@router.on("check_run.completed", "check_suite.completed", "workflow_run.completed")
async def checks_completed(ctx: EventContext) -> None:
    event, sha = ctx.event, head_sha_of(ctx.event)
    if not sha or from_ourselves(event, ctx.settings.app_id):
        return
    async with ctx.db() as s:
        sessions = {x.id: x for x in await store.waiting_on_sha(s, ctx.scope, sha) if x.status in LISTENING}
        branch = head_branch_of(ctx.event)
        if branch:  # a step still making this commit: its session's head is not yet the sha
            sessions.update({x.id: x for x in await store.running_on_branch(s, ctx.scope, branch)})
    for session in sessions.values():
        log.info("%s on %s wakes session %s", event.key, sha[:7], session.id)
        await ctx.scheduler.signal(session.id, Signal.checks.value, {"event": event.key, "head_sha": sha,
                                                                     "delivery": event.delivery_id})
