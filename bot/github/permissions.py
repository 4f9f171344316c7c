"""Who may steer the bot: people with write, maintain or admin on the repository."""

from __future__ import annotations

from githubkit import GitHub
from githubkit.exception import RequestFailed

WRITE_ROLES = frozenset({"admin", "maintain", "write"})


async def can_write(gh: GitHub, owner: str, repo: str, login: str) -> bool:
    """A user GitHub does not know as a collaborator (404: never was, or has left) cannot write."""
    if not login:
        return False
    try:
        response = await gh.rest.repos.async_get_collaborator_permission_level(owner, repo, login)
    except RequestFailed as exc:
        if exc.response.status_code == 404:
            return False
        raise
    data = response.json()
    return bool({data.get("permission"), data.get("role_name")} & WRITE_ROLES)
