"""The pull request's open review threads, through GraphQL `reviewThreads`: only unresolved
threads, every page, and in them only the comments of people who may steer the bot.

REST lists review comments without their thread's resolution state (and only 100 a page), so a
revision would see long-settled discussions. Comments by anyone without write access are left
out here, before any text can reach a prompt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from githubkit import GitHub

THREADS_PER_PAGE = 50
COMMENTS_PER_THREAD = 30
MAX_PAGES = 20

REVIEW_THREADS = """
query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: %d, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          isResolved
          path
          line
          originalLine
          comments(first: %d) { nodes { databaseId body diffHunk author { login } } }
        }
      }
    }
  }
}""" % (THREADS_PER_PAGE, COMMENTS_PER_THREAD)


async def unresolved_threads(gh: GitHub, owner: str, repo: str, number: int, *, bot_slug: str,
                             may_steer: Callable[[str], Awaitable[bool]]) -> list[dict[str, Any]]:
    """One entry per comment of a writer in an unresolved thread (oldest thread first), in the
    shape Revise gives the agent. `may_steer(login)` answers whether a person has write access."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        data = await gh.async_graphql(REVIEW_THREADS, {"owner": owner, "name": repo, "number": number,
                                                       "after": after})
        threads = ((data.get("repository") or {}).get("pullRequest") or {}).get("reviewThreads") or {}
        for thread in threads.get("nodes") or []:
            if not thread.get("isResolved"):
                found += await _writers_comments(thread, bot_slug, may_steer)
        page = threads.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            break
        after = page.get("endCursor")
    return found


async def _writers_comments(thread: dict[str, Any], bot_slug: str,
                            may_steer: Callable[[str], Awaitable[bool]]) -> list[dict[str, Any]]:
    entries = []
    for comment in (thread.get("comments") or {}).get("nodes") or []:
        login = (comment.get("author") or {}).get("login") or ""
        if not login or login.removesuffix("[bot]") == bot_slug or not await may_steer(login):
            continue  # ours, a deleted account, or someone who may not steer the bot
        entries.append({"kind": "thread", "comment_id": comment.get("databaseId"), "path": thread.get("path"),
                        "line": thread.get("line") or thread.get("originalLine"),
                        "diff_hunk": comment.get("diffHunk") or "", "body": comment.get("body") or "",
                        "author": login})
    return entries
