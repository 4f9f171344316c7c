"""Finalize: the checks passed. Read the PR and verify the spec by blob at the base and the head
(one query); a branch behind the default branch is brought up to date first (UpdateBranch), so
what is marked ready or merged contains the current base. Then write the PR's summary, request the configured reviewers, then merge if the
repository's merge policy says so — only the commit a maintainer approved or asked for.

Marking the PR ready and writing its summary are shown when the session settles, with its status
comment, check run and label, in the same request (bot/engine/publishing.py); a PR about to be
merged is made ready here first, since GitHub does not merge a draft."""

from __future__ import annotations

from bot.core.repo_config import MergePolicy
from bot.core.results import FinalizeResult
from bot.core.spec import spec_statement
from bot.github.pullview import PullView
from bot.steps import StepContext, StepOutcome
from bot.steps.pr_body import pr_body


async def run(ctx: StepContext) -> StepOutcome:
    session = ctx.session
    pull = await ctx.repository.pull_view(session.pr_number, base=session.base_sha, head=session.head_sha,
                                          test_path=session.test_path, design_path=session.design_path)
    if pull.merged:
        return StepOutcome(FinalizeResult(merged=True, note="already merged"))
    if pull.default_head and pull.default_head != session.base_sha:  # a push to it may have gone unheard
        return StepOutcome(FinalizeResult(stale_base=pull.default_head, note=(
            f"the default branch moved to {pull.default_head[:7]}: bringing the branch up to date and testing "
            "again before it is marked ready")))
    tests = ctx.record.tests()
    files = pull.files
    if files is None:
        files = [f["filename"] for f in await ctx.repository.changed_files(session.base_sha, session.head_sha)]
    body = pr_body(ctx, files, draft=False, checks=tests.checks, pre_existing=tests.pre_existing,
                   spec=spec_statement(pull.spec), tests_confirmed=tests.tests_confirmed)
    await request_reviewers(ctx, pull)
    merged = await merge_by_policy(ctx, pull, body)
    made_ready = merged.pop("made_ready", False)
    return StepOutcome(FinalizeResult(**merged, spec=spec_statement(pull.spec),
                                      spec_unchanged=all(f.unchanged for f in pull.spec), pr_body=body,
                                      draft=pull.draft and not made_ready),
                       session_updates={"pr_node_id": pull.node_id})


async def request_reviewers(ctx: StepContext, pull: PullView) -> None:
    reviewers = [r for r in ctx.config.reviewers if r != pull.author]
    if reviewers or ctx.config.team_reviewers:
        await ctx.repository.request_reviewers(ctx.session.pr_number, reviewers, ctx.config.team_reviewers)


async def merge_by_policy(ctx: StepContext, pull: PullView, body: str) -> dict:
    commands = [r for r in ctx.record.merge_requests() if not r.get("approval")]
    if any(r.get("head_sha") == ctx.session.head_sha for r in commands):
        return await merge_now(ctx, pull, body)  # a maintainer's /merge of this very commit, whatever the policy
    if commands:
        return await ask_again(ctx, commands[-1])
    if ctx.config.merge == MergePolicy.manual:
        return {"merged": False, "waiting_for": "a maintainer reviews and merges (or comments `/merge`)"}
    if ctx.config.merge == MergePolicy.on_approval and \
            await ctx.repository.approved_by_writer(ctx.session.pr_number, ctx.session.head_sha) is None:
        return {"merged": False, "waiting_for": "merges once a maintainer approves the current commit"}
    return await merge_now(ctx, pull, body)


async def ask_again(ctx: StepContext, command: dict) -> dict:
    """A `/merge` counts for the commit it was given at; the branch has moved since, so ask (once per head)."""
    session = ctx.session
    given_at = command["head_sha"][:7] if command.get("head_sha") else "an earlier commit"
    marker = f"<!-- component-bot:merge-again session={session.id} head={session.head_sha} -->"
    who = f"@{command['by']} " if command.get("by") else ""
    await (await ctx.repository.comments()).post_once(
        session.pr_number, marker,
        f"{marker}\n{who}you asked me to merge at {given_at}, but the branch has moved to {session.head_sha[:7]} "
        f"since. I merge only the commit a maintainer asked for: comment `/merge` again to merge "
        f"{session.head_sha[:7]}.")
    return {"merged": False, "waiting_for": f"a maintainer to confirm `/merge` at {session.head_sha[:7]}"}


async def merge_now(ctx: StepContext, pull: PullView, body: str) -> dict:
    session = ctx.session
    if pull.draft:
        await ctx.repository.mark_ready(pull.node_id)
    await ctx.repository.update_pull_body(session.pr_number, body)
    result = await ctx.repository.merge(session.pr_number, head_sha=session.head_sha,
                                        method=ctx.config.merge_method.value,
                                        title=f"{pull.title} (#{session.pr_number})")
    if result.merged:
        return {"merged": True, "merge_sha": result.sha, "made_ready": True}
    marker = f"<!-- component-bot:merge-refused session={session.id} head={session.head_sha} -->"
    await (await ctx.repository.comments()).post_once(
        session.pr_number, marker, f"{marker}\nI did not merge: {result.refused}. A maintainer can merge once that "
                                   "is resolved (or comment `/merge` to let me try again).")
    return {"merged": False, "merge_refused": result.refused, "waiting_for": f"merge refused: {result.refused}",
            "made_ready": True}
