"""Pull requests: find the branch's PR or open one — never a second."""

from __future__ import annotations

from githubkit import GitHub
from githubkit.exception import RequestFailed


async def find_pull_request(gh: GitHub, owner: str, repo: str, branch: str) -> dict | None:
    response = await gh.rest.pulls.async_list(owner, repo, head=f"{owner}:{branch}", state="open", per_page=10)
    pulls = response.json()
    return pulls[0] if pulls else None


async def ensure_pull_request(gh: GitHub, owner: str, repo: str, *, branch: str, base: str, title: str,
                              body: str, draft: bool) -> dict:
    existing = await find_pull_request(gh, owner, repo, branch)
    if existing is not None:
        return existing
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
