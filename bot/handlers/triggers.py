"""What starts a session: the trigger label on an issue, or `/implement` in an issue comment.

Only a human with write access starts one. The trigger is acknowledged with 👀; an issue with a
session already active gets a pointer to it instead of a second session (or, if that session
is waiting for a human, the trigger counts as `/retry`).
"""

from __future__ import annotations

import logging
import re

from githubkit import GitHub

from bot.engine.context import Context
from bot.core.orchestrator import Signal
from bot.handlers.permissions import can_write, sent_by_bot
from bot.handlers.router import Event, Router
from bot.store import sessions as store
from bot.store.models import SessionStatus
from bot.store.sessions import Scope

log = logging.getLogger(__name__)
router = Router()

IMPLEMENT_COMMAND = re.compile(r"^\s*/implement\b", re.MULTILINE)


def scope_of(event: Event) -> Scope | None:
    repository = event.repository
    if event.installation_id is None or not repository.get("id") or not repository.get("full_name"):
        return None
    return Scope(event.installation_id, repository["id"], repository["full_name"])


@router.on("issues.labeled")
async def issue_labeled(event: Event, context: Context) -> None:
    label = (event.payload.get("label") or {}).get("name")
    issue = event.payload.get("issue") or {}
    if label != context.settings.bot_trigger_label or "pull_request" in issue:
        return
    await start_session(event, context, issue, trigger="label", comment_id=None)


@router.on("issue_comment.created")
async def implement_command(event: Event, context: Context) -> None:
    issue = event.payload.get("issue") or {}
    comment = event.payload.get("comment") or {}
    if "pull_request" in issue or not IMPLEMENT_COMMAND.search(comment.get("body") or ""):
        return
    await start_session(event, context, issue, trigger="command", comment_id=comment.get("id"))


async def start_session(event: Event, context: Context, issue: dict, *, trigger: str, comment_id: int | None) -> None:
    scope = scope_of(event)
    login = event.sender.get("login", "")
    if scope is None or sent_by_bot(event) or context.github is None:
        return
    key = trigger_key(issue, comment_id)
    async with context.db() as s:
        if await store.trigger_seen(s, scope, key):
            log.info("%s on #%s was handled before; a replay starts nothing", trigger, issue.get("number"))
            return
    gh = context.github.installation(scope.installation_id)
    owner, repo = scope.repository_full_name.split("/", 1)
    if not await can_write(gh, owner, repo, login):
        log.info("ignoring %s on #%s from %s: no write access", trigger, issue.get("number"), login)
        return
    await acknowledge(gh, owner, repo, issue["number"], comment_id)
    request = request_of(issue, login)
    session = await store.create_session(context.db, scope, issue["number"], trigger=trigger, triggered_by=login,
                                         trigger_key=key, request=request)
    if session is not None:
        log.info("session %s started for %s#%s by %s", session.id, scope.repository_full_name, issue["number"], login)
        context.runner.schedule(session.id)
        return
    async with context.db() as s:
        active = await store.active_for_issue(s, scope, issue["number"])
    if active is None:
        return  # the same trigger started one meanwhile, or its session ended since: nothing to add
    if active.status == SessionStatus.needs_human.value:
        await store.update_request(context.db, active.id, request)
        await context.runner.signal(active.id, Signal.retry.value, {"by": login, "via": trigger}, key=key)
        return
    await gh.rest.issues.async_create_comment(owner, repo, issue["number"], body=already_running(context, active))


def trigger_key(issue: dict, comment_id: int | None) -> str:
    """What made this trigger, so that its replay is recognised: the comment, or the labelling
    (an issue's `updated_at` moves with every label added)."""
    if comment_id is not None:
        return f"comment:{comment_id}"
    return f"label:{issue.get('id')}:{issue.get('updated_at')}"


def request_of(issue: dict, by: str) -> dict:
    """The issue as it read when a writer asked for the work."""
    return {"title": issue.get("title") or "", "body": issue.get("body") or "",
            "author": (issue.get("user") or {}).get("login"), "by": by, "at": issue.get("updated_at")}


@router.on("issues.edited")
async def issue_edited(event: Event, context: Context) -> None:
    """A writer's edit of the issue is the new request (the status comment says so); anyone
    else's edit is ignored: the session keeps working from what a writer asked for."""
    scope, issue, login = scope_of(event), event.payload.get("issue") or {}, event.sender.get("login", "")
    if scope is None or context.github is None or sent_by_bot(event):
        return
    async with context.db() as s:
        session = await store.active_for_issue(s, scope, issue.get("number"))
    if session is None:
        return
    owner, repo = scope.repository_full_name.split("/", 1)
    if not await can_write(context.github.installation(scope.installation_id), owner, repo, login):
        log.info("issue #%s edited by %s, who cannot write: the session keeps the request as it was",
                 issue.get("number"), login)
        return
    await store.update_request(context.db, session.id, {**request_of(issue, login), "edited": True})
    await context.runner.signal(session.id, Signal.edited.value, {"by": login}, key=f"edit:{issue.get('updated_at')}")


async def acknowledge(gh: GitHub, owner: str, repo: str, issue_number: int, comment_id: int | None) -> None:
    """👀 on what triggered us; GitHub answers 200 instead of 201 when it is already there."""
    if comment_id is not None:
        await gh.rest.reactions.async_create_for_issue_comment(owner, repo, comment_id, content="eyes")
    else:
        await gh.rest.reactions.async_create_for_issue(owner, repo, issue_number, content="eyes")


def already_running(context: Context, session) -> str:  # noqa: ANN001 - a Session
    base = f"{context.settings.html_url}/{session.repository_full_name}/issues/{session.issue_number}"
    where = f"{base}#issuecomment-{session.status_comment_id}" if session.status_comment_id else base
    return (f"component-bot is already working on this issue (session {session.id}, "
            f"{session.status.replace('_', ' ')}): see {where}. Comment `/stop` there to cancel it first.")
