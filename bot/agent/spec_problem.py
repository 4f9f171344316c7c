"""`report_spec_problem`: the agent says the spec is wrong instead of bending it.

The tests and the design are locked (bot/core/spec.py). When the agent is sure they contradict
each other, or a test cannot pass with any correct implementation, it calls this tool: the run
ends at once, nothing it staged is committed, and the session stops in `needs_human` with one
comment quoting the test, the design passage and the explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bot.core.spec import REPORT_TOOL

MAX_FIELD_CHARS = 3_000
FIELDS = ("test", "design_excerpt", "explanation")

SPEC_PROBLEM_TOOL: dict[str, Any] = {
    "name": REPORT_TOOL,
    "description": (
        "Stop and hand the work to the maintainers because the specification itself is wrong: a test "
        "contradicts the design document, or no correct implementation can pass it. Use this instead of "
        "changing the tests or the design (they are locked) and instead of bending the implementation to pass "
        "a test that contradicts the design. Calling it ends your work; nothing you changed is committed."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "test": {"type": "string", "description": "The test that is wrong: its id or name, e.g. "
                                                      "tests/test_stack.py::test_pop_empty."},
            "design_excerpt": {"type": "string", "description": "The passage of the design document it "
                                                                "contradicts, quoted exactly."},
            "explanation": {"type": "string", "description": "Why the test and the design cannot both hold, "
                                                             "in a few sentences for the maintainers."},
        },
        "required": list(FIELDS),
    },
}


@dataclass(frozen=True)
class SpecProblem:
    test: str
    design_excerpt: str
    explanation: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def parse_report(tool_input: Mapping[str, Any]) -> SpecProblem | str:
    """The report, or what is wrong with the call (answered to the model as an error)."""
    values = {}
    for name in FIELDS:
        value = tool_input.get(name)
        if not isinstance(value, str) or not value.strip():
            return f"`{REPORT_TOOL}` needs `{name}`: a non-empty string"
        values[name] = value.strip()[:MAX_FIELD_CHARS]
    return SpecProblem(**values)
