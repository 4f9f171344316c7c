"""GenerateImplementation: the agent writes the component on the branch; its edits become one
commit, and a draft pull request (`Closes #N`) is opened in the same request — or found, never
opened twice."""

from __future__ import annotations

from bot.agent import AgentResult
from bot.core.orchestrator import Step
from bot.core.results import EditResult, InitializeResult
from bot.github import pulls
from bot.github.mutations import Mutation
from bot.steps import StepContext, StepOutcome
from bot.steps.editing import agent_task, edit_and_commit, open_branch
from bot.steps.pr_body import pr_body, trace_of

MAX_BASE_PATHS = 2_000


async def run(ctx: StepContext) -> StepOutcome:
    session = ctx.session
    workspace = await open_branch(ctx)
    base_paths = listed_base(ctx, workspace.head_sha, workspace.paths())
    task = await agent_task(ctx, "implement", base_paths=tuple(base_paths) if base_paths is not None else None)
    base = InitializeResult.from_dict(ctx.record.last_result(Step.Initialize)).default_branch
    title = f"Implement {session.component_name}"

    def open_with_the_commit(files: list[str], result: AgentResult) -> list[Mutation]:
        """On the first try nothing can have opened the PR yet: open it in the commit's request."""
        if session.pr_number or not session.repository_node_id or not ctx.record.first_try(ctx.step):
            return []
        return [pulls.open_draft(session.repository_node_id, base=base, branch=session.branch, title=title,
                                 body=pr_body(ctx, files, draft=True, trace=trace_of(result)))]

    edit = await edit_and_commit(ctx, workspace, task, f"{title} (#{session.issue_number})",
                                 then=open_with_the_commit)
    pull = pulls.opened(edit.answers) or await ctx.repository.ensure_pull_request(
        branch=session.branch, base=base, title=title, draft=True,
        body=pr_body(ctx, edit.files, draft=True, trace=trace_of(edit.result) if edit.result else None))
    return edit.outcome(EditResult(commit_sha=edit.commit_sha, files=edit.files, pr_number=pull["number"],
                                   base_paths=base_paths, **edit.traceability_fields()),
                        pr_number=pull["number"], pr_node_id=pull.get("node_id"))


def listed_base(ctx: StepContext, head_sha: str | None, paths: list[str]) -> list[str] | None:
    """The base's files, kept for the later steps' prompts (so each lists only what the branch
    changed, and the long list is read from the prompt cache): when the branch is still the
    base, and the list is not too long to keep."""
    if head_sha != ctx.session.base_sha or len(paths) > MAX_BASE_PATHS:
        return None
    return paths
