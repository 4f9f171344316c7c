"""GitHub's GraphQL API (``POST /graphql``) in the fake GitHub, on graphql-core.

Every document is parsed and validated against GitHub's published schema
(tests/fixtures/github-graphql, built once per process); an invalid one is answered as GitHub
answers it (HTTP 200, ``{"errors": [{"message", "locations", "path", "extensions"}]}``, with
GitHub's wording for unknown fields and arguments) and never runs. Then come GitHub's own
checks (``first``/``last`` on every connection, at most 100) and the fake's: a field it does not
implement is an error naming the field, before anything runs. The call's rate-limit cost is
added to ``fake.graphql_points``; the request is in ``fake.calls`` like any REST call.

Implemented (graphql_objects.py, graphql_issues.py, graphql_checks.py and graphql_mutations.py
list every field):

- ``repository(owner:, name:)``: ``id databaseId name nameWithOwner owner isPrivate url
  defaultBranchRef ref(qualifiedName:) object(expression: "<rev>:<path>" | oid:) issue(number:)
  pullRequest(number:) issueOrPullRequest(number:) label(name:) labels(first:, query:)``
- ``Ref``: ``id name prefix target repository``; ``Commit``: ``id oid abbreviatedOid message
  messageHeadline messageBody tree url committedDate authoredDate author committer parents
  signature``; ``Tree``: ``id oid entries``; ``Blob``: ``id oid byteSize isBinary isTruncated text``
- ``Issue`` / ``PullRequest``: ``id databaseId number title body state createdAt updatedAt closed
  closedAt url author viewerDidAuthor labels comments repository``; PullRequest adds ``isDraft
  merged mergedAt mergeCommit headRefName headRefOid headRef baseRefName baseRefOid baseRef
  reviews(states:, author:) reviewThreads files`` (``files``: the changed files of base...head,
  ``path additions deletions changeType``); review threads and their comments, reviews, issue
  comments (all with ``viewerDidAuthor``: made by the token's actor), labels (``id name color
  description isDefault url``), reactions and actors (a Bot's ``login`` has no ``[bot]`` suffix,
  as on GitHub)
- ``CheckRun``: ``id databaseId name status conclusion startedAt completedAt detailsUrl externalId
  title summary text url permalink resourcePath repository`` (REST's values, enums in upper case)
- ``node(id:)`` / ``nodes(ids:)`` for repositories, issues, pull requests, issue comments,
  labels, reviews, review threads, review comments, check runs and users; ``rateLimit``
- mutations ``markPullRequestReadyForReview convertPullRequestToDraft updatePullRequest
  createPullRequest createLabel addLabelsToLabelable removeLabelsFromLabelable addComment
  updateIssueComment addReaction resolveReviewThread unresolveReviewThread createRef
  createCommitOnBranch createCheckRun updateCheckRun``. Each makes the checks of its REST
  counterpart, in GitHub's GraphQL words (``UNPROCESSABLE`` "Name has already been taken", "No
  commits between main and x", ...), before it changes anything, and changes the state through
  the FakeGitHub methods REST uses, so the same webhooks follow. Only a GitHub App writes check
  runs (a person's token is ``FORBIDDEN``), and only the app that made a run updates it.

A mutation document runs its fields in order; one that fails is ``null`` with an error at its
path (``["alias"]``) and GitHub's ``type``, and the others still run, as on GitHub.

Auth is the REST API's: a valid token (401 otherwise); a repository the token cannot see is
``NOT_FOUND`` ("Could not resolve to a Repository with the name 'o/r'."), a mutation it may not
make ``FORBIDDEN`` ("Resource not accessible by integration").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from graphql import (
    ArgumentNode,
    BREAK,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    Visitor,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
    visit,
)
from graphql.execution.values import get_variable_values
from starlette.requests import Request

# importing these registers their resolvers
from . import graphql_checks, graphql_issues, graphql_mutations, graphql_objects  # noqa: F401
from .graphql_resolvers import RATE_LIMIT, Context, honours, implemented, resolve_field, resolve_type
from .graphql_schema import load_schema, plan_operation

if TYPE_CHECKING:
    from .github import FakeGitHub, Reply

GITHUB_WORDING = [
    (
        re.compile(r"Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'\."),
        lambda m: (
            f"Field '{m['field']}' doesn't exist on type '{m['type']}'",
            {"code": "undefinedField", "typeName": m["type"], "fieldName": m["field"]},
        ),
    ),
    (
        re.compile(
            r"Argument '\w+\.(?P<field>\w+)\((?P<arg>\w+):\)' of type '[^']+' is required, but it was not provided\."
        ),
        lambda m: (
            f"Field '{m['field']}' is missing required arguments: {m['arg']}",
            {"code": "missingRequiredArguments", "className": "Field", "name": m["field"], "arguments": m["arg"]},
        ),
    ),
    (
        re.compile(r"Unknown argument '(?P<arg>\w+)' on field '\w+\.(?P<field>\w+)'\."),
        lambda m: (
            f"Field '{m['field']}' doesn't accept argument '{m['arg']}'",
            {"code": "argumentNotAccepted", "name": m["field"], "typeName": "Field", "argumentName": m["arg"]},
        ),
    ),
]


def handle(fake: FakeGitHub, request: Request, body: Any) -> Reply:
    token = fake.check_token(request.headers.get("authorization"))
    query = body.get("query") if isinstance(body, dict) else None
    if not isinstance(query, str):
        return answer(fake, {"errors": [{"message": "A query attribute must be specified and must be a string."}]})
    variables = body.get("variables") or {}
    operation_name = body.get("operationName")
    schema = load_schema()
    try:
        document = parse(query)
    except GraphQLError as e:
        return answer(fake, {"errors": [formatted(e)]})
    missing = fields_this_github_lacks(fake, document)
    if missing:
        return answer(fake, {"errors": missing})
    invalid = validate(schema, document)
    if invalid:
        return answer(fake, {"errors": [in_github_words(e, document) for e in invalid]})
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        message = f"Unknown operation named '{operation_name}'." if operation_name else "An operation name is required"
        return answer(fake, {"errors": [{"message": message}]})
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    if isinstance(coerced, list):
        return answer(fake, {"errors": [formatted(e) for e in coerced]})
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    plan = plan_operation(schema, operation, fragments, coerced, implemented, honours)
    if plan.errors:
        return answer(fake, {"errors": [formatted(e) for e in plan.errors]})
    fake.graphql_points += plan.cost
    context = Context(fake, token, fake.user(token.login), plan)
    result = execute_sync(
        schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        field_resolver=resolve_field,
        type_resolver=resolve_type,
    )
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [formatted(reraise_bugs(e)) for e in result.errors]
    return answer(fake, payload)


def answer(fake: FakeGitHub, payload: dict[str, Any]) -> Reply:
    from .github import Reply

    used = fake.graphql_points
    headers = {
        "x-ratelimit-resource": "graphql",
        "x-ratelimit-limit": str(RATE_LIMIT),
        "x-ratelimit-used": str(used),
        "x-ratelimit-remaining": str(max(RATE_LIMIT - used, 0)),
    }
    return Reply(200, payload, headers)


def reraise_bugs(error: GraphQLError) -> GraphQLError:
    """A resolver that crashes is a bug in the fake: raise it in the test, not as a GraphQL error."""
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        raise original
    return error


def formatted(error: GraphQLError) -> dict[str, Any]:
    """GitHub's error shape: ``type`` (NOT_FOUND, FORBIDDEN, ...) at the top level, not in extensions."""
    out = dict(error.formatted)
    extensions = dict(out.pop("extensions", None) or {})
    kind = extensions.pop("type", None)
    if kind is not None:
        out = {"type": kind, **out}
    if extensions:
        out["extensions"] = extensions
    return out


def fields_this_github_lacks(fake: FakeGitHub, document: DocumentNode) -> list[dict[str, Any]]:
    """Mutations in ``fake.graphql_missing`` are answered as a GitHub without them (an older
    GitHub Enterprise Server) answers: the document is invalid, nothing runs."""
    errors = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.operation.value == "mutation":
            for node in definition.selection_set.selections:
                if isinstance(node, FieldNode) and node.name.value in fake.graphql_missing:
                    errors.append({"message": f"Field '{node.name.value}' doesn't exist on type 'Mutation'",
                                   "path": document_path(document, node),
                                   "extensions": {"code": "undefinedField", "typeName": "Mutation",
                                                  "fieldName": node.name.value}})
    return errors


def in_github_words(error: GraphQLError, document: DocumentNode) -> dict[str, Any]:
    """A validation error as GitHub (graphql-ruby) words it, where the wording differs."""
    out = formatted(error)
    for pattern, words in GITHUB_WORDING:
        match = pattern.fullmatch(error.message.split(" Did you mean")[0])
        if match:
            out["message"], out["extensions"] = words(match)
            if error.nodes:
                out["path"] = document_path(document, error.nodes[0])
            break
    return out


def document_path(document: DocumentNode, target: Node) -> list[str]:
    """Where ``target`` sits in the document, as graphql-ruby names it:
    ``["query Name", "repository", "issue", "number"]``."""
    found: list[str] = []

    class Finder(Visitor):
        def enter(self, node, key, parent, path, ancestors):
            if node is target:
                found.extend(step for a in [*ancestors, node] if (step := path_step(a)) is not None)
                return BREAK
            return None

    visit(document, Finder())
    return found


def path_step(node: Any) -> str | None:
    if isinstance(node, OperationDefinitionNode):
        return f"{node.operation.value} {node.name.value}" if node.name else node.operation.value
    if isinstance(node, FragmentDefinitionNode):
        return f"fragment {node.name.value}"
    if isinstance(node, FieldNode):
        return node.alias.value if node.alias else node.name.value
    if isinstance(node, InlineFragmentNode):
        return f"... on {node.type_condition.name.value}" if node.type_condition else "..."
    if isinstance(node, ArgumentNode):
        return node.name.value
    return None
