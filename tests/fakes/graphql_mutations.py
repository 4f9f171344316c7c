"""The GraphQL mutations the fake GitHub answers (see graphql_resolvers.py for the protocol).

Each changes the state through the same FakeGitHub methods the REST handlers use, so the
webhooks, Actions runs and everything else that hangs off a change happen identically.
Everything is checked before anything changes: an error leaves the state as it was.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from . import graphql_issues, rest
from .graphql_resolvers import (
    ARGUMENTS,
    DICT_TYPES,
    FIELDS,
    Context,
    Obj,
    cursor,
    find_node,
    github_error,
    not_found,
    thread,
)
from .graphql_schema import NOT_IMPLEMENTED
from .state import Repo

REACTION_CONTENTS = {graphql: rest for rest, graphql in graphql_issues.REACTIONS.items()}
Mutation = Callable[[Context, dict[str, Any]], dict[str, Any]]


def mutation(name: str, inputs: tuple[str, ...], *payload_fields: str) -> Callable[[Mutation], Mutation]:
    """Register ``name``, reading the input fields ``inputs``; its payload holds ``payload_fields``
    (and ``clientMutationId``). Another input field the client sends is one the fake does not
    model: an error, raised before anything changes."""

    def register(fn: Mutation) -> Mutation:
        def resolve(obj: Any, ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
            data = args["input"]
            unsupported = sorted(set(data) - set(inputs) - {"clientMutationId"})
            if unsupported:
                raise github_error(
                    NOT_IMPLEMENTED, f"The fake GitHub does not implement {name}(input: {{{unsupported[0]}}})"
                )
            injected = ctx.fake.take_field_error(name)
            if injected is not None:
                raise github_error(*injected)
            return {**fn(ctx, data), "clientMutationId": data.get("clientMutationId")}

        FIELDS.setdefault("Mutation", {})[name] = resolve
        ARGUMENTS[("Mutation", name)] = {"input"}
        DICT_TYPES[name[0].upper() + name[1:] + "Payload"] = {*payload_fields, "clientMutationId"}
        return fn

    return register


def target(ctx: Context, value: str, types: tuple[str, ...], mutation_name: str, role: str = "write") -> Obj:
    """The node a mutation acts on, after GitHub's NOT_FOUND and FORBIDDEN checks."""
    found = find_node(ctx, value)
    if found is None:
        raise not_found(f"Could not resolve to a node with the global id of '{value}'")
    if found.type not in types:
        raise not_found(f"Could not resolve to {types[0]} node with the global id of '{value}'")
    ctx.check_write(found.repo, mutation_name, role)
    return found


def repository_target(ctx: Context, value: str, mutation_name: str, role: str = "write") -> Repo:
    """The repository of a mutation's ``repositoryId``, after GitHub's NOT_FOUND and FORBIDDEN checks."""
    return target(ctx, value, ("Repository",), mutation_name, role).repo


# -- pull requests ----------------------------------------------------------------------------
def set_draft(ctx: Context, data: dict[str, Any], draft: bool, name: str) -> dict[str, Any]:
    pr = target(ctx, data["pullRequestId"], ("PullRequest",), name)
    ctx.fake.set_draft(pr.repo, pr.value, draft, ctx.actor)
    return {"pullRequest": pr}


@mutation("markPullRequestReadyForReview", ("pullRequestId",), "pullRequest")
def mark_ready_for_review(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return set_draft(ctx, data, False, "markPullRequestReadyForReview")


@mutation("convertPullRequestToDraft", ("pullRequestId",), "pullRequest")
def convert_to_draft(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return set_draft(ctx, data, True, "convertPullRequestToDraft")


@mutation("updatePullRequest", ("pullRequestId", "title", "body"), "pullRequest")
def update_pull_request(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    pr = target(ctx, data["pullRequestId"], ("PullRequest",), "updatePullRequest")
    ctx.fake.edit_issue_text(pr.value.issue, {k: v for k, v in data.items() if k in ("title", "body")})
    return {"pullRequest": pr}


def pull_request_problems(repo: Repo, head: str, base: str, title: str) -> list[str]:
    """GitHub's reasons (in its order) not to open a pull request from ``head`` into ``base``."""
    head_sha, base_sha = repo.branches.get(head), repo.branches.get(base)
    if head_sha is None or base_sha is None:
        return [
            *(["Head sha can't be blank"] if head_sha is None else []),
            "Base sha can't be blank",
            f"No commits between {base} and {head}",
            *(["Head ref must be a branch"] if head_sha is None else []),
            *(["Base ref must be a branch"] if base_sha is None else []),
        ]
    if not title.strip():
        return ["Title can't be blank"]
    for pr in repo.pulls.values():
        if pr.head_ref == head and pr.base_ref == base and pr.state == "open":
            return [f"A pull request already exists for {repo.owner.login}:{head}."]
    if not repo.git.commits_between(base_sha, head_sha):
        return [f"No commits between {base} and {head}"]
    return []


@mutation(
    "createPullRequest",
    ("repositoryId", "baseRefName", "headRefName", "title", "body", "draft", "maintainerCanModify"),
    "pullRequest",
)
def create_pull_request(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """REST ``pulls/create``'s checks, in GitHub's GraphQL words (an unknown branch is not NOT_FOUND
    but UNPROCESSABLE, with every reason joined, as GitHub answers ``gh pr create``)."""
    repo = repository_target(ctx, data["repositoryId"], "createPullRequest")
    owner, colon, head = data["headRefName"].rpartition(":")
    if colon and owner.lower() != repo.owner.login.lower():
        raise github_error(NOT_IMPLEMENTED, "The fake GitHub does not model pull requests from forks")
    base = data["baseRefName"]
    problems = pull_request_problems(repo, head, base, data["title"])
    if problems:
        raise github_error("UNPROCESSABLE", ", ".join(problems))
    pr = ctx.fake.create_pull(
        repo,
        head,
        base,
        data["title"],
        data.get("body"),
        bool(data.get("draft")),
        ctx.actor,
        bool(data.get("maintainerCanModify")),
        ctx.via_app,
    )
    return {"pullRequest": Obj("PullRequest", repo, pr)}


# -- labels ------------------------------------------------------------------------------------
@mutation("createLabel", ("repositoryId", "name", "color", "description"), "label")
def create_label(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """REST ``issues/create-label``'s checks. GitHub sends no webhook the app subscribes to (a
    ``label`` event is not among APP_EVENTS), so none is queued, as for REST."""
    repo = repository_target(ctx, data["repositoryId"], "createLabel")
    color = data["color"].lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
        raise github_error("UNPROCESSABLE", "Color is invalid")
    if data["name"].lower() in repo.labels:
        raise github_error("UNPROCESSABLE", "Name has already been taken")
    label = ctx.fake.ensure_label(repo, data["name"], color.lower(), data.get("description"))
    return {"label": Obj("Label", repo, label)}


def labels_by_id(ctx: Context, subject: Obj, ids: list[str]) -> list[str]:
    names = []
    for value in ids:
        label = find_node(ctx, value)
        if label is None or label.type != "Label" or label.repo is not subject.repo:
            raise not_found(f"Could not resolve to a node with the global id of '{value}'")
        names.append(label.value.name)
    return names


@mutation("addLabelsToLabelable", ("labelableId", "labelIds"), "labelable")
def add_labels(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    subject = target(ctx, data["labelableId"], ("Issue", "PullRequest"), "addLabelsToLabelable")
    names = labels_by_id(ctx, subject, data["labelIds"])
    ctx.fake.add_labels(subject.repo, graphql_issues.the_issue(subject), names, ctx.actor)
    return {"labelable": subject}


@mutation("removeLabelsFromLabelable", ("labelableId", "labelIds"), "labelable")
def remove_labels(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    subject = target(ctx, data["labelableId"], ("Issue", "PullRequest"), "removeLabelsFromLabelable")
    issue = graphql_issues.the_issue(subject)
    for name in labels_by_id(ctx, subject, data["labelIds"]):
        if name.lower() in (n.lower() for n in issue.labels):
            ctx.fake.remove_label(subject.repo, issue, name, ctx.actor)
    return {"labelable": subject}


# -- comments and reactions ---------------------------------------------------------------------
@mutation("addComment", ("subjectId", "body"), "commentEdge", "subject")
def add_comment(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    subject = target(ctx, data["subjectId"], ("Issue", "PullRequest"), "addComment", role="read")
    issue = graphql_issues.the_issue(subject)
    if issue.locked:
        raise github_error("UNPROCESSABLE", "Unable to create comment because issue is locked.")
    comment = ctx.fake.create_comment(subject.repo, issue.number, data["body"], ctx.actor, ctx.via_app)
    edge = {"cursor": comment_cursor(subject, comment), "node": Obj("IssueComment", subject.repo, comment)}
    return {"commentEdge": edge, "subject": subject}


def comment_cursor(subject: Obj, comment) -> str:
    return cursor(subject.repo.comments[comment.issue_number].index(comment))


@mutation("updateIssueComment", ("id", "body"), "issueComment")
def update_issue_comment(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    found = find_node(ctx, data["id"])
    own = found is not None and found.type == "IssueComment" and found.value.user.login == ctx.actor.login
    comment = target(ctx, data["id"], ("IssueComment",), "updateIssueComment", role="read" if own else "write")
    ctx.fake.edit_comment(comment.repo, comment.value, data["body"], ctx.actor)
    return {"issueComment": comment}


REACTION_SUBJECTS = {
    "Issue": lambda obj: ("issue", obj.value.number),
    "PullRequest": lambda obj: ("issue", obj.value.number),
    "IssueComment": lambda obj: ("issue_comment", obj.value.id),
    "PullRequestReviewComment": lambda obj: ("pull_request_review_comment", obj.value.id),
}


@mutation("addReaction", ("subjectId", "content"), "reaction", "subject")
def add_reaction(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    subject = target(ctx, data["subjectId"], tuple(REACTION_SUBJECTS), "addReaction", role="read")
    content = REACTION_CONTENTS[data["content"]]
    reaction, _ = ctx.fake.add_reaction(subject.repo, REACTION_SUBJECTS[subject.type](subject), ctx.actor, content)
    return {"reaction": Obj("Reaction", subject.repo, reaction), "subject": subject}


# -- review threads ------------------------------------------------------------------------------
def set_resolved(ctx: Context, data: dict[str, Any], resolved: bool, name: str) -> dict[str, Any]:
    found = target(ctx, data["threadId"], ("PullRequestReviewThread",), name)
    ctx.fake.set_thread_resolved(found.value, resolved, ctx.actor)
    return {"thread": thread(found.repo, found.value)}


@mutation("resolveReviewThread", ("threadId",), "thread")
def resolve_review_thread(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return set_resolved(ctx, data, True, "resolveReviewThread")


@mutation("unresolveReviewThread", ("threadId",), "thread")
def unresolve_review_thread(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return set_resolved(ctx, data, False, "unresolveReviewThread")


# -- refs and commits ----------------------------------------------------------------------------
@mutation("createRef", ("repositoryId", "name", "oid"), "ref")
def create_ref(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """REST ``git/create-ref``: the ref moves through ``set_ref``, so ``push`` (and any Actions
    run) follows as it does for REST."""
    repo = repository_target(ctx, data["repositoryId"], "createRef")
    name, oid = data["name"], data["oid"]
    if not rest.valid_ref_name(name):
        raise github_error("UNPROCESSABLE", f"{name} is not a valid ref name.")
    if name in repo.refs:
        raise github_error("UNPROCESSABLE", f'A ref named "{name}" already exists in the repository.')
    if oid not in repo.git.commits:
        raise github_error("UNPROCESSABLE", "Object does not exist")
    ctx.fake.set_ref(repo, name, oid, ctx.actor)
    return {"ref": Obj("Ref", repo, name)}


@mutation("createCommitOnBranch", ("branch", "message", "expectedHeadOid", "fileChanges"), "commit", "ref")
def create_commit_on_branch(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    branch = data["branch"]
    if "repositoryNameWithOwner" not in branch or "branchName" not in branch:
        raise github_error(NOT_IMPLEMENTED, "The fake GitHub needs branch.repositoryNameWithOwner and branchName")
    full_name, name = branch["repositoryNameWithOwner"], branch["branchName"]
    repo = ctx.fake.repos.get(full_name.lower())
    if repo is None or not ctx.can_read(repo):
        raise not_found(f"Could not resolve to a Repository with the name '{full_name}'.")
    ctx.check_write(repo, "createCommitOnBranch")
    head = repo.refs.get(f"refs/heads/{name}")
    if head is None:
        raise not_found(f"Could not resolve to a Ref with the name 'refs/heads/{name}'.")
    if data["expectedHeadOid"] != head:
        raise github_error(
            "STALE_DATA", f'Expected branch to point to "{data["expectedHeadOid"]}" but it did not. Pull and try again.'
        )
    files = file_changes(repo, head, data["fileChanges"])
    try:
        sha = ctx.fake.commit_on_branch(repo, name, files, commit_message(data["message"]), ctx.actor)
    except ValueError as e:  # a file where the changes need a directory
        raise github_error("UNPROCESSABLE", str(e)) from None
    return {"commit": Obj("Commit", repo, sha), "ref": Obj("Ref", repo, f"refs/heads/{name}")}


def commit_message(message: dict[str, Any]) -> str:
    body = message.get("body")
    return f"{message['headline']}\n\n{body}" if body else message["headline"]


def file_changes(repo: Repo, head: str, changes: dict[str, Any]) -> dict[str, bytes | None]:
    """``{path: content | None}`` from GitHub's FileChanges (deletions first, additions win)."""
    present = repo.git.flatten(repo.git.commits[head].tree)
    files: dict[str, bytes | None] = {}
    for deletion in changes.get("deletions") or []:
        if deletion["path"] not in present:
            raise github_error(
                "UNPROCESSABLE", f"A path was requested for deletion which does not exist as of commit oid `{head}`"
            )
        files[deletion["path"]] = None
    for addition in changes.get("additions") or []:
        if any(part in ("", ".", "..", ".git") for part in addition["path"].split("/")):
            raise github_error("UNPROCESSABLE", f"{addition['path']} is not a valid path.")
        try:
            files[addition["path"]] = base64.b64decode(addition["contents"], validate=True)
        except (binascii.Error, ValueError):
            raise github_error("UNPROCESSABLE", f"The contents of {addition['path']} are not valid base64.") from None
    return files
