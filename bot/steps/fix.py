"""FixTestFailures: the agent gets the failure report and the diff so far, fixes the
implementation (the tests only where the design says they are wrong); one commit."""

from __future__ import annotations

from bot.core.orchestrator import Step
from bot.steps import StepContext, StepOutcome
from bot.steps.editing import agent_task, edit_and_commit, open_branch, session_diff


async def run(ctx: StepContext) -> StepOutcome:
    tests = ctx.last_result(Step.RunTests.value)
    attempt, limit = ctx.session.fix_iterations + 1, ctx.config.max_fix_iterations
    workspace = await open_branch(ctx)
    task = await agent_task(ctx, workspace, "fix", failure_report=tests.get("report") or "", diff=await session_diff(ctx),
                            attempt=attempt, max_attempts=limit)
    edit = await edit_and_commit(ctx, Step.FixTestFailures, workspace, task,
                                 f"Fix failing tests (attempt {attempt}/{limit})")
    outcome = StepOutcome(
        result={"commit_sha": edit.commit_sha, "files": edit.files, "attempt": attempt,
                "fixing": tests.get("failing_tests") or tests.get("failed_checks") or []},
        commit_sha=edit.commit_sha,
        session_updates={"head_sha": edit.commit_sha},
    )
    if edit.result is not None:
        outcome.usage, outcome.transcript = edit.result.usage, edit.result.transcript
    return outcome
