"""ResolveConflicts: merging the default branch conflicts in files the agent wrote. The agent gets
each file three ways (common ancestor, this branch, the default branch) and writes the result;
that becomes one merge commit with both parents, so the branch then contains the default branch."""

from __future__ import annotations

from bot.agent import AgentStopped
from bot.core.orchestrator import Step
from bot.core.results import EditResult, UpdateResult
from bot.github.basemerge import carried_over
from bot.github.files import NotText
from bot.github.workspace import FileNotInBranch, Workspace
from bot.steps import StepContext, StepFailure, StepOutcome
from bot.steps.editing import Edit, agent_task, failure_of, open_branch, session_diff


async def run(ctx: StepContext) -> StepOutcome:
    session = ctx.session
    update = UpdateResult.from_dict(ctx.record.last_result(Step.UpdateBranch))
    new_base = update.base_sha
    workspace = await open_branch(ctx)
    trailer = ctx.step_trailer()
    if trailer in workspace.head_message:  # an earlier attempt pushed the merge: carry on from it
        return Edit(workspace.head_sha, [], None, workspace.tree_sha).outcome(
            EditResult(commit_sha=workspace.head_sha), base_sha=new_base)
    conflicts = [{"path": path, "base": await text_at(ctx, session.base_sha, path),
                  "ours": await text_or_none(workspace, path), "theirs": await text_at(ctx, new_base, path)}
                 for path in update.conflicts]
    task = await agent_task(ctx, "resolve", conflicts=tuple(conflicts), diff=await session_diff(ctx))
    try:
        result = await ctx.agent.implement(task, workspace)
    except AgentStopped as exc:
        raise failure_of(exc) from None
    resolved = workspace.changes
    for path in update.conflicts:  # a file the agent left alone keeps the branch's version
        if path not in resolved:
            resolved[path] = await text_or_none(workspace, path)
    base = await ctx.repository.read_base([], rev=new_base)
    changed = await ctx.repository.changed_files(session.base_sha, session.head_sha)
    modes = {path: workspace.mode(path) for path in workspace.paths()}
    entries = carried_over(changed, modes, set(resolved)) + [
        {"path": path, "mode": modes.get(path, "100644"), "type": "blob", **({"content": text} if text is not None
                                                                             else {"sha": None})}
        for path, text in sorted(resolved.items())]
    body = (result.summary or "").strip()
    title = f"Merge the default branch ({new_base[:7]}) and resolve conflicts"
    sha, tree = await ctx.repository.commit_resolved_merge(
        session.branch, head_sha=workspace.head_sha, base_sha=new_base, base_tree=base.tree_sha, entries=entries,
        message=f"{title}\n\n{body}\n\n{trailer}" if body else f"{title}\n\n{trailer}")
    edit = Edit(sha, sorted(resolved), result, tree)
    return edit.outcome(EditResult(commit_sha=sha, files=sorted(resolved), **edit.traceability_fields()),
                        base_sha=new_base)


async def text_at(ctx: StepContext, rev: str, path: str) -> str | None:
    found = (await ctx.repository.read_base([path], rev=rev)).files.get(path)
    if found is not None and found.text is None:
        raise StepFailure("needs_human", f"`{path}` conflicts and is not text: merge the default branch by hand, "
                                         "then comment `/retry`.")
    return found.text if found is not None else None


async def text_or_none(workspace: Workspace, path: str) -> str | None:
    try:
        return await workspace.read(path)
    except FileNotInBranch:
        return None
    except NotText:
        raise StepFailure("needs_human", f"`{path}` conflicts and is not text: merge the default branch by hand, "
                                         "then comment `/retry`.") from None
