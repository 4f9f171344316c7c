"""Maintainers' slash commands in issue and PR comments: `/retry` (carry on from where the session
stopped), `/retry fresh` (start over from the default branch, on a new branch), `/stop`, `/status`.

A command counts only from a human with write access; it is acknowledged with 👀 and acts on
the issue's (or PR's) session, found within the repository the verified payload names.
"""

from __future__ import annotations

import logging

from bot.core.commands import asks_fresh, slash_command
from bot.core.orchestrator import Signal
from bot.handlers.context import EventContext
from bot.handlers.router import Router
from bot.handlers.triggers import request_of
from bot.render.timeline import render_timeline
from bot.store import sessions as store
from bot.store.models import Session, SessionStatus

log = logging.getLogger(__name__)
router = Router()

SESSION_COMMANDS = frozenset({"retry", "stop", "status"})


@router.on("issue_comment.created")
async def on_comment(ctx: EventContext) -> None:
    issue = ctx.event.payload.get("issue") or {}
    comment = ctx.event.payload.get("comment") or {}
    command = slash_command(comment.get("body"))
    if command not in SESSION_COMMANDS or not await ctx.sender_may_steer():
        return
    async with ctx.db() as s:
        if "pull_request" in issue:
            session = await store.for_pull_request(s, ctx.scope, issue["number"])
        else:
            session = await store.latest_for_issue(s, ctx.scope, issue["number"])
    if session is None:
        return
    await ctx.repository.react("issue_comment", comment["id"])
    key = f"comment:{comment.get('id')}"
    if command == "stop":
        await ctx.scheduler.signal(session.id, Signal.stop.value, {"by": ctx.sender}, key=key)
    elif command == "retry" and asks_fresh(comment.get("body")):
        await start_fresh(ctx, session, issue, key)
    elif command == "retry":
        await retry(ctx, session, key)
    else:
        await reply_status(ctx, session, issue["number"], comment["id"])


async def reply_status(ctx: EventContext, session: Session, number: int, comment_id: int) -> None:
    """The session's timeline, answered where `/status` was asked (once per asking comment)."""
    async with ctx.db() as s:
        interactions = await store.interactions_of(s, session.id)
    marker = f"<!-- component-bot:reply to=comment-{comment_id} -->"
    await (await ctx.repository.comments()).post_once(number, marker,
                                                       f"{marker}\n{render_timeline(session, interactions)}")


async def retry(ctx: EventContext, session: Session, key: str) -> None:
    """Carry on from the failed or waiting step; a session that ended in failure is reopened."""
    async with ctx.db() as s:
        if await store.trigger_seen(s, ctx.scope, key):
            return  # a replayed `/retry`: it must not reopen what has ended since
    if SessionStatus(session.status).is_final:
        if session.status == SessionStatus.completed.value or not await store.reopen_session(ctx.db, session):
            return
    await ctx.scheduler.signal(session.id, Signal.retry.value, {"by": ctx.sender}, key=key)


async def start_fresh(ctx: EventContext, session: Session, issue: dict, key: str) -> None:
    """End the session (its PR closed, pointing to the issue) and start a new one from the default
    branch on a new branch, with the request as the session had it."""
    async with ctx.db() as s:
        if await store.trigger_seen(s, ctx.scope, key):
            return
    if session.status == SessionStatus.completed.value:
        return  # merged: nothing to start over
    reason = f"started over by {ctx.sender} (`/retry fresh`)"
    if not SessionStatus(session.status).is_final:
        await ctx.scheduler.signal(session.id, Signal.stop.value, {"by": ctx.sender, "fresh": True}, key=f"{key}:stop")
        await store.update_session(ctx.db, session.id, status=SessionStatus.cancelled.value, status_reason=reason)
    if session.pr_number:
        await ctx.repository.close_pull_request(
            session.pr_number, f"Closed: {reason}. The new attempt is followed on #{session.issue_number}.")
    fresh = await store.create_session(ctx.db, ctx.scope, session.issue_number, trigger="fresh",
                                       triggered_by=ctx.sender, trigger_key=key,
                                       request=session.request or request_of(issue, ctx.sender),
                                       node_ids={"repository": session.repository_node_id or "",
                                                 "issue": session.issue_node_id or ""})
    if fresh is not None:
        log.info("session %s started over as session %s by %s", session.id, fresh.id, ctx.sender)
        await ctx.scheduler.schedule(fresh.id)
