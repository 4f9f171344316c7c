"""Several GraphQL mutations in one request, each answered on its own.

GitHub runs the fields of a mutation document one after the other; one that fails is `null` with
an error whose `path` names it, and the others still run. So a batch never hides an error: each
field's result or error is returned under its alias, and the caller decides what each means. An
error of the whole document (no path: a schema GitHub does not have, such as an older GitHub
Enterprise Server's) raises `BatchRejected`, so the caller can say the same through REST.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from githubkit import GitHub
from githubkit.exception import GraphQLFailed


@dataclass(frozen=True)
class FieldError:
    type: str | None  # GitHub's: NOT_FOUND, UNPROCESSABLE, FORBIDDEN, STALE_DATA …
    message: str

    def __str__(self) -> str:
        return f"{self.type or 'ERROR'}: {self.message}"


class BatchRejected(RuntimeError):
    """GitHub refused the document as a whole (nothing in it ran)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors)[:500])
        self.errors = errors


@dataclass(frozen=True)
class Mutation:
    alias: str
    name: str  # e.g. updateIssueComment; its input type is UpdateIssueCommentInput
    input: dict[str, Any]
    selection: str = "clientMutationId"


@dataclass
class Answers:
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, FieldError] = field(default_factory=dict)

    def get(self, alias: str) -> dict[str, Any] | None:
        """The field's payload; None when it failed (see `error`) or was not sent."""
        return self.data.get(alias)

    def error(self, alias: str) -> FieldError | None:
        return self.errors.get(alias)


def document(mutations: list[Mutation]) -> tuple[str, dict[str, Any]]:
    """The mutation document and its variables: one typed input variable per field."""
    declarations = ", ".join(f"${m.alias}: {m.name[0].upper()}{m.name[1:]}Input!" for m in mutations)
    fields = "\n".join(f"  {m.alias}: {m.name}(input: ${m.alias}) {{ {m.selection} }}" for m in mutations)
    return f"mutation({declarations}) {{\n{fields}\n}}", {m.alias: m.input for m in mutations}


async def send(gh: GitHub, mutations: list[Mutation]) -> Answers:
    """Run the mutations, in order, in one request."""
    if not mutations:
        return Answers()
    query, variables = document(mutations)
    try:
        return Answers(dict(await gh.async_graphql(query, variables) or {}))
    except GraphQLFailed as exc:
        return answers_of(exc, {m.alias for m in mutations})


def answers_of(exc: GraphQLFailed, aliases: set[str]) -> Answers:
    errors: dict[str, FieldError] = {}
    whole: list[FieldError] = []
    for error in exc.response.errors or []:
        found = FieldError(error.type, error.message)
        alias = error.path[0] if error.path else None
        if alias in aliases:
            errors.setdefault(str(alias), found)
        else:
            whole.append(found)
    if whole or exc.response.data is None:
        raise BatchRejected(whole or list(errors.values()))
    return Answers({k: v for k, v in exc.response.data.items() if v is not None}, errors)
