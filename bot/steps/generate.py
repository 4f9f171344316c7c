"""GenerateImplementation: the agent writes the component on the branch; its edits become one
commit, and a draft pull request (`Closes #N`) is opened — or found, never opened twice."""

from __future__ import annotations

from bot.agent import AgentStopped, AgentTask
from bot.github.pulls import ensure_pull_request
from bot.github.workspace import Workspace
from bot.orchestrator import Step
from bot.steps import StepContext, StepFailure, StepOutcome
from bot.templating import render

INSTRUCTION_FILES = ("AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md")


async def run(ctx: StepContext) -> StepOutcome:
    session = ctx.session
    workspace = await Workspace(ctx.gh, ctx.owner, ctx.repo, session.branch, ctx.config.protected_paths).open()
    trailer = ctx.step_trailer(Step.GenerateImplementation.value)
    issue = (await ctx.gh.rest.issues.async_get(ctx.owner, ctx.repo, session.issue_number)).json()

    outcome = StepOutcome(result={})
    if trailer in workspace.head_message:
        commit_sha, files = workspace.head_sha, []  # committed by an earlier attempt that did not get to record it
    else:
        task = AgentTask(
            kind="implement",
            repository=session.repository_full_name,
            issue_number=session.issue_number,
            issue_title=issue.get("title") or "",
            issue_body=issue.get("body") or "",
            component_name=session.component_name,
            design_path=session.design_path,
            test_path=session.test_path,
            instructions=await read_instructions(workspace),
            rules=tuple(ctx.config.rules),
            max_turns=ctx.config.max_turns,
            token_budget=ctx.config.token_budget,
            tokens_used_before=session.input_tokens + session.output_tokens
            + session.cache_read_tokens + session.cache_write_tokens,
        )
        result = await run_agent(ctx, task, workspace)
        files = sorted(workspace.changes)
        if not files:
            raise StepFailure("needs_human", "the agent finished without changing any file", summary=result.summary)
        message = f"Implement {session.component_name} (#{session.issue_number})\n\n{result.summary}\n\n{trailer}"
        commit_sha = await workspace.commit(message)
        outcome.usage, outcome.transcript = result.usage, result.transcript

    pull = await ensure_pull_request(
        ctx.gh, ctx.owner, ctx.repo, branch=session.branch, base=ctx.last_result(Step.Initialize.value).get(
            "default_branch", "main"),
        title=f"Implement {session.component_name}",
        body=render("pr/body.md.j2", draft=True, **pr_facts(ctx, files)),
        draft=True,
    )
    outcome.commit_sha = commit_sha
    outcome.result = {"commit_sha": commit_sha, "files": files, "pr_number": pull["number"]}
    outcome.session_updates = {"head_sha": commit_sha, "pr_number": pull["number"]}
    return outcome


async def run_agent(ctx: StepContext, task: AgentTask, workspace: Workspace):  # noqa: ANN201 - AgentResult
    try:
        return await ctx.agent.implement(task, workspace)
    except AgentStopped as exc:
        workspace.discard()
        raise StepFailure("transient" if exc.retryable else "needs_human", exc.reason) from None


async def read_instructions(workspace: Workspace) -> dict[str, str]:
    found = {}
    for path in INSTRUCTION_FILES:
        text = await workspace.read_if_exists(path)
        if text:
            found[path] = text
    return found


def pr_facts(ctx: StepContext, files: list[str]) -> dict:
    session = ctx.session
    blob = f"{ctx.settings.html_url}/{session.repository_full_name}/blob/{session.branch}"
    return {
        "component": session.component_name,
        "design_path": session.design_path,
        "test_path": session.test_path,
        "design_url": f"{blob}/{session.design_path}",
        "test_url": f"{blob}/{session.test_path}",
        "files": files,
        "checks": [],
        "fix_iterations": session.fix_iterations,
        "tokens": session.input_tokens + session.output_tokens + session.cache_read_tokens + session.cache_write_tokens,
        "input_tokens": session.input_tokens,
        "output_tokens": session.output_tokens,
        "cache_read_tokens": session.cache_read_tokens,
        "cache_write_tokens": session.cache_write_tokens,
        "cost": session.cost_usd,
        "issue_number": session.issue_number,
    }
