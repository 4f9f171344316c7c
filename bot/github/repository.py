"""One repository, through one installation's client: the object handlers and steps use for every
GitHub call. It knows the owner and name (so nobody re-derives them) and delegates to the modules
of bot/github, which own the details of each kind of call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from githubkit import GitHub
from githubkit.exception import RequestFailed

from bot.core.spec import Lock
from bot.github import checks, merging, pulls, threads
from bot.github.base import BaseCommit, read_base
from bot.github.basemerge import BaseMerge, commit_resolved_merge, merge_base_into
from bot.github.comments import Comments
from bot.github.labels import LabelIds
from bot.github.permissions import can_write
from bot.github.pullview import PullView, read_pull_view
from bot.github.workspace import Workspace

REACTION_SUBJECTS = ("issue", "issue_comment", "review_comment")


class Repository:
    def __init__(self, gh: GitHub, full_name: str, bot_login: Callable[[], Awaitable[str]],
                 label_ids: LabelIds | None = None) -> None:
        self.gh, self.full_name = gh, full_name
        self.owner, self.name = full_name.split("/", 1)
        self._bot_login = bot_login
        self.label_ids = label_ids if label_ids is not None else LabelIds()

    # ----- people

    async def can_write(self, login: str) -> bool:
        return await can_write(self.gh, self.owner, self.name, login)

    async def bot_login(self) -> str:
        return await self._bot_login()

    # ----- issues and comments

    async def issue(self, number: int) -> dict[str, Any]:
        return (await self.gh.rest.issues.async_get(self.owner, self.name, number)).json()

    async def comment(self, number: int, body: str) -> int:
        created = await self.gh.rest.issues.async_create_comment(self.owner, self.name, number, body=body)
        return created.json()["id"]

    async def comments(self) -> Comments:
        """Our marked comments (only the App's own count)."""
        return Comments(self.gh, self.owner, self.name, self._bot_login)

    async def react(self, subject: str, subject_id: int, content: str = "eyes") -> None:
        """👀 on an issue, an issue comment or a review comment; GitHub answers 200 when it is there already."""
        rest = self.gh.rest.reactions
        call = {"issue": rest.async_create_for_issue, "issue_comment": rest.async_create_for_issue_comment,
                "review_comment": rest.async_create_for_pull_request_review_comment}[subject]
        await call(self.owner, self.name, subject_id, content=content)

    # ----- branches and files

    async def read_base(self, paths: list[str], rev: str = "HEAD", branch: str | None = None,
                        folders: Sequence[str] = ()) -> BaseCommit:
        """A commit (the default branch's head by default), its tree and the files at `paths` there,
        where `branch` is and which of `folders` exist, in one query; which also shows the state
        labels' ids (remembered for publishing)."""
        base = await read_base(self.gh, self.owner, self.name, paths, rev, branch, folders)
        self.label_ids.remember(self.full_name, base.labels)
        return base

    async def branch_head(self, branch: str) -> str | None:
        """The branch's head sha; None when there is no such branch."""
        try:
            found = await self.gh.rest.git.async_get_ref(self.owner, self.name, f"heads/{branch}")
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                return None
            raise
        return found.json()["object"]["sha"]

    def workspace(self, branch: str, locks: Iterable[Lock | str] = (), repository_id: str | None = None) -> Workspace:
        return Workspace(self.gh, self.owner, self.name, branch, locks, repository_id)

    async def changed_files(self, base: str, head: str) -> list[dict[str, Any]]:
        """The files of `base...head`, with their patches (GitHub's compare)."""
        compare = await self.gh.rest.repos.async_compare_commits(self.owner, self.name, f"{base}...{head}")
        return compare.json().get("files") or []

    async def merge_base_into(self, branch: str, base_sha: str, message: str) -> BaseMerge:
        """Merge the default branch's commit `base_sha` into `branch` (GitHub's merge endpoint)."""
        return await merge_base_into(self.gh, self.owner, self.name, branch, base_sha, message)

    async def commit_resolved_merge(self, branch: str, **merge: Any) -> tuple[str, str]:
        """A merge commit whose conflicts were resolved here (bot/github/basemerge.py)."""
        return await commit_resolved_merge(self.gh, self.owner, self.name, branch, **merge)

    async def pull_view(self, number: int, *, base: str, head: str, test_path: str, design_path: str) -> PullView:
        """The PR's state, title, author and files, and the spec's files at `base` and `head`: one query."""
        return await read_pull_view(self.gh, self.owner, self.name, number, base=base, head=head,
                                    test_path=test_path, design_path=design_path)

    # ----- pull requests

    async def pull(self, number: int) -> dict[str, Any]:
        return (await self.gh.rest.pulls.async_get(self.owner, self.name, number)).json()

    async def ensure_pull_request(self, **fields: Any) -> dict[str, Any]:
        return await pulls.ensure_pull_request(self.gh, self.owner, self.name, **fields)

    async def mark_ready(self, node_id: str) -> None:
        await pulls.mark_ready(self.gh, node_id)

    async def close_pull_request(self, number: int, comment: str) -> None:
        """Say why on the PR, then close it (a PR closed already stays closed)."""
        await self.comment(number, comment)
        await self.gh.rest.pulls.async_update(self.owner, self.name, number, data={"state": "closed"})

    async def update_pull_body(self, number: int, body: str) -> None:
        await self.gh.rest.pulls.async_update(self.owner, self.name, number, data={"body": body})

    async def request_reviewers(self, number: int, reviewers: list[str], teams: list[str]) -> None:
        await pulls.request_reviewers(self.gh, self.owner, self.name, number, reviewers, teams)

    async def review_comments(self, number: int, review_id: int) -> list[dict[str, Any]]:
        return await pulls.review_comments(self.gh, self.owner, self.name, number, review_id)

    async def unresolved_threads(self, number: int, *, bot_slug: str,
                                 may_steer: Callable[[str], Awaitable[bool]]) -> list[dict[str, Any]]:
        return await threads.unresolved_threads(self.gh, self.owner, self.name, number, bot_slug=bot_slug,
                                                may_steer=may_steer)

    async def approved_by_writer(self, number: int, head_sha: str) -> str | None:
        return await merging.approved_by_writer(self.gh, self.owner, self.name, number, head_sha)

    async def merge(self, number: int, *, head_sha: str, method: str, title: str) -> merging.MergeResult:
        return await merging.merge(self.gh, self.owner, self.name, number, head_sha=head_sha, method=method,
                                   title=title)

    # ----- checks

    async def check_runs(self, sha: str) -> list[dict[str, Any]]:
        return await checks.check_runs_on(self.gh, self.owner, self.name, sha)

    async def job_log(self, job_id: int) -> str | None:
        return await checks.job_log(self.gh, self.owner, self.name, job_id)

    async def annotations(self, run_id: int) -> list[dict[str, Any]]:
        return await checks.annotations(self.gh, self.owner, self.name, run_id)
