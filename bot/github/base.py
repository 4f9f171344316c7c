"""The default branch's head and the files a session trusts, read in one GraphQL query: the
commit, its tree, and each file's blob (oid, size, text) — instead of a ref, a commit, a tree and
a blob per file through REST."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field

from githubkit import GitHub

from bot.github.labels import LABELS_FIELD

FILE_FIELDS = "... on Blob { oid byteSize isBinary isTruncated text }"
FOLDER_FIELDS = "... on Tree { oid }"
BRANCH_FIELD = "    branch: ref(qualifiedName: $branch) { target { oid ... on Commit { tree { oid } } } }\n"


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
    labels: list[dict] = field(default_factory=list)  # the state labels' {id, name} (bot/github/labels.py)
    branch: tuple[str, str] | None = None  # the branch asked about: its head and tree, when it exists
    folders: frozenset[str] = frozenset()  # the folders asked about that exist (as folders, not files)


def base_query(count: int, with_branch: bool, folders: int = 0) -> str:
    variables = ("".join(f", $p{i}: String!" for i in range(count)) + (", $branch: String!" if with_branch else "")
                 + "".join(f", $d{i}: String!" for i in range(folders)))
    objects = "\n".join([f"    p{i}: object(expression: $p{i}) {{ {FILE_FIELDS} }}" for i in range(count)]
                        + [f"    d{i}: object(expression: $d{i}) {{ {FOLDER_FIELDS} }}" for i in range(folders)])
    return (f"query($owner: String!, $name: String!, $rev: String!{variables}) {{\n"
            f"  repository(owner: $owner, name: $name) {{\n"
            f"    id defaultBranchRef {{ name }}\n"
            f"    {LABELS_FIELD}\n"
            + (BRANCH_FIELD if with_branch else "") +
            f"    commit: object(expression: $rev) {{ ... on Commit {{ oid tree {{ oid }} }} }}\n"
            f"{objects}\n  }}\n}}")


async def read_base(gh: GitHub, owner: str, repo: str, paths: list[str], rev: str = "HEAD",
                    branch: str | None = None, folders: Sequence[str] = ()) -> BaseCommit:
    """The commit `rev` (the default branch's head by default) and the files at `paths` in it
    (missing ones left out): one query, so every file is read at the same commit. Also whether
    `branch` exists, and where; and which of `folders` exist."""
    variables = {"owner": owner, "name": repo, "rev": rev, **({"branch": f"refs/heads/{branch}"} if branch else {}),
                 **{f"p{i}": f"{rev}:{path}" for i, path in enumerate(paths)},
                 **{f"d{i}": f"{rev}:{folder}" for i, folder in enumerate(folders)}}
    query = base_query(len(paths), branch is not None, len(folders))
    found = (await gh.async_graphql(query, variables))["repository"]
    files = {}
    for i, path in enumerate(paths):
        blob = found.get(f"p{i}")
        if blob and blob.get("oid"):
            files[path] = BaseFile(path, blob["oid"], await _text(gh, owner, repo, blob), blob["byteSize"])
    commit = found["commit"]
    head = (found.get("branch") or {}).get("target") or {}
    return BaseCommit(found["defaultBranchRef"]["name"], commit["oid"], commit["tree"]["oid"], files, found.get("id"),
                      found.get("stateLabels", {}).get("nodes") or [],
                      (head["oid"], head["tree"]["oid"]) if head.get("oid") else None,
                      frozenset(f for i, f in enumerate(folders) if (found.get(f"d{i}") or {}).get("oid")))


async def _text(gh: GitHub, owner: str, repo: str, blob: dict) -> str | None:
    """The blob's text; GitHub cuts the text of a large blob, which is then read whole through REST."""
    if blob.get("isBinary"):
        return None
    if not blob.get("isTruncated"):
        return blob.get("text")
    raw = (await gh.rest.git.async_get_blob(owner, repo, blob["oid"])).json()
    data = base64.b64decode(raw["content"]) if raw.get("encoding") == "base64" else raw["content"].encode()
    return data.decode("utf-8", errors="replace")
