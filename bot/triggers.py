"""What starts a session: the trigger label on an issue, or `/implement` in an issue comment."""

from __future__ import annotations

import logging
import re

from bot.context import Context
from bot.routing import Event, Router

log = logging.getLogger(__name__)
router = Router()

IMPLEMENT_COMMAND = re.compile(r"^\s*/implement\b", re.MULTILINE)


def sent_by_bot(event: Event) -> bool:
    sender = event.sender
    return sender.get("type") == "Bot" or str(sender.get("login", "")).endswith("[bot]")


@router.on("issues.labeled")
async def issue_labeled(event: Event, context: Context) -> None:
    label = (event.payload.get("label") or {}).get("name")
    if label != context.settings.bot_trigger_label or sent_by_bot(event):
        return
    issue = event.payload.get("issue") or {}
    log.info("would start a session for %s#%s (labelled %r by %s)", event.repository.get("full_name"),
             issue.get("number"), label, event.sender.get("login"))


@router.on("issue_comment.created")
async def implement_command(event: Event, context: Context) -> None:
    issue = event.payload.get("issue") or {}
    body = (event.payload.get("comment") or {}).get("body") or ""
    if "pull_request" in issue or not IMPLEMENT_COMMAND.search(body) or sent_by_bot(event):
        return
    log.info("would start a session for %s#%s (/implement by %s)", event.repository.get("full_name"),
             issue.get("number"), event.sender.get("login"))
