"""What Finalize needs to know of the pull request, in one GraphQL query: its state, title, author
and changed files, the default branch's head, and the spec's files by blob at the base and the head (bot/github/specfiles.py
says who changed one, when one did)."""

from __future__ import annotations

from dataclasses import dataclass

from githubkit import GitHub

from bot.core.spec import SpecFile
from bot.github.specfiles import last_change

MAX_FILES = 100  # one page of PullRequest.files; a larger change is listed through REST's compare
QUERY = """query($owner: String!, $name: String!, $number: Int!, $baseTest: String!, $headTest: String!,
                 $baseDesign: String!, $headDesign: String!) {
  repository(owner: $owner, name: $name) {
    defaultBranchRef { target { oid } }
    pullRequest(number: $number) {
      id isDraft merged title author { login }
      files(first: 100) { totalCount nodes { path } }
    }
    baseTest: object(expression: $baseTest) { oid }
    headTest: object(expression: $headTest) { oid }
    baseDesign: object(expression: $baseDesign) { oid }
    headDesign: object(expression: $headDesign) { oid }
  }
}"""


@dataclass(frozen=True)
class PullView:
    node_id: str
    draft: bool
    merged: bool
    title: str
    author: str | None
    files: list[str] | None  # None: more than one page, to be listed another way
    spec: list[SpecFile]
    default_head: str | None = None  # the default branch's head now


async def read_pull_view(gh: GitHub, owner: str, repo: str, number: int, *, base: str, head: str, test_path: str,
                         design_path: str) -> PullView:
    data = (await gh.async_graphql(QUERY, {
        "owner": owner, "name": repo, "number": number, "baseTest": f"{base}:{test_path}",
        "headTest": f"{head}:{test_path}", "baseDesign": f"{base}:{design_path}",
        "headDesign": f"{head}:{design_path}"}))["repository"]
    pull = data["pullRequest"]
    spec = []
    for kind, path in (("Test", test_path), ("Design", design_path)):
        base_oid, head_oid = ((data.get(f"{side}{kind}") or {}).get("oid") for side in ("base", "head"))
        changed_in = changed_by = None
        if base_oid != head_oid:
            changed_in, changed_by = await last_change(gh, owner, repo, head, path)
        spec.append(SpecFile(path, base_oid, head_oid, changed_in, changed_by))
    files = pull["files"]
    return PullView(pull["id"], pull["isDraft"], pull["merged"], pull["title"], (pull.get("author") or {}).get("login"),
                    [f["path"] for f in files["nodes"]] if files["totalCount"] <= MAX_FILES else None, spec,
                    ((data.get("defaultBranchRef") or {}).get("target") or {}).get("oid"))
