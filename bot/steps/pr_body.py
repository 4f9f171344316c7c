"""The pull request's body: what was implemented, from which spec, how each section of the design
is traced to code and tests, with which checks, at what cost."""

from __future__ import annotations

from typing import Any

from bot.agent import AgentResult
from bot.core.orchestrator import Step
from bot.core.record import SessionRecord
from bot.core.traceability import Row, Trace
from bot.core.usage import Usage
from bot.github import pulls
from bot.github.mutations import Mutation
from bot.render.status import unmentioned
from bot.render.templating import render
from bot.steps import StepContext

MAX_TABLE_CHARS = 30_000  # a PR body holds 65,536 characters


def pr_body(ctx: StepContext, files: list[str], *, draft: bool, checks: list[dict] | None = None,
            pre_existing: list[str] | None = None, spec: str | None = None,
            tests_confirmed: bool | None = None, trace: Trace | None = None) -> str:
    """`trace`: the table of the commit being made; by default, the newest the session recorded."""
    session = ctx.session
    blob = f"{ctx.settings.html_url}/{session.repository_full_name}/blob/{session.branch}"
    usage = Usage.of(session)
    values: dict[str, Any] = {
        "component": session.component_name, "design_path": session.design_path, "test_path": session.test_path,
        "working_directory": ctx.record.working_directory,
        "design_url": f"{blob}/{session.design_path}", "test_url": f"{blob}/{session.test_path}",
        "files": files, "checks": checks or [], "pre_existing": pre_existing or [],
        "fix_iterations": session.fix_iterations, "tokens": usage.total, **usage.token_columns(),
        "cost": usage.cost_usd, "issue_number": session.issue_number, "spec": spec,
        "tests_confirmed": tests_confirmed,
        "trace": trace_view(trace if trace is not None else ctx.record.traceability(), session.head_sha),
    }
    return render("pr/body.md.j2", draft=draft, **values)


def trace_of(result: AgentResult | None) -> Trace:
    """The traceability of the commit an agent run is about to make."""
    if result is None or result.traceability is None:
        return Trace(note=(result.traceability_note if result else None) or "the agent did not report one")
    return Trace(result.traceability)


def draft_body_update(ctx: StepContext, files: list[str], result: AgentResult) -> list[Mutation]:
    """While the PR is a draft (no Finalize has written its summary yet), a commit's own request also
    rewrites its body with that commit's table: one more field in a request made anyway."""
    session = ctx.session
    if not session.pr_node_id or finalized(ctx.record):
        return []
    files = list(dict.fromkeys([*ctx.record.files_changed(), *files]))
    return [pulls.update_body(session.pr_node_id, pr_body(ctx, files, draft=True, trace=trace_of(result)))]


def finalized(record: SessionRecord) -> bool:
    return any((e.result or {}).get("pr_body") for e in record.finished(Step.Finalize))


def trace_view(trace: Trace | None, head_sha: str | None) -> dict[str, Any] | None:
    """The table as Markdown cells; where it was checked; or why there is none."""
    if trace is None:
        return None
    sha = trace.commit_sha
    view: dict[str, Any] = {"sha": sha[:7] if sha else None, "moved": bool(sha and head_sha and sha != head_sha),
                            "note": cell(trace.note or "it could not be verified"), "rows": [], "more": 0}
    size = 0
    rows = trace.table.rows if trace.table is not None else ()
    for index, row in enumerate(rows):
        cells = row_cells(row)
        size += sum(len(c) for c in cells)
        if size > MAX_TABLE_CHARS:
            view["more"] = len(rows) - index
            break
        view["rows"].append(cells)
    return view


def row_cells(row: Row) -> tuple[str, str, str]:
    if row.not_applicable is not None:
        return cell(row.heading), f"*not applicable*, because {cell(row.not_applicable)}", ""
    implemented = "<br>".join(code(f.path) + (": " + ", ".join(code(n) for n in f.functions) if f.functions else "")
                              for f in row.files)
    return cell(row.heading), implemented, ", ".join(code(t) for t in row.tests) or "*none*"


def cell(text: str) -> str:
    """Text in a Markdown table cell: one line, no column breaks, no HTML, no one pinged."""
    return unmentioned(" ".join(text.split()).replace("|", "\\|").replace("<", "&lt;"))


def code(text: str) -> str:
    """A path or a name as code; in a table even a code span must escape its `|`."""
    return "`" + " ".join(text.split()).replace("`", "").replace("|", "\\|") + "`"
