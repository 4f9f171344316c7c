"""The GraphQL object types of repositories, git objects and actors, field by field (see
graphql_resolvers.py; issues, pull requests and reviews are in graphql_issues.py).

Values agree with the REST shapes (tests/fakes/shapes.py): the same ids, node ids and URLs.
Where GraphQL differs from REST, GitHub's GraphQL behaviour wins: a Bot's ``login`` has no
``[bot]`` suffix.
"""

from __future__ import annotations

import hashlib
from typing import Any

from . import shapes
from .graphql_resolvers import (
    Context,
    Obj,
    actor,
    arguments,
    commit,
    connection,
    fields,
    git_object,
    issue_or_pull,
    not_found,
    plain,
    ref,
)
from .state import Repo, User, node_id


def sha_node_id(prefix: str, sha: str) -> str:
    return node_id(prefix, int(sha[:7], 16))


# -- actors -----------------------------------------------------------------------------------
def login(user: User) -> str:
    return user.login.removesuffix("[bot]") if user.type == "Bot" else user.login


def actor_url(user: User) -> str:
    return f"{shapes.WEB}/apps/{login(user)}" if user.type == "Bot" else f"{shapes.WEB}/{user.login}"


ACTOR_FIELDS = {
    "id": plain(lambda u: u.node_id),
    "databaseId": plain(lambda u: u.id),
    "login": plain(login),
    "url": plain(actor_url),
    "resourcePath": plain(lambda u: actor_url(u).removeprefix(shapes.WEB)),
    "avatarUrl": plain(lambda u: f"https://avatars.githubusercontent.com/u/{u.id}?v=4"),
}
for type_name in ("User", "Bot", "Organization"):
    fields(type_name, **ACTOR_FIELDS)


# -- repository and git objects ----------------------------------------------------------------
def issue_by_number(repo: Repo, number: int) -> Obj:
    issue = repo.issues.get(number)
    if issue is None or number in repo.pulls:
        raise not_found(f"Could not resolve to an Issue with the number of {number}.")
    return Obj("Issue", repo, issue)


def pull_by_number(repo: Repo, number: int) -> Obj:
    if number not in repo.pulls:
        raise not_found(f"Could not resolve to a PullRequest with the number of {number}.")
    return Obj("PullRequest", repo, repo.pulls[number])


def issue_or_pull_by_number(repo: Repo, number: int) -> Obj:
    if number not in repo.issues:
        raise not_found(f"Could not resolve to an issue or pull request with the number of {number}.")
    return issue_or_pull(repo, repo.issues[number])


def revision(ctx: Context, repo: Repo, rev: str) -> str | None:
    if rev in ("", "HEAD"):
        return repo.branches.get(repo.default_branch)
    return ctx.fake.resolve(repo, rev)


def object_at(ctx: Context, repo: Repo, args: dict[str, Any]) -> Obj | None:
    """``object(oid:)`` or ``object(expression: "<rev>" | "<rev>:<path>")``; None when absent."""
    if args.get("oid"):
        sha = args["oid"]
        if sha in repo.git.trees:
            return Obj("Tree", repo, (sha, ""))
        return commit(repo, sha) or git_object(repo, sha, "100644")
    rev, colon, path = (args.get("expression") or "").partition(":")
    sha = revision(ctx, repo, rev)
    if sha is None or not colon:
        return commit(repo, sha)
    entry = repo.git.lookup(repo.git.commits[sha].tree, path.strip("/"))
    return git_object(repo, entry.sha, entry.mode, path.strip("/")) if entry else None


def labels_matching(repo: Repo, query: str | None) -> list:
    return [lb for lb in repo.labels.values() if not query or query.lower() in lb.name.lower()]


arguments(
    "Repository",
    ref=("qualifiedName",),
    object=("expression", "oid"),
    issue=("number",),
    pullRequest=("number",),
    issueOrPullRequest=("number",),
    label=("name",),
    labels=("query",),
)
fields(
    "Repository",
    id=plain(lambda r: r.node_id),
    databaseId=plain(lambda r: r.id),
    name=plain(lambda r: r.name),
    nameWithOwner=plain(lambda r: r.full_name),
    owner=plain(lambda r: actor(r.owner)),
    isPrivate=plain(lambda r: r.private),
    url=plain(lambda r: f"{shapes.WEB}/{r.full_name}"),
    defaultBranchRef=plain(lambda r: ref(r, f"refs/heads/{r.default_branch}")),
    ref=lambda obj, ctx, args: ref(obj.repo, args["qualifiedName"]),
    object=lambda obj, ctx, args: object_at(ctx, obj.repo, args),
    issue=lambda obj, ctx, args: issue_by_number(obj.repo, args["number"]),
    pullRequest=lambda obj, ctx, args: pull_by_number(obj.repo, args["number"]),
    issueOrPullRequest=lambda obj, ctx, args: issue_or_pull_by_number(obj.repo, args["number"]),
    label=lambda obj, ctx, args: next(
        (Obj("Label", obj.repo, lb) for lb in obj.repo.labels.values() if lb.name.lower() == args["name"].lower()),
        None,
    ),
    labels=lambda obj, ctx, args: connection(
        labels_matching(obj.repo, args.get("query")), args, lambda lb: Obj("Label", obj.repo, lb)
    ),
)


def ref_node_id(repo: Repo, name: str) -> str:
    return node_id("REF", int(hashlib.sha1(f"{repo.id}:{name}".encode()).hexdigest()[:7], 16))


def ref_prefix(name: str) -> str:
    return name[: name.index("/", len("refs/")) + 1]


fields(
    "Ref",
    id=lambda obj, ctx, args: ref_node_id(obj.repo, obj.value),
    name=plain(lambda name: name[len(ref_prefix(name)) :]),
    prefix=plain(ref_prefix),
    target=lambda obj, ctx, args: commit(obj.repo, obj.repo.refs[obj.value]),
    repository=lambda obj, ctx, args: Obj("Repository", obj.repo, obj.repo),
)


def git_actor(repo: Repo, signature) -> Obj:
    return Obj("GitActor", repo, signature)


fields(
    "GitActor",
    name=plain(lambda sig: sig.name),
    email=plain(lambda sig: sig.email),
    date=plain(lambda sig: shapes.ts(sig.date)),
    user=lambda obj, ctx, args: actor(ctx.fake.user_by_email(obj.value.email)),
)


def git_commit(obj: Obj):
    return obj.repo.git.commits[obj.value]


def parents_of(obj: Obj, args: dict[str, Any]) -> dict[str, Any]:
    return connection(list(git_commit(obj).parents), args, lambda sha: commit(obj.repo, sha))


def blob_at(repo: Repo, sha: str, path: str) -> str | None:
    entry = repo.git.flatten(repo.git.commits[sha].tree).get(path)
    return entry.sha if entry is not None else None


def history_of(repo: Repo, head: str, path: str | None) -> list[str]:
    """Commits reachable from ``head``, newest first; with ``path``, only those that changed it,
    following a merge's TREESAME parent as git's default history simplification does."""
    shas, sha, seen = [], head, set()
    while sha and sha not in seen:
        seen.add(sha)
        parents = repo.git.commits[sha].parents
        if path is None:
            shas.append(sha)
            sha = parents[0] if parents else None
            continue
        mine = blob_at(repo, sha, path)
        same = next((p for p in parents if blob_at(repo, p, path) == mine), None)
        if same is None:
            if mine is not None or parents:
                shas.append(sha)
            sha = parents[0] if parents else None
        else:
            sha = same
    return shas


arguments("Commit", history=("path",))
fields(
    "Commit",
    history=lambda obj, ctx, args: connection(history_of(obj.repo, obj.value, args.get("path")), args,
                                              lambda sha: commit(obj.repo, sha)),
    id=plain(lambda sha: sha_node_id("C", sha)),
    oid=plain(lambda sha: sha),
    abbreviatedOid=plain(lambda sha: sha[:7]),
    message=lambda obj, ctx, args: git_commit(obj).message,
    messageHeadline=lambda obj, ctx, args: git_commit(obj).message.split("\n", 1)[0],
    messageBody=lambda obj, ctx, args: git_commit(obj).message.partition("\n")[2].strip("\n"),
    tree=lambda obj, ctx, args: Obj("Tree", obj.repo, (git_commit(obj).tree, "")),
    url=lambda obj, ctx, args: f"{shapes.WEB}/{obj.repo.full_name}/commit/{obj.value}",
    committedDate=lambda obj, ctx, args: shapes.ts(git_commit(obj).committer.date),
    authoredDate=lambda obj, ctx, args: shapes.ts(git_commit(obj).author.date),
    author=lambda obj, ctx, args: git_actor(obj.repo, git_commit(obj).author),
    committer=lambda obj, ctx, args: git_actor(obj.repo, git_commit(obj).committer),
    parents=lambda obj, ctx, args: parents_of(obj, args),
    signature=lambda obj, ctx, args: Obj("GpgSignature", obj.repo, obj.value) if git_commit(obj).verified else None,
)
fields(
    "GpgSignature",
    isValid=plain(lambda sha: True),
    state=plain(lambda sha: "VALID"),
    wasSignedByGitHub=plain(lambda sha: True),
)


def tree_entries(obj: Obj) -> list[Obj]:
    sha, path = obj.value
    entries = obj.repo.git.trees[sha]
    return [Obj("TreeEntry", obj.repo, (entry, f"{path}/{entry.name}".lstrip("/"))) for entry in entries]


fields(
    "Tree",
    id=plain(lambda value: sha_node_id("T", value[0])),
    oid=plain(lambda value: value[0]),
    abbreviatedOid=plain(lambda value: value[0][:7]),
    entries=lambda obj, ctx, args: tree_entries(obj),
)
fields(
    "TreeEntry",
    name=plain(lambda value: value[0].name),
    path=plain(lambda value: value[1]),
    oid=plain(lambda value: value[0].sha),
    mode=plain(lambda value: int(value[0].mode, 8)),
    type=plain(lambda value: value[0].type),
    object=lambda obj, ctx, args: git_object(obj.repo, obj.value[0].sha, obj.value[0].mode, obj.value[1]),
)


def blob_text(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


fields(
    "Blob",
    id=plain(lambda sha: sha_node_id("B", sha)),
    oid=plain(lambda sha: sha),
    abbreviatedOid=plain(lambda sha: sha[:7]),
    byteSize=lambda obj, ctx, args: len(obj.repo.git.blobs[obj.value]),
    isBinary=lambda obj, ctx, args: blob_text(obj.repo.git.blobs[obj.value]) is None,
    isTruncated=plain(lambda sha: False),
    text=lambda obj, ctx, args: blob_text(obj.repo.git.blobs[obj.value]),
)
