"""Resolvers of the fake GitHub's GraphQL API over the fake's state (tests/fakes/graphql.py runs them).

Every object handed to graphql-core is an ``Obj``: its GraphQL type, its repository and the state
behind it (a state object, a sha, or a ref name). ``FIELDS[type][field]`` resolves one field with
``(obj, context, args)``. Connections, edges, page infos, rate limits and mutation payloads are
plain dicts (``DICT_TYPES``). ``implemented`` tells which fields exist here: a document selecting
any other field is refused before it runs, so the fake never answers with a silently wrong null.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLNamedType, is_abstract_type

from . import shapes
from .gitstore import TREE_MODE
from .graphql_schema import NOT_IMPLEMENTED, Plan, load_schema
from .state import PERMISSIONS, App, Issue, Repo, ReviewComment, Token, User

if TYPE_CHECKING:
    from .github import FakeGitHub

RATE_LIMIT = 5000
Resolver = Callable[["Obj", "Context", dict[str, Any]], Any]
FIELDS: dict[str, dict[str, Resolver]] = {}
DICT_TYPES: dict[str, set[str]] = {
    "PageInfo": {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"},
    "RateLimit": {"cost", "limit", "nodeCount", "remaining", "resetAt", "used"},
}
CONNECTION_FIELDS = {"totalCount", "nodes", "edges", "pageInfo"}
EDGE_FIELDS = {"cursor", "node"}
PAGING = {"first", "last", "after", "before"}
ARGUMENTS: dict[tuple[str, str], set[str]] = {}  # (type, field) -> arguments honoured besides PAGING


@dataclass(frozen=True)
class Obj:
    type: str
    repo: Repo | None
    value: Any


@dataclass(frozen=True)
class Missing:
    """A list item that could not be resolved (``nodes(ids:)``): its type resolution raises
    ``error``, which graphql-core turns into a null item with an error at the item's path."""

    error: GraphQLError


@dataclass
class Context:
    fake: FakeGitHub
    token: Token
    actor: User
    plan: Plan

    def allowed(self) -> set[str] | None:
        """Repositories (lower-case full names) the token is limited to; None: any."""
        if self.token.installation_id is None:
            return None
        if self.token.repositories is not None:
            return self.token.repositories
        return self.fake.installations[self.token.installation_id].repositories

    def can_read(self, repo: Repo) -> bool:
        allowed = self.allowed()
        if allowed is not None and repo.full_name.lower() not in allowed:
            return not repo.private
        return self.token.as_app or repo.role_of(self.actor.login) != "none"

    def check_write(self, repo: Repo, mutation: str, role: str = "write") -> None:
        """GitHub's FORBIDDEN for a mutation the token may not make in ``repo``."""
        allowed = self.allowed()
        if allowed is not None and repo.full_name.lower() not in allowed:
            raise github_error("FORBIDDEN", "Resource not accessible by integration")
        if not self.token.as_app and PERMISSIONS.index(repo.role_of(self.actor.login)) < PERMISSIONS.index(role):
            name = mutation[0].upper() + mutation[1:]
            message = f"{self.actor.login} does not have the correct permissions to execute `{name}`"
            raise github_error("FORBIDDEN", message)

    @property
    def via_app(self) -> App | None:
        """The app a change is made "via" (``performed_via_github_app``), as in REST."""
        return self.fake.gh_app if self.token.as_app else None


def github_error(kind: str, message: str) -> GraphQLError:
    """An error as GitHub words it; ``type`` is lifted to the top level of the error on output."""
    return GraphQLError(message, extensions={"type": kind})


def not_found(message: str) -> GraphQLError:
    return github_error("NOT_FOUND", message)


# -- the resolver protocol graphql-core calls ----------------------------------------------------
def resolve_field(source: Any, info, **args: Any) -> Any:
    if isinstance(source, dict):
        if info.field_name in source:
            return source[info.field_name]
    else:
        resolver = FIELDS.get(info.parent_type.name, {}).get(info.field_name)
        if resolver is not None:
            return resolver(source, info.context, args)
    raise github_error(NOT_IMPLEMENTED, f"The fake GitHub does not implement {info.parent_type.name}.{info.field_name}")


def resolve_type(value: Any, info, abstract_type) -> str:
    if isinstance(value, Missing):
        raise value.error
    return value.type


def implemented(parent: GraphQLNamedType, name: str) -> bool:
    """Whether the fake answers ``parent.name``; for an interface, on every type it may return."""
    if is_abstract_type(parent):
        possible = answered_types(parent)
        return bool(possible) and all(name in FIELDS[t] for t in possible)
    if parent.name in FIELDS:
        return name in FIELDS[parent.name]
    if parent.name.endswith("Connection"):
        return name in CONNECTION_FIELDS
    if parent.name.endswith("Edge"):
        return name in EDGE_FIELDS
    return name in DICT_TYPES.get(parent.name, ())


def honours(parent: GraphQLNamedType, name: str, argument: str) -> bool:
    """Whether the fake takes ``argument`` of ``parent.name`` into account (an argument it would
    ignore, e.g. an ``orderBy``, could change GitHub's answer)."""
    if argument in PAGING and "first" in parent.fields[name].args:
        return True
    types = answered_types(parent) if is_abstract_type(parent) else [parent.name]
    return all(argument in ARGUMENTS.get((t, name), ()) for t in types)


def answered_types(abstract: GraphQLNamedType) -> list[str]:
    roots = ("Query", "Mutation")  # GitHub's Query implements Node
    return [t.name for t in load_schema().get_possible_types(abstract) if t.name in FIELDS and t.name not in roots]


def fields(type_name: str, **resolvers: Resolver) -> None:
    FIELDS.setdefault(type_name, {}).update(resolvers)


def arguments(type_name: str, **honoured: tuple[str, ...]) -> None:
    for name, names in honoured.items():
        ARGUMENTS[(type_name, name)] = set(names)


def plain(read: Callable[[Any], Any]) -> Resolver:
    """A resolver that only needs the state object."""
    return lambda obj, ctx, args: read(obj.value)


# -- connections ----------------------------------------------------------------------------
def connection(items: list[Any], args: dict[str, Any], wrap: Callable[[Any], Any]) -> dict[str, Any]:
    start, end = page_window(len(items), args)
    nodes = [wrap(item) for item in items[start:end]]
    return {
        "totalCount": len(items),
        "nodes": nodes,
        "edges": [{"cursor": cursor(start + i), "node": node} for i, node in enumerate(nodes)],
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": cursor(start) if nodes else None,
            "endCursor": cursor(end - 1) if nodes else None,
        },
    }


def page_window(total: int, args: dict[str, Any]) -> tuple[int, int]:
    start, end = 0, total
    if args.get("after"):
        start = min(position(args["after"], "after") + 1, total)
    if args.get("before"):
        end = max(min(position(args["before"], "before"), total), start)
    if args.get("first") is not None:
        end = min(end, start + args["first"])
    if args.get("last") is not None:
        start = max(start, end - args["last"])
    return start, end


def cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def position(value: str, argument: str) -> int:
    try:
        prefix, _, index = base64.b64decode(value).decode().rpartition(":")
        if prefix == "cursor:v2" and index.isdigit():
            return int(index)
    except ValueError:
        pass
    raise github_error("INVALID_CURSOR_ARGUMENTS", f"`{argument}` does not appear to be a valid cursor.")


# -- object builders ------------------------------------------------------------------------
def actor(user: User | None) -> Obj | None:
    if user is None:
        return None
    return Obj({"Bot": "Bot", "Organization": "Organization"}.get(user.type, "User"), None, user)


def issue_or_pull(repo: Repo, issue: Issue) -> Obj:
    pr = repo.pulls.get(issue.number)
    return Obj("PullRequest", repo, pr) if pr is not None else Obj("Issue", repo, issue)


def commit(repo: Repo, sha: str | None) -> Obj | None:
    return Obj("Commit", repo, sha) if sha in repo.git.commits else None


def git_object(repo: Repo, sha: str, mode: str, path: str = "") -> Obj | None:
    if mode == TREE_MODE:
        return Obj("Tree", repo, (sha, path))
    return Obj("Blob", repo, sha) if sha in repo.git.blobs else None


def ref(repo: Repo, qualified: str) -> Obj | None:
    """A ref by full name, or by short name as a branch, then as a tag (GitHub's order)."""
    for name in (qualified, f"refs/heads/{qualified}", f"refs/tags/{qualified}"):
        if name.startswith("refs/") and name in repo.refs:
            return Obj("Ref", repo, name)
    return None


def thread(repo: Repo, root: ReviewComment) -> Obj:
    return Obj("PullRequestReviewThread", repo, root)


def file_sha(repo: Repo, commit_sha: str, path: str) -> str | None:
    entry = repo.git.lookup(repo.git.commits[commit_sha].tree, path) if commit_sha in repo.git.commits else None
    return entry.sha if entry else None


def outdated(repo: Repo, comment: ReviewComment) -> bool:
    """GitHub outdates a review comment when the pull request's head changes its file."""
    head = repo.pulls[comment.pull_number].head_sha
    return file_sha(repo, comment.commit_id, comment.path) != file_sha(repo, head, comment.path)


def issue_url(repo: Repo, number: int) -> str:
    return f"{shapes.WEB}/{repo.full_name}/{'pull' if number in repo.pulls else 'issues'}/{number}"


# -- nodes ------------------------------------------------------------------------------------
def find_node(ctx: Context, value: str) -> Obj | None:
    """The object with global id ``value`` in a repository the token can read (ids are compared
    with what the ``id`` resolvers produce, so lookup and output cannot disagree)."""
    prefix = value.split("_", 1)[0]
    for candidate in candidates(ctx.fake, prefix):
        if FIELDS[candidate.type]["id"](candidate, ctx, {}) == value:
            return candidate if candidate.repo is None or ctx.can_read(candidate.repo) else None
    return None


def candidates(fake: FakeGitHub, prefix: str) -> Iterable[Obj]:
    if prefix in ("U", "BOT", "O"):
        yield from (actor(u) for u in fake.users.values())
    for repo in fake.repos.values():
        if prefix == "R":
            yield Obj("Repository", repo, repo)
        elif prefix in ("I", "PR"):
            yield from (issue_or_pull(repo, issue) for issue in repo.issues.values())
        elif prefix == "IC":
            yield from (Obj("IssueComment", repo, c) for cs in repo.comments.values() for c in cs)
        elif prefix == "LA":
            yield from (Obj("Label", repo, label) for label in repo.labels.values())
        elif prefix == "PRR":
            yield from (Obj("PullRequestReview", repo, rv) for rvs in repo.reviews.values() for rv in rvs)
        elif prefix == "PRRC":
            yield from (Obj("PullRequestReviewComment", repo, c) for cs in repo.review_comments.values() for c in cs)
        elif prefix == "PRRT":
            yield from (thread(repo, c) for cs in repo.review_comments.values() for c in cs if not c.in_reply_to_id)
        elif prefix == "CR":
            yield from (Obj("CheckRun", repo, run) for run in repo.check_runs.values())


def node(ctx: Context, value: str) -> Obj:
    found = find_node(ctx, value)
    if found is None:
        raise not_found(f"Could not resolve to a node with the global id of '{value}'")
    return found


def nodes(ctx: Context, values: list[str]) -> list[Obj | Missing]:
    out: list[Obj | Missing] = []
    for value in values:
        found = find_node(ctx, value)
        out.append(found or Missing(not_found(f"Could not resolve to a node with the global id of '{value}'")))
    return out


# -- Query ------------------------------------------------------------------------------------
def repository(ctx: Context, owner: str, name: str) -> Obj:
    repo = ctx.fake.repos.get(f"{owner}/{name}".lower())
    if repo is None or not ctx.can_read(repo):
        raise not_found(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
    return Obj("Repository", repo, repo)


def rate_limit(ctx: Context) -> dict[str, Any]:
    used = ctx.fake.graphql_points
    return {
        "cost": ctx.plan.cost,
        "limit": RATE_LIMIT,
        "nodeCount": ctx.plan.nodes,
        "remaining": max(RATE_LIMIT - used, 0),
        "resetAt": shapes.ts(ctx.fake.clock.now() + timedelta(hours=1)),
        "used": used,
    }


arguments("Query", repository=("owner", "name", "followRenames"), node=("id",), nodes=("ids",))
fields(
    "Query",
    repository=lambda obj, ctx, args: repository(ctx, args["owner"], args["name"]),
    node=lambda obj, ctx, args: node(ctx, args["id"]),
    nodes=lambda obj, ctx, args: nodes(ctx, args["ids"]),
    rateLimit=lambda obj, ctx, args: rate_limit(ctx),
)
