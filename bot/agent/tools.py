"""The agent's tools, executed against the branch workspace: Anthropic's text editor tool
(view, create, str_replace, insert), a read-only `search` over the branch's files, and the two
structured reports: `report_spec_problem` and `report_traceability`.

Every problem goes back to the model as an error result it can act on (a missing file, a
refused path, an ambiguous replacement, a file that is not UTF-8 text); nothing here raises for
the model's mistakes. Edits are only staged in the workspace: the step commits them, or
discards them when the agent stops.

Everything the model controls is bounded: output is capped per line and per result, and its
search patterns run on RE2 (linear time) in a worker thread with a deadline, so no pattern can
stall the event loop that serves webhooks and every other session.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.agent import AgentTask
from bot.agent.editor import EDITOR_NAME, EDITOR_TOOL, Editor
from bot.agent.outcome import ToolOutcome, error
from bot.agent.search import SEARCH_NAME, SEARCH_TOOL, Search
from bot.agent.spec_problem import SPEC_PROBLEM_TOOL, SpecProblem, parse_report
from bot.agent.traceability import TRACEABILITY_NAME, TRACEABILITY_TOOL, Traceability
from bot.core.spec import REPORT_TOOL
from bot.github.paths import PathRefused
from bot.github.workspace import FileNotInBranch, Workspace


def tool_definitions() -> list[dict[str, Any]]:
    """The tools in a fixed order: the request prefix must be byte-identical on every turn."""
    return [dict(EDITOR_TOOL), {**SEARCH_TOOL, "input_schema": dict(SEARCH_TOOL["input_schema"])},
            {**SPEC_PROBLEM_TOOL, "input_schema": dict(SPEC_PROBLEM_TOOL["input_schema"])},
            {**TRACEABILITY_TOOL, "input_schema": dict(TRACEABILITY_TOOL["input_schema"])}]


class Toolbox:
    """Runs the model's tool calls for one agent run."""

    def __init__(self, workspace: Workspace, task: AgentTask | None = None) -> None:
        self.workspace = workspace
        self.editor = Editor(workspace)
        self.search = Search(workspace)
        self.traceability = Traceability(workspace, task)
        self.spec_problem: SpecProblem | None = None  # set when the agent reports that the spec is wrong

    async def run(self, name: str, tool_input: Any) -> ToolOutcome:
        if not isinstance(tool_input, Mapping):
            return error(f"the input of `{name}` must be a JSON object")
        try:
            if name == EDITOR_NAME:
                return await self.editor.run(tool_input)
            if name == SEARCH_NAME:
                return await self.search.run(tool_input)
            if name == REPORT_TOOL:
                return self.report_spec_problem(tool_input)
            if name == TRACEABILITY_NAME:
                return await self.traceability.report(tool_input)
        except PathRefused as exc:
            return error(str(exc))
        except FileNotInBranch as exc:
            return error(f"{exc.args[0] if exc.args else 'file'}: no such file on the branch; `view` a folder to "
                         "list its files, or `create` the file")
        return error(f"unknown tool `{name}`; the tools are `{EDITOR_NAME}`, `{SEARCH_NAME}`, `{REPORT_TOOL}` and "
                     f"`{TRACEABILITY_NAME}`")

    def report_spec_problem(self, tool_input: Mapping[str, Any]) -> ToolOutcome:
        report = parse_report(tool_input)
        if isinstance(report, str):
            return error(report)
        self.spec_problem = report
        return ToolOutcome("Reported to the maintainers. Your work on this task ends here; stop now.")


