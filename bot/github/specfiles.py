"""The spec's files at two commits, by blob SHA: proof, not assumption, that the tests and the
design a green check stands for are the maintainer's own. One GraphQL query for both files at
both commits; a second one only when a file changed, to say who changed it and where."""

from __future__ import annotations

from githubkit import GitHub

from bot.core.spec import SpecFile

VERSIONS = """query($owner: String!, $name: String!, $baseTest: String!, $headTest: String!,
                    $baseDesign: String!, $headDesign: String!) {
  repository(owner: $owner, name: $name) {
    baseTest: object(expression: $baseTest) { oid }
    headTest: object(expression: $headTest) { oid }
    baseDesign: object(expression: $baseDesign) { oid }
    headDesign: object(expression: $headDesign) { oid }
  }
}"""

LAST_CHANGE = """query($owner: String!, $name: String!, $head: GitObjectID!, $path: String!) {
  repository(owner: $owner, name: $name) {
    object(oid: $head) {
      ... on Commit { history(path: $path, first: 1) { nodes { oid author { name user { login } } } } }
    }
  }
}"""


async def spec_files(gh: GitHub, owner: str, repo: str, *, base: str, head: str, test_path: str,
                     design_path: str) -> list[SpecFile]:
    data = await gh.async_graphql(VERSIONS, {
        "owner": owner, "name": repo, "baseTest": f"{base}:{test_path}", "headTest": f"{head}:{test_path}",
        "baseDesign": f"{base}:{design_path}", "headDesign": f"{head}:{design_path}"})
    found = data.get("repository") or {}
    files = []
    for kind, path in (("Test", test_path), ("Design", design_path)):
        base_oid, head_oid = (_oid(found.get(f"{side}{kind}")) for side in ("base", "head"))
        changed_in = changed_by = None
        if base_oid != head_oid:
            changed_in, changed_by = await last_change(gh, owner, repo, head, path)
        files.append(SpecFile(path, base_oid, head_oid, changed_in, changed_by))
    return files


async def last_change(gh: GitHub, owner: str, repo: str, head: str, path: str) -> tuple[str | None, str | None]:
    """The newest commit reachable from `head` that changed `path`, and who made it."""
    data = await gh.async_graphql(LAST_CHANGE, {"owner": owner, "name": repo, "head": head, "path": path})
    commit = ((data.get("repository") or {}).get("object") or {})
    nodes = ((commit.get("history") or {}).get("nodes")) or []
    if not nodes:
        return None, None
    author = nodes[0].get("author") or {}
    return nodes[0].get("oid"), ((author.get("user") or {}).get("login") or author.get("name"))


def _oid(found: dict | None) -> str | None:
    return (found or {}).get("oid")
