"""GitHub's GraphQL schema (tests/fixtures/github-graphql) and what GitHub checks after a document
is valid and before it runs: pagination bounds and the rate-limit cost of the call.

The cost follows GitHub's "Rate limits and node limits for the GraphQL API": every connection
(a field returning a ``…Connection`` that takes ``first``/``last``) needs one request per parent
it is fetched for, i.e. the product of the ``first``/``last`` of the connections above it; the
requests are added up, divided by 100 and rounded; a call costs at least 1 point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_ast_schema,
    get_named_type,
    parse,
)
from graphql.execution.values import get_argument_values

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "github-graphql" / "schema.graphql"
MAX_PAGE = 100
NOT_IMPLEMENTED = "NOT_IMPLEMENTED_BY_FAKE"  # a valid document asking for what the fake does not model
Implemented = Callable[[GraphQLNamedType, str], bool]
Honours = Callable[[GraphQLNamedType, str, str], bool]


@lru_cache(maxsize=1)
def load_schema() -> GraphQLSchema:
    """Built once per process (about a second: the SDL is 1.2 MB). GitHub's published SDL defines
    two fields twice and deprecates some interface fields only in implementations, which strict
    SDL validation rejects; documents are validated in full all the same."""
    document = parse(SCHEMA_PATH.read_text(), no_location=True)
    return build_ast_schema(document, assume_valid=True, assume_valid_sdl=True)


@dataclass
class Plan:
    """The static facts about one operation: GitHub's request count and node count, and the
    errors that stop it before it runs."""

    requests: int = 0
    nodes: int = 0
    errors: list[GraphQLError] = field(default_factory=list)

    @property
    def cost(self) -> int:
        return max(1, math.floor(self.requests / 100 + 0.5))


def plan_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    implemented: Implemented,
    honours: Honours,
) -> Plan:
    """Walk the operation as GitHub does before running it. ``implemented(type, field)`` and
    ``honours(type, field, argument)`` say what the fake models; anything else is an error here,
    before anything runs."""
    plan = Plan()
    walker = _Walker(schema, fragments, variables, implemented, honours, plan)
    walker.walk(operation.selection_set, schema.get_root_type(operation.operation), 1, [])
    return plan


@dataclass
class _Walker:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    implemented: Implemented
    honours: Honours
    plan: Plan

    def walk(self, selection_set: SelectionSetNode, parent: GraphQLNamedType, multiplier: int, path: list) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent, multiplier, path)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                self.walk(selection.selection_set, target, multiplier, path)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                target = self.schema.get_type(fragment.type_condition.name.value)
                self.walk(fragment.selection_set, target, multiplier, path)

    def field(self, node: FieldNode, parent: GraphQLNamedType, multiplier: int, path: list) -> None:
        name = node.name.value
        if name.startswith("__"):
            return
        here = [*path, node.alias.value if node.alias else name]
        if not self.implemented(parent, name):
            self.error(NOT_IMPLEMENTED, f"The fake GitHub does not implement {parent.name}.{name}", node, here)
            return
        for argument in node.arguments or ():
            if not self.honours(parent, name, argument.name.value):
                message = f"The fake GitHub does not implement {parent.name}.{name}({argument.name.value}:)"
                self.error(NOT_IMPLEMENTED, message, node, here)
        definition: GraphQLField = parent.fields[name]
        if is_connection(definition):
            size = self.page_size(node, definition, here)
            self.plan.requests += multiplier
            self.plan.nodes += multiplier * size
            multiplier *= size
        if node.selection_set is not None:
            self.walk(node.selection_set, get_named_type(definition.type), multiplier, here)

    def page_size(self, node: FieldNode, definition: GraphQLField, path: list) -> int:
        args = get_argument_values(definition, node, self.variables)
        name = node.name.value
        for bound in ("first", "last"):
            if args.get(bound) is not None and args[bound] > MAX_PAGE:
                self.error(
                    "EXCESSIVE_PAGINATION",
                    f"Requesting {args[bound]} records on the `{name}` connection exceeds the "
                    f"`{bound}` limit of {MAX_PAGE} records.",
                    node,
                    path,
                )
        size = args.get("first") if args.get("first") is not None else args.get("last")
        if size is None and self.selects_items(node.selection_set):
            self.error(
                "MISSING_PAGINATION_BOUNDARIES",
                f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.",
                node,
                path,
            )
        return max(size or 1, 1)

    def selects_items(self, selection_set: SelectionSetNode | None) -> bool:
        """Whether a connection's selection reads ``nodes`` or ``edges`` (``totalCount`` alone
        needs no page size on GitHub)."""
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode) and selection.name.value in ("nodes", "edges"):
                return True
            if isinstance(selection, InlineFragmentNode) and self.selects_items(selection.selection_set):
                return True
            if isinstance(selection, FragmentSpreadNode):
                if self.selects_items(self.fragments[selection.name.value].selection_set):
                    return True
        return False

    def error(self, kind: str, message: str, node: FieldNode, path: list) -> None:
        self.plan.errors.append(GraphQLError(message, node, path=path, extensions={"type": kind}))


def is_connection(definition: GraphQLField) -> bool:
    return get_named_type(definition.type).name.endswith("Connection") and "first" in definition.args
