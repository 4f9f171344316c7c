"""Talking to the bot on its pull request.

A comment that mentions the App (`@<slug>`) or carries a slash command, from a human with write
access, is an instruction: `/status`, `/stop`, `/retry` (bot/handlers/commands.py) and `/merge`
act at once; anything else is queued for the Revise step (instructions that arrive while a step
runs are handled together in the next Revise). Reviews: "changes requested" becomes an
instruction with all its line comments; an approval merges when the repository's policy says so.
The PR's life — merged, closed, a human's push — is followed here too.
"""

from __future__ import annotations

import logging

from bot.core.commands import mentions, slash_command
from bot.core.orchestrator import Signal
from bot.handlers.context import EventContext
from bot.handlers.router import Router
from bot.store import sessions as store
from bot.store.models import Session, SessionStatus

log = logging.getLogger(__name__)
router = Router()


async def _session_for_pull(ctx: EventContext, number: int | None) -> Session | None:
    async with ctx.db() as s:
        return await store.for_pull_request(s, ctx.scope, number)


async def _steerable_session(ctx: EventContext, number: int | None) -> Session | None:
    """The PR's session, when it is not over (an ended session takes no instructions; a maintainer
    can `/retry` a failed one) and the sender may steer it."""
    session = await _session_for_pull(ctx, number)
    if session is None or SessionStatus(session.status).is_final or not await ctx.sender_may_steer():
        return None
    return session


@router.on("issue_comment.created")
async def pull_request_comment(ctx: EventContext) -> None:
    issue = ctx.event.payload.get("issue") or {}
    comment = ctx.event.payload.get("comment") or {}
    if "pull_request" not in issue or ctx.sent_by_bot:
        return
    body = comment.get("body") or ""
    command = slash_command(body)
    if command is None and not mentions(body, await ctx.slug()):
        return
    if command not in (None, "merge"):
        return  # bot.handlers.commands handles the others, on issues and pull requests alike
    session = await _steerable_session(ctx, issue["number"])
    if session is None:
        return
    await ctx.repository.react("issue_comment", comment["id"])
    key = f"comment:{comment['id']}"
    if command == "merge":
        await ctx.scheduler.signal(session.id, Signal.merge.value, {
            "by": ctx.sender, "comment_id": comment["id"], "head_sha": session.head_sha}, key=key)
    else:
        await ctx.scheduler.signal(session.id, Signal.instruction.value, {
            "kind": "comment", "comment_id": comment["id"], "author": ctx.sender, "body": body,
            "at": comment.get("created_at")}, key=key)


@router.on("pull_request_review.submitted")
async def review_submitted(ctx: EventContext) -> None:
    review = ctx.event.payload.get("review") or {}
    pull = ctx.event.payload.get("pull_request") or {}
    session = await _steerable_session(ctx, pull.get("number"))
    if session is None:
        return
    state, key = (review.get("state") or "").lower(), f"review:{review.get('id')}"
    if state == "approved":
        await ctx.scheduler.signal(session.id, Signal.merge.value, {
            "by": ctx.sender, "review_id": review.get("id"), "approval": True,
            "head_sha": review.get("commit_id")}, key=key)
        return
    comments = await ctx.repository.review_comments(session.pr_number, review["id"])
    slug = await ctx.slug()
    if state == "commented":
        comments = [c for c in comments if mentions(c["body"], slug) or slash_command(c["body"])]
        if not comments and not mentions(review.get("body"), slug):
            return
    elif state != "changes_requested":
        return
    for comment in comments:
        await ctx.repository.react("review_comment", comment["comment_id"])
    await ctx.scheduler.signal(session.id, Signal.instruction.value, {
        "kind": "review", "review_id": review.get("id"), "state": state, "author": ctx.sender,
        "body": review.get("body") or "", "comments": comments, "at": review.get("submitted_at")}, key=key)


@router.on("pull_request.closed")
async def pull_request_closed(ctx: EventContext) -> None:
    pull = ctx.event.payload.get("pull_request") or {}
    session = await _session_for_pull(ctx, pull.get("number"))
    if session is None or SessionStatus(session.status).is_final:
        return
    signal = Signal.merged if pull.get("merged") else Signal.closed
    await ctx.scheduler.signal(session.id, signal.value, {"by": ctx.sender,
                                                          "merge_sha": pull.get("merge_commit_sha")})


@router.on("pull_request.synchronize")
async def pushed(ctx: EventContext) -> None:
    """A push to the bot's branch that the bot did not make: never overwritten; tested as the new head."""
    pull = ctx.event.payload.get("pull_request") or {}
    new_head = (pull.get("head") or {}).get("sha")
    if not new_head:
        return
    session = await _session_for_pull(ctx, pull.get("number"))
    if session is None or SessionStatus(session.status).is_final or session.head_sha == new_head:
        return
    sender_type = (ctx.event.payload.get("sender") or {}).get("type")
    if sender_type == "Bot" and ctx.sender == await ctx.apps.bot_login():  # a person needs no look-up
        return  # our own commit, recorded (or about to be) by the step that made it
    log.info("session %s: %s pushed %s to %s", session.id, ctx.sender, new_head[:7], session.branch)
    await store.update_session(ctx.db, session.id, head_sha=new_head, head_tree_sha=None)
    await ctx.scheduler.signal(session.id, Signal.human_push.value, {"by": ctx.sender, "head_sha": new_head},
                               key=f"push:{new_head}")
