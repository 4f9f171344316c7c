"""GenerateImplementation: the agent writes the component on the branch; its edits become one
commit, and a draft pull request (`Closes #N`) is opened — or found, never opened twice."""

from __future__ import annotations

from bot.github.pulls import ensure_pull_request
from bot.core.orchestrator import Step
from bot.steps import StepContext, StepOutcome
from bot.steps.editing import agent_task, edit_and_commit, open_branch
from bot.render.templating import render


async def run(ctx: StepContext) -> StepOutcome:
    session = ctx.session
    workspace = await open_branch(ctx)
    task = await agent_task(ctx, workspace, "implement")
    edit = await edit_and_commit(ctx, Step.GenerateImplementation, workspace, task,
                                 f"Implement {session.component_name} (#{session.issue_number})")
    pull = await ensure_pull_request(
        ctx.gh, ctx.owner, ctx.repo, branch=session.branch,
        base=ctx.last_result(Step.Initialize.value).get("default_branch", "main"),
        title=f"Implement {session.component_name}",
        body=render("pr/body.md.j2", draft=True, spec=None, tests_confirmed=None, **pr_facts(ctx, edit.files)),
        draft=True,
    )
    outcome = StepOutcome(
        result={"commit_sha": edit.commit_sha, "files": edit.files, "pr_number": pull["number"]},
        commit_sha=edit.commit_sha,
        session_updates={"head_sha": edit.commit_sha, "pr_number": pull["number"]},
    )
    if edit.result is not None:
        outcome.usage, outcome.transcript = edit.result.usage, edit.result.transcript
    return outcome


def pr_facts(ctx: StepContext, files: list[str], checks: list[dict] | None = None,
             pre_existing: list[str] | None = None) -> dict:
    session = ctx.session
    blob = f"{ctx.settings.html_url}/{session.repository_full_name}/blob/{session.branch}"
    return {
        "component": session.component_name,
        "design_path": session.design_path,
        "test_path": session.test_path,
        "design_url": f"{blob}/{session.design_path}",
        "test_url": f"{blob}/{session.test_path}",
        "files": files,
        "checks": checks or [],
        "pre_existing": pre_existing or [],
        "fix_iterations": session.fix_iterations,
        "tokens": session.input_tokens + session.output_tokens + session.cache_read_tokens + session.cache_write_tokens,
        "input_tokens": session.input_tokens,
        "output_tokens": session.output_tokens,
        "cache_read_tokens": session.cache_read_tokens,
        "cache_write_tokens": session.cache_write_tokens,
        "cost": session.cost_usd,
        "issue_number": session.issue_number,
    }
