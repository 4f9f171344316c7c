"""The default branch's head and the files a session trusts, read in one GraphQL query: the
commit, its tree, and each file's blob (oid, size, text) — instead of a ref, a commit, a tree and
a blob per file through REST."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from githubkit import GitHub

FILE_FIELDS = "... on Blob { oid byteSize isBinary isTruncated text }"


@dataclass(frozen=True)
class BaseFile:
    path: str
    oid: str
    text: str | None  # None: binary
    size: int


@dataclass(frozen=True)
class BaseCommit:
    default_branch: str
    sha: str
    tree_sha: str
    files: dict[str, BaseFile] = field(default_factory=dict)  # the paths asked for that exist
    repository_id: str | None = None  # the repository's GraphQL node id


def base_query(count: int) -> str:
    variables = "".join(f", $p{i}: String!" for i in range(count))
    objects = "\n".join(f"    p{i}: object(expression: $p{i}) {{ {FILE_FIELDS} }}" for i in range(count))
    return (f"query($owner: String!, $name: String!, $rev: String!{variables}) {{\n"
            f"  repository(owner: $owner, name: $name) {{\n"
            f"    id defaultBranchRef {{ name }}\n"
            f"    commit: object(expression: $rev) {{ ... on Commit {{ oid tree {{ oid }} }} }}\n"
            f"{objects}\n  }}\n}}")


async def read_base(gh: GitHub, owner: str, repo: str, paths: list[str], rev: str = "HEAD") -> BaseCommit:
    """The commit `rev` (the default branch's head by default) and the files at `paths` in it
    (missing ones left out): one query, so every file is read at the same commit."""
    variables = {"owner": owner, "name": repo, "rev": rev,
                 **{f"p{i}": f"{rev}:{path}" for i, path in enumerate(paths)}}
    found = (await gh.async_graphql(base_query(len(paths)), variables))["repository"]
    files = {}
    for i, path in enumerate(paths):
        blob = found.get(f"p{i}")
        if blob and blob.get("oid"):
            files[path] = BaseFile(path, blob["oid"], await _text(gh, owner, repo, blob), blob["byteSize"])
    commit = found["commit"]
    return BaseCommit(found["defaultBranchRef"]["name"], commit["oid"], commit["tree"]["oid"], files, found.get("id"))


async def _text(gh: GitHub, owner: str, repo: str, blob: dict) -> str | None:
    """The blob's text; GitHub cuts the text of a large blob, which is then read whole through REST."""
    if blob.get("isBinary"):
        return None
    if not blob.get("isTruncated"):
        return blob.get("text")
    raw = (await gh.rest.git.async_get_blob(owner, repo, blob["oid"])).json()
    data = base64.b64decode(raw["content"]) if raw.get("encoding") == "base64" else raw["content"].encode()
    return data.decode("utf-8", errors="replace")
