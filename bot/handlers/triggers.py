"""What starts a session: the trigger label on an issue, or `/implement` in an issue comment.

Only a human with write access starts one. The trigger is acknowledged with 👀; an issue with a
session already active gets a pointer to it instead of a second session (or, if that session
is waiting for a human, the trigger counts as `/retry`). The issue's text at the trigger is the
session's request: a later edit counts only when a writer makes it.
"""

from __future__ import annotations

import logging

from bot.core.commands import slash_command
from bot.core.orchestrator import Signal
from bot.handlers.context import EventContext
from bot.handlers.router import Router
from bot.store import sessions as store
from bot.store.models import Session, SessionStatus

log = logging.getLogger(__name__)
router = Router()


@router.on("issues.labeled")
async def issue_labeled(ctx: EventContext) -> None:
    label = (ctx.event.payload.get("label") or {}).get("name")
    issue = ctx.event.payload.get("issue") or {}
    if label == ctx.settings.bot_trigger_label and "pull_request" not in issue:
        await start_session(ctx, issue, trigger="label", comment_id=None)


@router.on("issue_comment.created")
async def implement_command(ctx: EventContext) -> None:
    issue = ctx.event.payload.get("issue") or {}
    comment = ctx.event.payload.get("comment") or {}
    if "pull_request" not in issue and slash_command(comment.get("body")) == "implement":
        await start_session(ctx, issue, trigger="command", comment_id=comment.get("id"))


async def start_session(ctx: EventContext, issue: dict, *, trigger: str, comment_id: int | None) -> None:
    key = trigger_key(issue, comment_id)
    async with ctx.db() as s:
        if await store.trigger_seen(s, ctx.scope, key):
            log.info("%s on #%s was handled before; a replay starts nothing", trigger, issue.get("number"))
            return
    if not await ctx.sender_may_steer():
        log.info("ignoring %s on #%s from %s: no write access", trigger, issue.get("number"), ctx.sender)
        return
    if comment_id is not None:
        await ctx.repository.react("issue_comment", comment_id)
    else:
        await ctx.repository.react("issue", issue["number"])
    request = request_of(issue, ctx.sender)
    session = await store.create_session(ctx.db, ctx.scope, issue["number"], trigger=trigger,
                                         triggered_by=ctx.sender, trigger_key=key, request=request,
                                         node_ids=node_ids_of(ctx.event.payload, issue))
    if session is not None:
        log.info("session %s started for %s#%s by %s", session.id, ctx.scope.repository_full_name, issue["number"],
                 ctx.sender)
        await ctx.scheduler.schedule(session.id)
        return
    async with ctx.db() as s:
        active = await store.active_for_issue(s, ctx.scope, issue["number"])
    if active is None:
        return  # the same trigger started one meanwhile, or its session ended since: nothing to add
    if active.status == SessionStatus.needs_human.value:
        await store.update_request(ctx.db, active.id, request)
        await ctx.scheduler.signal(active.id, Signal.retry.value, {"by": ctx.sender, "via": trigger}, key=key)
        return
    await ctx.repository.comment(issue["number"], already_running(ctx.settings.html_url, active))


def trigger_key(issue: dict, comment_id: int | None) -> str:
    """What made this trigger, so that its replay is recognised: the comment, or the labelling
    (an issue's `updated_at` moves with every label added)."""
    if comment_id is not None:
        return f"comment:{comment_id}"
    return f"label:{issue.get('id')}:{issue.get('updated_at')}"


def node_ids_of(payload: dict, issue: dict) -> dict[str, str]:
    """The GraphQL ids of the repository and the issue, as the payload gives them."""
    found = {"repository": (payload.get("repository") or {}).get("node_id"), "issue": issue.get("node_id")}
    return {kind: value for kind, value in found.items() if isinstance(value, str) and value}


def request_of(issue: dict, by: str) -> dict:
    """The issue as it read when a writer asked for the work."""
    return {"title": issue.get("title") or "", "body": issue.get("body") or "",
            "author": (issue.get("user") or {}).get("login"), "by": by, "at": issue.get("updated_at")}


@router.on("issues.edited")
async def issue_edited(ctx: EventContext) -> None:
    """A writer's edit of the issue is the new request (the status comment says so); anyone
    else's edit is ignored: the session keeps working from what a writer asked for."""
    issue = ctx.event.payload.get("issue") or {}
    async with ctx.db() as s:
        session = await store.active_for_issue(s, ctx.scope, issue.get("number"))
    if session is None:
        return
    if not await ctx.sender_may_steer():
        log.info("issue #%s edited by %s, who cannot write: the session keeps the request as it was",
                 issue.get("number"), ctx.sender)
        return
    await store.update_request(ctx.db, session.id, {**request_of(issue, ctx.sender), "edited": True})
    await ctx.scheduler.signal(session.id, Signal.edited.value, {"by": ctx.sender},
                               key=f"edit:{issue.get('updated_at')}")


def already_running(html_url: str, session: Session) -> str:
    base = f"{html_url}/{session.repository_full_name}/issues/{session.issue_number}"
    where = f"{base}#issuecomment-{session.status_comment_id}" if session.status_comment_id else base
    return (f"component-bot is already working on this issue (session {session.id}, "
            f"{session.status.replace('_', ' ')}): see {where}. Comment `/stop` there to cancel it first.")
