"""Finalize: the checks passed. Mark the PR ready for review, rewrite its summary, request the
configured reviewers, then merge if the repository's merge policy says so."""

from __future__ import annotations

from githubkit.exception import RequestFailed

from bot.core.repo_config import MergePolicy
from bot.core.spec import spec_statement
from bot.github.specfiles import spec_files
from bot.github.merging import approved_by_writer, merge
from bot.core.orchestrator import Signal, Step
from bot.steps import StepContext, StepOutcome
from bot.steps.generate import pr_facts
from bot.render.templating import render

READY_FOR_REVIEW = """mutation($id: ID!) {
  markPullRequestReadyForReview(input: {pullRequestId: $id}) { pullRequest { isDraft } }
}"""


async def run(ctx: StepContext) -> StepOutcome:
    session = ctx.session
    pull = (await ctx.gh.rest.pulls.async_get(ctx.owner, ctx.repo, session.pr_number)).json()
    if pull.get("merged"):
        return StepOutcome(result={"merged": True, "note": "already merged"})
    spec = await spec_files(ctx.gh, ctx.owner, ctx.repo, base=session.base_sha, head=session.head_sha,
                            test_path=session.test_path, design_path=session.design_path)
    if pull.get("draft"):
        await ctx.gh.async_graphql(READY_FOR_REVIEW, {"id": pull["node_id"]})
    tests = ctx.last_result(Step.RunTests.value)
    body = render("pr/body.md.j2", draft=False, spec=spec_statement(spec), tests_confirmed=tests.get("tests_confirmed"),
                  **pr_facts(ctx, await changed_files(ctx), tests.get("checks"), tests.get("pre_existing")))
    await ctx.gh.rest.pulls.async_update(ctx.owner, ctx.repo, session.pr_number, data={"body": body})
    await request_reviewers(ctx, pull)
    merged = await merge_by_policy(ctx, pull)
    return StepOutcome(result={**merged, "spec": spec_statement(spec), "spec_unchanged": all(f.unchanged for f in spec)})


async def changed_files(ctx: StepContext) -> list[str]:
    session = ctx.session
    compare = await ctx.gh.rest.repos.async_compare_commits(ctx.owner, ctx.repo, f"{session.base_sha}...{session.head_sha}")
    return [f["filename"] for f in compare.json().get("files") or []]


async def request_reviewers(ctx: StepContext, pull: dict) -> None:
    author = (pull.get("user") or {}).get("login")
    reviewers = [r for r in ctx.config.reviewers if r != author]
    if not reviewers and not ctx.config.team_reviewers:
        return
    try:
        await ctx.gh.rest.pulls.async_request_reviewers(
            ctx.owner, ctx.repo, ctx.session.pr_number,
            data={"reviewers": reviewers, "team_reviewers": ctx.config.team_reviewers})
    except RequestFailed as exc:
        if exc.response.status_code != 422:  # a reviewer who is not a collaborator: not worth failing over
            raise


def merge_requests(ctx: StepContext) -> list[dict]:
    """Merge signals (/merge, approvals) since the previous Finalize began."""
    requests: list[dict] = []
    for interaction in ctx.interactions:
        if interaction.step == Step.Finalize.value and interaction.status == "started":
            requests = []
        elif interaction.step == Signal.merge.value and interaction.status == "received":
            requests.append(interaction.input or {})
    return requests


async def merge_by_policy(ctx: StepContext, pull: dict) -> dict:
    policy = ctx.config.merge
    commands = [r for r in merge_requests(ctx) if not r.get("approval")]
    if any(r.get("head_sha") == ctx.session.head_sha for r in commands):
        return await merge_now(ctx, pull["title"])  # a maintainer's /merge of this very commit, whatever the policy
    if commands:
        return await ask_again(ctx, commands[-1])
    if policy == MergePolicy.manual:
        return {"merged": False, "waiting_for": "a maintainer reviews and merges (or comments `/merge`)"}
    if policy == MergePolicy.on_approval:
        approver = await approved_by_writer(ctx.gh, ctx.owner, ctx.repo, ctx.session.pr_number, ctx.session.head_sha)
        if approver is None:
            return {"merged": False, "waiting_for": "merges once a maintainer approves the current commit"}
    return await merge_now(ctx, pull["title"])


async def ask_again(ctx: StepContext, command: dict) -> dict:
    """A `/merge` counts for the commit it was given at; the branch has moved since, so ask (once per head)."""
    session = ctx.session
    given_at = command["head_sha"][:7] if command.get("head_sha") else "an earlier commit"
    marker = f"<!-- component-bot:merge-again session={session.id} head={session.head_sha} -->"
    who = f"@{command['by']} " if command.get("by") else ""
    await (await ctx.comments()).post_once(session.pr_number, marker,
                    f"{marker}\n{who}you asked me to merge at {given_at}, but the branch has moved to "
                    f"{session.head_sha[:7]} since. I merge only the commit a maintainer asked for: comment "
                    f"`/merge` again to merge {session.head_sha[:7]}.")
    return {"merged": False, "waiting_for": f"a maintainer to confirm `/merge` at {session.head_sha[:7]}"}


async def merge_now(ctx: StepContext, title: str) -> dict:
    session = ctx.session
    result = await merge(ctx.gh, ctx.owner, ctx.repo, session.pr_number, head_sha=session.head_sha,
                         method=ctx.config.merge_method.value, title=f"{title} (#{session.pr_number})")
    if result.merged:
        return {"merged": True, "merge_sha": result.sha}
    marker = f"<!-- component-bot:merge-refused session={session.id} head={session.head_sha} -->"
    await (await ctx.comments()).post_once(session.pr_number, marker,
                    f"{marker}\nI did not merge: {result.refused}. A maintainer can merge once that is resolved "
                    "(or comment `/merge` to let me try again).")
    return {"merged": False, "merge_refused": result.refused, "waiting_for": f"merge refused: {result.refused}"}
