"""Bringing a branch up to date with the default branch: GitHub merges the base into it
(`POST /repos/{owner}/{repo}/merges`), or says it conflicts; a merge whose conflicts were resolved
is committed here, through the Git Data API, with both parents.

A resolved merge commit's tree is the new base's tree with the branch's own changes on top (the
files it changed since the old base, by blob) and the resolved files' new text: what `git merge`
would record after the conflicts are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from githubkit import GitHub
from githubkit.exception import RequestFailed

from bot.github.workspace import BranchMoved


@dataclass(frozen=True)
class BaseMerge:
    state: str  # merged | up_to_date | conflict
    sha: str | None = None
    tree_sha: str | None = None


async def merge_base_into(gh: GitHub, owner: str, repo: str, branch: str, base_sha: str, message: str) -> BaseMerge:
    """Merge commit `base_sha` into `branch` on GitHub's side."""
    try:
        response = await gh.rest.repos.async_merge(owner, repo, data={"base": branch, "head": base_sha,
                                                                     "commit_message": message})
    except RequestFailed as exc:
        if exc.response.status_code == 409:
            return BaseMerge("conflict")
        raise
    if response.status_code == 204:
        return BaseMerge("up_to_date")
    made = response.json()
    return BaseMerge("merged", made["sha"], ((made.get("commit") or {}).get("tree") or {}).get("sha"))


def carried_over(changed: list[dict[str, Any]], modes: dict[str, str], resolved: set[str]) -> list[dict[str, Any]]:
    """Tree entries putting the branch's changes (GitHub's compare files, by blob) on the new base's
    tree, except the paths whose resolution is written out."""
    entries: list[dict[str, Any]] = []
    for file in changed:
        path, status = file["filename"], file.get("status")
        if path in resolved:
            continue
        if status == "renamed" and file.get("previous_filename") and file["previous_filename"] not in resolved:
            entries.append({"path": file["previous_filename"], "mode": "100644", "type": "blob", "sha": None})
        if status == "removed":
            entries.append({"path": path, "mode": modes.get(path, "100644"), "type": "blob", "sha": None})
        else:
            entries.append({"path": path, "mode": modes.get(path, "100644"), "type": "blob", "sha": file["sha"]})
    return entries


async def commit_resolved_merge(gh: GitHub, owner: str, repo: str, branch: str, *, head_sha: str, base_sha: str,
                                base_tree: str, entries: list[dict[str, Any]], message: str) -> tuple[str, str]:
    """The merge commit (parents: the branch's head, then the base) on `branch`, fast-forwarded
    from `head_sha`: a branch that moved meanwhile is never overwritten (`BranchMoved`)."""
    tree = (await gh.rest.git.async_create_tree(owner, repo, data={"base_tree": base_tree, "tree": entries})).json()
    commit = (await gh.rest.git.async_create_commit(owner, repo, data={
        "message": message, "tree": tree["sha"], "parents": [head_sha, base_sha]})).json()
    try:
        await gh.rest.git.async_update_ref(owner, repo, f"heads/{branch}", data={"sha": commit["sha"], "force": False})
    except RequestFailed as exc:
        if exc.response.status_code == 422:
            raise BranchMoved(f"branch {branch} moved since {head_sha[:7]}; the resolved merge was not pushed") from None
        raise
    return commit["sha"], tree["sha"]
