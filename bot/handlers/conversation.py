"""Talking to the bot on its pull request.

A comment that mentions the App (`@<slug>`) or starts with a slash command, from a human with
write access, is an instruction: `/status`, `/stop`, `/retry`, `/merge` act at once; anything
else is queued for the Revise step (instructions that arrive while a step runs are handled
together in the next Revise). Reviews: "changes requested" becomes an instruction with all its
line comments; an approval merges when the repository's policy says so. The PR's life — merged,
closed, a human's push — is followed here too.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from githubkit import GitHub

from bot.engine.context import Context
from bot.core.orchestrator import Signal
from bot.handlers.permissions import can_write, sent_by_bot
from bot.handlers.router import Event, Router
from bot.store import sessions as store
from bot.store.models import Interaction, Session, SessionStatus
from bot.store.sessions import Scope
from bot.handlers.triggers import scope_of

log = logging.getLogger(__name__)
router = Router()

SLASH = re.compile(r"^\s*/(?P<name>status|stop|retry|merge)\b", re.IGNORECASE)
ACTIVE_ONLY = {"merge"}


def slash_command(body: str) -> str | None:
    match = SLASH.match(body or "")
    return match.group("name").lower() if match else None


def mentions(body: str, slug: str) -> bool:
    return re.search(rf"(?<![\w-])@{re.escape(slug)}(?:\[bot\])?(?![\w-])", body or "", re.IGNORECASE) is not None


async def _session_for_pull(context: Context, scope: Scope, number: int) -> Session | None:
    async with context.db() as s:
        return await store.for_pull_request(s, scope, number)


async def _writer(context: Context, gh: GitHub, scope: Scope, event: Event) -> bool:
    owner, repo = scope.repository_full_name.split("/", 1)
    return not sent_by_bot(event) and await can_write(gh, owner, repo, event.sender.get("login", ""))


@router.on("issue_comment.created")
async def pull_request_comment(event: Event, context: Context) -> None:
    issue = event.payload.get("issue") or {}
    comment = event.payload.get("comment") or {}
    scope = scope_of(event)
    if "pull_request" not in issue or scope is None or context.github is None or sent_by_bot(event):
        return
    body = comment.get("body") or ""
    command, slug = slash_command(body), await context.github.slug()
    if command is None and not mentions(body, slug):
        return
    if command in {"stop", "retry", "status"}:
        return  # bot.handlers.commands handles these on issues and pull requests alike
    session = await _session_for_pull(context, scope, issue["number"])
    gh = context.github.installation(scope.installation_id)
    if session is None or SessionStatus(session.status).is_final or not await _writer(context, gh, scope, event):
        return  # an ended session takes no instructions (a maintainer can `/retry` a failed one)
    owner, repo = scope.repository_full_name.split("/", 1)
    await gh.rest.reactions.async_create_for_issue_comment(owner, repo, comment["id"], content="eyes")
    if command == "merge":
        await context.runner.signal(session.id, Signal.merge.value, {"by": event.sender.get("login"),
                                                                    "comment_id": comment["id"],
                                                                    "head_sha": session.head_sha},
                                    key=f"comment:{comment['id']}")
    else:
        await context.runner.signal(session.id, Signal.instruction.value, {
            "kind": "comment", "comment_id": comment["id"], "author": event.sender.get("login"), "body": body,
            "at": comment.get("created_at"),
        }, key=f"comment:{comment['id']}")


@router.on("pull_request_review.submitted")
async def review_submitted(event: Event, context: Context) -> None:
    review = event.payload.get("review") or {}
    pull = event.payload.get("pull_request") or {}
    scope = scope_of(event)
    if scope is None or context.github is None or sent_by_bot(event):
        return
    session = await _session_for_pull(context, scope, pull.get("number"))
    gh = context.github.installation(scope.installation_id)
    if session is None or SessionStatus(session.status).is_final or not await _writer(context, gh, scope, event):
        return
    state = (review.get("state") or "").lower()
    login = event.sender.get("login")
    if state == "approved":
        await context.runner.signal(session.id, Signal.merge.value, {"by": login, "review_id": review.get("id"),
                                                                    "approval": True,
                                                                    "head_sha": review.get("commit_id")},
                                    key=f"review:{review.get('id')}")
        return
    comments = await review_comments(gh, session, review["id"])
    slug = await context.github.slug()
    if state == "commented":
        comments = [c for c in comments if mentions(c["body"], slug) or slash_command(c["body"])]
        if not comments and not (mentions(review.get("body") or "", slug)):
            return
    elif state != "changes_requested":
        return
    for comment in comments:
        await gh.rest.reactions.async_create_for_pull_request_review_comment(
            session.owner, session.repo, comment["comment_id"], content="eyes")
    await context.runner.signal(session.id, Signal.instruction.value, {
        "kind": "review", "review_id": review.get("id"), "state": state, "author": login,
        "body": review.get("body") or "", "comments": comments, "at": review.get("submitted_at"),
    }, key=f"review:{review.get('id')}")


async def review_comments(gh: GitHub, session: Session, review_id: int) -> list[dict[str, Any]]:
    response = await gh.rest.pulls.async_list_comments_for_review(session.owner, session.repo, session.pr_number,
                                                                  review_id, per_page=100)
    return [{"comment_id": c["id"], "path": c.get("path"), "line": c.get("line") or c.get("original_line"),
             "diff_hunk": c.get("diff_hunk") or "", "body": c.get("body") or "", "author": (c.get("user") or {})
             .get("login")} for c in response.json()]


@router.on("pull_request.closed")
async def pull_request_closed(event: Event, context: Context) -> None:
    scope = scope_of(event)
    pull = event.payload.get("pull_request") or {}
    if scope is None:
        return
    session = await _session_for_pull(context, scope, pull.get("number"))
    if session is None or SessionStatus(session.status).is_final:
        return
    signal = Signal.merged if pull.get("merged") else Signal.closed
    await context.runner.signal(session.id, signal.value, {"by": event.sender.get("login"),
                                                           "merge_sha": pull.get("merge_commit_sha")})


@router.on("pull_request.synchronize")
async def pushed(event: Event, context: Context) -> None:
    """A push to the bot's branch that the bot did not make: never overwritten; tested as the new head."""
    scope = scope_of(event)
    pull = event.payload.get("pull_request") or {}
    new_head = (pull.get("head") or {}).get("sha")
    if scope is None or context.github is None or not new_head:
        return
    session = await _session_for_pull(context, scope, pull.get("number"))
    if session is None or SessionStatus(session.status).is_final or session.head_sha == new_head:
        return
    if event.sender.get("login") == await context.github.bot_login():
        return  # our own commit, recorded (or about to be) by the step that made it
    log.info("session %s: %s pushed %s to %s", session.id, event.sender.get("login"), new_head[:7], session.branch)
    await store.update_session(context.db, session.id, head_sha=new_head)
    await context.runner.signal(session.id, Signal.human_push.value, {"by": event.sender.get("login"),
                                                                      "head_sha": new_head},
                                key=f"push:{new_head}")


def pending_instructions(interactions: list[Interaction]) -> list[dict[str, Any]]:
    """The instructions no successful Revise has answered yet, in the order people wrote them
    (deliveries are processed concurrently, so the order they were recorded in may differ)."""
    answered = {seq for i in interactions if i.step == "Revise" and i.status == "succeeded"
                for seq in (i.result or {}).get("answered", [])}
    pending = [dict(i.input or {}, seq=i.seq) for i in interactions
               if i.step == Signal.instruction.value and i.status == "received" and i.seq not in answered]
    return sorted(pending, key=lambda i: (str(i.get("at") or ""), i["seq"]))
