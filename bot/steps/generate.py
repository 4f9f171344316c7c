"""GenerateImplementation: the agent writes the component on the branch; its edits become one
commit, and a draft pull request (`Closes #N`) is opened — or found, never opened twice."""

from __future__ import annotations

from bot.core.orchestrator import Step
from bot.core.results import EditResult, InitializeResult
from bot.steps import StepContext, StepOutcome
from bot.steps.editing import agent_task, edit_and_commit, open_branch
from bot.steps.pr_body import pr_body


async def run(ctx: StepContext) -> StepOutcome:
    session = ctx.session
    workspace = await open_branch(ctx)
    task = await agent_task(ctx, "implement")
    edit = await edit_and_commit(ctx, workspace, task, f"Implement {session.component_name} (#{session.issue_number})")
    pull = await ctx.repository.ensure_pull_request(
        branch=session.branch, base=InitializeResult.from_dict(ctx.record.last_result(Step.Initialize)).default_branch,
        title=f"Implement {session.component_name}", body=pr_body(ctx, edit.files, draft=True), draft=True)
    return edit.outcome(EditResult(commit_sha=edit.commit_sha, files=edit.files, pr_number=pull["number"]),
                        pr_number=pull["number"])
