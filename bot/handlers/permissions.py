"""Who may steer the bot: people with write, maintain or admin on the repository. Never bots."""

from __future__ import annotations

import logging

from githubkit import GitHub
from githubkit.exception import RequestFailed

from bot.handlers.router import Event

log = logging.getLogger(__name__)

WRITE_ROLES = frozenset({"admin", "maintain", "write"})


def sent_by_bot(event: Event) -> bool:
    """Bots never start work: GitHub Apps (the bot itself included) have `type: Bot` and a `[bot]` login."""
    sender = event.sender
    return sender.get("type") == "Bot" or str(sender.get("login", "")).endswith("[bot]")


async def can_write(gh: GitHub, owner: str, repo: str, login: str) -> bool:
    try:
        response = await gh.rest.repos.async_get_collaborator_permission_level(owner, repo, login)
    except RequestFailed as exc:
        if exc.response.status_code == 404:  # not a collaborator at all
            return False
        raise
    data = response.json()
    roles = {data.get("permission"), data.get("role_name")}
    return bool(roles & WRITE_ROLES)
