"""Merging the bot's pull request safely: only the commit whose checks passed, by the configured
method, and a refusal (branch protection, a newer push) is reported, never retried in a loop."""

from __future__ import annotations

from dataclasses import dataclass

from githubkit import GitHub
from githubkit.exception import RequestFailed

from bot.github.permissions import can_write


@dataclass(frozen=True)
class MergeResult:
    merged: bool
    sha: str | None = None
    refused: str | None = None


async def merge(gh: GitHub, owner: str, repo: str, number: int, *, head_sha: str, method: str,
                title: str) -> MergeResult:
    """Merge if the PR's head is still `head_sha` (GitHub answers 409 otherwise)."""
    try:
        response = await gh.rest.pulls.async_merge(
            owner, repo, number, data={"sha": head_sha, "merge_method": method, "commit_title": title})
    except RequestFailed as exc:
        if exc.response.status_code in {403, 405, 409, 422}:
            message = (exc.response.json() or {}).get("message", "") if _is_json(exc) else ""
            return MergeResult(False, refused=f"GitHub refused the merge ({exc.response.status_code}): {message}"
                               .rstrip(": "))
        raise
    return MergeResult(True, sha=response.json().get("sha"))


def _is_json(exc: RequestFailed) -> bool:
    return "json" in exc.response.headers.get("content-type", "")


async def approved_by_writer(gh: GitHub, owner: str, repo: str, number: int, head_sha: str) -> str | None:
    """The login of a user with write access whose latest review approves `head_sha` itself, or None.

    An approval is for the commit it was given at: one given to an earlier commit does not
    carry over to a later one. A user's later review (changes requested, dismissed) replaces
    their earlier approval; a user GitHub no longer knows (404) is not a writer."""
    latest: dict[str, dict] = {}
    async for review in gh.rest.paginate(gh.rest.pulls.async_list_reviews, map_func=lambda r: r.json(),
                                         owner=owner, repo=repo, pull_number=number, per_page=100):
        user = (review.get("user") or {}).get("login")
        if user and review.get("state") in {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}:
            latest[user] = review
    for login, review in latest.items():
        if review["state"] == "APPROVED" and review.get("commit_id") == head_sha \
                and await can_write(gh, owner, repo, login):
            return login
    return None
