"""The sliver of GitHub's GraphQL API the bot uses: draft <-> ready for review.

Supports ``markPullRequestReadyForReview(input: {pullRequestId})`` and
``convertPullRequestToDraft(input: {pullRequestId})`` with a ``pullRequest { ... }`` selection
of the fields below; anything else is answered with a GraphQL error, in GitHub's shape.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from . import shapes
from .state import node_id

if TYPE_CHECKING:
    from .github import FakeGitHub, Reply

MUTATIONS = {"markPullRequestReadyForReview": False, "convertPullRequestToDraft": True}
PR_FIELDS = {
    "id": lambda repo, pr: node_id("PR", pr.id),
    "number": lambda repo, pr: pr.number,
    "isDraft": lambda repo, pr: pr.draft,
    "state": lambda repo, pr: "MERGED" if pr.merged else pr.state.upper(),
    "title": lambda repo, pr: pr.issue.title,
    "url": lambda repo, pr: f"{shapes.WEB}/{repo.full_name}/pull/{pr.number}",
}


def error(message: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "locations": [{"line": 1, "column": 1}], **extra}


def handle(fake: FakeGitHub, request: Request, body: Any) -> Reply:
    from .github import Reply

    token = fake.check_token(request.headers.get("authorization"))
    query = (body or {}).get("query", "") if isinstance(body, dict) else ""
    variables = (body or {}).get("variables") or {}
    match = re.search(r"\b(" + "|".join(MUTATIONS) + r")\s*\(", query)
    if not query.lstrip().startswith("mutation") or match is None:
        field = re.search(r"\{\s*(\w+)", query)
        name = field.group(1) if field else "?"
        return Reply(
            200,
            {
                "errors": [
                    error(
                        f"Field '{name}' doesn't exist on type 'Query'",
                        path=["query", name],
                        extensions={"code": "undefinedField", "typeName": "Query", "fieldName": name},
                    )
                ]
            },
        )
    mutation = match.group(1)
    pr_id = pull_request_id(query, variables)
    found = find_pull(fake, pr_id)
    if found is None:
        return Reply(
            200,
            {
                "data": {mutation: None},
                "errors": [
                    error(
                        f"Could not resolve to a node with the global id of '{pr_id}'",
                        type="NOT_FOUND",
                        path=[mutation],
                    )
                ],
            },
        )
    repo, pr = found
    inst = fake.installations.get(token.installation_id) if token.installation_id else None
    if inst is not None and repo.full_name.lower() not in inst.repositories:
        return Reply(
            200,
            {
                "data": {mutation: None},
                "errors": [error("Resource not accessible by integration", type="FORBIDDEN", path=[mutation])],
            },
        )
    fake.set_draft(repo, pr, MUTATIONS[mutation], fake.user(token.login))
    selection = re.search(r"pullRequest\s*\{([^}]*)\}", query)
    fields = re.findall(r"\w+", selection.group(1)) if selection else []
    unknown = [f for f in fields if f not in PR_FIELDS]
    if unknown:
        return Reply(
            200,
            {
                "errors": [
                    error(
                        f"Field '{unknown[0]}' doesn't exist on type 'PullRequest'",
                        extensions={"code": "undefinedField", "typeName": "PullRequest", "fieldName": unknown[0]},
                    )
                ]
            },
        )
    result: dict[str, Any] = {}
    if selection:
        result["pullRequest"] = {f: PR_FIELDS[f](repo, pr) for f in fields}
    if "clientMutationId" in query:
        result["clientMutationId"] = None
    return Reply(200, {"data": {mutation: result}})


def pull_request_id(query: str, variables: dict[str, Any]) -> str | None:
    literal = re.search(r'pullRequestId\s*:\s*"([^"]+)"', query)
    if literal:
        return literal.group(1)
    variable = re.search(r"pullRequestId\s*:\s*\$(\w+)", query)
    if variable:
        return variables.get(variable.group(1))
    inline = re.search(r"input\s*:\s*\$(\w+)", query)
    if inline and isinstance(variables.get(inline.group(1)), dict):
        return variables[inline.group(1)].get("pullRequestId")
    return None


def find_pull(fake: FakeGitHub, pr_node_id: str | None):
    for repo in fake.repos.values():
        for pr in repo.pulls.values():
            if node_id("PR", pr.id) == pr_node_id:
                return repo, pr
    return None
