"""Pull requests: open the branch's PR, or find it — never a second."""

from __future__ import annotations

import logging
from typing import Any

from githubkit import GitHub
from githubkit.exception import RequestFailed

from bot.github.errors import unless_exists
from bot.github.mutations import Answers, Mutation

log = logging.getLogger(__name__)


async def find_pull_request(gh: GitHub, owner: str, repo: str, branch: str) -> dict | None:
    response = await gh.rest.pulls.async_list(owner, repo, head=f"{owner}:{branch}", state="open", per_page=10)
    pulls = response.json()
    return pulls[0] if pulls else None


def open_draft(repository_id: str, *, base: str, branch: str, title: str, body: str) -> Mutation:
    """The draft PR, as a mutation to send with the branch's first commit (see `opened`)."""
    return Mutation("pull", "createPullRequest", {"repositoryId": repository_id, "baseRefName": base,
                                                  "headRefName": branch, "title": title, "body": body, "draft": True},
                    "pullRequest { id number }")


def update_body(node_id: str, body: str) -> Mutation:
    """The PR's description, as a mutation to send with a commit."""
    return Mutation("body", "updatePullRequest", {"pullRequestId": node_id, "body": body})


def opened(answers: Answers) -> dict[str, Any] | None:
    """The PR `open_draft` opened ({number, node_id}); None when it was not sent or GitHub refused it."""
    made = (answers.get("pull") or {}).get("pullRequest")
    if made:
        return {"number": made["number"], "node_id": made["id"]}
    if answers.error("pull") is not None:
        log.info("the pull request was not opened with the commit (%s): opening or finding it through REST",
                 answers.error("pull"))
    return None


async def ensure_pull_request(gh: GitHub, owner: str, repo: str, *, branch: str, base: str, title: str,
                              body: str, draft: bool) -> dict:
    """Open the PR; when GitHub answers that one exists already (a retry, a race), find it."""
    try:
        created = await gh.rest.pulls.async_create(
            owner, repo, data={"head": branch, "base": base, "title": title, "body": body, "draft": draft},
        )
    except RequestFailed as exc:
        if exc.response.status_code == 422:  # "A pull request already exists" (a race with ourselves)
            existing = await find_pull_request(gh, owner, repo, branch)
            if existing is not None:
                return existing
        raise
    return created.json()


READY_FOR_REVIEW = """mutation($id: ID!) {
  markPullRequestReadyForReview(input: {pullRequestId: $id}) { pullRequest { isDraft } }
}"""


async def mark_ready(gh: GitHub, node_id: str) -> None:
    """Draft → ready for review (REST cannot; GraphQL can)."""
    await gh.async_graphql(READY_FOR_REVIEW, {"id": node_id})


async def request_reviewers(gh: GitHub, owner: str, repo: str, number: int, reviewers: list[str],
                            teams: list[str]) -> None:
    """Ask for reviews; a reviewer GitHub refuses (not a collaborator: 422) is not worth failing over."""
    await unless_exists(gh.rest.pulls.async_request_reviewers(owner, repo, number,
                                                              data={"reviewers": reviewers, "team_reviewers": teams}))


async def review_comments(gh: GitHub, owner: str, repo: str, number: int, review_id: int) -> list[dict[str, Any]]:
    """A review's line comments, in the shape Revise gives the agent."""
    response = await gh.rest.pulls.async_list_comments_for_review(owner, repo, number, review_id, per_page=100)
    return [{"comment_id": c["id"], "path": c.get("path"), "line": c.get("line") or c.get("original_line"),
             "diff_hunk": c.get("diff_hunk") or "", "body": c.get("body") or "",
             "author": (c.get("user") or {}).get("login")} for c in response.json()]
