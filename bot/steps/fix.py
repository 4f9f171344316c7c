"""FixTestFailures: the agent gets the failure report and the diff so far and fixes the
implementation (the tests and the design are locked); one commit, which also brings the draft PR's
description up to date with the new traceability table."""

from __future__ import annotations

from bot.core.results import EditResult
from bot.steps import StepContext, StepOutcome
from bot.steps.editing import agent_task, edit_and_commit, open_branch, session_diff
from bot.steps.pr_body import draft_body_update


async def run(ctx: StepContext) -> StepOutcome:
    tests = ctx.record.tests()
    attempt, limit = ctx.session.fix_iterations + 1, ctx.config.max_fix_iterations
    workspace = await open_branch(ctx)
    task = await agent_task(ctx, "fix", failure_report=tests.report or "", diff=await session_diff(ctx),
                            attempt=attempt, max_attempts=limit)
    edit = await edit_and_commit(ctx, workspace, task, f"Fix failing tests (attempt {attempt}/{limit})",
                                 then=lambda files, result: draft_body_update(ctx, files, result))
    return edit.outcome(EditResult(commit_sha=edit.commit_sha, files=edit.files, attempt=attempt,
                                   fixing=tests.failing_tests or tests.failed_checks or [],
                                   **edit.traceability_fields()))
