"""The GraphQL object types of issues, pull requests, comments, labels, reactions, reviews and
review threads, field by field (see graphql_resolvers.py).

Values agree with the REST shapes (tests/fakes/shapes.py): the same ids, node ids and URLs.
Where GraphQL differs from REST, GitHub's GraphQL behaviour wins: an outdated review comment
(its file changed since) has no ``line``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from . import shapes
from .gitstore import FileChange, unified_patch
from .graphql_objects import login
from .graphql_resolvers import (
    Context,
    Obj,
    Resolver,
    actor,
    arguments,
    commit,
    connection,
    fields,
    issue_url,
    outdated,
    plain,
    ref,
    thread,
)
from .state import Issue, PullRequest, Repo, ReviewComment, User, node_id

REACTIONS = {
    "+1": "THUMBS_UP",
    "-1": "THUMBS_DOWN",
    "laugh": "LAUGH",
    "hooray": "HOORAY",
    "confused": "CONFUSED",
    "heart": "HEART",
    "rocket": "ROCKET",
    "eyes": "EYES",
}


def the_issue(obj: Obj) -> Issue:
    return obj.value.issue if isinstance(obj.value, PullRequest) else obj.value


def comment_obj(repo: Repo):
    return lambda c: Obj("IssueComment", repo, c)


def viewer_did_author(author: Callable[[Obj], User]) -> Resolver:
    """``viewerDidAuthor``: whether the token's actor (the app's bot for an installation token)
    wrote it."""
    return lambda obj, ctx, args: author(obj).id == ctx.actor.id


def labels_of(obj: Obj, args: dict[str, Any]) -> dict[str, Any]:
    names = the_issue(obj).labels
    return connection([obj.repo.labels[n.lower()] for n in names], args, lambda lb: Obj("Label", obj.repo, lb))


ISSUE_LIKE = {
    "databaseId": plain(lambda x: x.id),
    "number": plain(lambda x: x.number),
    "title": lambda obj, ctx, args: the_issue(obj).title,
    "body": lambda obj, ctx, args: the_issue(obj).body or "",
    "createdAt": lambda obj, ctx, args: shapes.ts(the_issue(obj).created_at),
    "updatedAt": lambda obj, ctx, args: shapes.ts(the_issue(obj).updated_at),
    "closed": lambda obj, ctx, args: the_issue(obj).state == "closed",
    "closedAt": lambda obj, ctx, args: shapes.ts(the_issue(obj).closed_at),
    "url": lambda obj, ctx, args: issue_url(obj.repo, obj.value.number),
    "author": lambda obj, ctx, args: actor(the_issue(obj).user),
    "labels": lambda obj, ctx, args: labels_of(obj, args),
    "comments": lambda obj, ctx, args: connection(
        obj.repo.comments.get(obj.value.number, []), args, comment_obj(obj.repo)
    ),
    "repository": lambda obj, ctx, args: Obj("Repository", obj.repo, obj.repo),
    "viewerDidAuthor": viewer_did_author(lambda obj: the_issue(obj).user),
}
fields(
    "Issue",
    **ISSUE_LIKE,
    id=plain(lambda i: node_id("I", i.id)),
    state=plain(lambda i: i.state.upper()),
    stateReason=plain(lambda i: i.state_reason.upper() if i.state_reason else None),
)


def pull_state(pr: PullRequest) -> str:
    return "MERGED" if pr.merged else pr.state.upper()


def base_oid(repo: Repo, pr: PullRequest) -> str | None:
    return repo.branches.get(pr.base_ref) or pr.base_sha_when_closed


def review_states(obj: Obj, args: dict[str, Any]) -> list:
    reviews = obj.repo.reviews.get(obj.value.number, [])
    states, author = args.get("states"), args.get("author")
    return [
        rv
        for rv in reviews
        if (not states or rv.state in states) and (not author or login(rv.user).lower() == author.lower())
    ]


PATCH_STATUS = {"added": "ADDED", "removed": "DELETED", "modified": "MODIFIED"}


def changed_files(obj: Obj, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """The files of base...head (from the merge base, as REST ``pulls/list-files`` and the
    pull request's ``changed_files`` count them)."""
    repo, pr = obj.repo, obj.value
    base = base_oid(repo, pr) or pr.head_sha
    merge_base = repo.git.merge_base(base, pr.head_sha) or base
    return connection(ctx.fake.diff(repo, merge_base, pr.head_sha), args, lambda c: changed_file(repo, c))


def changed_file(repo: Repo, change: FileChange) -> Obj:
    old, new = (repo.git.blobs[e.sha] if e else b"" for e in (change.old, change.new))
    _, additions, deletions = unified_patch(old, new)
    return Obj("PullRequestChangedFile", repo, (change, additions, deletions))


fields(
    "PullRequestChangedFile",
    path=plain(lambda f: f[0].path),
    additions=plain(lambda f: f[1]),
    deletions=plain(lambda f: f[2]),
    changeType=plain(lambda f: PATCH_STATUS[f[0].status]),
)
arguments("PullRequest", reviews=("states", "author"))
fields(
    "PullRequest",
    **ISSUE_LIKE,
    id=plain(lambda pr: node_id("PR", pr.id)),
    state=plain(pull_state),
    isDraft=plain(lambda pr: pr.draft),
    merged=plain(lambda pr: pr.merged),
    mergedAt=plain(lambda pr: shapes.ts(pr.merged_at)),
    mergeCommit=lambda obj, ctx, args: commit(obj.repo, obj.value.merge_commit_sha),
    headRefName=plain(lambda pr: pr.head_ref),
    headRefOid=plain(lambda pr: pr.head_sha),
    headRef=lambda obj, ctx, args: ref(obj.repo, f"refs/heads/{obj.value.head_ref}"),
    baseRefName=plain(lambda pr: pr.base_ref),
    baseRefOid=lambda obj, ctx, args: base_oid(obj.repo, obj.value),
    baseRef=lambda obj, ctx, args: ref(obj.repo, f"refs/heads/{obj.value.base_ref}"),
    reviews=lambda obj, ctx, args: connection(
        review_states(obj, args), args, lambda rv: Obj("PullRequestReview", obj.repo, rv)
    ),
    reviewThreads=lambda obj, ctx, args: connection(
        [t[0] for t in obj.repo.review_threads(obj.value.number)], args, lambda root: thread(obj.repo, root)
    ),
    files=changed_files,
)


def comment_url(repo: Repo, c) -> str:
    return f"{issue_url(repo, c.issue_number)}#issuecomment-{c.id}"


fields(
    "IssueComment",
    id=plain(lambda c: node_id("IC", c.id)),
    databaseId=plain(lambda c: c.id),
    body=plain(lambda c: c.body),
    createdAt=plain(lambda c: shapes.ts(c.created_at)),
    updatedAt=plain(lambda c: shapes.ts(c.updated_at)),
    url=lambda obj, ctx, args: comment_url(obj.repo, obj.value),
    author=plain(lambda c: actor(c.user)),
    viewerDidAuthor=viewer_did_author(lambda obj: obj.value.user),
)
fields(
    "Label",
    id=plain(lambda lb: node_id("LA", lb.id)),
    name=plain(lambda lb: lb.name),
    color=plain(lambda lb: lb.color),
    description=plain(lambda lb: lb.description),
    isDefault=plain(lambda lb: lb.default),
    url=lambda obj, ctx, args: f"{shapes.WEB}/{obj.repo.full_name}/labels/{quote(obj.value.name)}",
)
fields(
    "Reaction",
    id=plain(lambda x: node_id("REA", x.id)),
    databaseId=plain(lambda x: x.id),
    content=plain(lambda x: REACTIONS[x.content]),
    createdAt=plain(lambda x: shapes.ts(x.created_at)),
    user=plain(lambda x: actor(x.user)),
)


# -- reviews, review threads, review comments -------------------------------------------------
fields(
    "PullRequestReview",
    id=plain(lambda rv: node_id("PRR", rv.id)),
    databaseId=plain(lambda rv: rv.id),
    state=plain(lambda rv: rv.state),
    body=plain(lambda rv: rv.body),
    submittedAt=plain(lambda rv: shapes.ts(rv.submitted_at)),
    createdAt=plain(lambda rv: shapes.ts(rv.submitted_at)),
    author=plain(lambda rv: actor(rv.user)),
    viewerDidAuthor=viewer_did_author(lambda obj: obj.value.user),
    commit=lambda obj, ctx, args: commit(obj.repo, obj.value.commit_id),
    url=lambda obj, ctx, args: f"{issue_url(obj.repo, obj.value.pull_number)}#pullrequestreview-{obj.value.id}",
)


def thread_comments(obj: Obj, args: dict[str, Any]) -> dict[str, Any]:
    root: ReviewComment = obj.value
    comments = [root, *(c for c in obj.repo.review_comments[root.pull_number] if c.in_reply_to_id == root.id)]
    return connection(
        comments[args.get("skip") or 0 :], args, lambda c: Obj("PullRequestReviewComment", obj.repo, c)
    )


arguments("PullRequestReviewThread", comments=("skip",))
fields(
    "PullRequestReviewThread",
    id=plain(lambda root: node_id("PRRT", root.id)),
    isResolved=plain(lambda root: root.resolved),
    resolvedBy=plain(lambda root: actor(root.resolved_by)),
    isOutdated=lambda obj, ctx, args: outdated(obj.repo, obj.value),
    isCollapsed=plain(lambda root: root.resolved),
    path=plain(lambda root: root.path),
    line=lambda obj, ctx, args: None if outdated(obj.repo, obj.value) else obj.value.line,
    originalLine=plain(lambda root: root.line),
    diffSide=plain(lambda root: root.side),
    comments=lambda obj, ctx, args: thread_comments(obj, args),
    pullRequest=lambda obj, ctx, args: Obj("PullRequest", obj.repo, obj.repo.pulls[obj.value.pull_number]),
    repository=lambda obj, ctx, args: Obj("Repository", obj.repo, obj.repo),
)


def review_of(obj: Obj) -> Obj:
    reviews = obj.repo.reviews.get(obj.value.pull_number, [])
    return next(Obj("PullRequestReview", obj.repo, rv) for rv in reviews if rv.id == obj.value.review_id)


fields(
    "PullRequestReviewComment",
    id=plain(lambda c: node_id("PRRC", c.id)),
    databaseId=plain(lambda c: c.id),
    body=plain(lambda c: c.body),
    createdAt=plain(lambda c: shapes.ts(c.created_at)),
    updatedAt=plain(lambda c: shapes.ts(c.updated_at)),
    url=lambda obj, ctx, args: f"{issue_url(obj.repo, obj.value.pull_number)}#discussion_r{obj.value.id}",
    diffHunk=plain(lambda c: c.diff_hunk),
    path=plain(lambda c: c.path),
    line=lambda obj, ctx, args: None if outdated(obj.repo, obj.value) else obj.value.line,
    originalLine=plain(lambda c: c.line),
    outdated=lambda obj, ctx, args: outdated(obj.repo, obj.value),
    author=plain(lambda c: actor(c.user)),
    viewerDidAuthor=viewer_did_author(lambda obj: obj.value.user),
    replyTo=lambda obj, ctx, args: (
        Obj("PullRequestReviewComment", obj.repo, obj.repo.find_review_comment(obj.value.in_reply_to_id))
        if obj.value.in_reply_to_id
        else None
    ),
    commit=lambda obj, ctx, args: commit(obj.repo, obj.value.commit_id),
    originalCommit=lambda obj, ctx, args: commit(obj.repo, obj.value.commit_id),
    pullRequestReview=lambda obj, ctx, args: review_of(obj),
    pullRequest=lambda obj, ctx, args: Obj("PullRequest", obj.repo, obj.repo.pulls[obj.value.pull_number]),
)
