"""GitHub's REST description (trimmed, see tests/fixtures/github-openapi) as a router and validator.

``Spec.match(method, path)`` finds the operation a request is for (or None: GitHub's 404);
``Operation.check_request(query, body)`` returns GitHub-style validation messages;
``Operation.check_response(status, body)`` lets the fake check its own answers against the
documented response schema.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema

SPEC_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "github-openapi" / "api.github.com.trimmed.json"

# Path parameters that may contain slashes on GitHub (refs, file paths, "base...head").
GREEDY_PARAMS = {"ref", "path", "basehead"}
TYPE_PATTERNS = {"integer": r"\d+"}


def openapi_to_jsonschema(schema: Any) -> Any:
    """Rewrite OpenAPI 3.0's ``nullable`` into JSON Schema (draft 4) terms."""
    if isinstance(schema, list):
        return [openapi_to_jsonschema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: openapi_to_jsonschema(s) for name, s in value.items()}
        elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            out[key] = openapi_to_jsonschema(value)
        elif key != "nullable":
            out[key] = value
    if schema.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def describe_error(error: jsonschema.ValidationError) -> str:
    """Say what is wrong the way GitHub's request validator says it."""
    location = "/".join(str(p) for p in list(error.relative_schema_path)[:-1])
    where = f"For '{location}', " if location else ""
    value = json.dumps(error.instance)
    if error.validator == "required":
        missing = re.match(r"'([^']+)' is a required property", error.message)
        return f'"{missing.group(1) if missing else error.message}" wasn\'t supplied.'
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        article = "an" if str(expected)[0] in "aeiou" else "a"
        return f"{where}{value} is not {article} {expected}."
    if error.validator == "enum":
        return f"{where}{value} is not a member of {json.dumps(error.validator_value)}."
    if error.validator in ("anyOf", "oneOf"):
        return f'{where}No subschema in "{error.validator}" matched.'
    if error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message)
        return f'{where}"{extra[0] if extra else error.message}" is not a permitted key.'
    return f"{where}{error.message}."


@dataclass
class Operation:
    method: str
    template: str
    raw: dict
    regex: re.Pattern = field(init=False)
    _response_validators: dict = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.regex = compile_template(self.template, self.path_param_types)

    @property
    def operation_id(self) -> str:
        return self.raw["operationId"]

    @property
    def documentation_url(self) -> str:
        return self.raw.get("documentation_url") or "https://docs.github.com/rest"

    @cached_property
    def path_param_types(self) -> dict[str, str]:
        return {
            p["name"]: p.get("schema", {}).get("type", "string")
            for p in self.raw.get("parameters", [])
            if p["in"] == "path"
        }

    @cached_property
    def literal_weight(self) -> int:
        return len(re.sub(r"\{[^}]+\}", "", self.template))

    @cached_property
    def body_validator(self) -> jsonschema.Draft4Validator | None:
        body = self.raw.get("requestBody")
        schema = body and body.get("content", {}).get("application/json", {}).get("schema")
        return jsonschema.Draft4Validator(openapi_to_jsonschema(schema)) if schema else None

    def response_validator(self, status: int) -> jsonschema.Draft4Validator | None:
        if status not in self._response_validators:
            schema = self.raw.get("responses", {}).get(str(status), {}).get("schema")
            validator = jsonschema.Draft4Validator(openapi_to_jsonschema(schema)) if schema else None
            self._response_validators[status] = validator
        return self._response_validators[status]

    def response_example(self, status: int | str, name: str | None = None) -> Any:
        examples = self.raw["responses"][str(status)].get("examples", {}).get("application/json", {})
        return copy.deepcopy(examples[name] if name else next(iter(examples.values())))

    def check_request(self, query: dict[str, str], body: Any, has_body: bool) -> list[str]:
        problems = [
            f'"{p["name"]}" wasn\'t supplied.'
            for p in self.raw.get("parameters", [])
            if p["in"] == "query" and p.get("required") and p["name"] not in query
        ]
        request_body = self.raw.get("requestBody")
        if request_body and self.body_validator is not None:
            if not has_body and not request_body.get("required"):
                return problems
            if not has_body:
                body = {}
            errors = sorted(self.body_validator.iter_errors(body), key=lambda e: list(e.path))
            problems += [describe_error(e) for e in errors]
        return problems

    def check_response(self, status: int, body: Any) -> list[str]:
        validator = self.response_validator(status)
        if validator is None:
            return []
        return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:300]}" for e in validator.iter_errors(body)]


def compile_template(template: str, types: dict[str, str]) -> re.Pattern:
    def param(match: re.Match) -> str:
        name = match.group(1)
        if name in GREEDY_PARAMS:
            return f"(?P<{name}>.+)"
        return f"(?P<{name}>{TYPE_PATTERNS.get(types.get(name, 'string'), '[^/]+')})"

    return re.compile(
        "^" + re.sub(r"\{([^}]+)\}", param, re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$"
    )


class Spec:
    def __init__(self, path: Path = SPEC_PATH) -> None:
        self.document = json.loads(path.read_text())
        self.source = self.document.get("x-source", "")
        operations = [
            Operation(method.upper(), template, raw)
            for template, methods in self.document["paths"].items()
            for method, raw in methods.items()
        ]
        # literal segments beat parameters: /issues/comments/{id} before /issues/{issue_number}
        self.operations = sorted(operations, key=lambda o: -o.literal_weight)
        self.by_id = {o.operation_id: o for o in operations}

    def match(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | None:
        """Match a percent-encoded path; parameter values come back decoded."""
        for op in self.operations:
            if op.method != method:
                continue
            m = op.regex.match(raw_path)
            if m:
                return op, {k: unquote(v) for k, v in m.groupdict().items()}
        return None

    def path_exists(self, raw_path: str) -> bool:
        return any(op.regex.match(raw_path) for op in self.operations)


@lru_cache(maxsize=1)
def load_spec() -> Spec:
    return Spec()
