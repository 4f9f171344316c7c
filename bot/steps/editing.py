"""What the steps that change code share: open the branch, brief the agent, commit its edits once.

A step occurrence's commit carries a trailer naming it; a retried attempt that finds that
trailer on the branch head knows its edits were already pushed and does not ask again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.agent import AgentResult, AgentStopped, AgentTask
from bot.core.inputs import TrustedInputs
from bot.core.spec import spec_locks
from bot.core.usage import Usage
from bot.github.mutations import Answers, Mutation
from bot.github.workspace import Workspace
from bot.steps import StepContext, StepFailure, StepOutcome
from bot.steps.initialize import request_of, trusted_inputs_of, trusted_paths
from bot.steps.pr_body import trace_of

MAX_DIFF_BYTES = 30_000


@dataclass
class Edit:
    commit_sha: str | None
    files: list[str]
    result: AgentResult | None  # None: found already committed by an earlier attempt

    @property
    def usage(self) -> Usage:
        return self.result.usage if self.result is not None else Usage()

    tree_sha: str | None = None  # the commit's tree, when the step made it
    answers: Answers = field(default_factory=Answers)  # what the mutations sent with the commit answered

    def traceability_fields(self) -> dict[str, Any]:
        """The EditResult fields of the table the agent's run verified, or of why there is none."""
        if self.result is None:
            return {}
        table = self.result.traceability
        return {"traceability": table.as_dict() if table is not None else None,
                "traceability_note": None if table is not None else trace_of(self.result).note}

    def outcome(self, result: object, **session_updates: object) -> StepOutcome:
        if self.commit_sha:
            session_updates = {"head_sha": self.commit_sha, "head_tree_sha": self.tree_sha, **session_updates}
        return StepOutcome(result, commit_sha=self.commit_sha, usage=self.usage,  # type: ignore[arg-type]
                           transcript=self.result.transcript if self.result is not None else [],
                           session_updates=dict(session_updates))


async def open_branch(ctx: StepContext) -> Workspace:
    """The branch as the agent will edit it. On a step's first try the session knows its head
    and tree (our own last commit); a retry, or a head a human pushed, is read from GitHub. A
    branch that does not exist yet starts at the base, and the step's commit creates it."""
    session = ctx.session
    locks = spec_locks(session.design_path, session.test_path, ctx.config.protected_paths)
    workspace = ctx.repository.workspace(session.branch, locks, session.repository_node_id)
    if ctx.record.first_try(ctx.step) and session.head_sha and session.head_tree_sha:
        return await workspace.open(session.head_sha, session.head_tree_sha, base_sha=session.base_sha)
    return await workspace.open(base_sha=session.base_sha)


async def agent_task(ctx: StepContext, kind: str, **extra: object) -> AgentTask:
    session = ctx.session
    issue = await request_of(ctx)
    inputs = await trusted_inputs(ctx)
    return AgentTask(
        kind=kind,
        repository=session.repository_full_name,
        issue_number=session.issue_number,
        issue_title=issue.get("title") or "",
        issue_body=issue.get("body") or "",
        component_name=session.component_name,
        design_path=session.design_path,
        test_path=session.test_path,
        working_directory=ctx.record.working_directory,
        instructions=inputs.instructions,
        design=inputs.design,
        tests=inputs.tests,
        rules=tuple(ctx.config.rules),
        max_turns=ctx.config.max_turns,
        token_budget=ctx.config.token_budget,
        tokens_used_before=Usage.of(session).total,
        **{"base_paths": ctx.record.base_paths(), **extra},
    )


async def trusted_inputs(ctx: StepContext) -> TrustedInputs:
    """The spec and instructions as read at the base (again when the spec changed on the default
    branch since); for a session recorded before they were kept, read at the base commit now
    (never from the branch the agent writes)."""
    recorded = ctx.record.latest_inputs()
    if recorded:
        return TrustedInputs.from_dict(recorded)
    session, directory = ctx.session, ctx.record.working_directory
    base = await ctx.repository.read_base(trusted_paths(session.design_path, session.test_path, directory),
                                          rev=session.base_sha)
    return trusted_inputs_of(base, session.design_path, session.test_path, directory)


async def edit_and_commit(ctx: StepContext, workspace: Workspace, task: AgentTask, title: str, *,
                          allow_no_change: bool = False,
                          then: Callable[[list[str], AgentResult], list[Mutation]] = lambda files, result: [],
                          ) -> Edit:
    """Run the agent on the workspace and commit what it changed, as one commit — once. `then`
    gives, for the files changed and the agent's result, mutations to send in the commit's own request."""
    trailer = ctx.step_trailer()
    if trailer in workspace.head_message:
        return Edit(workspace.head_sha, [], None)
    try:
        result = await ctx.agent.implement(task, workspace)
    except AgentStopped as exc:
        workspace.discard()
        raise failure_of(exc) from None
    files = sorted(workspace.changes)
    if not files:
        if allow_no_change:
            return Edit(None, [], result)
        raise StepFailure("needs_human", "the agent finished without changing any file", summary=result.summary)
    body = (result.summary or "").strip()
    message = f"{title}\n\n{body}\n\n{trailer}" if body else f"{title}\n\n{trailer}"
    commit_sha = await workspace.commit(message, then=then(files, result))
    return Edit(commit_sha, files, result, workspace.tree_sha, workspace.answers)


def failure_of(exc: AgentStopped) -> StepFailure:
    """What a stopped agent means for the step: a spec problem or a limit waits for a person, an
    outage pauses, anything else retryable is retried."""
    if exc.spec_problem is not None:
        return StepFailure("needs_human", exc.reason, usage=exc.usage, spec_problem=exc.spec_problem)
    if exc.outage is not None:
        return StepFailure("outage", exc.reason, usage=exc.usage, service="Anthropic", what=exc.outage,
                           retry_after=exc.retry_after)
    return StepFailure("transient" if exc.retryable else "needs_human", exc.reason, usage=exc.usage)


async def session_diff(ctx: StepContext) -> str:
    """The change so far (default branch's base → branch head), as a unified diff, capped."""
    session = ctx.session
    if not session.base_sha or not session.head_sha or session.base_sha == session.head_sha:
        return ""
    parts = [f"--- a/{f['filename']}\n+++ b/{f['filename']}\n{f.get('patch') or '(binary or too large to show)'}"
             for f in await ctx.repository.changed_files(session.base_sha, session.head_sha)]
    diff = "\n".join(parts)
    if len(diff.encode()) > MAX_DIFF_BYTES:
        diff = diff.encode()[:MAX_DIFF_BYTES].decode("utf-8", errors="ignore") + "\n… (diff cut)"
    return diff
