"""Our comments on issues and pull requests, found again by their hidden markers.

A marker is our idempotency key: a retried step finds the comment it already posted. Only the
App's own comments (`<slug>[bot]`) count: anyone can write `<!-- component-bot:status … -->`
in a comment, and the bot must never adopt, edit or be silenced by a comment it did not write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from githubkit import GitHub
from githubkit.exception import RequestFailed


class Comments:
    """`author` gives the App's login, asked only when comments are looked through (posting
    a comment nobody can have posted before needs no login)."""

    def __init__(self, gh: GitHub, owner: str, repo: str, author: Callable[[], Awaitable[str]]) -> None:
        self.gh, self.owner, self.repo, self._author = gh, owner, repo, author

    async def _ours(self, comment: dict, marker: str) -> bool:
        if marker not in (comment.get("body") or ""):
            return False
        return (comment.get("user") or {}).get("login") == await self._author()

    async def find(self, number: int, marker: str) -> dict | None:
        """Our comment on the issue or PR that carries `marker`, if any."""
        async for comment in self.gh.rest.paginate(self.gh.rest.issues.async_list_comments, map_func=lambda r: r.json(),
                                                   owner=self.owner, repo=self.repo, issue_number=number,
                                                   per_page=100):
            if await self._ours(comment, marker):
                return comment
        return None

    async def post_once(self, number: int, marker: str, body: str) -> None:
        """Post `body` on the issue or PR unless our comment with `marker` is already there."""
        if await self.find(number, marker) is None:
            await self.gh.rest.issues.async_create_comment(self.owner, self.repo, number, body=body)

    async def publish(self, number: int, marker: str, body: str, known_id: int | None = None, *,
                      may_exist: bool = True) -> tuple[int, str | None]:
        """Edit our comment with `marker` (`known_id` when we know it), or create it; returns its id
        and node id. `may_exist=False`: nothing can have posted it before, so it is not looked for."""
        if known_id is None and may_exist:
            found = await self.find(number, marker)
            known_id = found["id"] if found else None
        if known_id is not None:
            edited = await self.gh.rest.issues.async_update_comment(self.owner, self.repo, known_id, body=body)
            return known_id, edited.json().get("node_id")
        created = (await self.gh.rest.issues.async_create_comment(self.owner, self.repo, number, body=body)).json()
        return created["id"], created.get("node_id")

    async def reply_in_thread_once(self, pull_number: int, comment_id: int, marker: str, body: str) -> None:
        """Answer a review comment in its thread, once; a thread deleted meanwhile is skipped."""
        async for comment in self.gh.rest.paginate(self.gh.rest.pulls.async_list_review_comments,
                                                   map_func=lambda r: r.json(), owner=self.owner, repo=self.repo,
                                                   pull_number=pull_number, per_page=100):
            if await self._ours(comment, marker) and comment.get("in_reply_to_id") == comment_id:
                return
        try:
            await self.gh.rest.pulls.async_create_reply_for_review_comment(self.owner, self.repo, pull_number,
                                                                           comment_id, data={"body": body})
        except RequestFailed as exc:
            if exc.response.status_code != 404:
                raise
