"""`report_traceability`: the agent's table from each section of the design to the files and
functions that implement it and the tests that cover it, checked before it is kept.

Each call is checked against the spec as the session recorded it (the design's headings, the test
file's test names) and the branch as it is at that moment (bot/core/traceability.py). A table with
problems is answered with an error listing each of them, so the model corrects it in the same run;
after `MAX_REJECTIONS` the tool accepts no more calls and the run ends without a table, which the
pull request says. When the model ends its turn, the accepted table is checked again against the
branch as it will be committed (an edit after the report can make it false); if that fails, or
the model stopped after a rejection, it is asked once more. A table is never kept unverified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.agent import AgentTask
from bot.agent.outcome import ToolOutcome, error
from bot.core.inputs import SpecText
from bot.core.traceability import Basis, Table, Verdict, check, parse, rejection
from bot.github.files import NotText
from bot.github.workspace import FileNotInBranch, Workspace

TRACEABILITY_NAME = "report_traceability"
MAX_REJECTIONS = 3

_STRINGS = {"type": "array", "items": {"type": "string"}}
TRACEABILITY_TOOL: dict[str, Any] = {
    "name": TRACEABILITY_NAME,
    "description": (
        "Report the traceability table of the component, once, after your last edit and before your final "
        "message, whenever you changed files: for each section (heading) of the design document, the files and "
        "functions that implement it and the tests that cover it, for the whole component as the branch stands "
        "after your edits. The bot checks it: every heading of the design needs a row (its title may be left "
        "out; a design without headings is one row, `(the whole design)`), every file must be on the branch, "
        "every function must appear in its file, every test must be defined in the component's test file. A "
        "section no code implements (background, non-goals, future work) gets `not_applicable` with the reason "
        "instead. If the answer lists problems, correct them and call it again with the whole table. The table "
        "goes into the pull request's description."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "rows": {
                "type": "array",
                "description": "One row per heading of the design document.",
                "items": {
                    "type": "object",
                    "properties": {
                        "heading": {"type": "string", "description": "The heading's text as in the design, "
                                                                     "without the leading #."},
                        "files": {
                            "type": "array",
                            "description": "The files that implement the section, with paths from the repository "
                                           "root.",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "path": {"type": "string"},
                                    "functions": {**_STRINGS, "description": "The functions, methods or classes "
                                                                             "in that file that implement it, "
                                                                             "e.g. Stack.push."},
                                },
                                "required": ["path"],
                            },
                        },
                        "tests": {**_STRINGS, "description": "The tests of the component's test file that cover "
                                                             "the section, by the names defined there."},
                        "not_applicable": {"type": "string", "description": "Only for a section that needs no code: "
                                                                            "why, e.g. 'because it describes the "
                                                                            "format's history'."},
                    },
                    "required": ["heading"],
                },
            },
        },
        "required": ["rows"],
    },
}


class Traceability:
    """One run's table: checks each report, keeps the last one that passed."""

    def __init__(self, workspace: Workspace, task: AgentTask | None) -> None:
        self.workspace, self.task = workspace, task
        self.table: Table | None = None         # the last report that passed
        self.rejections = 0
        self.problems: tuple[str, ...] = ()     # of the last report, when it was rejected
        self.reported = self.reminded = False
        self._basis: Basis | None = None

    async def report(self, tool_input: Mapping[str, Any]) -> ToolOutcome:
        if self.task is None:
            return error(f"`{TRACEABILITY_NAME}` is not available in this run")
        if self.rejections >= MAX_REJECTIONS:
            return error(f"No more attempts: the table was rejected {MAX_REJECTIONS} times, so the pull request "
                         f"says it could not be verified. Do not call `{TRACEABILITY_NAME}` again; finish your work.")
        self.reported = True
        verdict = await self.verify(tool_input)
        if verdict.table is not None:
            self.table, self.problems = verdict.table, ()
            rows = len(verdict.table.rows)
            return ToolOutcome(f"Accepted: {rows} section{'' if rows == 1 else 's'}. It goes into the pull request "
                               "as is; if you change the code after this, report the table again.")
        self.rejections += 1
        self.problems = verdict.problems
        return error(self.rejected(verdict.problems))

    def rejected(self, problems: tuple[str, ...]) -> str:
        head = f"The traceability table was not accepted (attempt {self.rejections} of {MAX_REJECTIONS}):"
        text = f"{head}\n{rejection(problems, self._basis)}" if self._basis else f"{head}\n- " + "\n- ".join(problems)
        if self.rejections >= MAX_REJECTIONS:
            return (f"{text}\n\nThat was the last attempt: the pull request will say that the table could not be "
                    f"verified. Do not call `{TRACEABILITY_NAME}` again; finish your work.")
        return f"{text}\n\nCorrect these and call `{TRACEABILITY_NAME}` again with the whole table."

    async def verify(self, tool_input: Mapping[str, Any]) -> Verdict:
        table = parse(tool_input)
        if not isinstance(table, Table):
            return Verdict(None, tuple(table))
        return await self.check(table)

    async def check(self, table: Table) -> Verdict:
        basis = await self.basis()
        tree = set(self.workspace.paths())
        return check(table, basis, tree, {path: await self.text(path) for path in table.paths_to_read(tree)})

    async def before_finish(self) -> str | None:
        """What to ask the model before the run may finish, or None. The kept table must hold for the
        branch as it will be committed; a table rejected, or gone stale, gets one more request."""
        if self.table is not None:
            verdict = await self.check(self.table)
            if verdict.table is not None:
                self.table = verdict.table
                return None
            self.table, self.problems = None, verdict.problems
            self.rejections += 1
        if not self.problems or self.reminded or self.rejections >= MAX_REJECTIONS:
            return None
        self.reminded = True
        return ("Before you finish: the traceability table does not hold for the branch as it is now. "
                + self.rejected(self.problems))

    def outcome(self) -> tuple[Table | None, str | None]:
        """The verified table, or why there is none."""
        if self.table is not None:
            return self.table, None
        if not self.reported:
            return None, "Claude did not report one"
        first = self.problems[0] if self.problems else "it did not hold"
        first = first if len(first) <= 200 else first[:199] + "…"
        times = "once" if self.rejections == 1 else f"{self.rejections} times"
        return None, f"the table Claude reported was rejected {times}, the last time because {first}"

    async def basis(self) -> Basis:
        if self._basis is None:
            task = self.task
            assert task is not None  # `report` answers without a task before asking
            self._basis = Basis.of(task.design_path, await self.spec_text(task.design, task.design_path),
                                   task.test_path, await self.spec_text(task.tests, task.test_path))
        return self._basis

    async def spec_text(self, recorded: SpecText | None, path: str) -> str | None:
        """A spec file as recorded at the base (the branch only for a task built without it)."""
        return recorded.text if recorded is not None else await self.text(path)

    async def text(self, path: str) -> str | None:
        try:
            return await self.workspace.read(path)
        except (FileNotInBranch, NotText):
            return None
