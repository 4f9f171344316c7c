"""Maintainers' slash commands in issue and PR comments: `/retry`, `/stop`, `/status`.

A command counts only from a human with write access; it is acknowledged with 👀 and acts on
the issue's (or PR's) session, found within the repository the verified payload names.
"""

from __future__ import annotations

import logging
import re

from bot.engine.context import Context
from bot.core.orchestrator import Signal
from bot.handlers.permissions import can_write, sent_by_bot
from bot.handlers.router import Event, Router
from bot.store import sessions as store
from bot.store.models import Session, SessionStatus
from bot.store.sessions import Scope
from bot.github.comments import Comments
from bot.render.timeline import render_timeline
from bot.handlers.triggers import acknowledge, scope_of

log = logging.getLogger(__name__)
router = Router()

COMMAND = re.compile(r"^\s*/(?P<name>retry|stop|status)\b", re.MULTILINE | re.IGNORECASE)


def parse_command(body: str) -> str | None:
    match = COMMAND.search(body or "")
    return match.group("name").lower() if match else None


@router.on("issue_comment.created")
async def on_comment(event: Event, context: Context) -> None:
    issue = event.payload.get("issue") or {}
    comment = event.payload.get("comment") or {}
    command = parse_command(comment.get("body") or "")
    scope = scope_of(event)
    if command is None or scope is None or sent_by_bot(event) or context.github is None:
        return
    gh = context.github.installation(scope.installation_id)
    owner, repo = scope.repository_full_name.split("/", 1)
    if not await can_write(gh, owner, repo, event.sender.get("login", "")):
        return
    async with context.db() as s:
        if "pull_request" in issue:
            session = await store.for_pull_request(s, scope, issue["number"])
        else:
            session = await store.latest_for_issue(s, scope, issue["number"])
    if session is None:
        return
    await acknowledge(gh, owner, repo, issue["number"], comment.get("id"))
    login, key = event.sender.get("login"), f"comment:{comment.get('id')}"
    if command == "stop":
        await context.runner.signal(session.id, Signal.stop.value, {"by": login}, key=key)
    elif command == "retry":
        await retry(context, session, login, key)
    elif command == "status":
        await reply_status(context, gh, session, issue["number"], comment["id"])


async def reply_status(context: Context, gh, session: Session, number: int, comment_id: int) -> None:  # noqa: ANN001
    """The session's timeline, answered where `/status` was asked (once per asking comment)."""
    async with context.db() as s:
        interactions = await store.interactions_of(s, session.id)
    marker = f"<!-- component-bot:reply to=comment-{comment_id} -->"
    comments = Comments(gh, session.owner, session.repo, await context.github.bot_login())
    await comments.post_once(number, marker, f"{marker}\n{render_timeline(session, interactions)}")


async def retry(context: Context, session: Session, login: str | None, key: str) -> None:
    """Carry on from the failed or waiting step; a session that ended in failure is reopened."""
    async with context.db() as s:
        if await store.trigger_seen(s, Scope(session.installation_id, session.repository_id,
                                             session.repository_full_name), key):
            return  # a replayed `/retry`: it must not reopen what has ended since
    if SessionStatus(session.status).is_final:
        if session.status == SessionStatus.completed.value or not await store.reopen_session(context.db, session):
            return
    await context.runner.signal(session.id, Signal.retry.value, {"by": login}, key=key)
