"""UpdateBranch: the default branch moved (a push to it, or Finalize found the branch behind it).
Merge it into the session's branch through GitHub, so the checks run on a head that contains it,
then test again. While the PR waits for review and the spec did not change, the branch is left
as it is (Finalize brings it up to date before it marks it ready or merges it). A conflict goes
to the agent when it is only in files the agent may write; in the spec, the pipeline or another
locked file, to a person."""

from __future__ import annotations

from bot.core.inputs import TrustedInputs
from bot.core.orchestrator import Step
from bot.core.results import UpdateResult
from bot.core.spec import spec_locks
from bot.github.paths import PathRefused, normalize_path
from bot.steps import StepContext, StepFailure, StepOutcome
from bot.steps.initialize import trusted_inputs_of, trusted_paths


async def run(ctx: StepContext) -> StepOutcome:
    session, directory = ctx.session, ctx.record.working_directory
    base = await ctx.repository.read_base(trusted_paths(session.design_path, session.test_path, directory))
    if base.sha == session.base_sha:
        return StepOutcome(UpdateResult(state="up_to_date", base_sha=base.sha))
    inputs = trusted_inputs_of(base, session.design_path, session.test_path, directory)
    changed = spec_changed(ctx, inputs)
    spec_note = f"the default branch changed {' and '.join(f'`{p}`' for p in changed)}: " if changed else ""
    if under_review(ctx) and not changed:
        return StepOutcome(UpdateResult(state="left", base_sha=base.sha, note=(
            f"the default branch moved to {base.sha[:7]}; the spec did not change, so the branch under review is "
            "left as it is (it is brought up to date before it is marked ready or merged)")))
    merge = await ctx.repository.merge_base_into(
        session.branch, base.sha, f"Merge {base.default_branch} ({base.sha[:7]}) into {session.branch}")
    new_inputs = inputs.as_dict() if changed else None
    if merge.state == "up_to_date":
        return StepOutcome(UpdateResult(state="up_to_date", base_sha=base.sha, spec_changed=changed,
                                        inputs=new_inputs), session_updates={"base_sha": base.sha})
    if merge.state == "merged":
        return StepOutcome(
            UpdateResult(state="merged", base_sha=base.sha, merge_sha=merge.sha, spec_changed=changed,
                         inputs=new_inputs, note=f"{spec_note}merged {base.default_branch} at {base.sha[:7]} into "
                                                 f"the branch; testing again"),
            commit_sha=merge.sha,
            session_updates={"base_sha": base.sha, "head_sha": merge.sha, "head_tree_sha": merge.tree_sha})
    conflicts = await conflicting_files(ctx, base.sha)
    locked = [path for path in conflicts if is_locked(ctx, path)]
    if locked:
        raise StepFailure("needs_human", (
            f"{spec_note}merging {base.default_branch} ({base.sha[:7]}) into `{session.branch}` conflicts in "
            f"{', '.join(f'`{p}`' for p in locked)}, which I may not change. Merge `{base.default_branch}` into "
            f"`{session.branch}` and resolve the conflict, then comment `/retry`."), conflicts=conflicts)
    return StepOutcome(UpdateResult(state="conflict", base_sha=base.sha, spec_changed=changed, conflicts=conflicts,
                                    inputs=new_inputs, note=f"{spec_note}merging {base.default_branch} conflicts in "
                                                            f"{', '.join(conflicts)}: resolving"))


def spec_changed(ctx: StepContext, inputs: TrustedInputs) -> list[str]:
    """The spec files whose blob differs from the one the session last read."""
    before = ctx.record.latest_inputs()
    if not before:
        return []
    recorded = TrustedInputs.from_dict(before)
    return [new.path for old, new in ((recorded.tests, inputs.tests), (recorded.design, inputs.design))
            if old.sha != new.sha]


def under_review(ctx: StepContext) -> bool:
    """The PR waits for a review (Finalize's last say was "ready", not "behind the default branch")."""
    finalized = ctx.record.last_effective_result()
    return finalized is not None and finalized[0] == Step.Finalize and not finalized[1].get("stale_base")


async def conflicting_files(ctx: StepContext, new_base: str) -> list[str]:
    """The files both the default branch (since the session's base) and the branch changed."""
    session = ctx.session
    theirs = await ctx.repository.changed_files(session.base_sha, new_base)
    ours = await ctx.repository.changed_files(session.base_sha, session.head_sha)
    names = lambda files: {f["filename"] for f in files} | {f["previous_filename"] for f in files  # noqa: E731
                                                            if f.get("previous_filename")}
    return sorted(names(theirs) & names(ours))


def is_locked(ctx: StepContext, path: str) -> bool:
    session = ctx.session
    try:
        normalize_path(path, spec_locks(session.design_path, session.test_path, ctx.config.protected_paths))
    except PathRefused:
        return True
    return False
