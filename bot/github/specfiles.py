"""Who last changed a spec file, and in which commit: asked only when Finalize found the file's
blob at the head differs from the base's (bot/github/pullview.py)."""

from __future__ import annotations

from githubkit import GitHub

LAST_CHANGE = """query($owner: String!, $name: String!, $head: GitObjectID!, $path: String!) {
  repository(owner: $owner, name: $name) {
    object(oid: $head) {
      ... on Commit { history(path: $path, first: 1) { nodes { oid author { name user { login } } } } }
    }
  }
}"""


async def last_change(gh: GitHub, owner: str, repo: str, head: str, path: str) -> tuple[str | None, str | None]:
    """The newest commit reachable from `head` that changed `path`, and who made it."""
    data = await gh.async_graphql(LAST_CHANGE, {"owner": owner, "name": repo, "head": head, "path": path})
    commit = ((data.get("repository") or {}).get("object") or {})
    nodes = ((commit.get("history") or {}).get("nodes")) or []
    if not nodes:
        return None, None
    author = nodes[0].get("author") or {}
    return nodes[0].get("oid"), ((author.get("user") or {}).get("login") or author.get("name"))
